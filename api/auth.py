"""Bearer JWT (HS256) authentication and role checks."""

import time
from enum import StrEnum

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.problems import Problem

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    OPERATOR = "operator"
    MARKETPLACE = "marketplace"


class Principal(BaseModel):
    sub: str
    role: Role


def mint_token(secret: str, sub: str, role: Role, ttl_seconds: int = 30 * 24 * 3600) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "role": role.value, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "role"]})
        return Principal(sub=claims["sub"], role=Role(claims["role"]))
    except (jwt.InvalidTokenError, ValueError) as err:
        raise Problem(401, f"invalid bearer token: {err}", headers=_CHALLENGE) from err


def current_principal(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    if credentials is None:
        raise Problem(401, "missing bearer token", headers=_CHALLENGE)
    return decode_token(request.app.state.settings.settlement_jwt_secret, credentials.credentials)


def require(*roles: Role):
    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Problem(403, f"role {principal.role} may not do this")
        return principal

    return dependency
