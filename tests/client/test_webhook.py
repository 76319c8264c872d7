from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from akool_mcp.client.webhook import (
    WebhookEvent,
    WebhookKeyError,
    WebhookVerificationError,
    compute_signature,
    seal_webhook,
    verify_and_decrypt,
)

CLIENT_ID = "client-id-123"
SECRET_24 = "abcdefghijklmnopqrstuvwx"
PAYLOAD: dict[str, Any] = {
    "_id": "65f0c0ffee",
    "status": 3,
    "type": "avatar",
    "url": "https://cdn.example.com/v.mp4",
}

# Produced outside Python with:
#   printf '%s' '<PAYLOAD as compact JSON>' | openssl enc -aes-192-cbc \
#     -K $(printf abcdefghijklmnopqrstuvwx | xxd -p) -iv $(printf 'client-id-123\0\0\0' | xxd -p) | base64 -w0
# and the signature with: printf '%s\n' <the four values> | LC_ALL=C sort | tr -d '\n' | sha1sum
KNOWN_ENVELOPE: dict[str, Any] = {
    "signature": "8b747e10e77942f615a4ad1ad602a6830b8d9825",
    "dataEncrypt": (
        "JNBh7ZX8zTyhclESYhWtPVdbY0M63gTOWRx2AKd6oG65yMkrFlLQRKdWSUuECYcALCOjUjhCjpK5kP4HILW/"
        "ZiCyAvVYnJidLcKYPByZq2eusyPTyMeQgnYhCwcjLBpI"
    ),
    "timestamp": 1710000000000,
    "nonce": "8317",
}


def test_known_vector_opens() -> None:
    event = verify_and_decrypt(KNOWN_ENVELOPE, client_id=CLIENT_ID, client_secret=SECRET_24)
    assert event == WebhookEvent(
        id="65f0c0ffee", status=3, type="avatar", url="https://cdn.example.com/v.mp4", raw=PAYLOAD
    )


def test_known_vector_is_reproduced_by_seal() -> None:
    sealed = seal_webhook(PAYLOAD, client_id=CLIENT_ID, client_secret=SECRET_24, timestamp=1710000000000, nonce="8317")
    assert sealed == KNOWN_ENVELOPE


def test_signature_format_matches_independent_computation() -> None:
    values = [CLIENT_ID, "1710000000000", "8317", KNOWN_ENVELOPE["dataEncrypt"]]
    expected = hashlib.sha1("".join(sorted(values)).encode(), usedforsecurity=False).hexdigest()
    assert compute_signature(CLIENT_ID, 1710000000000, "8317", KNOWN_ENVELOPE["dataEncrypt"]) == expected
    assert compute_signature(CLIENT_ID, "1710000000000", "8317", KNOWN_ENVELOPE["dataEncrypt"]) == expected
    assert expected == KNOWN_ENVELOPE["signature"]


def _independent_encrypt(plaintext: bytes, key: bytes, iv: bytes) -> str:
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(enc.update(padder.update(plaintext) + padder.finalize()) + enc.finalize()).decode()


@pytest.mark.parametrize("secret", ["k" * 16, "k" * 24, "k" * 32, "é" * 8])
@pytest.mark.parametrize(
    ("client_id", "iv"),
    [
        ("short", b"short" + b"\0" * 11),
        ("exactly-16-chars", b"exactly-16-chars"),
        ("a-client-id-longer-than-sixteen", b"a-client-id-long"),
    ],
)
def test_round_trip_all_key_sizes_and_iv_shapes(secret: str, client_id: str, iv: bytes) -> None:
    sealed = seal_webhook(PAYLOAD, client_id=client_id, client_secret=secret, timestamp=1, nonce="42")
    plaintext = json.dumps(PAYLOAD, separators=(",", ":")).encode()
    assert sealed["dataEncrypt"] == _independent_encrypt(plaintext, secret.encode(), iv)

    event = verify_and_decrypt(sealed, client_id=client_id, client_secret=secret)
    assert event.id == "65f0c0ffee"
    assert event.status == 3
    assert event.raw == PAYLOAD


@pytest.mark.parametrize("as_type", [bytes, str])
def test_accepts_raw_request_body(as_type: type) -> None:
    raw = json.dumps(KNOWN_ENVELOPE)
    body = raw.encode() if as_type is bytes else raw
    event = verify_and_decrypt(body, client_id=CLIENT_ID, client_secret=SECRET_24)
    assert event.url == "https://cdn.example.com/v.mp4"


def test_defaults_fill_timestamp_and_nonce() -> None:
    a = seal_webhook(PAYLOAD, client_id=CLIENT_ID, client_secret=SECRET_24)
    b = seal_webhook(PAYLOAD, client_id=CLIENT_ID, client_secret=SECRET_24)
    assert isinstance(a["timestamp"], int)
    assert a["timestamp"] > 1_600_000_000_000  # milliseconds, not seconds
    assert isinstance(a["nonce"], str)
    assert a["nonce"]
    assert a["nonce"] != b["nonce"]
    verify_and_decrypt(a, client_id=CLIENT_ID, client_secret=SECRET_24, max_age_seconds=60)


def _flip(text: str) -> str:
    return ("B" if text[0] == "A" else "A") + text[1:]


@pytest.mark.parametrize(
    "change",
    [
        {"dataEncrypt": _flip(KNOWN_ENVELOPE["dataEncrypt"])},
        {"signature": _flip(KNOWN_ENVELOPE["signature"])},
        {"signature": "0" * 40},
        {"timestamp": 1710000000001},
        {"nonce": "8318"},
        {"signature": "ünïcode"},
    ],
)
def test_tampering_is_rejected(change: dict[str, Any]) -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_and_decrypt({**KNOWN_ENVELOPE, **change}, client_id=CLIENT_ID, client_secret=SECRET_24)


def test_other_client_id_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify_and_decrypt(KNOWN_ENVELOPE, client_id="client-id-124", client_secret=SECRET_24)


def test_wrong_secret_is_rejected_without_leaking_it() -> None:
    wrong = "ABCDEFGHIJKLMNOPQRSTUVWX"
    with pytest.raises(WebhookVerificationError) as info:
        verify_and_decrypt(KNOWN_ENVELOPE, client_id=CLIENT_ID, client_secret=wrong)
    assert "decrypt" in str(info.value) or "JSON" in str(info.value)
    assert wrong not in str(info.value)
    assert SECRET_24 not in str(info.value)


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        (["nonce"], "nonce"),
        (["signature", "timestamp"], "signature, timestamp"),
        (["dataEncrypt"], "dataEncrypt"),
    ],
)
def test_missing_fields_are_named(drop: list[str], named: str) -> None:
    envelope = {k: v for k, v in KNOWN_ENVELOPE.items() if k not in drop}
    with pytest.raises(WebhookVerificationError, match=f"missing field\\(s\\): {named}\\."):
        verify_and_decrypt(envelope, client_id=CLIENT_ID, client_secret=SECRET_24)


def test_empty_field_counts_as_missing() -> None:
    with pytest.raises(WebhookVerificationError, match="missing field\\(s\\): nonce"):
        verify_and_decrypt({**KNOWN_ENVELOPE, "nonce": ""}, client_id=CLIENT_ID, client_secret=SECRET_24)


@pytest.mark.parametrize("secret", ["", "short", "x" * 17, "x" * 33, "é" * 12 + "x"])
def test_bad_key_length_is_a_clear_value_error(secret: str) -> None:
    with pytest.raises(ValueError, match="16, 24 or 32 bytes") as info:
        seal_webhook(PAYLOAD, client_id=CLIENT_ID, client_secret=secret)
    assert isinstance(info.value, WebhookKeyError)
    if secret:
        assert secret not in str(info.value)
    with pytest.raises(WebhookKeyError):
        verify_and_decrypt(KNOWN_ENVELOPE, client_id=CLIENT_ID, client_secret=secret)


def test_stale_timestamp_is_rejected_only_when_asked() -> None:
    sent = KNOWN_ENVELOPE["timestamp"]
    kwargs: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": SECRET_24}
    verify_and_decrypt(KNOWN_ENVELOPE, **kwargs)  # no freshness check by default
    verify_and_decrypt(KNOWN_ENVELOPE, max_age_seconds=300, now_ms=sent + 299_000, **kwargs)
    with pytest.raises(WebhookVerificationError, match="old"):
        verify_and_decrypt(KNOWN_ENVELOPE, max_age_seconds=300, now_ms=sent + 301_000, **kwargs)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify_and_decrypt(KNOWN_ENVELOPE, max_age_seconds=300, now_ms=sent - 301_000, **kwargs)


def _signed(data_encrypt: str, timestamp: int | str = 1, nonce: str = "n") -> dict[str, Any]:
    return {
        "signature": compute_signature(CLIENT_ID, timestamp, nonce, data_encrypt),
        "dataEncrypt": data_encrypt,
        "timestamp": timestamp,
        "nonce": nonce,
    }


@pytest.mark.parametrize(
    ("data_encrypt", "message"),
    [
        ("not base64!!", "base64"),
        (base64.b64encode(b"x" * 15).decode(), "AES blocks"),
        (_independent_encrypt(b"not json", SECRET_24.encode(), b"client-id-123\0\0\0"), "not JSON"),
        (_independent_encrypt(b"[1, 2]", SECRET_24.encode(), b"client-id-123\0\0\0"), "JSON object"),
        (_independent_encrypt(b'{"status": 2}', SECRET_24.encode(), b"client-id-123\0\0\0"), "_id"),
        (_independent_encrypt(b'{"_id": "x"}', SECRET_24.encode(), b"client-id-123\0\0\0"), "status"),
    ],
)
def test_correctly_signed_but_broken_payloads(data_encrypt: str, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verify_and_decrypt(_signed(data_encrypt), client_id=CLIENT_ID, client_secret=SECRET_24)


def test_bad_padding_is_reported() -> None:
    # Encrypted without padding and ending in 0x00, which is never a valid PKCS#7 pad byte.
    enc = Cipher(algorithms.AES(SECRET_24.encode()), modes.CBC(b"client-id-123\0\0\0")).encryptor()
    data = base64.b64encode(enc.update(b"A" * 15 + b"\x00") + enc.finalize()).decode()
    with pytest.raises(WebhookVerificationError, match="padding"):
        verify_and_decrypt(_signed(data), client_id=CLIENT_ID, client_secret=SECRET_24)


@pytest.mark.parametrize("body", [b"not json", "[1, 2]", b"\xff\xfe"])
def test_unparseable_body(body: bytes | str) -> None:
    with pytest.raises(WebhookVerificationError, match="JSON"):
        verify_and_decrypt(body, client_id=CLIENT_ID, client_secret=SECRET_24)


def test_event_parsing_is_tolerant() -> None:
    payload = {"_id": "v1", "status": "2", "type": "avatar", "url": "", "extra": {"x": 1}, "video_id": 5}
    sealed = seal_webhook(payload, client_id=CLIENT_ID, client_secret=SECRET_24)
    event = verify_and_decrypt(sealed, client_id=CLIENT_ID, client_secret=SECRET_24)
    assert (event.id, event.status, event.type, event.url) == ("v1", 2, "avatar", None)
    assert event.raw["extra"] == {"x": 1}
    assert "raw" not in repr(event)


def test_non_ascii_payload_round_trips() -> None:
    payload = {"_id": "v2", "status": 4, "type": "avatar", "msg": "échec — 失败"}
    sealed = seal_webhook(payload, client_id=CLIENT_ID, client_secret=SECRET_24)
    assert verify_and_decrypt(sealed, client_id=CLIENT_ID, client_secret=SECRET_24).raw == payload


def test_module_does_not_import_mcp() -> None:
    # A fresh interpreter, because this test session may already have imported mcp elsewhere.
    code = "import sys, akool_mcp.client.webhook; sys.exit('mcp' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
