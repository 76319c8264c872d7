"""Akool's two auth schemes: an API key header, or a token from getToken (cached, refreshed on 1101)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, cast

import anyio
import httpx2

from akool_mcp.errors import AkoolConnectionError, AuthenticationError, error_for_code, error_for_http_status

TOKEN_PATH = "/api/open/v3/getToken"  # noqa: S105 - a path, not a secret


class Credentials(ABC):
    """Produces the auth headers for a request."""

    @abstractmethod
    async def headers(self, http: httpx2.AsyncClient) -> dict[str, str]: ...

    def invalidate(self) -> bool:
        """Forget any cached token; True if there was one to refresh."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"


class NoCredentials(Credentials):
    async def headers(self, http: httpx2.AsyncClient) -> dict[str, str]:
        return {}


class ApiKey(Credentials):
    def __init__(self, api_key: str) -> None:
        self._key = api_key

    async def headers(self, http: httpx2.AsyncClient) -> dict[str, str]:
        return {"x-api-key": self._key}


class ClientCredentials(Credentials):
    """clientId + clientSecret exchanged once for a bearer token, shared by concurrent calls."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self._token: str | None = None
        self._lock = anyio.Lock()

    async def headers(self, http: httpx2.AsyncClient) -> dict[str, str]:
        if self._token is None:
            async with self._lock:
                if self._token is None:
                    self._token = await self._fetch_token(http)
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> bool:
        had = self._token is not None
        self._token = None
        return had

    async def _fetch_token(self, http: httpx2.AsyncClient) -> str:
        try:
            response = await http.post(TOKEN_PATH, json={"clientId": self._client_id, "clientSecret": self._secret})
        except httpx2.TransportError as exc:
            raise AkoolConnectionError(f"Could not reach Akool to get a token: {type(exc).__name__}.") from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise error_for_http_status(response.status_code)
        body = cast("dict[str, Any]", body)
        code = body.get("code")
        if code != 1000:
            if isinstance(code, int):
                raise error_for_code(code, str(body.get("msg", "")), http_status=response.status_code)
            raise error_for_http_status(response.status_code)
        data = body.get("data")
        token = body.get("token") or (cast("dict[str, Any]", data).get("token") if isinstance(data, dict) else None)
        if not isinstance(token, str) or not token:
            raise AuthenticationError("Akool's getToken answered without a token; check AKOOL_CLIENT_ID.")
        return token
