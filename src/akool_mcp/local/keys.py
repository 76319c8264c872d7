"""The local engine's own credentials: configured, or generated once and kept in the data directory."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from akool_mcp.config import Settings
from akool_mcp.local.store import Store

MAX_TOKENS = 100


@dataclass(frozen=True)
class LocalKeys:
    """clientId + clientSecret; the API key is the clientSecret, as on Akool."""

    client_id: str
    client_secret: str
    generated: bool

    @property
    def api_key(self) -> str:
        return self.client_secret

    def __repr__(self) -> str:
        return f"LocalKeys(client_id={self.client_id!r}, client_secret=<redacted>)"


def load_keys(settings: Settings, store: Store) -> LocalKeys:
    """Configured keys win; otherwise generate a pair on first start and keep it (like Jupyter's token)."""
    configured_secret = settings.local_client_secret or settings.local_api_key
    if configured_secret is not None:
        client_id = settings.local_client_id or store.get_meta("client_id") or _new_client_id(store)
        return LocalKeys(client_id, configured_secret.get_secret_value(), generated=False)
    client_id = store.get_meta("client_id") or _new_client_id(store)
    secret = store.get_meta("client_secret")
    generated = secret is None
    if secret is None:
        # 32 characters: an AES-256 key for the webhook envelope, as Akool's secrets are.
        secret = secrets.token_urlsafe(24)[:32]
        store.set_meta("client_secret", secret)
    return LocalKeys(client_id, secret, generated=generated)


def _new_client_id(store: Store) -> str:
    client_id = secrets.token_hex(8)
    store.set_meta("client_id", client_id)
    return client_id


class TokenBook:
    """Bearer tokens issued by getToken, persisted so a restart keeps them valid."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._tokens: list[str] = json.loads(store.get_meta("tokens") or "[]")

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens = [*self._tokens[-(MAX_TOKENS - 1) :], token]
        self._store.set_meta("tokens", json.dumps(self._tokens))
        return token

    def valid(self, token: str) -> bool:
        return any(hmac.compare_digest(token, t) for t in self._tokens)
