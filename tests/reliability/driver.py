"""Drives one order along its path through the real HTTP API, the way its buyer, seller, operator and the
carrier would, whatever the engine goes through meanwhile. Every POST to the API carries an
`Idempotency-Key`: an answer that does not come (a timeout, a 5xx, a dropped connection, the first try
still running) is asked again under the same key; an action refused outright is sent again, under a new
key, only if the order still shows the status that calls for it a while later."""

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.integration.stack import token
from tests.reliability.actions import Action, Unexpected, next_action
from tests.reliability.paths import TERMINAL, Path

POLL_SECONDS = 1.0
ASK_AGAIN_AFTER = 2.0  # seconds, after an answer that does not say what happened
RESEND_REFUSED_AFTER = 15.0  # seconds, after a refusal while the order still shows the status that calls for the action
STUCK_CLAIM_AFTER = 60.0  # seconds of "the first request with this key is still running" before trying a new key
IN_PROGRESS = "idempotency-key-in-progress"
OPERATOR = "ops_chaos"
SUCCESS = (200, 201, 202)


@dataclass
class Endpoints:
    api: httpx.AsyncClient
    sim: httpx.AsyncClient
    amazon: bool = False  # the carrier reports through the simulated SP-API's driver, read by the worker's polling


@dataclass
class Sent:
    at: float
    status: int | None  # None: no answer came
    in_progress: bool = False  # answered 409: the first request with this key is still running
    generation: int = 0  # the Idempotency-Key's suffix; a new one after a refusal or a claim stuck in progress
    in_progress_since: float | None = None

    @property
    def ambiguous(self) -> bool:
        return self.status is None or self.status >= 500 or self.in_progress


@dataclass
class OrderRun:
    n: int
    order_id: str
    path: Path
    body: dict
    started: float  # the run's start (time.monotonic()), for the history's times
    history: list[str] = field(default_factory=list)
    view: dict | None = None
    failure: str | None = None  # the runner's own verdict while driving (e.g. parked where the path never parks)
    sent: dict[str, Sent] = field(default_factory=dict)  # by action
    asked_again: int = 0  # actions sent again after an answer that did not say what happened
    stuck_claims: int = 0  # keys answered "still running" for STUCK_CLAIM_AFTER seconds
    server_errors: Counter = field(default_factory=Counter)  # 5xx answers from the API or the simulators, by status

    @property
    def status(self) -> str | None:
        return self.view["status"] if self.view else None

    @property
    def done(self) -> bool:
        return self.failure is not None or self.status in TERMINAL

    def took(self, action: str) -> bool:
        return action in self.sent and self.sent[action].status in SUCCESS

    def note(self, text: str) -> None:
        self.history.append(f"{time.monotonic() - self.started:7.1f}s {text}")

    def due(self, action: str) -> bool:
        """Whether to send the action now, and under which key generation (updated in place)."""
        sent, now = self.sent.get(action), time.monotonic()
        if sent is None:
            return True
        if sent.status in SUCCESS:
            return False
        if sent.in_progress and now - (sent.in_progress_since or now) >= STUCK_CLAIM_AFTER:
            self.stuck_claims += 1
            self.note(f"{action}: its Idempotency-Key answered 'still running' for {STUCK_CLAIM_AFTER:.0f} s; trying a new key")
            sent.generation, sent.in_progress_since = sent.generation + 1, None
            return True
        if sent.ambiguous and now - sent.at >= ASK_AGAIN_AFTER:
            self.asked_again += 1
            return True
        if sent.ambiguous:
            return False
        if now - sent.at >= RESEND_REFUSED_AFTER:
            sent.generation += 1
            return True
        return False

    def record(self, action: str, status: int | None, text: str) -> None:
        previous, now = self.sent.get(action), time.monotonic()
        in_progress = status == 409 and IN_PROGRESS in text
        sent = Sent(now, status, in_progress, previous.generation if previous else 0)
        if in_progress:
            sent.in_progress_since = (previous and previous.in_progress_since) or now
        self.sent[action] = sent
        self.server_errors.update([status] if status and status >= 500 else [])
        self.note(f"{action} answered {status}" + ("" if status in SUCCESS else f": {text[:200]}"))


async def _request(client: httpx.AsyncClient, method: str, url: str, **kwargs) -> tuple[int | None, str]:
    """(status, text); status None when no answer came."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TransportError as err:
        return None, type(err).__name__
    return response.status_code, response.text


async def _post(endpoints: Endpoints, run: OrderRun, action: Action) -> tuple[int | None, str]:
    if action.by == "carrier":
        url = action.url.replace("/fulfillment/orders/", "/amazon/_sim/orders/", 1) if endpoints.amazon else action.url
        return await _request(endpoints.sim, "POST", url, json=action.body)
    view = run.view or run.body
    sub = {"buyer": view["buyer_id"], "seller": view["seller_id"], "marketplace": view["marketplace"], "operator": OPERATOR}[action.by]
    key = f"{run.order_id}:{action.key}:{run.sent[action.key].generation if action.key in run.sent else 0}"
    return await _request(endpoints.api, "POST", action.url, json=action.body, headers={**token(action.by, sub), "Idempotency-Key": key})


async def create(endpoints: Endpoints, run: OrderRun) -> None:
    create = Action("create", "marketplace", "/v1/orders", run.body)
    while run.due(create.key):
        status, text = await _post(endpoints, run, create)
        run.record(create.key, status, text)
        if status in SUCCESS:
            return
        if not run.sent[create.key].ambiguous:
            run.failure = f"create refused with {status}: {text[:300]}"
            return
        await asyncio.sleep(ASK_AGAIN_AFTER)


async def _act(endpoints: Endpoints, run: OrderRun) -> None:
    try:
        action = next_action(run.path, run.view, run.took)
    except Unexpected as err:
        run.failure = str(err)
        run.note(run.failure)
        return
    if action is None or not run.due(action.key):
        return
    if action.key.startswith("fix-account-and-retry"):
        status, _ = await _request(endpoints.sim, "PUT", f"/psp/payout-accounts/{run.view['seller_id']}", json={"rejects": False})
        run.note(f"payout account fixed ({status})")
        if status != 200:
            return
    run.record(action.key, *await _post(endpoints, run, action))


async def refresh(endpoints: Endpoints, run: OrderRun) -> None:
    status, text = await _request(endpoints.api, "GET", f"/v1/orders/{run.order_id}", headers=token("operator", OPERATOR))
    if status != 200:
        run.server_errors.update([status] if status and status >= 500 else [])
        return
    view = json.loads(text)
    if view["status"] != run.status:
        run.note(f"status {view['status']}")
    run.view = view


async def drive(endpoints: Endpoints, run: OrderRun, rng: random.Random) -> None:
    """Create the order and act on its behalf until it is over (or the runner gives up on it)."""
    await create(endpoints, run)
    while not run.done:
        await refresh(endpoints, run)
        if run.view is not None and not run.done:
            await _act(endpoints, run)
        if not run.done:
            await asyncio.sleep(POLL_SECONDS * rng.uniform(0.7, 1.3))
