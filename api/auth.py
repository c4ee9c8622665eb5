"""Bearer JWT authentication and role checks: the API verifies tokens, it never mints them (runtime/tokens.py does).

Tokens carry `sub`, `role`, `iat`, `exp`, `iss` and `aud`. HS256 with SETTLEMENT_JWT_SECRET (tokens minted by
`settlement token`), or RS256 checked against an identity provider's JWKS when SETTLEMENT_JWT_JWKS_URL is set.
A refused token is answered with a reason of ours, never the library's message.
"""

from functools import lru_cache

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError

from api.problems import Problem
from domain.order_actions import Role
from domain.text import SingleLine
from runtime.settings import Settings

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
REQUIRED_CLAIMS = ("sub", "role", "iat", "exp", "iss", "aud")
CLOCK_SKEW_SECONDS = 30
JWKS_CACHE_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 5

# Most specific first: several of these subclass each other.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not valid yet"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.PyJWKClientError, "unknown signing key"),
    (jwt.DecodeError, "malformed"),
)


class Principal(BaseModel):
    sub: SingleLine = Field(min_length=1, max_length=255)
    role: Role


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_TIMEOUT_SECONDS)


def _refused(reason: str) -> Problem:
    return Problem(401, f"invalid bearer token: {reason}", headers=_CHALLENGE)


def _reason(err: jwt.PyJWTError) -> str:
    if isinstance(err, jwt.MissingRequiredClaimError) and err.claim in REQUIRED_CLAIMS:
        return f"missing claim {err.claim}"
    return next((reason for kind, reason in _REASONS if isinstance(err, kind)), "invalid")


def decode_token(settings: Settings, token: str) -> Principal:
    """Blocking in JWKS mode (the key set is fetched, then cached): call it from a worker thread."""
    try:
        if settings.settlement_jwt_jwks_url:
            key, algorithms = _jwks_client(settings.settlement_jwt_jwks_url).get_signing_key_from_jwt(token).key, ["RS256"]
        else:
            key, algorithms = settings.settlement_jwt_secret, ["HS256"]
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.settlement_jwt_audience,
            issuer=settings.settlement_jwt_issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWKClientConnectionError as err:
        raise Problem(503, "the identity provider's signing keys are unavailable; try again", headers={"Retry-After": "5"}) from err
    except jwt.PyJWTError as err:
        raise _refused(_reason(err)) from err
    try:
        return Principal(sub=claims["sub"], role=claims["role"])
    except ValidationError as err:
        raise _refused("unknown role or subject") from err


def current_principal(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    if credentials is None:
        raise Problem(401, "missing bearer token", headers=_CHALLENGE)
    return decode_token(request.app.state.settings, credentials.credentials)


def require(*roles: Role):
    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Problem(403, f"role {principal.role} may not do this")
        return principal

    return dependency
