"""JSON calls to a provider, with its answers sorted into success, rejection and transient failure."""

from collections.abc import Awaitable

import httpx

from adapters.errors import ProviderRejected, ProviderUnavailable


async def post_json(client: httpx.AsyncClient, path: str, body: dict) -> dict:
    return await _call(path, client.post(path, json=body))


async def get_json(client: httpx.AsyncClient, path: str, params: dict) -> dict:
    return await _call(path, client.get(path, params=params))


async def _call(path: str, request: Awaitable[httpx.Response]) -> dict:
    try:
        response = await request
    except httpx.TransportError as err:
        raise ProviderUnavailable(f"{path}: {type(err).__name__}: {err}") from err
    if response.status_code >= 500 or response.status_code == 429:
        raise ProviderUnavailable(f"{path}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ProviderRejected(f"{path}: HTTP {response.status_code}: {_detail(response)}")
    return response.json()


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]
