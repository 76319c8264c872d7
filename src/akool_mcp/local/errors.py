"""Errors the local engine answers with an Akool business code."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
