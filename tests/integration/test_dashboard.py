"""The dashboard in a real browser: Debian's chromium driven by Playwright (its own browser download cannot reach the
internet here), started by the test. The page is loaded from the running API, logged into with an operator's token,
and must draw the seeded orders; a screenshot is saved under the test's output folder.

Without chromium on the machine the test is skipped, unless SETTLEMENT_REQUIRE_BROWSER is set (as .ci/run does,
after installing it)."""

import os
import shutil
import uuid

import pytest
from playwright.async_api import async_playwright

from tests.integration.stack import token

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REGIONS = [{"country": "DE", "subdivision": "DE-BY"}, {"country": "FR", "subdivision": "FR-75C"}, {"country": "US", "subdivision": "US-WA"}]

# Playwright drives the machine's own chromium (its bundled browsers are a download from the internet). A developer's
# machine may not have it, and `make test` cannot install it without root; CI installs it and requires the test.
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("SETTLEMENT_REQUIRE_BROWSER"),
    reason="the dashboard's browser test needs Debian's chromium (`apt install chromium`); .ci/run installs it and never skips",
)


@pytest.fixture(scope="module")
async def seeded(engine):
    """Orders in three regions, two of them delivered, and one parked at its capture."""
    marker = uuid.uuid4().hex[:6]
    delivered = []
    for n, ship_to in enumerate(REGIONS * 2):
        order = await engine.create(order_id=f"dash-{marker}-{n}", ship_to=ship_to)
        if n < 2:
            delivered.append(order["order_id"])
    for order_id in delivered:
        await engine.ship_and_deliver(order_id)
    parked = await engine.create(order_id=f"dash-{marker}-parked", payment_method="pm_card_capture_fails", ship_to=REGIONS[0])
    await engine.wait_for(parked["order_id"], "awaiting_shipment")
    assert (await engine.webhook(parked["order_id"], "shipped")).status_code == 202
    await engine.wait_for(parked["order_id"], "needs_attention", timeout=60)
    return parked["order_id"]


@pytest.fixture
async def browser():
    assert CHROMIUM, "SETTLEMENT_REQUIRE_BROWSER is set but there is no chromium: apt install chromium"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


async def test_the_dashboard_draws_the_business_from_the_api(services, seeded, browser, tmp_path):
    page = await browser.new_page(viewport={"width": 1400, "height": 1300})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{services.api_url}/dashboard")
    await page.fill("#token", token("operator", "ops")["Authorization"].removeprefix("Bearer "))
    await page.click("button[type=submit]")
    await page.wait_for_selector("body[data-refreshed]", state="attached", timeout=30000)

    regions = await page.evaluate("document.getElementById('volume').data.map((trace) => trace.name)")
    statuses = await page.evaluate(
        "Object.fromEntries(document.getElementById('funnel').data[0].x.map((s, i, xs) => [s, document.getElementById('funnel').data[0].y[i]]))"
    )
    links = await page.eval_on_selector_all("#attention a", "links => links.map((a) => a.href)")
    await page.screenshot(path=tmp_path / "dashboard.png", full_page=True)

    assert errors == []
    assert {"DE-BY", "FR-75C", "US-WA"} <= set(regions)
    assert statuses.get("awaiting_confirmation", 0) >= 2 and statuses.get("needs_attention", 0) >= 1
    assert any(link.endswith(f"/workflows/order-{seeded}") for link in links)
    assert await page.locator("#volume .main-svg").count() >= 1  # Plotly drew it
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


async def test_a_token_the_api_refuses_sends_the_visitor_back_to_the_login(services, browser):
    page = await browser.new_page()
    await page.goto(f"{services.api_url}/dashboard")
    await page.fill("#token", "not-a-token")
    await page.click("button[type=submit]")

    await page.wait_for_selector("#login-error:not(:empty)", timeout=15000)
    assert await page.is_visible("#login") and not await page.is_visible("#board")
    assert "Not accepted" in await page.text_content("#login-error")


async def test_the_page_and_plotly_are_served_by_the_api(engine):
    page = await engine.api.get("/dashboard")
    plotly = await engine.api.get("/dashboard/plotly.min.js")

    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    assert (await engine.api.get("/dashboard/secrets.txt")).status_code == 404
