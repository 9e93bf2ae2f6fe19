"""What a phone pulls: one feed per synced entity type, in a fixed order (SPEC §12).

Scoped feeds hold entities that live under a customer: they follow the customer's visibility
(sent whole when it appears, deleted with it when it leaves). Global feeds hold the directory
and settings every user gets. Personal feeds (notifications, approvals, targets…) come with
later features through `register_feed`.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import and_, or_, select

from server.extensions import db
from sync.pull import Phase, Plan

CHUNK = 900  # ids per IN (…) list: below every database's bound-parameter limit
REFRESH = "customers"


def customers_to_send_whole(plan: Plan) -> list[str]:
    """Customers new to the client, or whose masking changed for this viewer."""
    refreshed = plan.added("customers") | (
        (plan.added("unmasked") | plan.removed("unmasked")) & plan.now.get("customers", frozenset()))
    return sorted(refreshed)


def _uuids(ids) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i in ids]


def _put(entity: str, row: Any, data: dict) -> dict:
    return {"op": "put", "entity": entity, "id": str(row.id), "version": row.version, "data": data}


def _del(entity: str, entity_id: Any) -> dict:
    return {"op": "del", "entity": entity, "id": str(entity_id)}


@dataclass
class ScopedFeed:
    """Entities under a customer. `customer_column` is the model's customer id column."""

    entity: str
    model: Any
    customer_column: Any
    present: Callable[[Any, Plan], dict]
    voided: Callable[[Any], bool] = lambda row: getattr(row, "voided_at", None) is not None

    # key format: "<part>:<chunk>:<last id>"
    def phase(self) -> Phase:
        def run(plan: Plan, after: str | None, limit: int):
            part, chunk, last = (after.split(":", 2) if after else ("w", "0", ""))
            ops: list[dict] = []
            if part == "w":
                refresh = customers_to_send_whole(plan)
                index = int(chunk)
                while index * CHUNK < len(refresh):
                    ids = refresh[index * CHUNK:(index + 1) * CHUNK]
                    query = select(self.model).where(self.customer_column.in_(_uuids(ids))).order_by(self.model.id)
                    if last:
                        query = query.where(self.model.id > uuid.UUID(last))
                    want = limit - len(ops)
                    rows = db.session.scalars(query.limit(want)).all()
                    for row in rows:
                        if not self.voided(row):
                            ops.append(_put(self.entity, row, self.present(row, plan)))
                        last = str(row.id)
                    if len(rows) == want:
                        return ops, f"w:{index}:{last}"  # maybe more in this chunk
                    index, last = index + 1, ""
                if plan.reset:
                    return ops, None
                part, last = "c", ""
            # changed since the last pull, under customers the client already had
            kept = plan.kept("customers") - set(customers_to_send_whole(plan))
            while len(ops) < limit:
                query = (select(self.model)
                         .where(and_(self.model.version > plan.since, self.model.version <= plan.upto))
                         .order_by(self.model.id).limit(limit))
                if len(kept) <= CHUNK:
                    query = query.where(self.customer_column.in_(_uuids(sorted(kept))))
                if last:
                    query = query.where(self.model.id > uuid.UUID(last))
                rows = db.session.scalars(query).all()
                if not rows:
                    return ops, None
                for row in rows:
                    last = str(row.id)
                    if str(getattr(row, self.customer_column.key)) not in kept:
                        continue
                    ops.append(_del(self.entity, row.id) if self.voided(row)
                               else _put(self.entity, row, self.present(row, plan)))
                    if len(ops) >= limit:
                        return ops, f"c:0:{last}"
            return ops, f"c:0:{last}"

        return run

    def child_ids(self, customer_ids: list[str]) -> list[str]:
        return [str(i) for i in db.session.scalars(
            select(self.model.id).where(self.customer_column.in_(_uuids(customer_ids))).order_by(self.model.id))]


@dataclass
class GlobalFeed:
    """Entities every user receives (directory, departments), by version."""

    entity: str
    model: Any
    present: Callable[[Any, Plan], dict]

    def phase(self) -> Phase:
        def run(plan: Plan, after: str | None, limit: int):
            query = select(self.model).order_by(self.model.id).limit(limit)
            if not plan.reset:
                query = query.where(self.model.version > plan.since, self.model.version <= plan.upto)
            if after:
                query = query.where(self.model.id > uuid.UUID(after))
            rows = db.session.scalars(query).all()
            ops = [_put(self.entity, row, self.present(row, plan)) for row in rows]
            return ops, (str(rows[-1].id) if len(rows) == limit else None)

        return run


@dataclass
class PersonalFeed:
    """Entities of one user (or their team), chosen by `where(plan)`; voided rows become del."""

    entity: str
    model: Any
    where: Callable[[Plan], Any]
    present: Callable[[Any, Plan], dict]
    voided: Callable[[Any], bool] = lambda row: getattr(row, "voided_at", None) is not None

    def phase(self) -> Phase:
        def run(plan: Plan, after: str | None, limit: int):
            query = select(self.model).where(self.where(plan)).order_by(self.model.id).limit(limit)
            if not plan.reset:
                query = query.where(self.model.version > plan.since, self.model.version <= plan.upto)
            if after:
                query = query.where(self.model.id > uuid.UUID(after))
            rows = db.session.scalars(query).all()
            ops = []
            for row in rows:
                if self.voided(row):
                    if not plan.reset:
                        ops.append(_del(self.entity, row.id))
                else:
                    ops.append(_put(self.entity, row, self.present(row, plan)))
            return ops, (str(rows[-1].id) if len(rows) == limit else None)

        return run


@dataclass(frozen=True)
class PersonRows:
    """Rows that belong to one person (a target, a daily report): phones hold those of the people
    in the viewer's reach — the `people` scope (R-O4 applied to people: oneself, a manager's
    subtree, everyone for ops and admins). Their feeds send a person's rows whole when the person
    enters the reach (`added_people`); `people_removals_phase` deletes them when the person
    leaves it (a rep moved out of a manager's subtree, a manager moved to another department)."""

    entity: str
    model: Any
    user_column: Any
    window: Callable[[], Any] | None = None  # the rows a phone holds at all, e.g. recent reports


SCOPED: list[ScopedFeed] = []
OTHERS: list[Any] = []
PEOPLE: list[PersonRows] = []


def register_person_rows(rows: PersonRows) -> None:
    if all(r.entity != rows.entity for r in PEOPLE):
        PEOPLE.append(rows)


def changed_or_new_person(plan: Plan, model: Any, user_column: Any):
    """The incremental condition of a person-rows feed: changed since the client's last pull, or
    belonging to a person who entered the viewer's reach since then (sent whole)."""
    changed = and_(model.version > plan.since, model.version <= plan.upto)
    added = sorted(plan.added("people"))
    if not added:
        return changed
    return or_(changed, user_column.in_(_uuids(added)))


def people_removals_phase() -> Phase:
    """Dels for the rows of people who left the viewer's reach. Key: "<kind>:<chunk>:<last id>"."""

    def run(plan: Plan, after: str | None, limit: int):
        removed = sorted(plan.removed("people"))
        if not removed:
            return [], None
        kind, chunk, last = (after.split(":", 2) if after else ("0", "0", ""))
        kind, chunk = int(kind), int(chunk)
        ops: list[dict] = []
        while kind < len(PEOPLE):
            rows = PEOPLE[kind]
            while chunk * CHUNK < len(removed):
                query = (select(rows.model.id)
                         .where(rows.user_column.in_(_uuids(removed[chunk * CHUNK:(chunk + 1) * CHUNK])))
                         .order_by(rows.model.id).limit(limit - len(ops)))
                if rows.window is not None:
                    query = query.where(rows.window())
                if last:
                    query = query.where(rows.model.id > uuid.UUID(last))
                ids = db.session.scalars(query).all()
                ops.extend(_del(rows.entity, i) for i in ids)
                if len(ops) >= limit:
                    return ops, f"{kind}:{chunk}:{ids[-1]}"
                chunk, last = chunk + 1, ""
            kind, chunk = kind + 1, 0
        return ops, None

    return run


def register_scoped(feed: ScopedFeed) -> None:
    if all(f.entity != feed.entity for f in SCOPED):
        SCOPED.append(feed)


def register_feed(feed: Any) -> None:
    if all(f.entity != feed.entity for f in OTHERS):
        OTHERS.append(feed)


def removals_phase() -> Phase:
    """Dels for customers that left the viewer's scope, with everything under them."""

    def run(plan: Plan, after: str | None, limit: int):
        removed = sorted(plan.removed("customers"))
        start = removed.index(after) + 1 if after in removed else 0
        ops: list[dict] = []
        index = start
        while index < len(removed) and len(ops) < limit:
            batch = removed[index:index + 100]
            for feed in reversed(SCOPED):
                ops.extend(_del(feed.entity, child) for child in feed.child_ids(batch)
                           if not (feed.entity == "customer"))
            ops.extend(_del("customer", cid) for cid in batch)
            index += len(batch)
        return ops, (removed[index - 1] if index < len(removed) else None)

    return run


def phases() -> list[Phase]:
    return [removals_phase(), people_removals_phase(), *[f.phase() for f in OTHERS], *[f.phase() for f in SCOPED]]
