"""runtime/codec.py: AES-256-GCM payload encryption with key ids, key rotation and the data converter."""

import base64

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from runtime.codec import EncryptionCodec, PayloadDecryptionError, data_converter, generate_key, parse_keys

KEY1, KEY2 = b"\x01" * 32, b"\x02" * 32


def json_payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


PAYLOADS = [
    json_payload('{"order_id":"o-1","amount":2500}'),
    json_payload('"hello"'),
    Payload(metadata={"encoding": b"binary/null"}),
    Payload(metadata={"encoding": b"binary/plain"}, data=bytes(range(256))),
]


async def test_round_trip():
    codec = EncryptionCodec("kid1", {"kid1": KEY1})
    encoded = await codec.encode(PAYLOADS)
    assert await codec.decode(encoded) == PAYLOADS


async def test_encoded_payload_hides_the_data_and_names_the_key():
    codec = EncryptionCodec("kid1", {"kid1": KEY1})
    first, second = await codec.encode([PAYLOADS[0], PAYLOADS[0]])
    for encoded in (first, second):
        assert dict(encoded.metadata) == {"encoding": b"binary/encrypted", "encryption-key-id": b"kid1"}
        assert b"order_id" not in encoded.data and PAYLOADS[0].SerializeToString() not in encoded.data
    assert first.data != second.data  # fresh nonce each time


async def test_rotation_old_key_still_decodes_until_removed():
    old = await EncryptionCodec("kid1", {"kid1": KEY1}).encode(PAYLOADS)
    rotated = EncryptionCodec("kid2", {"kid2": KEY2, "kid1": KEY1})
    assert await rotated.decode(old) == PAYLOADS
    assert (await rotated.encode(PAYLOADS[:1]))[0].metadata["encryption-key-id"] == b"kid2"

    with pytest.raises(PayloadDecryptionError, match="key id 'kid1'.*not configured"):
        await EncryptionCodec("kid2", {"kid2": KEY2}).decode(old)


async def test_tampered_ciphertext_fails():
    codec = EncryptionCodec("kid1", {"kid1": KEY1})
    [encoded] = await codec.encode(PAYLOADS[:1])
    flipped = bytearray(encoded.data)
    flipped[-1] ^= 1
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([Payload(metadata=encoded.metadata, data=bytes(flipped))])


async def test_key_id_is_bound_to_the_ciphertext():
    codec = EncryptionCodec("kid1", {"kid1": KEY1, "kid2": KEY1})  # same key under two ids
    [encoded] = await codec.encode(PAYLOADS[:1])
    relabelled = Payload(metadata={**encoded.metadata, "encryption-key-id": b"kid2"}, data=encoded.data)
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await codec.decode([relabelled])


async def test_unencrypted_payloads_pass_through():
    codec = EncryptionCodec("kid1", {"kid1": KEY1})
    assert await codec.decode(PAYLOADS) == PAYLOADS


def test_constructor_rejects_bad_keys():
    with pytest.raises(ValueError, match="active key id 'kid9'"):
        EncryptionCodec("kid9", {"kid1": KEY1})
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptionCodec("kid1", {"kid1": b"short"})


def test_parse_keys():
    k1, k2 = generate_key(), generate_key()
    assert len(base64.b64decode(k1)) == 32 and k1 != k2
    active, keys = parse_keys(f"kid2:{k2}, kid1:{k1}")
    assert active == "kid2"
    assert keys == {"kid2": base64.b64decode(k2), "kid1": base64.b64decode(k1)}


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "#1 must look like KEY_ID:BASE64KEY"),
        ("kid1", "#1 must look like KEY_ID:BASE64KEY"),
        (f"kid1:{base64.b64encode(KEY1).decode()},:abc", "#2 must look like"),
        ("kid1:not base64!", "'kid1' is not valid base64"),
        (f"kid1:{base64.b64encode(b'x' * 16).decode()}", "'kid1' must decode to 32 bytes, got 16"),
        (f"a:{base64.b64encode(KEY1).decode()},a:{base64.b64encode(KEY2).decode()}", "'a' appears twice"),
    ],
)
def test_parse_keys_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_keys(spec)


class Order(BaseModel):
    order_id: str
    amount: int
    tags: list[str]


async def test_data_converter_encrypts_pydantic_models():
    converter = data_converter(f"kid1:{generate_key()}")
    order = Order(order_id="o-1", amount=2500, tags=["gift"])
    [payload] = await converter.encode([order])
    assert payload.metadata["encoding"] == b"binary/encrypted" and b"o-1" not in payload.data
    assert await converter.decode([payload], [Order]) == [order]


@pytest.mark.parametrize("spec", [None, "", "  "])
def test_data_converter_without_keys_is_the_plain_pydantic_converter(spec):
    assert data_converter(spec) is pydantic_data_converter
