"""The one guarded transport for media and webhooks: resolve, refuse private answers, pin, keep the name."""

from __future__ import annotations

import httpx2
import pytest

from akool_mcp.media.transport import GuardedTransport, TargetRefused, UrlError, is_blocked_address, parse_http_url

pytestmark = pytest.mark.anyio

PUBLIC_IP = "93.184.215.14"


def resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


class Seen:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.requests: list[httpx2.Request] = []
        self.refuse = refuse or set()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host in self.refuse:
            raise httpx2.ConnectError("refused", request=request)
        self.requests.append(request)
        return httpx2.Response(200)


async def send(transport: GuardedTransport, url: str) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=transport) as client:
        return await client.post(url, json={"hello": "world"})


async def test_a_host_name_is_sent_to_its_checked_address_with_the_name_kept_for_host_and_tls() -> None:
    seen = Seen()
    table = resolver({"hooks.example.com": ["93.184.215.14"]})
    response = await send(
        GuardedTransport(httpx2.MockTransport(seen), resolver=table), "https://hooks.example.com:8443/h"
    )
    request = seen.requests[0]
    assert response.status_code == 200
    assert request.url.host == "93.184.215.14" and request.url.port == 8443 and request.url.path == "/h"
    assert request.headers["host"] == "hooks.example.com:8443" and request.headers["connection"] == "close"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.content == b'{"hello":"world"}'


async def test_the_next_checked_address_is_tried_when_one_refuses_the_connection() -> None:
    seen = Seen(refuse={"2606:2800:220:1:248:1893:25c8:1946"})
    table = resolver({"cdn.example.com": ["2606:2800:220:1:248:1893:25c8:1946", "93.184.215.14"]})
    await send(GuardedTransport(httpx2.MockTransport(seen), resolver=table), "http://cdn.example.com/a")
    assert [r.url.host for r in seen.requests] == ["93.184.215.14"]


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://sneaky.example.com/h", ["93.184.215.14", "10.0.0.1"]),
        ("http://meta.example.com/h", ["169.254.169.254"]),
        ("http://v6.example.com/h", ["::ffff:127.0.0.1"]),
        ("http://127.0.0.1/h", []),
        ("http://[::1]/h", []),
    ],
)
async def test_private_targets_are_refused_and_nothing_is_sent(url: str, answers: list[str]) -> None:
    seen = Seen()
    host = httpx2.URL(url).host
    transport = GuardedTransport(httpx2.MockTransport(seen), resolver=resolver({host: answers}))
    with pytest.raises(TargetRefused) as caught:
        await send(transport, url)
    assert caught.value.kind == "private" and seen.requests == []


async def test_an_unresolvable_name_is_refused_as_such() -> None:
    seen = Seen()
    with pytest.raises(TargetRefused) as caught:
        await send(GuardedTransport(httpx2.MockTransport(seen), resolver=resolver({})), "http://gone.example.com/")
    assert caught.value.kind == "unresolvable" and seen.requests == []


async def test_private_targets_pass_when_allowed() -> None:
    seen = Seen()
    await send(GuardedTransport(httpx2.MockTransport(seen), allow_private=True), "http://127.0.0.1:9/h")
    assert seen.requests[0].url.host == "127.0.0.1"


@pytest.mark.parametrize(
    "url",
    ["http://example.com:abc/", "http://[::1/x", "http://exa\x7fmple.com/", "javascript:alert(1)", "http:///x",
     "http://" + "a" * 3000 + ".com/", "http://bad_host!.com/", "https://ex\ud800.com/"],
)  # fmt: skip
def test_urls_the_client_would_refuse_are_refused_by_the_parser(url: str) -> None:
    with pytest.raises(UrlError) as caught:
        parse_http_url(url)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - a target address under test, nothing binds to it
        "224.0.0.1",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[fe80::1]",
        "[fd00::1]",
        "[2002:7f00:1::]",
        "[64:ff9b::a9fe:a9fe]",
    ],
)
async def test_private_literal_addresses_are_refused(host: str) -> None:
    seen = Seen()
    with pytest.raises(TargetRefused) as caught:
        await send(GuardedTransport(httpx2.MockTransport(seen), resolver=None), f"http://{host}/a.png")
    assert caught.value.kind == "private" and seen.requests == []


@pytest.mark.parametrize(
    "addresses",
    [
        ["169.254.169.254"],
        ["127.0.0.1"],
        ["::1"],
        ["::ffff:10.0.0.1"],
        [PUBLIC_IP, "10.0.0.1"],  # one bad answer is enough
        ["fe80::1%eth0"],
        ["not-an-ip"],
    ],
)
async def test_names_resolving_to_private_addresses_are_refused(addresses: list[str]) -> None:
    seen = Seen()
    table = resolver({"metadata.example.com": addresses})
    with pytest.raises(TargetRefused) as caught:
        await send(GuardedTransport(httpx2.MockTransport(seen), resolver=table), "http://metadata.example.com/a")
    assert caught.value.kind == "private" and seen.requests == []


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "017700000001"])
async def test_odd_ipv4_spellings_are_caught_by_the_real_resolver(host: str) -> None:
    # The system resolver parses numeric hosts locally (no DNS traffic) into 127.0.0.1.
    seen = Seen()
    with pytest.raises(TargetRefused) as caught:
        await send(GuardedTransport(httpx2.MockTransport(seen), resolver=None), f"http://{host}/a")
    assert caught.value.kind == "private" and seen.requests == []


@pytest.mark.parametrize(
    ("address", "blocked"),
    [
        ("8.8.8.8", False),
        (PUBLIC_IP, False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
        ("100.127.255.254", True),
        ("198.18.0.1", True),
        ("192.0.0.8", True),
        ("255.255.255.255", True),
        ("fec0::1", True),
        ("ff0e::1", True),
        ("::127.0.0.1", True),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", True),  # Teredo
        ("64:ff9b::7f00:1", True),
    ],
)
def test_address_classification(address: str, blocked: bool) -> None:
    assert is_blocked_address(address) is blocked


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://169.254.169.254/latest/meta-data/", []),
        ("http://[fd00:ec2::254]/latest/meta-data/", []),
        ("http://[::ffff:169.254.169.254]/", []),
        ("http://metadata.example.com/", ["169.254.169.254"]),
        ("http://alibaba.example.com/", ["100.100.100.200"]),
        ("http://router.example.com/", ["fe80::1"]),
    ],
)
async def test_metadata_and_link_local_stay_refused_when_private_targets_are_allowed(
    url: str, answers: list[str]
) -> None:
    seen = Seen()
    host = httpx2.URL(url).host
    transport = GuardedTransport(httpx2.MockTransport(seen), allow_private=True, resolver=resolver({host: answers}))
    with pytest.raises(TargetRefused, match="cloud metadata") as caught:
        await send(transport, url)
    assert caught.value.kind == "private" and seen.requests == []


async def test_allowed_private_targets_are_still_pinned_to_the_checked_address() -> None:
    seen = Seen()
    table = resolver({"nas.home.arpa": ["192.168.1.20"]})
    await send(
        GuardedTransport(httpx2.MockTransport(seen), allow_private=True, resolver=table), "http://nas.home.arpa/h"
    )
    assert seen.requests[0].url.host == "192.168.1.20" and seen.requests[0].headers["host"] == "nas.home.arpa"
