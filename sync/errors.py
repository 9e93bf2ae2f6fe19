"""Errors the engine distinguishes: the envelope is bad, or a mutation is rejected."""
from __future__ import annotations


class ProtocolError(Exception):
    """The request as a whole is refused (HTTP status + code), nothing is processed."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


class Rejection(Exception):
    """A business rejection of one mutation: kept, reported, and the queue moves on."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or {}

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": self.details}


class TransientError(Exception):
    """Something went wrong that a retry may fix: roll back, stop the batch, answer 503."""
