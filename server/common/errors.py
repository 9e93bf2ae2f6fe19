"""The one error envelope: {"error": {"code", "message", "details"}} (SPEC §13)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("fieldcrm")


class AppError(Exception):
    """A business or request error with a stable machine code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(AppError):
    status, code = 422, "validation_failed"


class NotFound(AppError):
    status, code = 404, "not_found"

    def __init__(self, message: str = "Not found", **kw):
        super().__init__(message, **kw)


class NotAuthorized(AppError):
    status, code = 403, "not_authorized"

    def __init__(self, message: str = "You are not allowed to do this", **kw):
        super().__init__(message, **kw)


class Unauthenticated(AppError):
    status, code = 401, "unauthenticated"


class Conflict(AppError):
    status = 409


class InvalidPeriod(AppError):
    """A period (of a target, a report filter, ...) that starts after it ends."""

    status, code = 422, "invalid_period"


class TargetPeriodOverlap(AppError):
    """R-K1: a user's target periods may not overlap."""

    status, code = 409, "target_period_overlap"


def envelope(code: str, message: str, details: dict | None = None, status: int = 400):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


# HTTP statuses raised by Flask/werkzeug themselves, named for machines.
HTTP_CODES = {
    400: "malformed_request",
    401: "unauthenticated",
    403: "not_authorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


def _unknown_api_path() -> bool:
    """A 405 for an /api/ path that only the app-shell route (GET) matched is really a 404."""
    from flask import current_app, request
    from werkzeug.exceptions import HTTPException as _HTTPException

    if not request.path.startswith("/api/"):
        return False
    try:
        endpoint, _ = current_app.url_map.bind_to_environ(request.environ).match(method="GET")
    except _HTTPException:
        return False
    return endpoint == "pwa"


def http_error_response(exc: HTTPException):
    status = exc.code or 500
    if status == 405 and _unknown_api_path():
        return envelope("not_found", "No such API endpoint", {}, 404)
    data = getattr(exc, "data", None) or {}
    if status == 422 and "messages" in data:
        # webargs/marshmallow: {"json": {"field": ["msg"]}} -> the fields themselves
        messages = data["messages"]
        fields = {}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                fields.update(location_errors)
        return envelope("validation_failed", "Some fields are not valid", {"fields": fields}, 422)
    if status == 400 and "messages" in data:
        return envelope("malformed_request", "The request body is not valid JSON", {}, 400)
    if status == 429:
        return envelope("rate_limited", "Too many requests; try again later",
                        {"limit": str(getattr(exc, "description", ""))}, 429)
    code = HTTP_CODES.get(status, "http_error")
    message = exc.description if isinstance(exc.description, str) else exc.name
    return envelope(code, message or exc.name, {}, status)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        return envelope(exc.code, exc.message, exc.details, exc.status)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return http_error_response(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error_response(exc)
        log.exception("unexpected error")
        return envelope("internal_error", "Something went wrong on the server; it has been logged",
                        {}, 500)
