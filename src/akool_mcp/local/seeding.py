"""The built-in official avatars (drawn by the package), registered in the store with their images."""

from __future__ import annotations

import hashlib

from akool_mcp.blobs import BlobStore
from akool_mcp.local.records import AvatarRow, EngineStore
from akool_mcp.models import AvatarSource, AvatarType, Status

PREVIEW_SIZE = (1080, 1080)


def builtin_record_id(avatar_id: str) -> str:
    """Stable across restarts and machines, so ids a model saw yesterday still work."""
    return hashlib.sha1(avatar_id.encode(), usedforsecurity=False).hexdigest()[:24]


def seed_builtin_avatars(store: EngineStore, blobs: BlobStore) -> None:
    """Draw previews and thumbnails once (they are deterministic, so replicas drawing them at once agree) and
    upsert the avatar records."""
    from akool_mcp.render import builtin_avatar_png, builtin_thumbnail_png, list_builtin_avatars

    for index, avatar in enumerate(list_builtin_avatars()):
        preview = f"avatars/builtin/{avatar.avatar_id}.png"
        thumb = f"avatars/builtin/{avatar.avatar_id}.thumb.png"
        if not blobs.exists(preview):
            blobs.put_bytes(preview, builtin_avatar_png(avatar.avatar_id, *PREVIEW_SIZE))
        if not blobs.exists(thumb):
            blobs.put_bytes(thumb, builtin_thumbnail_png(avatar.avatar_id))
        stamp = store.clock.now_ms()
        store.upsert_builtin_avatar(
            AvatarRow(
                id=builtin_record_id(avatar.avatar_id),
                avatar_id=avatar.avatar_id,
                name=avatar.name,
                type=AvatarType.TALKING,
                source=AvatarSource.OFFICIAL,
                status=Status.COMPLETED,
                gender=avatar.gender,
                source_url=None,
                media_path=None,
                preview_path=preview,
                thumbnail_path=thumb,
                face_json=None,
                error_reason=None,
                attempts=0,
                sort=index,
                create_time=stamp,
                update_time=stamp,
            )
        )
