"""The payment provider's listing of its own records: the simulator's GET /psp/operations and the payment
adapter's `records`, which reads every page of it (what the reconciliation compares the ledger with). The
listing pages in the order the records were made and passes over none, not even one committed late."""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from adapters.payments import LISTING_PAGE_SIZE, SimulatedPaymentGateway
from domain.providers import AuthorizeRequest, CaptureRequest, ProviderOperation, ProviderOutcome, ProviderRecordQuery, RefundRequest
from simulators import migrate, psp
from tests.db.conftest import create_migrated_database


async def _jsonb(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@pytest.fixture(scope="module")
async def psp_database(pg_server) -> str:
    """The simulated payment provider's database, its own."""
    uri = await create_migrated_database(pg_server, f"listing_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(migrate.upgrade, uri)
    return uri


@pytest.fixture(scope="module")
async def provider(psp_database):
    """The simulated payment provider, reached over HTTP in process."""
    app = FastAPI()
    app.include_router(psp.router)
    app.state.pool = await asyncpg.create_pool(psp_database, min_size=1, max_size=2, init=_jsonb)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://psp") as client:
            yield client
    finally:
        await app.state.pool.close()


async def pay(gateway: SimulatedPaymentGateway, order: str, method: str = "pm_card_visa") -> None:
    auth = await gateway.authorize(
        AuthorizeRequest(idempotency_key=f"{order}:authorize", order_id=order, amount=3500, currency="EUR", payment_method=method)
    )
    if auth.approved:
        capture = await gateway.capture(
            CaptureRequest(idempotency_key=f"{order}:capture", authorization_id=auth.authorization_id or "", amount=3500, currency="EUR")
        )
        await gateway.refund(
            RefundRequest(idempotency_key=f"{order}:refund", order_id=order, capture_id=capture.id, amount=1000, currency="EUR")
        )


async def test_one_order_s_records_oldest_first(provider):
    gateway = SimulatedPaymentGateway(provider)
    order, other = f"o-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}"
    await pay(gateway, order)
    await pay(gateway, other)
    records = await gateway.records(ProviderRecordQuery(order_id=order))
    assert [(r.operation, r.outcome, r.amount, r.currency, r.order_id) for r in records] == [
        (ProviderOperation.AUTHORIZE, ProviderOutcome.SUCCEEDED, 3500, "EUR", order),
        (ProviderOperation.CAPTURE, ProviderOutcome.SUCCEEDED, 3500, "EUR", order),
        (ProviderOperation.REFUND, ProviderOutcome.SUCCEEDED, 1000, "EUR", order),
    ]
    assert [r.idempotency_key for r in records] == [f"{order}:authorize", f"{order}:capture", f"{order}:refund"]
    assert all(r.id for r in records)


async def test_a_declined_authorization_is_listed_without_a_reference(provider):
    gateway = SimulatedPaymentGateway(provider)
    order = f"o-{uuid.uuid4().hex[:8]}"
    await pay(gateway, order, method=psp.DECLINED_METHOD)
    [record] = await gateway.records(ProviderRecordQuery(order_id=order))
    assert (record.operation, record.outcome, record.id) == (ProviderOperation.AUTHORIZE, ProviderOutcome.DECLINED, None)


async def test_every_page_is_read(provider, psp_database):
    """The adapter asks for the largest page the listing gives, and reads them all."""
    assert LISTING_PAGE_SIZE == psp.MAX_PAGE_SIZE
    assert (await provider.get("/psp/operations", params={"limit": psp.MAX_PAGE_SIZE + 1})).status_code == 422
    run = uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(psp_database)
    try:  # more records than a page holds, made in one go
        await conn.execute(
            "INSERT INTO sim.psp_operations (idempotency_key, operation, order_id, request, outcome, reference, amount, currency) "
            "SELECT $1 || n, $2, $1 || n, '{}', $3, 'ref_' || $1 || n, 100, 'EUR' FROM generate_series(0, $4) AS n ORDER BY n",
            f"bulk-{run}-",
            ProviderOperation.CAPTURE,
            ProviderOutcome.SUCCEEDED,
            LISTING_PAGE_SIZE,
        )
    finally:
        await conn.close()
    records = await SimulatedPaymentGateway(provider).records(ProviderRecordQuery())
    keys = [r.idempotency_key for r in records]
    assert len(keys) == len(set(keys)) > LISTING_PAGE_SIZE
    assert [k for k in keys if k.startswith(f"bulk-{run}-")] == [f"bulk-{run}-{n}" for n in range(LISTING_PAGE_SIZE + 1)]


async def test_a_record_committed_late_is_not_passed_over(provider, psp_database):
    """A record made (its place in the order drawn) but not yet committed while later ones commit: the listing
    waits for it rather than page past it."""
    gateway = SimulatedPaymentGateway(provider)
    late, order = f"late-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(psp_database)
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "INSERT INTO sim.psp_operations (idempotency_key, operation, order_id, request, outcome) VALUES ($1, $2, $1, '{}', $3)",
            late,
            ProviderOperation.VOID,
            ProviderOutcome.SUCCEEDED,
        )
        await pay(gateway, order)
        listing = asyncio.create_task(gateway.records(ProviderRecordQuery()))
        await asyncio.sleep(0.3)
        assert not listing.done()
        await transaction.commit()
        keys = [r.idempotency_key for r in await asyncio.wait_for(listing, 10)]
    finally:
        await conn.close()
    assert keys.index(late) < keys.index(f"{order}:authorize")


async def test_a_page_and_its_cursor(provider):
    gateway = SimulatedPaymentGateway(provider)
    order = f"o-{uuid.uuid4().hex[:8]}"
    await pay(gateway, order)
    first = (await provider.get("/psp/operations", params={"order_id": order, "limit": 2})).json()
    assert [r["operation"] for r in first["data"]] == ["authorize", "capture"] and first["has_more"]
    rest = (
        await provider.get(
            "/psp/operations", params={"order_id": order, "limit": 2, "starting_after": first["data"][-1]["idempotency_key"]}
        )
    ).json()
    assert [r["operation"] for r in rest["data"]] == ["refund"] and not rest["has_more"]
    assert (await provider.get("/psp/operations", params={"starting_after": "no-such-key"})).status_code == 422


async def test_a_period_s_records(provider):
    gateway = SimulatedPaymentGateway(provider)
    before = datetime.now(UTC)
    order = f"o-{uuid.uuid4().hex[:8]}"
    await pay(gateway, order)
    after = datetime.now(UTC) + timedelta(seconds=1)
    during = await gateway.records(ProviderRecordQuery(created_from=before, created_until=after))
    assert {r.idempotency_key for r in during} >= {f"{order}:authorize", f"{order}:capture", f"{order}:refund"}
    assert all(before <= r.created_at < after for r in during)
    assert await gateway.records(ProviderRecordQuery(created_from=after)) == []
