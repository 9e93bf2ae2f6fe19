"""The request is the unit of work: it commits when it succeeds and rolls back otherwise.

Services only flush. A view that must keep something despite answering an error (a failed
login's counter, a revoked token family) sets `g.commit_on_error`.
"""
from __future__ import annotations

from flask import Flask, g, request

from server.common import context
from server.extensions import db

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
# Endpoints that write although they answer a GET (an export writes its log): on SQLite their
# transaction must begin as a writer (BEGIN IMMEDIATE, queueing for the write lock), because a
# read transaction cannot become a write once another writer has committed since it began.
WRITING_READS: set[str] = set()


def writes_on_read(endpoint: str) -> None:
    WRITING_READS.add(endpoint)


def init_app(app: Flask) -> None:
    @app.before_request
    def _begin_unit_of_work() -> None:
        context.write_intent.set(request.method not in READ_METHODS or request.endpoint in WRITING_READS)
        context.channel.set("api")
        context.client_mutation.set(None)

    @app.teardown_request
    def _leave_request_context(_exc) -> None:
        # Whatever runs next on this thread (a job, a CLI command in tests) is not "api".
        context.write_intent.set(True)
        context.channel.set("cli")
        context.client_mutation.set(None)

    @app.after_request
    def _end_unit_of_work(response):
        if response.status_code < 400 or g.get("commit_on_error"):
            db.session.commit()
        else:
            db.session.rollback()
        return response


def keep_on_error() -> None:
    g.commit_on_error = True
