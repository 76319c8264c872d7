"""Finding avatars by the ids a model is likely to hold."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from akool_mcp.client import AkoolClient
from akool_mcp.clock import Clock
from akool_mcp.domain.follow import POLL_FACTOR, POLL_FIRST, POLL_MAX
from akool_mcp.errors import InputError, NotFoundError
from akool_mcp.models import Avatar, AvatarSource, Status, status_label

_RECORD_ID = re.compile(r"^[0-9a-f]{24}$")
PAGE_SIZE = 100
MAX_PAGES = 20


def is_record_id(value: str) -> bool:
    return bool(_RECORD_ID.match(value))


async def find_by_avatar_id(client: AkoolClient, avatar_id: str) -> Avatar | None:
    """Walk the avatar list (all sources) for an avatar_id; None if no page has it."""
    for page in range(1, MAX_PAGES + 1):
        listing = await client.list_avatars(page=page, size=PAGE_SIZE)
        for item in listing.result:
            if item.avatar_id == avatar_id:
                return item
        if len(listing.result) < PAGE_SIZE or page * PAGE_SIZE >= listing.count:
            return None
    return None


async def resolve_avatar(client: AkoolClient, id_or_avatar_id: str) -> Avatar:
    """The avatar's current detail, given its `avatar_id` or its record `_id`."""
    key = id_or_avatar_id.strip()
    if not key:
        raise InputError("avatar_id", "is empty: give the avatar's avatar_id (or record_id) from list_avatars.")
    if is_record_id(key):
        try:
            return await client.get_avatar(key)
        except NotFoundError:
            pass  # an avatar_id may look like a record id; try the list before giving up
    found = await find_by_avatar_id(client, key)
    if found is None:
        raise InputError("avatar_id", f"no avatar has the avatar_id or record_id {key!r}; list_avatars shows them.")
    return await client.get_avatar(found.id) if found.id else found


async def ready_avatar(client: AkoolClient, avatar_id: str) -> Avatar:
    """The avatar behind an avatar_id, refused (naming the parameter) when unknown or not ready yet."""
    found = await find_by_avatar_id(client, avatar_id)
    if found is None:
        raise InputError("avatar_id", f"no avatar has avatar_id {avatar_id!r}; call list_avatars.")
    if found.status not in (None, Status.COMPLETED):
        label = status_label(found.status)
        raise InputError("avatar_id", f"avatar {avatar_id!r} is not ready (status {label}); check it with get_avatar.")
    return found


def avatar_source(avatar: Avatar) -> int:
    return avatar.from_ or AvatarSource.OFFICIAL


async def wait_for_avatar(
    client: AkoolClient,
    record_id: str,
    *,
    wait_seconds: float,
    clock: Clock,
    on_poll: Callable[[Avatar, float], Awaitable[None]] | None = None,
    max_interval: float = POLL_MAX,
) -> Avatar:
    """Follow an upload until it is ready or failed, or until `wait_seconds` pass (as `wait_for_video` does)."""
    start = clock.monotonic()
    interval = min(POLL_FIRST, max_interval)
    avatar = await client.get_avatar(record_id)
    while True:
        waited = clock.monotonic() - start
        if on_poll is not None:
            await on_poll(avatar, waited)
        remaining = start + wait_seconds - clock.monotonic()
        if avatar.status in (None, Status.COMPLETED, Status.FAILED) or remaining <= 0:
            return avatar
        await clock.sleep(min(interval, remaining))
        interval = min(interval * POLL_FACTOR, max_interval)
        avatar = await client.get_avatar(record_id)
