"""Helpers shared by the sync tests (imported as `sync_helpers`).

`Device` plays one install of the app: its own client id, an outbox numbered like the phone
numbers it, the pull cookie, and the server state it has pulled so far.
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from helpers import CLIENT_TIME, PULL, PUSH, error_of, new_id, ok, ops_of, pull, push  # noqa: F401

REJECTIONS = "/api/v1/sync/rejections"


def mutation(mid: int, name: str, args: dict, client_time: str | None = CLIENT_TIME) -> dict:
    item = {"id": mid, "name": name, "args": args}
    if client_time:
        item["client_time"] = client_time
    return item


def numbered(first: int, specs: list[tuple[str, dict]]) -> list[dict]:
    """[(name, args), ...] -> consecutive mutations from id `first`."""
    return [mutation(first + i, name, args) for i, (name, args) in enumerate(specs)]


def statuses(answer: dict) -> list[tuple[int, str]]:
    return [(r["id"], r["status"]) for r in answer["results"]]


def customer_args(factory, **overrides) -> dict:
    """customer.create args with a client-made id (and client-made contact ids)."""
    overrides.setdefault("id", new_id())
    args = factory.customer_args(**overrides)
    args["contacts"] = [{"id": c.get("id") or new_id(), **c} for c in args.get("contacts") or []]
    return args


def count(db_ctx, model, *where) -> int:
    with db_ctx() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


class Device:
    """One install of the app for one user."""

    def __init__(self, factory, user, client=None, headers=None, client_id: str | None = None):
        self.factory, self.user = factory, user
        self.client = client or factory.app.test_client()
        self.headers = headers if headers is not None else factory.headers(user)
        self.client_id = client_id or str(uuid.uuid4())
        self.next_id = 1
        self.outbox: list[dict] = []
        self.cookie: str | None = None
        self.state: dict[tuple[str, str], dict[str, Any]] = {}
        self.rejections: list[dict] = []

    # ---- push ---------------------------------------------------------------------------------

    def queue(self, name: str, args: dict) -> int:
        mid = self.next_id
        self.next_id += 1
        self.outbox.append(mutation(mid, name, args))
        return mid

    def push_raw(self, mutations: list[dict], schema_version: int = 1):
        return push(self.client, self.headers, self.client_id, mutations, schema_version)

    def push(self) -> dict:
        """Send the whole outbox; drop what the server acknowledged. Returns the answer."""
        answer = ok(self.push_raw(self.outbox))
        done = answer["last_mutation_id"]
        self.outbox = [m for m in self.outbox if m["id"] > done]
        return answer

    def send(self, name: str, args: dict) -> dict:
        """Queue one mutation, push, and return its result."""
        mid = self.queue(name, args)
        answer = self.push()
        return next(r for r in answer["results"] if r["id"] == mid)

    # ---- pull ---------------------------------------------------------------------------------

    def pull_raw(self, cookie=None, limit=2000):
        return pull(self.client, self.headers, self.client_id, cookie, limit)

    def apply(self, page: dict) -> None:
        if page["reset"]:
            self.state = {}
        for op in page["patch"]:
            key = (op["entity"], op["id"])
            if op["op"] == "put":
                self.state[key] = {"version": op["version"], "data": op["data"]}
            else:
                assert op["op"] == "del", op
                self.state.pop(key, None)
        self.cookie = page["cookie"]
        self.rejections = page["rejections"]

    def pull_page(self, limit: int = 2000) -> dict:
        page = ok(self.pull_raw(self.cookie, limit))
        self.apply(page)
        return page

    def sync(self, limit: int = 2000, max_pages: int = 1000) -> list[dict]:
        """Pull until has_more is false; every page, in order."""
        pages = []
        for _ in range(max_pages):
            pages.append(self.pull_page(limit))
            if not pages[-1]["has_more"]:
                return pages
        raise AssertionError("pull never finished")

    def patch(self, limit: int = 2000) -> list[dict]:
        """One incremental sync's patch, all pages joined."""
        return [op for page in self.sync(limit) for op in page["patch"]]

    def has(self, entity: str, entity_id) -> bool:
        return (entity, str(entity_id)) in self.state

    def data(self, entity: str, entity_id) -> dict:
        return self.state[(entity, str(entity_id))]["data"]

    def resolve(self, mutation_id: int, action: str, replacement: dict | None = None):
        body: dict[str, Any] = {"client_id": self.client_id, "action": action}
        if replacement is not None:
            body["mutation"] = replacement
        return self.client.post(f"{REJECTIONS}/{mutation_id}/resolve", json=body, headers=self.headers)
