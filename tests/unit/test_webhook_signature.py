"""domain/webhook_signature.py: `X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.webhook_signature import InvalidSignature, sign, verify

BODY = b'{"event_id":"evt_1","type":"shipped"}'
NOW = 1_700_000_000
TOLERANCE = 300


def v1_of(header: str) -> str:
    return header.split("v1=", 1)[1]


def test_sign_format_and_digest():
    header = sign(BODY, "s3cret", NOW)
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


@settings(deadline=None, max_examples=100)
@given(body=st.binary(max_size=2000), secret=st.text(min_size=1, max_size=40), skew=st.integers(-TOLERANCE, TOLERANCE))
def test_round_trip(body, secret, skew):
    verify(body, sign(body, secret, NOW + skew), [secret], now=NOW, tolerance_seconds=TOLERANCE)


def test_wrong_secret_is_refused():
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(BODY, sign(BODY, "right", NOW), ["wrong"], now=NOW, tolerance_seconds=TOLERANCE)


def test_no_secrets_configured_refuses_everything():
    with pytest.raises(InvalidSignature):
        verify(BODY, sign(BODY, "right", NOW), [], now=NOW, tolerance_seconds=TOLERANCE)


@pytest.mark.parametrize("tampered", [BODY + b" ", BODY.replace(b"shipped", b"delivered"), b"", BODY[:-1]])
def test_tampered_body_is_refused(tampered):
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(tampered, sign(BODY, "s", NOW), ["s"], now=NOW, tolerance_seconds=TOLERANCE)


def test_tampered_timestamp_is_refused():
    # re-stamping a valid signature with a fresh time breaks it: the timestamp is signed too
    header = f"t={NOW + 10},v1={v1_of(sign(BODY, 's', NOW))}"
    with pytest.raises(InvalidSignature, match="no signature matches"):
        verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


@pytest.mark.parametrize("age", [TOLERANCE + 1, 3600, -(TOLERANCE + 1)])
def test_stale_or_future_timestamp_is_refused(age):
    header = sign(BODY, "s", NOW - age)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


@pytest.mark.parametrize("age", [TOLERANCE, -TOLERANCE, 0])
def test_timestamp_at_the_tolerance_edge_is_accepted(age):
    verify(BODY, sign(BODY, "s", NOW - age), ["s"], now=NOW, tolerance_seconds=TOLERANCE)


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header_is_refused(header):
    with pytest.raises(InvalidSignature, match="missing"):
        verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"t={NOW}",  # no v1
        "v1=abcdef",  # no t
        f"t=abc,v1={'0' * 64}",  # non-numeric t
        f"t=-{NOW},v1={'0' * 64}",  # negative t
        f"t={NOW},v1=",  # empty v1
        f"t={NOW},v0={'0' * 64}",  # unknown scheme only
    ],
)
def test_malformed_header_is_refused(header):
    with pytest.raises(InvalidSignature, match="malformed"):
        verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


def test_rotation_header_with_old_and_new_signature_verifies_against_either_secret():
    old, new = v1_of(sign(BODY, "old-secret", NOW)), v1_of(sign(BODY, "new-secret", NOW))
    header = f"t={NOW},v1={old},v1={new}"
    verify(BODY, header, ["new-secret"], now=NOW, tolerance_seconds=TOLERANCE)
    verify(BODY, header, ["old-secret"], now=NOW, tolerance_seconds=TOLERANCE)
    verify(BODY, header, ["old-secret", "new-secret"], now=NOW, tolerance_seconds=TOLERANCE)
    with pytest.raises(InvalidSignature):
        verify(BODY, header, ["third-secret"], now=NOW, tolerance_seconds=TOLERANCE)


def test_rotation_receiver_with_both_secrets_accepts_a_single_signature_from_either():
    for secret in ("old-secret", "new-secret"):
        verify(BODY, sign(BODY, secret, NOW), ["old-secret", "new-secret"], now=NOW, tolerance_seconds=TOLERANCE)


def test_unknown_schemes_and_spaces_are_ignored_alongside_a_valid_v1():
    header = f" t={NOW} , v0=deadbeef , v1={'0' * 64}, v1={v1_of(sign(BODY, 's', NOW))} "
    verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


def test_signature_is_case_sensitive_hex():
    header = f"t={NOW},v1={v1_of(sign(BODY, 's', NOW)).upper()}"
    with pytest.raises(InvalidSignature):
        verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


# HTTP header values reach verify() decoded as latin-1, so any byte 0x80-0xFF can appear in them.
# A bad header must be refused with InvalidSignature (the API maps it to 401), never another exception.
@pytest.mark.parametrize(
    "header",
    [
        f"t=\u00b2,v1={'0' * 64}",  # superscript two: str.isdigit() is True but int() refuses it
        f"t={NOW}\u00b9,v1={'0' * 64}",
        f"t={NOW},v1=\u00e9\u00e9",  # non-ASCII signature: hmac.compare_digest raises TypeError on non-ASCII str
        f"t={NOW},v1={'0' * 63}\u00ff",
    ],
)
def test_non_ascii_header_is_refused_as_invalid_signature(header):
    with pytest.raises(InvalidSignature):
        verify(BODY, header, ["s"], now=NOW, tolerance_seconds=TOLERANCE)


# An absurd timestamp is a refused signature (401), never an exception of another kind (500).
@pytest.mark.parametrize(
    "timestamp",
    [
        "9" * 5000,  # int() refuses more than 4300 digits with ValueError
        "9" * 20,  # beyond any Unix time
        "-1",
        "+1700000000",
        "1.7e9",
        "1700000000.5",
        "0x6553f100",
        "１７００００００００",  # full-width digits
        "",
        " ",
    ],
)
def test_absurd_timestamp_is_refused_as_invalid_signature(timestamp):
    with pytest.raises(InvalidSignature):
        verify(BODY, f"t={timestamp},v1={v1_of(sign(BODY, 's', NOW))}", ["s"], now=NOW, tolerance_seconds=TOLERANCE)
