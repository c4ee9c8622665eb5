"""The simulators' fault knobs, against a real uvicorn server: a transient fault does nothing and answers
503; an ambiguous one does the work, then answers 503 or drops the connection mid-answer."""

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, HTTPException, Request

from simulators import faults
from simulators.faults import FaultInjection, Faults, InjectedFaults, quiet_lost_answers
from tests.integration.stack import free_port


def provider_like_app() -> FastAPI:
    app = FastAPI()
    app.state.faults, app.state.injected_faults, app.state.performed = Faults(), InjectedFaults(), 0

    @app.post("/psp/payouts")
    async def payout(request: Request) -> dict:
        request.app.state.performed += 1
        return {"outcome": "succeeded", "reference": "po_1"}

    @app.post("/psp/refunds")
    async def refused() -> dict:
        raise HTTPException(422, "refund exceeds the capture")

    @app.post("/fulfillment/orders/{order_id}/events")
    async def carrier_event(request: Request) -> dict:
        request.app.state.performed += 1
        return {"event_id": "evt_1"}

    app.include_router(faults.router)
    app.add_middleware(FaultInjection)
    return app


@asynccontextmanager
async def serving(app: FastAPI):
    quiet_lost_answers()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            yield client
    finally:
        server.should_exit = True
        await task


async def _answers(client: httpx.AsyncClient, path: str, times: int) -> list[int | str]:
    answers = []
    for _ in range(times):
        try:
            answers.append((await client.post(path, json={})).status_code)
        except httpx.TransportError as err:
            answers.append(type(err).__name__)
    return answers


async def test_an_ambiguous_fault_performs_the_call_and_loses_its_answer():
    app = provider_like_app()
    async with serving(app) as client:
        assert (await client.put("/sim/faults", json={"ambiguous_rate": 1.0})).status_code == 200
        answers = await _answers(client, "/psp/payouts", 20)
        injected = (await client.get("/sim/faults/injected")).json()
    assert app.state.performed == 20
    assert set(answers) == {503, "RemoteProtocolError"}
    assert injected["performed_then_503"] == answers.count(503)
    assert injected["performed_then_dropped"] == answers.count("RemoteProtocolError")


async def test_a_transient_fault_does_nothing_and_answers_503():
    app = provider_like_app()
    async with serving(app) as client:
        await client.put("/sim/faults", json={"failure_rate": 1.0, "ambiguous_rate": 1.0})
        answers = await _answers(client, "/psp/payouts", 5)
        injected = (await client.get("/sim/faults/injected")).json()
    assert answers == [503] * 5 and app.state.performed == 0
    assert injected["transient"] == 5


@pytest.mark.parametrize("path, status", [("/psp/refunds", 422), ("/fulfillment/orders/o1/events", 200)])
async def test_refusals_and_the_carrier_driver_are_answered_as_they_are(path, status):
    app = provider_like_app()
    async with serving(app) as client:
        await client.put("/sim/faults", json={"ambiguous_rate": 1.0})
        assert await _answers(client, path, 5) == [status] * 5
