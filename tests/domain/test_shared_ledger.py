"""Paid requests across MCP servers side by side: one ledger in PostgreSQL, so a request_id or a repeat is
recognised whichever replica the balancer hands it to, and two replicas claiming at once send it once."""

from __future__ import annotations

import threading

from akool_mcp.domain.ledger import fingerprint
from akool_mcp.domain.shared_db import SharedDatabase
from akool_mcp.domain.shared_ledger import SharedLedger

BODY = fingerprint({"width": 3840, "elements": [{"type": "audio", "input_text": "Hi"}]})


def test_a_request_id_used_on_one_replica_is_known_on_the_other(migrated: str) -> None:
    one, other = SharedLedger(SharedDatabase(migrated)), SharedLedger(SharedDatabase(migrated))
    try:
        claim = one.claim("video", BODY, request_id="brief-7", allow_duplicate=False)
        assert claim.seq is not None
        one.done(claim.seq, "v1", {})
        again = other.check("video", BODY, request_id="brief-7", allow_duplicate=False)
        changed = other.check("video", fingerprint({"other": 1}), request_id="brief-7", allow_duplicate=False)
        repeat = other.claim("video", BODY, request_id=None, allow_duplicate=False)
        wanted = other.claim("video", BODY, request_id=None, allow_duplicate=True)
    finally:
        one.close()
        other.close()
    assert again.why == "request_id" and again.earlier is not None and again.earlier.result_id == "v1"
    assert changed.other_request  # the same request_id for a different request is refused, not sent
    assert repeat.why == "duplicate" and repeat.seq is None
    assert wanted.seq is not None  # the user asked for a second one on purpose


def test_replicas_claiming_the_same_request_at_once_send_it_once(migrated: str) -> None:
    ledgers = [SharedLedger(SharedDatabase(migrated)) for _ in range(6)]
    start = threading.Barrier(len(ledgers))
    seqs: list[int | None] = []

    def claim(ledger: SharedLedger) -> None:
        start.wait()
        seqs.append(ledger.claim("script", BODY, request_id="same", allow_duplicate=False).seq)

    threads = [threading.Thread(target=claim, args=(ledger,)) for ledger in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for ledger in ledgers:
        ledger.close()
    assert len(seqs) == len(ledgers)
    assert len([s for s in seqs if s is not None]) == 1
