"""Errors the local engine answers with an Akool business code."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class BodyTooLarge(ApiError):
    """The request body is over the limit: answered with HTTP 413, before it is read any further."""

    def __init__(self, limit: int) -> None:
        super().__init__(1003, f"the request body is larger than {limit // 1024} KiB; send a smaller request")
        self.limit = limit
