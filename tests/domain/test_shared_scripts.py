"""Scripts shared by MCP servers side by side: one replica joins a script at a time; the claim lapses if that
replica goes away, and any replica reads the script and what its scenes made."""

from __future__ import annotations

from pathlib import Path

from akool_mcp.domain.script_videos import SceneEntry, Script
from akool_mcp.domain.shared_db import SharedDatabase
from akool_mcp.domain.shared_scripts import SharedScriptBook

HELD, LAPSED = 3600.0, 0.0


def test_one_replica_joins_a_script_at_a_time_until_it_lets_go_or_its_claim_lapses(
    migrated: str, tmp_path: Path
) -> None:
    databases = [SharedDatabase(migrated), SharedDatabase(migrated)]  # two replicas' pools
    one, other = (SharedScriptBook(tmp_path / name, db) for name, db in zip(("one", "other"), databases, strict=True))
    script = Script(one.new_id(), "akool", "A tour", "cut", [SceneEntry("f1", "v1", 3.0, "{}")], created_at=1.0)
    one.save(script)
    one.remember_scene("f1", "v1")
    try:
        read = other.get(script.script_id)
        scene = other.known_scene("f1")
        first = one.claim_join(script.script_id, "a", HELD)
        refused = other.claim_join(script.script_id, "b", HELD)
        renewed = one.claim_join(script.script_id, "a", HELD)
        one.release_join(script.script_id, "a")
        after_release = other.claim_join(script.script_id, "b", LAPSED)
        after_lapse = one.claim_join(script.script_id, "a", HELD)
        other.forget_scene("f1")
        forgotten = one.known_scene("f1")
    finally:
        for db in databases:
            db.close()
    assert read == script and scene == "v1"
    assert (first, refused, renewed) == (True, False, True)
    assert after_release and after_lapse  # let go, or lapsed: the next replica may join
    assert forgotten is None
    assert other.get("script-../../etc") is None
