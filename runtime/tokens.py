"""Minting the API's bearer tokens (HS256 with SETTLEMENT_JWT_SECRET): `settlement token` and make run's banner.

The API only verifies them (api/auth.py); with SETTLEMENT_JWT_JWKS_URL set, tokens come from the identity provider
and none are minted here.
"""

import time
from datetime import timedelta

import jwt

from domain.order_actions import Role
from runtime.settings import Settings

DEFAULT_TTL = timedelta(hours=24)


class TokenRefused(ValueError):
    """A token this configuration will not mint (too long-lived for an operator, or tokens come from a JWKS)."""


def mint_token(settings: Settings, sub: str, role: Role, ttl: timedelta | None = None, *, allow_long_lived: bool = False) -> str:
    """An HS256 token; an operator's lives at most SETTLEMENT_OPERATOR_TOKEN_MAX_TTL unless allow_long_lived."""
    if settings.settlement_jwt_jwks_url:
        raise TokenRefused("tokens come from the identity provider (SETTLEMENT_JWT_JWKS_URL is set), not from here")
    max_operator_ttl = settings.settlement_operator_token_max_ttl
    ttl = ttl or (max_operator_ttl if role == Role.OPERATOR else DEFAULT_TTL)
    if ttl <= timedelta(0):
        raise TokenRefused("a token's lifetime must be positive")
    if role == Role.OPERATOR and ttl > max_operator_ttl and not allow_long_lived:
        raise TokenRefused(
            f"operator tokens live at most {max_operator_ttl.total_seconds() / 3600:g} h (SETTLEMENT_OPERATOR_TOKEN_MAX_TTL); "
            "allow a longer one explicitly (`settlement token --allow-long-lived`)"
        )
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": role.value,
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
        "iss": settings.settlement_jwt_issuer,
        "aud": settings.settlement_jwt_audience,
    }
    return jwt.encode(claims, settings.settlement_jwt_secret, algorithm="HS256")
