"""The one way the local engine reaches URLs that callers gave it: media downloads and webhooks alike.

Callers of the engine choose these URLs, so they are hostile input. `parse_http_url` is the single
parser: the API runs it when a request is accepted, and the transport runs the same checks when the
request goes out, so a URL that was accepted can always be sent.

`GuardedTransport` wraps the real transport. For each request it resolves the host, refuses private,
loopback, link-local and metadata addresses (where private targets are allowed, link-local and cloud
metadata addresses are still refused: that setting opens the user's network, not the machine's
credentials), and sends the
request to the address that was checked, with the original name kept for the Host header and as the
TLS SNI/verification name (`sni_hostname`). A second DNS answer (rebinding) therefore cannot move the
connection. Pinned requests carry `Connection: close`, since the pool keys connections by address and
a kept-alive TLS connection verified for one name must not serve another name on the same address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
import anyio.to_thread
import httpx2

from akool_mcp.client.http import tls_context

__all__ = [
    "MAX_URL_LENGTH",
    "GuardedTransport",
    "Resolver",
    "TargetRefused",
    "UrlError",
    "is_blocked_address",
    "parse_http_url",
    "system_resolver",
]

MAX_URL_LENGTH = 2048
Resolver = Callable[[str, int], Awaitable[list[str]]]
RefusalKind = Literal["private", "unresolvable"]

_HOST_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\.?$")


class UrlError(ValueError):
    """A URL that can never be fetched; the message says why, without echoing more than a short prefix."""


class TargetRefused(httpx2.TransportError):
    """The request was not sent: its host is private/loopback, or does not resolve."""

    def __init__(self, kind: RefusalKind, message: str, *, request: httpx2.Request | None = None) -> None:
        super().__init__(message, request=request)
        self.kind: RefusalKind = kind


def shorten(text: str, limit: int = 80) -> str:
    """At most `limit` characters of caller-supplied text, for messages that quote it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_http_url(url: str) -> httpx2.URL:
    """Parse an http(s) URL exactly as it will be sent, or raise UrlError saying what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlError(f"is {len(url)} characters long; URLs may be at most {MAX_URL_LENGTH}.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise UrlError("contains control characters; pass a plain http(s) URL.")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in url):
        raise UrlError("contains invalid Unicode (a lone surrogate); pass a plain http(s) URL.")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        shown = f"'{shorten(scheme, 20)}:'" if scheme else "no scheme"
        raise UrlError(f"has {shown}; only http(s) URLs (http:// or https://) can be used.")
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError, UnicodeError) as exc:
        raise UrlError(f"is not a valid URL ({shorten(str(exc), 60)}); check it for typos.") from None
    host = parsed.raw_host.decode("ascii", "replace").lower()
    if not host:
        raise UrlError("has no host name; pass a full URL such as https://example.com/file.png.")
    if literal_ip(host) is None and not _HOST_RE.match(host):
        raise UrlError(f"has an invalid host name ({shorten(host, 40)!r}).")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UrlError("has an invalid port number.")
    return parsed


def literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


# Ranges that must never be reachable from a shared server. Python's is_global/is_private tables
# differ between patch releases (CVE-2024-4032 changed them), so the sensitive ranges are listed too.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT: provider-internal, often reaches infrastructure
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, includes 169.254.169.254 cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128",
        "::1/128",
        "100::/64",
        "2001::/23",  # IETF protocol assignments, includes Teredo 2001::/32
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
# Never reachable, even where private targets are allowed (AKOOL_ALLOW_PRIVATE_URLS opens the user's
# own network, not the machine's cloud credentials): link-local ranges and the metadata services
# that hand them out.
_METADATA_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "169.254.0.0/16",  # link-local: AWS, GCP, Azure and OpenStack metadata at 169.254.169.254
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.192/32",  # Oracle Cloud metadata (older)
        "168.63.129.16/32",  # Azure WireServer
    )
)
_METADATA_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "fe80::/10",  # link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_V4_COMPAT = ipaddress.IPv6Network("::/96")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to, for the forms that can reach one."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _V4_COMPAT and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """What the standard library knows to be not publicly routable, for either family."""
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _v4_blocked(ip: ipaddress.IPv4Address) -> bool:
    return any(ip in net for net in _BLOCKED_V4) or _not_public(ip)


def is_blocked_address(address: str) -> bool:
    """True if connecting to `address` could reach something non-public."""
    try:
        # The zone id ("%eth0") only qualifies link-local addresses, which are refused anyway.
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return True  # an unparseable answer is never trusted
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_blocked(ip)
    if ip.teredo is not None:
        return True  # the real endpoint is hidden behind a relay; nothing to check it against
    v4 = _embedded_v4(ip)
    if v4 is not None:
        return _v4_blocked(v4)
    return any(ip in net for net in _BLOCKED_V6) or ip.is_site_local or _not_public(ip)


def is_metadata_address(address: str) -> bool:
    """True for link-local and cloud metadata addresses: refused even when private targets are allowed."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = _embedded_v4(ip)
        if v4 is None:
            return any(ip in net for net in _METADATA_V6)
        ip = v4
    return any(ip in net for net in _METADATA_V4)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


async def resolve_public(host: str, port: int, resolver: Resolver, *, allow_private: bool = False) -> list[str]:
    """The host's addresses, or TargetRefused when it does not resolve or any answer is non-public
    (with `allow_private`: when any answer is link-local or a cloud metadata service)."""
    blocked = is_metadata_address if allow_private else is_blocked_address
    what = "link-local or a cloud metadata service" if allow_private else "private, loopback or link-local"
    literal = literal_ip(host)
    if literal is not None:
        if blocked(str(literal)):
            raise TargetRefused("private", f"the address is {what}")
        return [str(literal)]
    try:
        addresses = await resolver(host.rstrip("."), port)
    except OSError:
        addresses = []
    if not addresses:
        raise TargetRefused("unresolvable", "the host name does not resolve")
    # One bad answer is enough to refuse: which answer the client would use is not ours to pick.
    if any(blocked(a) for a in addresses):
        raise TargetRefused("private", f"the host name resolves to an address that is {what}")
    return addresses


class GuardedTransport(httpx2.AsyncBaseTransport):
    """Sends each request only to a checked public address, pinned, trying each address in turn."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport | None = None,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
    ) -> None:
        self._given = inner
        self._made: httpx2.AsyncBaseTransport | None = None
        self.allow_private = allow_private
        self._resolver = resolver or system_resolver

    async def _inner(self) -> httpx2.AsyncBaseTransport:
        # Made on first use, with the process's one TLS context: its set-up costs start-up time that a
        # server may never need, and loading the CA bundle (20-50 ms) is done off the event loop.
        if self._given is not None:
            return self._given
        if self._made is None:
            context = await anyio.to_thread.run_sync(tls_context)
            if self._made is None:  # another request may have made it meanwhile
                self._made = httpx2.AsyncHTTPTransport(verify=context)
        return self._made

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise TargetRefused("unresolvable", "only http(s) URLs with a host are sent", request=request)
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await resolve_public(host, port, self._resolver, allow_private=self.allow_private)
        except TargetRefused as exc:
            raise TargetRefused(exc.kind, str(exc), request=request) from None
        if literal_ip(host) is not None:
            return await (await self._inner()).handle_async_request(request)
        last: httpx2.ConnectError | None = None
        for address in addresses:
            pinned = _pinned(request, address.split("%", 1)[0], host)
            try:
                return await (await self._inner()).handle_async_request(pinned)
            except httpx2.ConnectError as exc:
                last = exc  # nothing was sent yet, so the next checked address is safe to try
        assert last is not None
        raise last

    async def aclose(self) -> None:
        if self._given is not None:
            await self._given.aclose()
        if self._made is not None:
            await self._made.aclose()


def _pinned(request: httpx2.Request, address: str, host: str) -> httpx2.Request:
    headers = httpx2.Headers(request.headers)
    headers["Host"] = request.url.netloc.decode("ascii")
    headers["Connection"] = "close"
    extensions = {**request.extensions, "sni_hostname": host.rstrip(".")}
    return httpx2.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=headers,
        stream=request.stream,
        extensions=extensions,
    )
