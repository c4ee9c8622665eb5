"""Signed webhooks: header `X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.

Several v1 values may be present (secret rotation); any one matching is enough.
"""

import hashlib
import hmac
import re

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
# A Unix time in seconds; more digits than this is nonsense (and int() of thousands of digits raises).
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class InvalidSignature(ValueError):
    pass


def sign(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str | None, secrets: list[str], now: int, tolerance_seconds: int) -> None:
    if not header:
        raise InvalidSignature("missing X-Signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _UNIX_SECONDS.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and _HEX_SHA256.fullmatch(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("malformed X-Signature header")
    if abs(now - timestamp) > tolerance_seconds:
        raise InvalidSignature("signature timestamp outside the tolerance")
    for secret in secrets:
        expected = sign(body, secret, timestamp).split("v1=", 1)[1]
        if any(hmac.compare_digest(expected, c) for c in candidates):
            return
    raise InvalidSignature("no signature matches")
