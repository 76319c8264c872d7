"""What the engine offers to choose from: its avatars (the built-ins drawn on first use) and its voices."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from akool_mcp.local.store import Store

if TYPE_CHECKING:
    from akool_mcp.speech import Voice


class Catalogue:
    def __init__(self, store: Store, files_root: Path) -> None:
        self._store = store
        self._files_root = files_root
        self._builtins_ready = False
        self._builtins_lock = anyio.Lock()

    async def ensure_builtins(self) -> None:
        """Register the drawn avatars on first use (drawing them costs imports start-up should not pay)."""
        if self._builtins_ready:
            return
        async with self._builtins_lock:
            if not self._builtins_ready:
                from akool_mcp.local.seeding import seed_builtin_avatars

                await anyio.to_thread.run_sync(seed_builtin_avatars, self._store, self._files_root)
                self._builtins_ready = True

    @cached_property
    def _voices(self) -> list[Voice]:
        from akool_mcp.speech import list_voices

        return list_voices()

    def voices(self) -> list[Voice]:
        return self._voices
