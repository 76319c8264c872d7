"""The local engine's own credentials: configured, or generated once and kept in the data directory.

Bearer tokens from getToken are signed, not stored: `<expiry>.<nonce>.<mac>`, with the MAC keyed by
the client secret. So a token expires on its own (AKOOL_LOCAL_TOKEN_TTL_DAYS), every token dies when
the secret changes (that is how to revoke them all), nothing secret about tokens sits on disk, and no
caller can push other callers' tokens out of a list.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from akool_mcp.clock import Clock
from akool_mcp.config import Settings
from akool_mcp.local.store import Store


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
    # Tokens were once kept in a list here; signed tokens need none, so the old list goes.
    store.delete_meta("tokens")
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


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (compare_digest refuses it as str)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Signed bearer tokens that expire, and all die together when the secret changes."""

    def __init__(self, secret: str, *, ttl_seconds: int, clock: Clock) -> None:
        self._key = hmac.new(secret.encode("utf-8", "surrogatepass"), b"akool-mcp bearer token v1", "sha256").digest()
        self._ttl = ttl_seconds
        self._clock = clock

    def issue(self) -> str:
        expires = self._clock.now_ms() // 1000 + self._ttl
        body = f"{expires}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._mac(body)}"

    def valid(self, token: str) -> bool:
        body, _, mac = token.rpartition(".")
        if not body or not same_secret(mac, self._mac(body)):
            return False
        expires, _, _ = body.partition(".")
        return expires.isdigit() and int(expires) > self._clock.now_ms() // 1000

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).digest())


class RateLimiter:
    """A token bucket per caller: `burst` at once, refilled at `per_minute`."""

    def __init__(self, *, per_minute: float, burst: int, clock: Clock, max_callers: int = 4096) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, caller: str) -> float:
        """0 if the call may go ahead now, else the seconds to wait."""
        now = self._clock.now_ms() / 1000
        level, seen = self._buckets.pop(caller, (self._burst, now))
        level = min(self._burst, level + (now - seen) * self._rate)
        if len(self._buckets) >= self._max:
            self._buckets.popitem(last=False)
        if level >= 1.0:
            self._buckets[caller] = (level - 1.0, now)
            return 0.0
        self._buckets[caller] = (level, now)
        return (1.0 - level) / self._rate
