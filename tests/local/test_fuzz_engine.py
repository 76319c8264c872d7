"""Fuzzing the engine API from its own /openapi.json (schemathesis + hypothesis) against the real process.

Every generated request, valid or not, with or without credentials, must get an answer below 500 with
no traceback text in it, and the process must still be serving afterwards. The run is bounded and
derandomized, so it is the same run every time and stays well within CI's time.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Generator
from typing import Any

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from akool_mcp.local.openapi import openapi_document

SECRET = "fuzz-secret-0123456789abcdefghij"  # 32 bytes
EXAMPLES = 100  # per operation and mode: 8 operations x 2 modes x 60, plus the free-form bodies
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS: list[Any] = [result.ok() for result in SCHEMA.get_all_operations()]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
ALL_HEALTH_CHECKS: list[HealthCheck] = [HealthCheck(c) for c in HealthCheck]
TRACEBACK_WORDS = ("Traceback", 'File "', "Error:")


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.inputs: set[str] = set()
        self.statuses: dict[int, int] = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    home = tmp_path_factory.mktemp("fuzz")
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "AKOOL_DATA_DIR": str(home / "data"),
        "AKOOL_LOCAL_CLIENT_SECRET": SECRET,
        "AKOOL_LOG_LEVEL": "ERROR",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "akool_mcp", "local-api", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when the engine hangs on stop
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def _wait_for_health(proc: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"local-api exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx2.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            # Not listening yet: a readiness poll of a child process, not a wait on our own code.
            time.sleep(0.1)
    raise AssertionError("local-api did not start within 60 s")


def _send(client: httpx2.Client, method: str, path: str, **kwargs: Any) -> httpx2.Response | None:
    try:
        return client.request(method, path, **kwargs)
    except (UnicodeEncodeError, httpx2.LocalProtocolError, ValueError):
        return None  # the HTTP client itself refuses to send it: nothing reached the engine


def _check(response: httpx2.Response | None, tally: Tally, described: str) -> None:
    if response is None:
        return
    tally.requests += 1
    tally.inputs.add(described)
    tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
    assert response.status_code < 500, f"{response.status_code} for {described[:300]}: {response.text[:300]}"
    assert not any(word in response.text for word in TRACEBACK_WORDS), response.text[:300]


def _case_request(case: Any, authed: bool) -> tuple[str, str, dict[str, Any]]:
    given: dict[str, object] = dict(case.headers or {})
    headers = {str(k): str(v) for k, v in given.items()}
    if authed:
        headers["x-api-key"] = SECRET
        headers.pop("Authorization", None)
        headers.pop("authorization", None)
    kwargs: dict[str, Any] = {"headers": headers, "params": case.query or None}
    body = case.body
    if isinstance(body, bytes | bytearray):
        kwargs["content"] = bytes(body)
    elif type(body).__name__ != "NotSet":
        kwargs["content"] = json.dumps(body).encode("utf-8", "surrogatepass")
        headers.setdefault("content-type", "application/json")
    return case.method.upper(), case.formatted_path, kwargs


def _fuzz_operation(operation: Any, mode: GenerationMode, url: str, tally: Tally) -> None:
    with httpx2.Client(base_url=url, timeout=30) as client:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=ALL_HEALTH_CHECKS,
        )
        @given(case=operation.as_strategy(generation_mode=mode), authed=st.booleans())
        def run(case: Any, authed: bool) -> None:
            method, path, kwargs = _case_request(case, authed)
            response = _send(client, method, path, **kwargs)
            _check(response, tally, f"{method} {path} {kwargs!r}")

        try:
            run()
        except Unsatisfiable:
            # An operation that takes no input at all (/health) has nothing to make invalid.
            assert mode is GenerationMode.NEGATIVE


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_fuzzing_every_operation_gets_no_server_error_and_the_engine_serves_on(
    engine_url: str, mode: GenerationMode
) -> None:
    tally = Tally()
    for operation in OPERATIONS:
        _fuzz_operation(operation, mode, engine_url, tally)
    health = httpx2.get(f"{engine_url}/health", timeout=10)
    sys.stderr.write(
        f"\nfuzz ({mode.value}): {tally.requests} requests, {len(tally.inputs)} distinct inputs, "
        f"statuses {dict(sorted(tally.statuses.items()))}\n"
    )
    assert tally.requests >= len(OPERATIONS) * EXAMPLES // 2
    assert health.status_code == 200 and health.json()["workers"]["alive"] >= 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FIELDS = ["avatar_id", "url", "name", "webhookUrl", "elements", "input_text", "voice_id", "clientId", "clientSecret"]


@pytest.mark.slow
def test_free_form_hostile_bodies_get_no_server_error(engine_url: str) -> None:
    tally = Tally()
    paths = [
        "/api/open/v3/getToken",
        "/api/open/v3/avatar/create",
        "/api/open/v3/talkingavatar/create",
    ]
    with httpx2.Client(base_url=engine_url, timeout=30) as client:

        @settings(max_examples=150, deadline=None, derandomize=True, database=None)
        @given(
            path=st.sampled_from(paths),
            body=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6),
            surrogate=st.booleans(),
        )
        def run(path: str, body: dict[str, Any], surrogate: bool) -> None:
            raw = json.dumps(body)
            if surrogate:
                raw = raw.replace('"', '"\\ud800', 1) if raw != "{}" else '{"name": "\\udfff"}'
            response = _send(client, "POST", path, content=raw.encode(), headers={"x-api-key": SECRET})
            _check(response, tally, f"POST {path} {raw}")

        run()
    sys.stderr.write(f"\nfuzz (free-form): {tally.requests} requests, {len(tally.inputs)} distinct inputs\n")
    assert httpx2.get(f"{engine_url}/health", timeout=10).status_code == 200
