"""No paid call twice or unconfirmed, against the Akool fake, through the SDK's client on both protocol eras.

A request_id returns what it made (across restarts) and never makes a second; an identical request within
ten minutes is not sent again unless allow_duplicate; the user is asked before anything is billed, with what
will be made and the credit balance, and a decline or a dismissal sends nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from akool_mcp.domain.ledger import DUPLICATE_WINDOW, Ledger, fingerprint
from akool_mcp.server import build_server
from tests.fakes.akool import OFFICIAL, FakeAkool
from tests.support import FakeClock, cloud_settings, data, make_settings, text

pytestmark = pytest.mark.anyio

CREATE = "/api/open/v3/talkingavatar/create"
UPLOAD = "/api/open/v3/avatar/create"
VIDEO = {"avatar_id": OFFICIAL["avatar_id"], "text": "Hello there, and welcome to our shop.", "voice_id": "en-US-1"}
ERAS = ["legacy", "2026-07-28"]


@dataclass
class User:
    """Answers the server's questions as scripted (accept, decline, cancel, or accept with confirm false)."""

    answers: deque[str] = field(default_factory=deque[str])
    asked: list[str] = field(default_factory=list[str])

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(getattr(params, "message", ""))
        action = self.answers.popleft() if self.answers else "accept"
        if action == "no":
            return ElicitResult(action="accept", content={"confirm": False})
        if action == "accept":
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action=action)  # type: ignore[arg-type]


def connect(
    fake: FakeAkool,
    *,
    mode: str = "2026-07-28",
    user: User | None = None,
    clock: FakeClock | None = None,
    **settings: Any,
) -> Client:
    server = build_server(
        cloud_settings(**settings), transport=fake.transport(), resolver=fake.resolve, clock=clock or FakeClock()
    )
    return Client(server, mode=mode, elicitation_callback=user)


async def test_the_same_request_id_returns_the_same_video_and_never_makes_a_second() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        first = data(await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-17"}))
        again = data(await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-17"}))
    assert len(fake.calls(CREATE)) == 1
    assert again["video_id"] == first["video_id"]
    assert (
        "request_id was already used" in again["next_step"] and "Nothing was sent or billed again" in again["next_step"]
    )


async def test_a_request_id_holds_across_a_restart(tmp_path: Path) -> None:
    fake = FakeAkool()
    folders: dict[str, Any] = {"data_dir": tmp_path / "data", "output_dir": tmp_path / "videos"}
    async with connect(fake, **folders) as client:
        first = data(await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-18"}))
    async with connect(fake, **folders) as client:  # a new process, the same data folder
        again = data(await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-18"}))
    assert again["video_id"] == first["video_id"] and len(fake.calls(CREATE)) == 1


async def test_a_request_id_used_for_another_video_is_refused_and_nothing_is_sent() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-19"})
        other = await client.call_tool(
            "create_talking_video", {**VIDEO, "text": "Something else entirely.", "request_id": "order-19"}
        )
    assert other.is_error and "already used" in text(other) and "different video" in text(other)
    assert len(fake.calls(CREATE)) == 1


async def test_an_identical_request_is_not_sent_again_and_the_answer_names_the_earlier_one() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:
        first = data(await client.call_tool("create_talking_video", VIDEO))
        repeat = data(await client.call_tool("create_talking_video", VIDEO))
        assert len(fake.calls(CREATE)) == 1
        wanted = data(await client.call_tool("create_talking_video", {**VIDEO, "allow_duplicate": True}))
    assert repeat["video_id"] == first["video_id"]
    assert "identical video was requested" in repeat["next_step"] and "allow_duplicate=true" in repeat["next_step"]
    assert wanted["video_id"] != first["video_id"] and len(fake.calls(CREATE)) == 2


async def test_after_ten_minutes_an_identical_request_is_a_new_one() -> None:
    fake = FakeAkool()
    clock = FakeClock()
    async with connect(fake, clock=clock) as client:
        first = data(await client.call_tool("create_talking_video", VIDEO))
        clock.t += DUPLICATE_WINDOW - 5
        repeat = data(await client.call_tool("create_talking_video", VIDEO))
        clock.t += 10
        later = data(await client.call_tool("create_talking_video", VIDEO))
    assert repeat["video_id"] == first["video_id"] and later["video_id"] != first["video_id"]
    assert len(fake.calls(CREATE)) == 2


async def test_a_refused_request_may_be_sent_again_with_its_request_id() -> None:
    fake = FakeAkool()
    fake.queue(CREATE, (200, {"code": 1006, "msg": "your quota is not enough"}, {}))
    async with connect(fake) as client:
        refused = await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-20"})
        later = await client.call_tool("create_talking_video", {**VIDEO, "request_id": "order-20"})
    assert refused.is_error and "credit is spent" in text(refused)
    assert not later.is_error and len(fake.calls(CREATE)) == 2


async def test_a_request_whose_answer_was_lost_is_never_sent_again_by_itself() -> None:
    fake = FakeAkool()
    fake.queue(CREATE, httpx2.ReadTimeout("the answer never came"))
    async with connect(fake) as client:
        lost = await client.call_tool("create_talking_video", VIDEO)
        retried = await client.call_tool("create_talking_video", VIDEO)
    assert lost.is_error and "NOT re-sent" in text(lost)
    assert retried.is_error and "answer was lost" in text(retried) and "allow_duplicate=true" in text(retried)
    assert len(fake.calls(CREATE)) == 1


@pytest.mark.parametrize("mode", ERAS)
async def test_the_user_is_asked_with_what_will_be_made_and_the_balance(mode: str) -> None:
    fake = FakeAkool(credit=1234.5)
    user = User()
    async with connect(fake, mode=mode, user=user) as client:
        made = await client.call_tool("create_talking_video", {**VIDEO, "background": "#2B5F8E"})
    assert not made.is_error, text(made)
    (question,) = user.asked
    assert "billed to your Akool credit" in question and "Yasmin in White shirt" in question
    assert 'First words: "Hello there, and welcome to our shop."' in question and "about 3 s" in question
    assert "Background: #2B5F8E" in question and "Credit balance: 1,234.5" in question
    assert len(fake.calls(CREATE)) == 1


@pytest.mark.parametrize("mode", ERAS)
@pytest.mark.parametrize(("answer", "said"), [("decline", "declined"), ("cancel", "dismissed"), ("no", "answered no")])
async def test_a_decline_a_dismissal_or_a_no_sends_nothing(mode: str, answer: str, said: str) -> None:
    fake = FakeAkool()
    user = User(deque([answer]))
    async with connect(fake, mode=mode, user=user) as client:
        result = await client.call_tool("create_talking_video", VIDEO)
    assert (
        result.is_error and said in text(result) and "Nothing was sent to Akool and nothing was billed" in text(result)
    )
    assert fake.calls(CREATE) == [] and len(user.asked) == 1


async def test_a_declined_request_can_be_asked_again_and_made() -> None:
    fake = FakeAkool()
    user = User(deque(["decline", "accept"]))
    async with connect(fake, user=user) as client:
        await client.call_tool("create_talking_video", VIDEO)
        made = await client.call_tool("create_talking_video", VIDEO)
    assert not made.is_error and len(fake.calls(CREATE)) == 1 and len(user.asked) == 2


@pytest.mark.parametrize("mode", ERAS)
async def test_an_avatar_upload_is_asked_about_too(mode: str) -> None:
    fake = FakeAkool()
    user = User(deque(["decline"]))
    arguments = {"video_url": "https://media.example/mary.mp4", "avatar_id": "Mary1", "name": "Mary"}
    async with connect(fake, mode=mode, user=user) as client:
        declined = await client.call_tool("create_avatar", arguments)
        made = data(await client.call_tool("create_avatar", {**arguments, "request_id": "mary-1"}))
        again = data(await client.call_tool("create_avatar", {**arguments, "request_id": "mary-1"}))
    assert declined.is_error and "declined this avatar upload" in text(declined)
    assert "Upload this avatar to Akool?" in user.asked[0] and "avatar_id: Mary1 (Mary)" in user.asked[0]
    assert made["avatar"]["avatar_id"] == again["avatar"]["avatar_id"] == "Mary1" and len(fake.calls(UPLOAD)) == 1


async def test_without_elicitation_auto_proceeds_as_before_and_always_refuses() -> None:
    fake = FakeAkool()
    async with connect(fake) as client:  # this client cannot be asked
        made = await client.call_tool("create_talking_video", VIDEO)
    async with connect(fake, confirm_spend="always") as client:
        refused = await client.call_tool("create_talking_video", {**VIDEO, "text": "Another one."})
    assert not made.is_error
    assert refused.is_error and "AKOOL_CONFIRM_SPEND=always" in text(refused) and "Nothing was sent" in text(refused)
    assert len(fake.calls(CREATE)) == 1


async def test_never_means_no_question() -> None:
    fake = FakeAkool()
    user = User()
    async with connect(fake, user=user, confirm_spend="never") as client:
        made = await client.call_tool("create_talking_video", VIDEO)
    assert not made.is_error and user.asked == [] and len(fake.calls(CREATE)) == 1


async def test_nobody_is_asked_about_a_request_that_will_not_be_sent() -> None:
    fake = FakeAkool()
    user = User()
    async with connect(fake, user=user) as client:
        refused = await client.call_tool("create_talking_video", {**VIDEO, "avatar_id": "nobody"})
        await client.call_tool("create_talking_video", {**VIDEO, "request_id": "r1"})
        await client.call_tool("create_talking_video", {**VIDEO, "request_id": "r1"})
        await client.call_tool("create_talking_video", VIDEO)  # identical to the one just made
    assert refused.is_error and "avatar_id" in text(refused)
    assert len(user.asked) == 1 and len(fake.calls(CREATE)) == 1


async def test_the_local_engine_never_asks_and_takes_no_request_id(tmp_path: Path) -> None:
    user = User()
    settings = make_settings(backend="local", render_preset="ultrafast")
    async with Client(build_server(settings), elicitation_callback=user) as client:
        avatar = data(await client.call_tool("list_avatars", {"source": "official", "size": 1}))["avatars"][0]
        made = await client.call_tool("create_talking_video", {"avatar_id": avatar["avatar_id"], "text": "Hi.",
                                                               "voice_id": "en-US-female-1"})  # fmt: skip
        keyed = await client.call_tool(
            "create_talking_video",
            {"avatar_id": avatar["avatar_id"], "text": "Hi.", "voice_id": "en-US-female-1", "request_id": "x"},
        )
    assert not made.is_error and user.asked == [] and "bill" not in text(made).lower()
    assert keyed.is_error and "does not take request_id" in text(keyed)


def test_an_identical_request_counts_as_a_repeat_for_ten_minutes(tmp_path: Path) -> None:
    now = [1_000_000.0]
    ledger = Ledger(tmp_path / "paid.sqlite3", now=lambda: now[0])
    body = fingerprint({"width": 3840, "elements": [{"type": "audio", "input_text": "Hi"}]})
    claim = ledger.claim("video", body, request_id=None, allow_duplicate=False)
    assert claim.seq is not None
    ledger.done(claim.seq, "v1", {})
    now[0] += DUPLICATE_WINDOW - 1
    assert ledger.check("video", body, request_id=None, allow_duplicate=False).why == "duplicate"
    now[0] += 2
    assert ledger.check("video", body, request_id=None, allow_duplicate=False).earlier is None
    assert fingerprint({"b": 1, "a": [2]}) == fingerprint({"a": [2], "b": 1})
    ledger.close()
