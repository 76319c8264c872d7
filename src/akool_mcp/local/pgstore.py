"""The engine's records in PostgreSQL, for cluster mode (`AKOOL_DATABASE_URL`): the same interface as the
SQLite store, shared by every API process and worker.

What SQLite gets from one writer at a time, this gets from PostgreSQL:
- admission (`Room`) counts and inserts under a transaction-level advisory lock, so two API processes
  cannot both take the last place; the job is queued in that same transaction (`then`);
- claims and lease checks are single statements (`UPDATE ... WHERE lease_owner ...`), timed by the
  database's clock, so machines whose clocks drift still agree on when a lease lapsed;
- a webhook delivery is claimed with `FOR UPDATE SKIP LOCKED`, the oldest due one per receiver that has
  none in flight, so dispatchers on many machines keep each receiver's order and never send one twice
  at once.

Calls are short and block: a pool of connections serves the event loop and the render threads.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Generator
from contextlib import contextmanager
from typing import Any

from akool_mcp.clock import Clock, SystemClock
from akool_mcp.local.records import (
    UNFINISHED,
    Announce,
    AvatarRow,
    DuplicateError,
    EngineStore,
    Enqueue,
    NoRoom,
    Room,
    VideoRow,
    WebhookNote,
    WebhookRow,
)
from akool_mcp.models import Status

# The advisory lock that makes admission (count, then insert) one step across the cluster.
ADMISSION_LOCK = 0x616B6F6F6C + 1
WEBHOOK_CLAIM_LOCK = 0x616B6F6F6C + 2
_TABLES = {"video": "akool_videos", "avatar": "akool_avatars"}
POOL_SIZE = 8  # connections per process: the event loop, render threads' progress, the dispatcher


class PgStore:
    def __init__(self, conninfo: str, clock: Clock | None = None, *, pool_size: int = POOL_SIZE) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.clock: Clock = clock or SystemClock()
        self._errors = psycopg.errors
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=True,
            name="akool-engine",
        )

    def check_schema(self) -> None:
        """Refuse to start on a database older than this release (`akool-mcp migrate` brings it up)."""
        from akool_mcp.migrations import require_current

        with self._pool.connection() as db:
            require_current(db)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _db(self) -> Generator[Any]:
        with self._pool.connection() as db:
            yield db

    @contextmanager
    def _transaction(self) -> Generator[Any]:
        with self._pool.connection() as db, db.transaction():
            yield db

    def ping(self) -> None:
        with self._db() as db:
            db.execute("SELECT 1")

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM akool_meta WHERE key=%s", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO akool_meta(key, value) VALUES(%s, %s) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def delete_meta(self, key: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM akool_meta WHERE key=%s", (key,))

    # -- avatars ------------------------------------------------------------------------------

    def upsert_builtin_avatar(self, row: AvatarRow) -> None:
        with self._db() as db:
            db.execute(
                _insert("akool_avatars", row.__dict__) + " ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                "gender=excluded.gender, preview_path=excluded.preview_path, "
                "thumbnail_path=excluded.thumbnail_path, sort=excluded.sort",
                row.__dict__,
            )

    def insert_avatar(self, row: AvatarRow, room: Room | None = None, then: Enqueue | None = None) -> None:
        try:
            self._insert_admitted("akool_avatars", row.__dict__, room, then)
        except self._errors.UniqueViolation as exc:
            raise DuplicateError(row.avatar_id) from exc

    def _insert_admitted(self, table: str, values: dict[str, Any], room: Room | None, then: Enqueue | None) -> None:
        with self._transaction() as db:
            if room is not None:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (ADMISSION_LOCK,))
                ahead = _unfinished(db, None)
                if ahead >= room.total:
                    raise NoRoom(ahead, room.total, "the engine's")
                mine = _unfinished(db, values.get("client"))
                if mine >= room.per_client:
                    raise NoRoom(mine, room.per_client, "your")
            db.execute(_insert(table, values), values)
            if then is not None:
                then(db)  # the job goes in with the row: both, or neither

    def count_unfinished(self, client: str | None = None) -> int:
        with self._db() as db:
            return _unfinished(db, client)

    def update_avatar(self, record_id: str, holder: str | None = None, **fields: Any) -> bool:
        return self._update("akool_avatars", record_id, fields, holder)

    def get_avatar(self, record_id: str) -> AvatarRow | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM akool_avatars WHERE id=%s", (record_id,)).fetchone()
        return None if row is None else AvatarRow(**row)

    def get_avatar_by_avatar_id(self, avatar_id: str) -> AvatarRow | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM akool_avatars WHERE avatar_id=%s", (avatar_id,)).fetchone()
        return None if row is None else AvatarRow(**row)

    def list_avatars(
        self, *, source: int | None, type_: int | None, offset: int, limit: int
    ) -> tuple[int, list[AvatarRow]]:
        where = "WHERE (%(source)s::int IS NULL OR source=%(source)s) AND (%(type)s::int IS NULL OR type=%(type)s)"
        args = {"source": source, "type": type_, "limit": limit, "offset": offset}
        with self._db() as db:
            count = db.execute(f"SELECT COUNT(*) AS n FROM akool_avatars {where}", args).fetchone()  # noqa: S608
            rows = db.execute(
                f"SELECT * FROM akool_avatars {where} ORDER BY source, sort, create_time "  # noqa: S608
                "LIMIT %(limit)s OFFSET %(offset)s",
                args,
            ).fetchall()
        return int(count["n"]), [AvatarRow(**r) for r in rows]

    def delete_avatar(self, record_id: str) -> bool:
        with self._db() as db:
            return bool(db.execute("DELETE FROM akool_avatars WHERE id=%s AND source=3", (record_id,)).rowcount > 0)

    def unfinished_avatars(self) -> list[AvatarRow]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM akool_avatars WHERE status IN (1, 2) ORDER BY create_time").fetchall()
        return [AvatarRow(**r) for r in rows]

    def claim_avatar(self, record_id: str, holder: str, lease_seconds: float) -> AvatarRow | None:
        with self._db() as db:
            row = db.execute(
                _CLAIM.format(table="akool_avatars", extra="AND source_url IS NOT NULL", progress=""),
                {"id": record_id, "holder": holder, "lease_ms": round(lease_seconds * 1000)},
            ).fetchone()
        return None if row is None else AvatarRow(**row)

    # -- videos -------------------------------------------------------------------------------

    def insert_video(self, row: VideoRow, room: Room | None = None, then: Enqueue | None = None) -> None:
        self._insert_admitted("akool_videos", row.__dict__, room, then)

    def update_video(self, video_id: str, **fields: Any) -> None:
        self._update("akool_videos", video_id, fields, None)

    def get_video(self, video_id: str) -> VideoRow | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM akool_videos WHERE id=%s", (video_id,)).fetchone()
        return None if row is None else VideoRow(**row)

    def claim_video(self, video_id: str, holder: str, lease_seconds: float, announce: Announce) -> VideoRow | None:
        with self._transaction() as db:
            row = db.execute(
                _CLAIM.format(table="akool_videos", extra="", progress=", progress=0"),
                {"id": video_id, "holder": holder, "lease_ms": round(lease_seconds * 1000)},
            ).fetchone()
            if row is None:
                return None
            claimed = VideoRow(**row)
            _queue_webhook(db, video_id, announce(claimed))
        return claimed

    def renew(self, kind: str, record_id: str, holder: str, lease_seconds: float, **fields: Any) -> bool:
        fields = {**fields, "update_time": self.clock.now_ms()}
        sets = ", ".join(f"{k}=%({k})s" for k in fields)
        with self._db() as db:
            cursor = db.execute(
                f"UPDATE {_TABLES[kind]} SET {sets}, lease_until=akool_now_ms() + %(lease_ms)s "  # noqa: S608
                "WHERE id=%(id)s AND lease_owner=%(holder)s",
                {**fields, "id": record_id, "holder": holder, "lease_ms": round(lease_seconds * 1000)},
            )
            return cursor.rowcount > 0

    def transition_video(
        self, video_id: str, fields: dict[str, Any], webhook: WebhookNote | None, holder: str | None = None
    ) -> bool:
        fields = {**fields, "update_time": self.clock.now_ms()}
        with self._transaction() as db:
            if not _set(db, "akool_videos", video_id, fields, holder):
                return False
            _queue_webhook(db, video_id, webhook)
        return True

    def count_videos(self, status: int) -> int:
        with self._db() as db:
            row = db.execute("SELECT COUNT(*) AS n FROM akool_videos WHERE status=%s", (status,)).fetchone()
        return int(row["n"])

    def unfinished_videos(self) -> list[VideoRow]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM akool_videos WHERE status IN (1, 2) ORDER BY create_time").fetchall()
        return [VideoRow(**r) for r in rows]

    # -- webhooks -----------------------------------------------------------------------------

    def latest_webhook(self, video_id: str) -> WebhookRow | None:
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM akool_webhooks WHERE video_id=%s ORDER BY seq DESC LIMIT 1", (video_id,)
            ).fetchone()
        return None if row is None else WebhookRow(**row)

    def count_webhooks(self, state: str) -> int:
        with self._db() as db:
            row = db.execute("SELECT COUNT(*) AS n FROM akool_webhooks WHERE state=%s", (state,)).fetchone()
        return int(row["n"])

    def claim_webhooks(
        self, at_ms: int, holder: str, lease_seconds: float, limit: int = 20, skip_urls: Collection[str] = ()
    ) -> list[WebhookRow]:
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (WEBHOOK_CLAIM_LOCK,))
            rows = db.execute(
                _CLAIM_WEBHOOKS,
                {
                    "at": at_ms,
                    "holder": holder,
                    "lease_ms": round(lease_seconds * 1000),
                    "limit": limit,
                    "skip": list(skip_urls),
                },
            ).fetchall()
        return sorted((WebhookRow(**r) for r in rows), key=lambda r: r.seq)

    def next_webhook_time(self, skip_urls: Collection[str] = ()) -> int | None:
        with self._db() as db:
            row = db.execute(
                "SELECT MIN(next_attempt) AS at FROM akool_webhooks WHERE state='pending' AND NOT (url = ANY(%s))",
                (list(skip_urls),),
            ).fetchone()
        return None if row["at"] is None else int(row["at"])

    def list_webhooks(self) -> list[WebhookRow]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM akool_webhooks ORDER BY seq").fetchall()
        return [WebhookRow(**r) for r in rows]

    def update_webhook(self, seq: int, holder: str | None = None, **fields: Any) -> bool:
        if holder is not None:
            fields = {**fields, "claimed_by": None, "claimed_until": None}
        sets = ", ".join(f"{k}=%({k})s" for k in fields)
        mine = "" if holder is None else " AND claimed_by=%(holder)s"
        with self._db() as db:
            cursor = db.execute(
                f"UPDATE akool_webhooks SET {sets} WHERE seq=%(seq)s{mine}",  # noqa: S608
                {**fields, "seq": seq, "holder": holder},
            )
            return cursor.rowcount > 0

    def _update(self, table: str, record_id: str, fields: dict[str, Any], holder: str | None) -> bool:
        fields = {**fields, "update_time": self.clock.now_ms()}
        with self._db() as db:
            return _set(db, table, record_id, fields, holder)

    def take_token(self, caller: str, *, per_minute: float, burst: int) -> float:
        """One call from `caller` against a token bucket every API process shares: 0 if it may go ahead, else
        the seconds to wait (the bucket refills at `per_minute`, holds at most `burst`)."""
        rate = per_minute / 60_000.0  # tokens per millisecond
        with self._transaction() as db:
            db.execute(
                "INSERT INTO akool_rate_buckets(caller, level, seen_ms) VALUES (%s, %s, akool_now_ms()) "
                "ON CONFLICT (caller) DO NOTHING",
                (caller, float(burst)),
            )
            row = db.execute(
                "SELECT level, seen_ms, akool_now_ms() AS now FROM akool_rate_buckets WHERE caller=%s FOR UPDATE",
                (caller,),
            ).fetchone()
            level = min(float(burst), float(row["level"]) + (int(row["now"]) - int(row["seen_ms"])) * rate)
            allowed = level >= 1.0
            db.execute(
                "UPDATE akool_rate_buckets SET level=%s, seen_ms=%s WHERE caller=%s",
                (level - 1.0 if allowed else level, int(row["now"]), caller),
            )
        return 0.0 if allowed else (1.0 - level) / (rate * 1000)


class SharedRateLimiter:
    """getToken's per-caller limit across every API process of a cluster (the buckets live in PostgreSQL)."""

    def __init__(self, store: PgStore, *, per_minute: float, burst: int) -> None:
        self._store = store
        self._per_minute = per_minute
        self._burst = burst

    def allow(self, caller: str) -> float:
        return self._store.take_token(caller, per_minute=self._per_minute, burst=self._burst)


# Take a record for an attempt: only while it waits or runs, and nobody holds it (or the holder's lease
# lapsed, by the database's clock).
_CLAIM = """
UPDATE {table} SET status=2, attempts=attempts+1, lease_owner=%(holder)s,
    lease_until=akool_now_ms() + %(lease_ms)s, update_time=akool_now_ms(){progress}
WHERE id=%(id)s AND status IN (1, 2) {extra}
    AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= akool_now_ms())
RETURNING *
"""

# The oldest due delivery of each receiver that has none in flight, claimed for `holder`. Claims run one at
# a time across the cluster (an advisory lock, taken before this statement reads anything), so what one
# dispatcher claimed every later one sees; a claim is a few milliseconds.
_CLAIM_WEBHOOKS = """
WITH busy AS (
    SELECT DISTINCT url FROM akool_webhooks
    WHERE state='pending' AND claimed_until IS NOT NULL AND claimed_until > akool_now_ms()
), due AS (
    SELECT DISTINCT ON (url) seq, url FROM akool_webhooks
    WHERE state='pending' AND next_attempt <= %(at)s AND NOT (url = ANY(%(skip)s))
        AND url NOT IN (SELECT url FROM busy)
    ORDER BY url, seq
), picked AS (
    SELECT w.seq FROM akool_webhooks w JOIN due ON due.seq = w.seq
    ORDER BY w.seq LIMIT %(limit)s
)
UPDATE akool_webhooks SET claimed_by=%(holder)s, claimed_until=akool_now_ms() + %(lease_ms)s
WHERE seq IN (SELECT seq FROM picked)
RETURNING *
"""


def _set(db: Any, table: str, record_id: str, fields: dict[str, Any], holder: str | None) -> bool:
    sets = ", ".join(f"{k}=%({k})s" for k in fields)
    mine = "" if holder is None else " AND lease_owner=%(holder)s"
    cursor = db.execute(
        f"UPDATE {table} SET {sets} WHERE id=%(id)s{mine}",  # noqa: S608
        {**fields, "id": record_id, "holder": holder},
    )
    return bool(cursor.rowcount > 0)


def _queue_webhook(db: Any, video_id: str, webhook: WebhookNote | None) -> None:
    if webhook is not None:
        db.execute(
            "INSERT INTO akool_webhooks(url, payload_json, next_attempt, create_time, video_id) "
            "VALUES(%s, %s, %s, %s, %s)",
            (webhook.url, json.dumps(webhook.payload), webhook.at_ms, webhook.at_ms, video_id),
        )


def _insert(table: str, values: dict[str, Any]) -> str:
    columns = list(values)
    return f"INSERT INTO {table}({','.join(columns)}) VALUES({','.join(f'%({c})s' for c in columns)})"


def _unfinished(db: Any, client: str | None) -> int:
    row = db.execute(
        "SELECT (SELECT COUNT(*) FROM akool_videos WHERE status IN (1, 2) AND (%(c)s::text IS NULL OR client=%(c)s))"
        " + (SELECT COUNT(*) FROM akool_avatars WHERE status IN (1, 2) AND (%(c)s::text IS NULL OR client=%(c)s))"
        " AS n",
        {"c": client},
    ).fetchone()
    return int(row["n"])


assert (int(Status.QUEUEING), int(Status.PROCESSING)) == UNFINISHED  # the SQL above spells them 1 and 2


def as_engine_store(store: PgStore) -> EngineStore:
    return store  # pyright checks here that the PostgreSQL store keeps the whole interface
