"""Scripts in PostgreSQL, for MCP servers that run side by side (cluster mode).

What the single-user `ScriptBook` keeps in JSON files, this keeps in tables `akool-mcp migrate` made: each
script (`akool_mcp_scripts`) and which video each scene made (`akool_mcp_scenes`, by the scene's
fingerprint), so a script made through one replica is followed through any other, and a script made again
after a failure reuses the scenes whichever replica rendered them. Joining is claimed on the script's row
(by the database's clock): one replica joins while the others report "joining" and then serve its file from
the shared blob store. The scenes' own files stay a cache on the replica that joins (fetched from the
backend, which every replica reaches).
"""

from __future__ import annotations

from pathlib import Path

from akool_mcp.domain.script_videos import Script, ScriptBook, script_from_json, script_json, well_formed
from akool_mcp.domain.shared_db import SharedDatabase


class SharedScriptBook(ScriptBook):
    def __init__(self, folder: Path, db: SharedDatabase) -> None:
        super().__init__(folder)  # the folder holds this replica's scene files and joins in progress
        self._db = db

    def save(self, script: Script) -> None:
        with self._db.connection() as db:
            db.execute(
                "INSERT INTO akool_mcp_scripts (script_id, body) VALUES (%s, %s) "
                "ON CONFLICT (script_id) DO UPDATE SET body = excluded.body",
                (script.script_id, script_json(script)),
            )

    def get(self, script_id: str) -> Script | None:
        if not well_formed(script_id):
            return None
        with self._db.connection() as db:
            row = db.execute("SELECT body FROM akool_mcp_scripts WHERE script_id = %s", (script_id,)).fetchone()
        if row is None:
            return None
        try:
            return script_from_json(str(row["body"]))
        except (ValueError, TypeError, KeyError):
            return None

    def known_scene(self, fingerprint: str) -> str | None:
        with self._db.connection() as db:
            row = db.execute("SELECT video_id FROM akool_mcp_scenes WHERE fingerprint = %s", (fingerprint,)).fetchone()
        return None if row is None else str(row["video_id"])

    def remember_scene(self, fingerprint: str, video_id: str) -> None:
        with self._db.connection() as db:
            db.execute(
                "INSERT INTO akool_mcp_scenes (fingerprint, video_id) VALUES (%s, %s) "
                "ON CONFLICT (fingerprint) DO UPDATE SET video_id = excluded.video_id",
                (fingerprint, video_id),
            )

    def forget_scene(self, fingerprint: str) -> None:
        with self._db.connection() as db:
            db.execute("DELETE FROM akool_mcp_scenes WHERE fingerprint = %s", (fingerprint,))

    def claim_join(self, script_id: str, holder: str, seconds: float) -> bool:
        with self._db.connection() as db:
            cursor = db.execute(
                "UPDATE akool_mcp_scripts SET joiner = %(holder)s, join_until = akool_now_ms() + %(ms)s "
                "WHERE script_id = %(id)s AND (joiner IS NULL OR joiner = %(holder)s OR join_until <= akool_now_ms())",
                {"holder": holder, "ms": round(seconds * 1000), "id": script_id},
            )
            return bool(cursor.rowcount > 0)

    def release_join(self, script_id: str, holder: str) -> None:
        with self._db.connection() as db:
            db.execute(
                "UPDATE akool_mcp_scripts SET joiner = NULL, join_until = NULL WHERE script_id = %s AND joiner = %s",
                (script_id, holder),
            )
