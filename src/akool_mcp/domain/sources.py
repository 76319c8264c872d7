"""Where a video's or an avatar's media come from (a link, or a file on the user's own machine), checked at
the call rather than found wrong minutes later, when a render or an upload fails on it.

A link must answer, be public (the engine and Akool's cloud fetch from the internet, not from the user's
network), and serve a picture, video or sound as the extension says; a local file must exist and be one by
its first bytes. Only the first bytes are read. Messages name the tool's parameter and say what to give.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from akool_mcp.domain.compose import VideoSpec, background_colour
from akool_mcp.errors import InputError
from akool_mcp.models.contract import shown

if TYPE_CHECKING:
    import httpx2

    from akool_mcp.media.fetch import FetchPolicy, MediaKind

Backend = Literal["akool", "local"]


def given_source(param: str, value: str, *, allow_local_paths: bool, backend: Backend) -> str:
    """The link or file as the backend will take it: `~` expanded, a relative path or a file the backend
    cannot read refused, naming `param`."""
    value = value.strip()
    lowered = value.lower()
    if lowered.startswith(("http://", "https://")) or ("://" in value and not lowered.startswith("file://")):
        return value  # a link (other schemes are refused by the contract's check, naming the parameter)
    is_file = value.startswith(("/", "~")) or lowered.startswith("file://")
    if is_file and allow_local_paths:
        return os.path.expanduser(value) if value.startswith("~") else value
    if is_file:
        who = "Akool's cloud" if backend == "akool" else "this server (it runs apart from your files)"
        raise InputError(
            param,
            f"{shown(value)} is a file on your computer, which {who} cannot read; upload it somewhere public and "
            "give its https link.",
        )
    name = PurePosixPath(value).name or "file.png"
    if allow_local_paths:
        raise InputError(
            param,
            f"{shown(value)} is neither a link nor a full file path: give an http(s) link, or the file's full path "
            f"on this computer (for example /home/you/{name}).",
        )
    raise InputError(param, f"{shown(value)} is not a link: give the http(s) link of the file.")


async def check_source(
    param: str, value: str, kind: MediaKind, *, policy: FetchPolicy, http: httpx2.AsyncClient
) -> None:
    """Refuse now, naming `param`, a link or file that the backend would fail on later."""
    from akool_mcp.media.fetch import FetchError, probe_media  # lazy: start-up should not pay for the fetcher

    try:
        await probe_media(value, kind, policy=policy, client=http)
    except FetchError as exc:
        raise InputError(param, str(exc)) from None


def given_sources(spec: VideoSpec, *, allow_local_paths: bool, backend: Backend) -> VideoSpec:
    """`spec` with its avatar_url, audio_url and background picture as the backend will take them (see
    `given_source`); a background that is neither a colour nor a picture is refused. Raw `elements` pass as given.
    """
    if spec.elements is not None:
        return spec
    found: dict[str, str] = {}
    for param, value in _sources(spec):
        found[param] = given_source(param, value, allow_local_paths=allow_local_paths, backend=backend)
    return replace(spec, **found)


async def probe_sources(spec: VideoSpec, *, policy: FetchPolicy, http: httpx2.AsyncClient) -> None:
    """Refuse now, naming the parameter, a link or file in `spec` that the render would fail on later."""
    if spec.elements is not None:
        return
    kinds: dict[str, MediaKind] = {"avatar_url": "avatar", "audio_url": "audio", "background": "image"}
    for param, value in _sources(spec):
        await check_source(param, value, kinds[param], policy=policy, http=http)


def _sources(spec: VideoSpec) -> list[tuple[str, str]]:
    pairs = [("avatar_url", spec.avatar_url), ("audio_url", spec.audio_url)]
    if spec.background and background_colour(spec.background) is None:
        pairs.append(("background", spec.background))
    return [(param, value) for param, value in pairs if value]
