"""Phones pull the targets they may see (entity `target`): a rep their own, a manager also their
department subtree's, with actuals computed for the whole page at once.

Their versions move when the records behind their actuals change (see `freshness.py`), so the
ordinary "version in (since, upto]" page brings new actuals on the next pull.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select

from server.extensions import db
from server.sync_api.feeds import PersonRows, changed_or_new_person, register_feed, register_person_rows
from server.targets import service
from server.targets.models import Target
from sync.pull import Plan


class TargetFeed:
    entity = "target"

    def phase(self):
        def run(plan: Plan, after: str | None, limit: int):
            query = select(Target).where(service.visible_targets(plan.viewer)).order_by(Target.id).limit(limit)
            if plan.reset:
                query = query.where(Target.voided_at.is_(None))
            else:
                query = query.where(changed_or_new_person(plan, Target, Target.user_id))
            if after:
                query = query.where(Target.id > uuid.UUID(after))
            rows = db.session.scalars(query).all()
            live = [row for row in rows if row.voided_at is None]
            data = {d["id"]: d for d in service.present_many(live)}
            ops = []
            for row in rows:
                if row.voided_at is not None:
                    ops.append({"op": "del", "entity": self.entity, "id": str(row.id)})
                else:
                    ops.append({"op": "put", "entity": self.entity, "id": str(row.id), "version": row.version,
                                "data": data[str(row.id)]})
            return ops, (str(rows[-1].id) if len(rows) == limit else None)

        return run


register_feed(TargetFeed())
register_person_rows(PersonRows("target", Target, Target.user_id))
