"""What the engine answers when it refuses a request or a job fails: an Akool business code, the field it
concerns and a message saying what to change.

Lower errors (a media URL the fetcher refuses, a contract rule a request breaks, a render that cannot be
done) are turned into these once, where the engine meets them (intake, production); the API only puts
them in the envelope.
"""

from __future__ import annotations

INVALID = 1003  # a parameter is invalid (Akool's code)
TOO_FREQUENT = 1005  # operation too frequent / rate limited
NOT_FOUND = 1008  # the referenced object does not exist
DENIED = 1009  # permission denied (a built-in avatar cannot be deleted)
NO_RECORD = 1014  # no record with this id
FAILED = 1109  # the work failed on the engine's side
EXISTS = 1222  # an avatar with this avatar_id exists already
SPEECH_FAILED = 1201  # the text or audio could not be made into speech


class EngineError(Exception):
    """A refusal or a failure with its business code; `field` names the parameter in the API's words."""

    def __init__(self, code: int, message: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        self.code = code
        self.field = field
        self.message = message
        self.retry_after = retry_after  # seconds, sent as Retry-After when the caller should come back later
        super().__init__(self.msg)

    @property
    def msg(self) -> str:
        """The envelope's `msg`: the field first, as Akool's own messages put it."""
        return f"{self.field}: {self.message}" if self.field else self.message


class BodyTooLarge(EngineError):
    """The request body is over the limit: answered with HTTP 413, before it is read any further."""

    def __init__(self, limit: int) -> None:
        super().__init__(INVALID, f"the request body is larger than {limit // 1024} KiB; send a smaller request")
        self.limit = limit


class JobFailed(EngineError):
    """A job that cannot be done as asked: recorded as the video's or avatar's failure, with its code."""

    def __init__(self, message: str, code: int = FAILED, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
