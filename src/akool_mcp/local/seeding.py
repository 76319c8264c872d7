"""The built-in official avatars (drawn by the package), registered in the store with their images."""

from __future__ import annotations

import hashlib
from pathlib import Path

from akool_mcp.local.store import AvatarRow, Store
from akool_mcp.models import AvatarSource, AvatarType, Status

PREVIEW_SIZE = (1080, 1080)


def builtin_record_id(avatar_id: str) -> str:
    """Stable across restarts and machines, so ids a model saw yesterday still work."""
    return hashlib.sha1(avatar_id.encode(), usedforsecurity=False).hexdigest()[:24]


def seed_builtin_avatars(store: Store, files_root: Path) -> None:
    """Draw previews and thumbnails once (they are deterministic) and upsert the avatar records."""
    from akool_mcp.render import builtin_avatar_png, builtin_thumbnail_png, list_builtin_avatars

    folder = files_root / "avatars" / "builtin"
    folder.mkdir(parents=True, exist_ok=True)
    for index, avatar in enumerate(list_builtin_avatars()):
        preview = folder / f"{avatar.avatar_id}.png"
        thumb = folder / f"{avatar.avatar_id}.thumb.png"
        if not preview.exists():
            _write_atomic(preview, builtin_avatar_png(avatar.avatar_id, *PREVIEW_SIZE))
        if not thumb.exists():
            _write_atomic(thumb, builtin_thumbnail_png(avatar.avatar_id))
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
                preview_path=str(preview.relative_to(files_root)),
                thumbnail_path=str(thumb.relative_to(files_root)),
                face_json=None,
                error_reason=None,
                attempts=0,
                sort=index,
                create_time=stamp,
                update_time=stamp,
            )
        )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
