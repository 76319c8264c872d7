"""The engine's secrets: private files, tokens that expire and die with the secret, checked configuration."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from akool_mcp.config import ConfigError, check_settings
from akool_mcp.local.keys import TokenIssuer
from tests.local.engine_support import ENGINE_CLIENT_ID, ENGINE_KEY, EngineClock, akool_mode
from tests.support import make_settings

pytestmark = pytest.mark.anyio

TOKEN = "/api/open/v3/getToken"
LIST = "/api/open/v3/avatar/list"
CREDENTIALS = {"clientId": ENGINE_CLIENT_ID, "clientSecret": ENGINE_KEY}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_directory_and_database_are_readable_by_the_user_only(tmp_path: Path) -> None:
    data = tmp_path / "engine"
    data.mkdir(mode=0o755)
    async with akool_mode(tmp_path) as (_, http):
        await http.post(TOKEN, json=CREDENTIALS)
        files = {p.name: mode(p) for p in data.iterdir() if p.name.startswith("engine.sqlite3")}
    assert mode(data) == 0o700
    assert files and set(files.values()) == {0o600}, files


async def test_an_old_world_readable_database_is_made_private(tmp_path: Path) -> None:
    async with akool_mode(tmp_path):
        pass
    database = tmp_path / "engine" / "engine.sqlite3"
    database.chmod(0o644)
    async with akool_mode(tmp_path):
        pass
    assert mode(database) == 0o600


async def token(http: httpx2.AsyncClient) -> str:
    answer = (await http.post(TOKEN, json=CREDENTIALS)).json()
    assert answer["code"] == 1000, answer
    value: str = answer["token"]
    return value


async def authorised(http: httpx2.AsyncClient, bearer: str) -> int:
    code: int = (await http.get(LIST, headers={"authorization": f"Bearer {bearer}"})).json()["code"]
    return code


async def test_tokens_expire_after_their_lifetime(tmp_path: Path) -> None:
    clock = EngineClock()
    async with akool_mode(tmp_path, parts={"clock": clock}, local_token_ttl_days=2) as (_, http):
        bearer = await token(http)
        fresh = await authorised(http, bearer)
        await clock.advance(2 * 86_400 - 60)
        late = await authorised(http, bearer)
        await clock.advance(120)
        expired = await authorised(http, bearer)
    assert (fresh, late, expired) == (1000, 1000, 1101)


async def test_tokens_survive_a_restart_and_die_when_the_secret_changes(tmp_path: Path) -> None:
    async with akool_mode(tmp_path) as (_, http):
        bearer = await token(http)
    async with akool_mode(tmp_path) as (_, http):
        kept = await authorised(http, bearer)
    async with akool_mode(tmp_path, local_client_secret="another-secret-0123456789abcdefg") as (_, http):
        revoked = await authorised(http, bearer)
    assert (kept, revoked) == (1000, 1101)


async def test_get_token_is_rate_limited_per_client_and_cannot_evict_other_tokens(tmp_path: Path) -> None:
    clock = EngineClock()
    async with akool_mode(tmp_path, parts={"clock": clock}) as (_, http):
        first = await token(http)
        answers = [(await http.post(TOKEN, json=CREDENTIALS)) for _ in range(15)]
        limited = [a for a in answers if a.json()["code"] == 1005]
        await clock.advance(60)
        later = await token(http)
        for _ in range(200):
            await clock.advance(6)
            await token(http)
        still = await authorised(http, first)
    assert len(limited) == 6  # a burst of 10, then one every 6 s
    assert limited[0].headers["retry-after"] == "6" and "too frequent" in limited[0].json()["msg"]
    assert later and still == 1000


def test_a_token_signed_with_another_secret_or_tampered_with_is_refused() -> None:
    clock = EngineClock()
    mine = TokenIssuer("secret-one-0123456789abcdef", ttl_seconds=3600, clock=clock)
    theirs = TokenIssuer("secret-two-0123456789abcdef", ttl_seconds=3600, clock=clock)
    value = mine.issue()
    expires, nonce, mac = value.split(".")
    assert mine.valid(value) and not theirs.valid(value)
    assert not mine.valid(f"{int(expires) + 10**6}.{nonce}.{mac}")
    assert not mine.valid("") and not mine.valid("...") and not mine.valid("токен")


def test_a_key_and_a_secret_that_differ_are_refused_naming_both() -> None:
    settings = make_settings({"local_api_key": "a" * 32, "local_client_secret": "b" * 32, "data_dir": "/tmp/unused"})
    with pytest.raises(ConfigError, match=r"AKOOL_LOCAL_API_KEY and AKOOL_LOCAL_CLIENT_SECRET"):
        check_settings(settings)
    same = make_settings({"local_api_key": "a" * 32, "local_client_secret": "a" * 32})
    check_settings(same)


@pytest.mark.parametrize(("variable", "value"), [("local_client_secret", "short"), ("local_api_key", "x" * 33)])
def test_a_secret_that_cannot_be_an_aes_key_is_refused_without_echoing_it(variable: str, value: str) -> None:
    settings = make_settings({variable: value})
    with pytest.raises(ConfigError) as caught:
        check_settings(settings)
    assert f"AKOOL_{variable.upper()}" in str(caught.value) and "16, 24 or 32 bytes" in str(caught.value)
    assert value not in str(caught.value)


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-m", "akool_mcp", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("problem", ["a file", "cannot be made", "under a file"])
def test_an_unusable_data_directory_stops_local_api_with_one_line_naming_it(tmp_path: Path, problem: str) -> None:
    target = tmp_path / "data"
    if problem == "a file":
        target.write_text("not a directory")
    elif problem == "cannot be made":
        target = Path("/proc/self/akool-mcp-data")  # not even root can make a folder there
    else:
        (tmp_path / "blocker").write_text("x")
        target = tmp_path / "blocker" / "data"
    result = run_cli(tmp_path, "local-api", "--port", "1", AKOOL_DATA_DIR=str(target))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert str(target) in lines[0] and "AKOOL_DATA_DIR" in lines[0] and "Traceback" not in result.stderr


def test_a_bad_local_secret_stops_local_api_with_exit_code_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "local-api", AKOOL_LOCAL_CLIENT_SECRET="tooshort", AKOOL_DATA_DIR=str(tmp_path / "d"))
    assert result.returncode == 2 and "AKOOL_LOCAL_CLIENT_SECRET" in result.stderr and "tooshort" not in result.stderr
