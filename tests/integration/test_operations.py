"""Operations end to end: encrypted payloads and their codec endpoint, needs-attention retry after an
outage, the UI link, and safe resets."""

import base64
import json

from google.protobuf.json_format import MessageToDict

from tests.integration.stack import token

OPERATOR = token("operator", "ops")


async def test_payloads_in_temporal_are_encrypted_and_the_codec_endpoint_decodes_them(engine, temporal):
    created = await engine.create(payment_method="pm_card_visa")
    order_id = created["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    history = await temporal.client.get_workflow_handle(f"order-{order_id}").fetch_history()
    raw = history.to_json()
    assert "pm_card_visa" not in raw and "buyer_a" not in raw.replace('"BuyerId"', "")
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata["encoding"] == b"binary/encrypted"
    assert started.metadata["encryption-key-id"] == b"it-2"

    body = {"payloads": [MessageToDict(started)]}
    decoded = await engine.api.post("/codec/decode", json=body, headers=OPERATOR)
    assert decoded.status_code == 200, decoded.text
    payload = decoded.json()["payloads"][0]
    assert json.loads(base64.b64decode(payload["data"]))["payment_method"] == "pm_card_visa"
    assert (await engine.api.post("/codec/decode", json=body, headers=token("buyer", "buyer_a"))).status_code == 403
    await engine.api.post(f"/v1/orders/{order_id}/cancel", headers=OPERATOR)
    await engine.wait_for(order_id, "cancelled")
