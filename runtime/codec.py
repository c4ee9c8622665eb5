"""Encryption of Temporal payloads (AES-256-GCM) with named keys, so keys can be rotated.

Each encrypted payload carries the id of the key that encrypted it; decoding picks the key by that id, so
histories written under an old key stay readable for as long as the old key is still configured.
"""

import base64
import binascii
import dataclasses
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


class PayloadDecryptionError(ValueError):
    """An encrypted payload that cannot be decrypted: unknown key id, or tampered or truncated data.

    The message names the payload's own key id (in its metadata anyway), never the configured ones; `reason`
    names none, for answers to callers."""

    def __init__(self, reason: str, key_id: str | None = None):
        super().__init__(f"encrypted payload (key id {key_id!r}) {reason}" if key_id else f"encrypted payload {reason}")
        self.reason = reason


class EncryptionCodec(PayloadCodec):
    def __init__(self, active_key_id: str, keys: Mapping[str, bytes]):
        if active_key_id not in keys:
            raise ValueError(f"active key id {active_key_id!r} is not among the configured keys")
        for key_id, key in keys.items():
            if len(key) != KEY_SIZE:
                raise ValueError(f"key {key_id!r} must be {KEY_SIZE} bytes, got {len(key)}")
        self.active_key_id = active_key_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.active_key_id.encode()
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._ciphers[self.active_key_id].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID)
        if raw_id is None:
            raise PayloadDecryptionError(f"has no {KEY_ID} metadata")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError("uses a key that is not configured", key_id)
        if len(payload.data) < NONCE_SIZE + TAG_SIZE:
            raise PayloadDecryptionError("is truncated", key_id)
        nonce, sealed = payload.data[:NONCE_SIZE], payload.data[NONCE_SIZE:]
        try:
            plain = cipher.decrypt(nonce, sealed, raw_id)
        except InvalidTag as err:
            raise PayloadDecryptionError("failed authentication: tampered or wrong key", key_id) from err
        return Payload.FromString(plain)


def parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    """Parse `kid2:BASE64KEY,kid1:BASE64KEY` (standard base64, 32 bytes each); the first key is the active one."""
    keys: dict[str, bytes] = {}
    for n, entry in enumerate(spec.split(","), start=1):
        key_id, sep, encoded = (part.strip() for part in entry.partition(":"))
        if not sep or not key_id or not encoded:
            raise ValueError(f"encryption key #{n} must look like KEY_ID:BASE64KEY")
        if key_id in keys:
            raise ValueError(f"encryption key id {key_id!r} appears twice")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as err:
            raise ValueError(f"encryption key {key_id!r} is not valid base64: {err}") from None
        if len(key) != KEY_SIZE:
            raise ValueError(f"encryption key {key_id!r} must decode to {KEY_SIZE} bytes, got {len(key)}")
        keys[key_id] = key
    return next(iter(keys)), keys


def data_converter(spec: str | None) -> DataConverter:
    """The project's pydantic converter, encrypting payloads when a key spec is given."""
    if not spec or not spec.strip():
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(*parse_keys(spec)))


def generate_key() -> str:
    """A fresh random 256-bit key, base64-encoded for a key spec."""
    return base64.b64encode(os.urandom(KEY_SIZE)).decode()
