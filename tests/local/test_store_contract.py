"""One contract, two stores: every test here runs against SQLite (one machine) and PostgreSQL (a cluster).

What the engine relies on: records round-trip; admission counts and inserts as one step, with the job
queued in the same transaction; a lease is held by one attempt at a time, and a write naming a holder that
lost it changes nothing; a status change and its webhook go together; a webhook delivery is claimed by one
dispatcher at a time, the oldest first per receiver.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from akool_mcp.local.filelinks import FileLinks
from akool_mcp.local.leases import MAX_ATTEMPTS, Lease
from akool_mcp.local.lifecycle import VideoLifecycle
from akool_mcp.local.records import (
    AvatarRow,
    DuplicateError,
    EngineStore,
    NoRoom,
    Room,
    VideoRow,
    WebhookNote,
    new_object_id,
)
from akool_mcp.local.store import Store
from akool_mcp.models import Status

HELD = 3600.0  # a lease that will not lapse during a test
LAPSED = 0.0  # a lease that has lapsed as soon as it is taken


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Generator[EngineStore]:
    made: EngineStore
    if request.param == "sqlite":
        made = Store(tmp_path / "engine.sqlite3")
    else:
        from akool_mcp.local.pgstore import PgStore

        made = PgStore(request.getfixturevalue("migrated"))
    try:
        yield made
    finally:
        made.close()


def video(store: EngineStore, *, client: str = "a", webhook: str | None = None) -> VideoRow:
    now = store.clock.now_ms()
    return VideoRow.accepted(
        new_object_id(now),
        uuid="u",
        task_id="t",
        request_json=json.dumps({"elements": []}),
        webhook_url=webhook,
        stamp=now,
        client=client,
    )


def avatar(store: EngineStore, avatar_id: str, *, source: int = 3, client: str = "a") -> AvatarRow:
    now = store.clock.now_ms()
    return AvatarRow(
        id=new_object_id(now),
        avatar_id=avatar_id,
        name=avatar_id,
        type=1,
        source=source,
        status=Status.QUEUEING,
        gender=None,
        source_url="https://example.test/a.png",
        media_path=None,
        preview_path=None,
        thumbnail_path=None,
        face_json=None,
        error_reason=None,
        attempts=0,
        sort=0,
        create_time=now,
        update_time=now,
        client=client,
    )


def note(url: str, status: int, at_ms: int = 0) -> WebhookNote:
    return WebhookNote(url=url, payload={"status": status}, at_ms=at_ms)


def no_webhook(_: VideoRow) -> WebhookNote | None:
    return None


def test_a_video_and_an_avatar_come_back_as_they_were_stored(store: EngineStore) -> None:
    row, pic = video(store), avatar(store, "alice")
    store.insert_video(row)
    store.insert_avatar(pic)
    assert store.get_video(row.id) == row
    assert store.get_avatar(pic.id) == pic and store.get_avatar_by_avatar_id("alice") == pic
    store.update_video(row.id, progress=0.5)
    changed = store.get_video(row.id)
    assert changed is not None and changed.progress == 0.5
    assert [v.id for v in store.unfinished_videos()] == [row.id]
    assert store.count_videos(Status.QUEUEING) == 1 and store.count_unfinished() == 2


def test_a_second_avatar_with_the_same_avatar_id_is_refused(store: EngineStore) -> None:
    store.insert_avatar(avatar(store, "bob"))
    with pytest.raises(DuplicateError):
        store.insert_avatar(avatar(store, "bob"))


def test_avatars_are_listed_by_source_with_a_count_and_pages(store: EngineStore) -> None:
    for name in ("c1", "c2", "c3"):
        store.insert_avatar(avatar(store, name))
    store.upsert_builtin_avatar(avatar(store, "official", source=2))
    count, page = store.list_avatars(source=3, type_=None, offset=1, limit=1)
    everything, _ = store.list_avatars(source=None, type_=1, offset=0, limit=10)
    assert count == 3 and len(page) == 1 and page[0].source == 3
    assert everything == 4


def test_settings_are_kept_replaced_and_deleted(store: EngineStore) -> None:
    assert store.get_meta("k") is None
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    assert store.get_meta("k") == "2"
    store.delete_meta("k")
    assert store.get_meta("k") is None


def test_admission_refuses_past_the_engines_and_the_clients_bound(store: EngineStore) -> None:
    room = Room(total=3, per_client=2)
    store.insert_video(video(store, client="a"), room)
    store.insert_video(video(store, client="a"), room)
    with pytest.raises(NoRoom) as mine:
        store.insert_video(video(store, client="a"), room)
    store.insert_avatar(avatar(store, "x", client="b"), room)
    with pytest.raises(NoRoom) as everyone:
        store.insert_video(video(store, client="c"), room)
    assert mine.value.whose == "your" and everyone.value.whose == "the engine's"
    assert store.count_unfinished() == 3


def test_admission_at_once_from_many_threads_never_passes_the_bound(store: EngineStore) -> None:
    room = Room(total=5, per_client=100)
    admitted: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(12)

    def create(n: int) -> None:
        row = video(store, client=f"c{n}")
        start.wait()
        try:
            store.insert_video(row, room)
            admitted.append(row.id)
        except NoRoom:
            refused.append(row.id)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 5 and len(refused) == 7 and store.count_unfinished() == 5


def test_the_job_is_queued_inside_the_transaction_that_stores_its_record(store: EngineStore) -> None:
    seen: list[Any] = []
    store.insert_video(video(store), Room(10, 10), seen.append)
    failing = video(store)

    def broken_queue(_: Any) -> None:
        raise RuntimeError("the queue refused")

    with pytest.raises(RuntimeError):
        store.insert_video(failing, Room(10, 10), broken_queue)
    assert len(seen) == 1  # given the transaction's connection
    assert store.get_video(failing.id) is None  # a row and a job, or neither


def test_one_attempt_holds_a_job_until_it_finishes_or_its_lease_lapses(store: EngineStore) -> None:
    row = video(store)
    store.insert_video(row)
    first = store.claim_video(row.id, "w1/a", HELD, no_webhook)
    assert first is not None and first.status == Status.PROCESSING and first.attempts == 1
    assert first.lease_owner == "w1/a"
    assert store.claim_video(row.id, "w2/b", HELD, no_webhook) is None  # held
    assert store.renew("video", row.id, "w1/a", LAPSED, progress=0.3)  # the holder's lease now lapses at once
    second = store.claim_video(row.id, "w2/b", HELD, no_webhook)
    assert second is not None and second.attempts == 2 and second.lease_owner == "w2/b"


def test_a_holder_that_lost_its_lease_changes_nothing(store: EngineStore) -> None:
    row = video(store, webhook="https://hooks.test/a")
    store.insert_video(row)
    store.claim_video(row.id, "w1/a", LAPSED, no_webhook)
    store.claim_video(row.id, "w2/b", HELD, no_webhook)
    assert not store.renew("video", row.id, "w1/a", HELD, progress=0.9)
    done = {"status": Status.COMPLETED, "output_path": "videos/late.mp4", "lease_owner": None}
    assert not store.transition_video(row.id, done, note("https://hooks.test/a", 3), "w1/a")
    now = store.get_video(row.id)
    assert now is not None and now.status == Status.PROCESSING and now.lease_owner == "w2/b"
    assert now.output_path is None and now.progress == 0.0
    assert store.latest_webhook(row.id) is None  # nothing announced for the loser
    assert store.transition_video(row.id, done, note("https://hooks.test/a", 3), "w2/b")
    finished = store.get_video(row.id)
    assert finished is not None and finished.status == Status.COMPLETED and finished.lease_owner is None
    assert store.claim_video(row.id, "w3/c", HELD, no_webhook) is None  # finished: nothing to take


class NoWake:
    def wake(self) -> None:
        """The outbox is read directly here."""


def test_a_job_whose_workers_all_died_is_failed_with_a_reason_by_the_next_claim(
    store: EngineStore, tmp_path: Path
) -> None:
    row = video(store, webhook="https://hooks.test/a")
    store.insert_video(row)
    lifecycle = VideoLifecycle(store, NoWake(), store.clock, FileLinks(tmp_path, "https://engine.test"))
    for n in range(MAX_ATTEMPTS):  # each attempt's worker dies holding the job: its lease lapses
        assert lifecycle.start(Lease.fresh("video", row.id, f"w{n}", LAPSED)) is not None
    assert lifecycle.start(Lease.fresh("video", row.id, "last", HELD)) is None
    failed = store.get_video(row.id)
    hook = store.latest_webhook(row.id)
    assert failed is not None and failed.status == Status.FAILED and failed.lease_owner is None
    assert (
        failed.error_reason
        == f"rendering was interrupted {MAX_ATTEMPTS} times (its worker stopped, crashed or lost contact)"
    )
    assert hook is not None and json.loads(hook.payload_json)["status"] == Status.FAILED  # announced, with its reason


def test_a_claim_announces_processing_in_its_own_transaction(store: EngineStore) -> None:
    row = video(store, webhook="https://hooks.test/a")
    store.insert_video(row)

    def announce(claimed: VideoRow) -> WebhookNote:
        return note(claimed.webhook_url or "", int(claimed.status))

    store.claim_video(row.id, "w1/a", HELD, announce)
    hook = store.latest_webhook(row.id)
    assert hook is not None and json.loads(hook.payload_json) == {"status": Status.PROCESSING}


def test_an_avatar_is_claimed_once_and_written_only_by_its_holder(store: EngineStore) -> None:
    pic = avatar(store, "carol")
    store.insert_avatar(pic)
    assert store.claim_avatar(pic.id, "w1/a", LAPSED) is not None
    taken = store.claim_avatar(pic.id, "w2/b", HELD)
    assert taken is not None and taken.attempts == 2
    assert not store.update_avatar(pic.id, "w1/a", status=Status.COMPLETED)
    assert store.update_avatar(pic.id, "w2/b", status=Status.COMPLETED, lease_owner=None)
    ready = store.get_avatar(pic.id)
    assert ready is not None and ready.status == Status.COMPLETED


def _queue_webhooks(store: EngineStore, url: str, count: int) -> str:
    row = video(store, webhook=url)
    store.insert_video(row)
    for n in range(count):
        store.transition_video(row.id, {"progress": n / 10}, note(url, 2 + n, at_ms=0))
    return row.id


def test_webhooks_are_claimed_oldest_first_one_per_receiver(store: EngineStore) -> None:
    _queue_webhooks(store, "https://a.test/h", 2)
    _queue_webhooks(store, "https://b.test/h", 1)
    now = store.clock.now_ms()
    first = store.claim_webhooks(now, "d1", HELD)
    assert sorted(w.url for w in first) == ["https://a.test/h", "https://b.test/h"]
    a_first = next(w for w in first if w.url == "https://a.test/h")
    assert store.claim_webhooks(now, "d2", HELD) == []  # both receivers have one in flight
    assert not store.update_webhook(a_first.seq, "d2", state="delivered")  # not d2's claim
    assert store.update_webhook(a_first.seq, "d1", state="delivered", attempts=1)
    second = store.claim_webhooks(now, "d2", HELD)
    assert [json.loads(w.payload_json)["status"] for w in second] == [3]  # a.test's next, in order
    assert second[0].seq > a_first.seq


def test_a_webhook_claim_lapses_and_another_dispatcher_takes_it(store: EngineStore) -> None:
    _queue_webhooks(store, "https://a.test/h", 1)
    now = store.clock.now_ms()
    (lost,) = store.claim_webhooks(now, "d1", LAPSED)
    (again,) = store.claim_webhooks(now, "d2", HELD)
    assert again.seq == lost.seq and again.claimed_by == "d2"
    assert not store.update_webhook(lost.seq, "d1", state="delivered")


def test_dispatchers_claiming_at_once_never_take_the_same_delivery(store: EngineStore) -> None:
    for n in range(6):
        _queue_webhooks(store, f"https://r{n}.test/h", 3)
    now = store.clock.now_ms()
    taken: list[list[int]] = []
    start = threading.Barrier(4)

    def dispatcher(name: str) -> None:
        start.wait()
        taken.append([w.seq for w in store.claim_webhooks(now, name, HELD, limit=3)])

    threads = [threading.Thread(target=dispatcher, args=(f"d{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = [seq for batch in taken for seq in batch]
    assert len(seqs) == len(set(seqs)) == 6  # one per receiver, each to one dispatcher


def test_pending_and_next_due_webhooks_are_counted(store: EngineStore) -> None:
    row = video(store, webhook="https://a.test/h")
    store.insert_video(row)
    store.transition_video(row.id, {"progress": 0.1}, note("https://a.test/h", 2, at_ms=5000))
    assert store.count_webhooks("pending") == 1 and store.next_webhook_time() == 5000
    assert store.next_webhook_time(skip_urls={"https://a.test/h"}) is None
    assert [w.state for w in store.list_webhooks()] == ["pending"]
