"""No paid call twice, and none unconfirmed: the checks and the question before Akool bills anything.

Before `create_talking_video` or `create_avatar` send a billed request to Akool, the server
- refuses to send it again when its `request_id` was already used (the earlier answer is returned) or when an
  identical request went out in the last ten minutes (unless `allow_duplicate`), from a ledger kept on disk;
- asks the user to confirm, through elicitation, showing what will be made and the credit balance
  (AKOOL_CONFIRM_SPEND: `auto` asks when the client can be asked, `always` refuses when it cannot, `never`).

The question is asked by a resolver (`Resolve`/`Elicit`), so it works on both protocol eras: on a legacy
connection as an `elicitation/create` request mid-call, on 2026-07-28 as an input-required result that the
client answers by calling again (`ctx.elicit` would fail there). The resolver asks only when the request
would really be sent: not for a refused input, a known `request_id`, or a repeat. Nothing here runs on the
local engine, which bills nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from mcp.server.elicitation import AcceptedElicitation, DeclinedElicitation, ElicitationResult
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit
from pydantic import BaseModel, Field

from akool_mcp.domain.ledger import Claim, Kind, Ledger, PaidRequest
from akool_mcp.errors import AkoolAPIError, AkoolError
from akool_mcp.tools.state import AppContext, AppState, state_of

ConfirmSpend = Literal["auto", "always", "never"]
WORDS_PER_SECOND = 2.5  # about 150 words a minute, the pace of the voices
NOUNS: dict[Kind, str] = {"video": "video", "avatar": "avatar upload", "script": "script video"}


class SpendConfirmation(BaseModel):
    """The form the user is shown: one yes/no."""

    confirm: bool = Field(title="Make it and pay for it", description="Yes: send it to Akool, billed to your credit.")


class NotAsked(SpendConfirmation):
    """No question was put to the user; `reason` says why (nothing to pay for, or the client cannot be asked)."""

    reason: str = ""


def can_elicit(ctx: AppContext) -> bool:
    """Whether this client answers form questions (a bare `elicitation: {}` counts, as in the SDK)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


@dataclass(frozen=True)
class Plan:
    """What a paid tool would send, worked out before anything is asked or sent.

    `error` is raised by the tool (inside its error boundary); `claim` says whether the ledger lets it go out;
    `question` is what the user would be asked, None on the local engine (nothing is billed there).
    """

    error: Exception | None = None
    request: Any = None  # the wire request to send
    spec: Any = None  # what the tool was asked for, in its own terms
    print_: str = ""
    claim: Claim | None = None
    question: Callable[[str], str] | None = None

    @property
    def will_send(self) -> bool:
        return self.error is None and self.claim is not None and self.claim.earlier is None


async def ask_before_spending(ctx: AppContext, plan: Plan) -> SpendConfirmation | Elicit[SpendConfirmation]:
    """The question, when there is one to ask; otherwise why not (see NotAsked)."""
    state = state_of(ctx)
    if state.backend != "akool" or plan.question is None or not plan.will_send:
        return NotAsked(confirm=True, reason="nothing will be billed")
    mode: ConfirmSpend = state.confirm_spend
    if mode == "never":
        return NotAsked(confirm=True, reason="AKOOL_CONFIRM_SPEND=never")
    if not can_elicit(ctx):
        return NotAsked(confirm=mode == "auto", reason="this client cannot be asked")
    return Elicit(plan.question(await credit_balance(state)), SpendConfirmation)


async def credit_balance(state: AppState) -> str:
    try:
        credit = (await (await state.client()).get_credit()).credit
    except AkoolError:
        return "unknown (Akool did not say)"
    return f"{credit:,.2f}".rstrip("0").rstrip(".")


def go_ahead(consent: ElicitationResult[SpendConfirmation], what: str) -> None:
    """Raise, saying nothing was sent, unless the user agreed or needed not be asked."""
    nothing = "Nothing was sent to Akool and nothing was billed."
    if isinstance(consent, AcceptedElicitation):
        answer = consent.data
        if answer.confirm:
            return
        if isinstance(answer, NotAsked):
            raise ToolError(
                f"Not made: this server asks before every paid call (AKOOL_CONFIRM_SPEND=always) and {answer.reason} "
                f"(it does not support elicitation). {nothing} Use a client that can ask, or set "
                "AKOOL_CONFIRM_SPEND=auto."
            )
        raise ToolError(f"Not made: the user answered no to making {what}. {nothing} Ask what to change.")
    if isinstance(consent, DeclinedElicitation):
        raise ToolError(f"Not made: the user declined {what}. {nothing} Ask what to change.")
    raise ToolError(f"Not made: the user dismissed the question about {what}. {nothing}")


def refusal_for(claim: Claim, ledger: Ledger, kind: Kind, *, request_id: str | None) -> str | None:
    """Why a request that the ledger stopped is not sent, or None when the earlier answer stands for it."""
    earlier = claim.earlier
    assert earlier is not None
    noun = NOUNS[kind]
    ago = _ago(ledger.age(earlier))
    if claim.other_request:
        return (
            f"request_id {request_id!r} was already used {ago} for a different {noun}; nothing was sent. Use a new "
            "request_id for a new one."
        )
    if earlier.state == "done":
        return None
    where = "list_avatars" if kind == "avatar" else "list_videos"
    if earlier.state == "sending":
        return f"An identical {noun} is being sent right now (started {ago}); nothing more was sent. Then see {where}."
    return (
        f"An identical {noun} was sent {ago} but its answer was lost, so it may exist and be billed already; it was "
        f"not sent again. Check {where} (or Akool's dashboard); to "
        "send it anyway, call again with allow_duplicate=true" + (" and a new request_id." if request_id else ".")
    )


def earlier_note(claim: Claim, ledger: Ledger, kind: Kind) -> str:
    earlier: PaidRequest | None = claim.earlier
    assert earlier is not None
    ago = _ago(ledger.age(earlier))
    if claim.why == "request_id":
        return f"This request_id was already used {ago}: this is what it made. Nothing was sent or billed again."
    noun = NOUNS[kind].removesuffix(" upload")
    return (
        f"An identical {noun} was requested {ago}: this is that one. Nothing was sent or billed again. To make and "
        "pay for another identical one, call again with allow_duplicate=true."
    )


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def estimated_seconds(text: str) -> int:
    return max(1, round(len(text.split()) / WORDS_PER_SECOND))


T = TypeVar("T")


@dataclass(frozen=True)
class Sent(Generic[T]):
    """What `send_once` did: sent the request (`made`), or stood by an earlier one (`earlier`, with a note)."""

    made: T | None = None
    earlier: PaidRequest | None = None
    note: str = ""


async def send_once(
    state: AppState,
    plan: Plan,
    kind: Kind,
    *,
    request_id: str | None,
    allow_duplicate: bool,
    consent: ElicitationResult[SpendConfirmation],
    what: str,
    send: Callable[[], Awaitable[T]],
    made_id: Callable[[T], str],
) -> Sent[T]:
    """Send the plan's paid request at most once: never for a used request_id or a recent repeat, never without
    consent, and written down before it goes so that a lost answer is never followed by a second send."""
    if plan.error is not None:
        raise plan.error
    ledger = state.ledger
    if state.backend != "akool" or ledger is None:
        return Sent(made=await send())

    def stand_by(claim: Claim) -> Sent[T]:
        refusal = refusal_for(claim, ledger, kind, request_id=request_id)
        if refusal is not None:
            raise ToolError(refusal)
        return Sent(earlier=claim.earlier, note=earlier_note(claim, ledger, kind))

    if plan.claim is not None and plan.claim.earlier is not None:
        return stand_by(plan.claim)  # nothing was asked: nothing would be sent
    go_ahead(consent, what)
    # Checked again, and written down in the same step: a twin call may have gone out while the user was asked.
    claim = ledger.claim(kind, plan.print_, request_id=request_id, allow_duplicate=allow_duplicate)
    if claim.earlier is not None:
        return stand_by(claim)
    assert claim.seq is not None
    try:
        made = await send()
    except AkoolAPIError as exc:
        if exc.code is None and (exc.http_status or 0) >= 500:
            ledger.unknown(claim.seq)  # a gateway's error says nothing of whether Akool made it
        else:
            ledger.refused(claim.seq)  # refused by Akool: nothing was made, the request_id may be used again
        raise
    except BaseException:
        ledger.unknown(claim.seq)  # it may have reached Akool: never sent again by itself
        raise
    ledger.done(claim.seq, made_id(made), {})
    return Sent(made=made)
