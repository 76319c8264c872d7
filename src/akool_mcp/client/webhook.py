"""Akool's webhook envelope: seal one (local engine) or verify and open one (receivers).

When a request carries ``webhookUrl``, Akool POSTs a JSON envelope::

    {"signature": ..., "dataEncrypt": ..., "timestamp": ..., "nonce": ...}

* ``dataEncrypt`` is base64 of AES-CBC over the JSON payload, PKCS#7 padded,
  with the client secret (UTF-8) as the key and the client id (UTF-8,
  truncated or zero-padded to 16 bytes) as the IV. The key length picks
  AES-128/192/256, so the secret must be 16, 24 or 32 bytes.
* ``signature`` is the lowercase hex SHA-1 of ``clientId``, ``timestamp``,
  ``nonce`` and ``dataEncrypt`` as strings, sorted, and joined without a
  separator. Akool's reference code sorts with JavaScript's default sort,
  which equals Python's ``sorted`` for these ASCII values.

The signature is a plain hash over values that include the (non-secret)
client id, not an HMAC: it authenticates only because forging a valid
``dataEncrypt`` needs the secret. Receivers should additionally use
``max_age_seconds`` and remember nonces if replays matter to them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "WebhookEvent",
    "WebhookKeyError",
    "WebhookVerificationError",
    "compute_signature",
    "seal_webhook",
    "verify_and_decrypt",
]

_FIELDS = ("signature", "dataEncrypt", "timestamp", "nonce")
_BLOCK_BITS = 128


class WebhookVerificationError(Exception):
    """The webhook envelope is malformed, forged, stale or cannot be decrypted."""


class WebhookKeyError(ValueError):
    """The configured client secret cannot be used as an AES key."""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified, decrypted webhook payload (``_id`` is exposed as ``id``)."""

    id: str
    status: int
    type: str
    url: str | None
    raw: dict[str, Any] = field(repr=False)


def compute_signature(client_id: str, timestamp: int | str, nonce: str, data_encrypt: str) -> str:
    """Akool's envelope signature: sha1 hex of the four values, sorted as strings and concatenated."""
    parts = sorted(_as_text(v) for v in (client_id, timestamp, nonce, data_encrypt))
    # SHA-1 is fixed by Akool's protocol, not chosen here; the flag keeps it usable on FIPS builds.
    return hashlib.sha1("".join(parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def seal_webhook(
    payload: Mapping[str, Any],
    *,
    client_id: str,
    client_secret: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """Build the envelope Akool would POST for ``payload``."""
    key = _key(client_secret)
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    if nonce is None:
        nonce = secrets.token_hex(4)
    plaintext = json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    padder = padding.PKCS7(_BLOCK_BITS).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = _cipher(key, client_id).encryptor()
    data_encrypt = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")
    return {
        "signature": compute_signature(client_id, timestamp, nonce, data_encrypt),
        "dataEncrypt": data_encrypt,
        "timestamp": timestamp,
        "nonce": nonce,
    }


def verify_and_decrypt(
    envelope: Mapping[str, Any] | bytes | str,
    *,
    client_id: str,
    client_secret: str,
    max_age_seconds: float | None = None,
    now_ms: int | None = None,
) -> WebhookEvent:
    """Check the signature (and optionally freshness) of an envelope, then decrypt it.

    Raises ``WebhookVerificationError`` for anything wrong with the envelope and
    ``WebhookKeyError`` if the client secret is not a usable AES key.
    """
    key = _key(client_secret)
    fields = _envelope_fields(envelope)
    signature, data_encrypt, timestamp, nonce = (fields[name] for name in _FIELDS)

    expected = compute_signature(client_id, timestamp, nonce, data_encrypt)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode("utf-8")):
        raise WebhookVerificationError(
            "webhook signature does not match; the envelope was altered or signed for another client id."
        )

    if max_age_seconds is not None:
        _check_fresh(timestamp, max_age_seconds, now_ms)

    try:
        ciphertext = base64.b64decode(data_encrypt, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("webhook dataEncrypt is not valid base64.") from None
    if not ciphertext or len(ciphertext) % (_BLOCK_BITS // 8):
        raise WebhookVerificationError("webhook dataEncrypt is not a whole number of AES blocks.")

    decryptor = _cipher(key, client_id).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise WebhookVerificationError(
            "webhook payload could not be decrypted (bad padding); check the client secret and client id."
        ) from None
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookVerificationError(
            "decrypted webhook payload is not JSON; check the client secret and client id."
        ) from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("decrypted webhook payload is not a JSON object.")
    return _event(cast(dict[str, Any], payload))


# --------------------------------------------------------------------------- internals


def _key(client_secret: str) -> bytes:
    key = client_secret.encode("utf-8")
    if len(key) not in (16, 24, 32):
        # The length is safe to report; the secret itself never appears in messages.
        raise WebhookKeyError(
            f"the client secret must be 16, 24 or 32 bytes to be used as an AES key (got {len(key)} bytes)."
        )
    return key


def _cipher(key: bytes, client_id: str) -> Cipher[modes.CBC]:
    iv = client_id.encode("utf-8")[:16].ljust(16, b"\0")
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _as_text(value: object) -> str:
    # Mirror JavaScript's String(): integral floats print without ".0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _envelope_fields(envelope: Mapping[str, Any] | bytes | str) -> dict[str, str]:
    if isinstance(envelope, bytes | bytearray | str):
        try:
            parsed: object = json.loads(envelope)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise WebhookVerificationError("webhook body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise WebhookVerificationError("webhook body is not a JSON object.")
        data = cast(dict[str, Any], parsed)
    else:
        data = dict(envelope)

    missing = [name for name in _FIELDS if data.get(name) is None or data.get(name) == ""]
    if missing:
        raise WebhookVerificationError(f"webhook envelope is missing field(s): {', '.join(missing)}.")
    out: dict[str, str] = {}
    for name in _FIELDS:
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise WebhookVerificationError(f"webhook envelope field {name} must be a string or a number.")
        out[name] = _as_text(value)
    return out


def _check_fresh(timestamp: str, max_age_seconds: float, now_ms: int | None) -> None:
    try:
        sent_ms = int(timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook timestamp is not an integer in milliseconds.") from None
    now = int(time.time() * 1000) if now_ms is None else now_ms
    age = (now - sent_ms) / 1000
    # A timestamp far in the future is as suspect as an old one (skewed or forged clock).
    if abs(age) > max_age_seconds:
        direction = "old" if age > 0 else "in the future"
        raise WebhookVerificationError(
            f"webhook timestamp is {abs(age):.0f}s {direction}, outside the allowed {max_age_seconds:g}s."
        )


def _event(payload: dict[str, Any]) -> WebhookEvent:
    raw_id = payload.get("_id", payload.get("id"))
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or raw_id == "":
        raise WebhookVerificationError("decrypted webhook payload has no _id.")
    status = payload.get("status")
    if isinstance(status, str) and status.strip().isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        raise WebhookVerificationError("decrypted webhook payload has no integer status.")
    kind = payload.get("type")
    url = payload.get("url")
    return WebhookEvent(
        id=str(raw_id),
        status=status,
        type=kind if isinstance(kind, str) else "",
        url=url if isinstance(url, str) and url else None,
        raw=payload,
    )
