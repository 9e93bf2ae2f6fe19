"""Visit rules (SPEC R-A2, R-A3, §7, R-P5). Used by the sync handlers and the HTTP views;
nothing here commits.

- `create_visit`: owner or write co-follower; the photos named become `PhotoLink`s (whoever sees
  the customer may read them) before their bytes arrive; the customer's visit count, last-visit
  date and (when given, never down from `signed`) status change; verification runs at once.
- `photo_arrived`: a photo just stored re-verifies every visit that names it.
- Progress (R-P5): a visit counts when it is verified or unverified (not while pending, not when
  suspect unless a manager confirms it, never once marked false). A visit that stops counting
  gives the customer back its previous last-progress time, if nothing newer moved it since.
- Review: managers above the author (who see the customer) and admins confirm suspect or
  unverified visits or mark them false; the author is told. Managers are told (R-A3,
  `suspect_visit`) when a visit becomes suspect.

Lock order, as every writer: the sync version, then the customer row, then the visit row.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, literal, or_, select

from server.common import audit
from server.common.cursors import decode_cursor, encode_cursor
from server.common.db import content_lock, transaction_version, utcnow
from server.common.errors import Conflict, NotAuthorized, NotFound, ValidationFailed
from server.common.history import apply_changes
from server.customers import access
from server.customers import service as customers
from server.customers.models import Contact, Customer, CustomerStatus
from server.extensions import db
from server.notifications.service import notify
from server.org.models import Department, Role, User
from server.photos.models import Photo, PhotoLink
from server.settings.service import get_settings
from server.verification import checks
from server.visits.models import REVIEW_DECISIONS, Visit, VisitPhoto

SUSPECT_KIND = "suspect_visit"
REVIEWED_KIND = "visit_reviewed"
REVIEWABLE = (checks.SUSPECT, checks.UNVERIFIED)
REVIEWERS = (Role.manager, Role.admin)


class NotReviewable(Conflict):
    code = "not_reviewable"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _client_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        return None
    return value if value.tzinfo is not None else None


def verification_settings() -> dict[str, Any]:
    settings = get_settings()
    return {**dict(settings["verification"]), "timezone": settings["timezone"]}


# ---- creating -------------------------------------------------------------------------------------

def _locked_visible_customer(actor: User, customer_id: uuid.UUID) -> Customer:
    customer = customers.lock_customer(customer_id)
    if customer.voided_at is not None or not access.can_see(actor, customer.id):
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def _json_position(position: dict | None) -> dict | None:
    if not position:
        return None
    return {"lat": position["lat"], "lng": position["lng"], "accuracy_m": position.get("accuracy_m"),
            "fixed_at": _iso(position.get("fixed_at"))}


def create_visit(args: dict, actor: User, client_time: str | None = None, now: datetime | None = None) -> Visit:
    """R-A2: a visit by the customer's owner or a write co-follower (R-O2), verified at once."""
    now = now or utcnow()
    for sha256 in sorted(set(args["photo_hashes"])):
        content_lock(db.session, sha256)  # an upload of these photos now waits for this visit (photo_arrived)
    customer = _locked_visible_customer(actor, args["customer_id"])
    access.require_write(actor, customer)
    contact_id = args.get("contact_id")
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.customer_id != customer.id or contact.voided_at is not None:
            raise ValidationFailed("The contact is not one of this customer's contacts",
                                   details={"fields": {"contact_id": ["not a contact of this customer"]}})
    visit_id = customers._entity_id(args.get("id"), Visit)
    hashes = list(dict.fromkeys(args["photo_hashes"]))
    visit = Visit(id=visit_id, customer_id=customer.id, author_id=actor.id, contact_id=contact_id,
                  purpose=args["purpose"].strip(), result=args.get("result"), next_step=args.get("next_step"),
                  stage=args.get("stage"), visited_at=args["visited_at"], client_time=_client_time(client_time),
                  received_at=now, photo_hashes=hashes, position=_json_position(args.get("position")),
                  verification={}, verification_status=checks.PENDING, review_status="none", created_at=now)
    db.session.add(visit)
    for index, sha256 in enumerate(hashes):
        db.session.add(VisitPhoto(visit_id=visit.id, sha256=sha256, position=index, visited_at=visit.visited_at,
                                  received_at=now))
        db.session.add(PhotoLink(photo_sha256=sha256, entity="visit", entity_id=str(visit.id),
                                 customer_id=customer.id))
    customer.visit_count = (customer.visit_count or 0) + 1
    seen_at = min(visit.visited_at, now)
    if customer.last_visit_at is None or seen_at > customer.last_visit_at:
        customer.last_visit_at = seen_at
    status_change = None
    stage = args.get("stage")
    if stage and customer.status != CustomerStatus.signed and customer.status.value != stage:
        status_change = [customer.status.value, stage]
        apply_changes(customer, "customer", {"status": CustomerStatus(stage)}, None, actor.id, customer.id)
    db.session.flush()
    run_verification(visit, customer, now)
    changes = audit.diff({}, {"customer_id": customer.id, "contact_id": contact_id, "purpose": visit.purpose,
                              "result": visit.result, "next_step": visit.next_step, "stage": visit.stage,
                              "visited_at": visit.visited_at, "photo_hashes": hashes, "position": visit.position,
                              "verification_status": visit.verification_status})
    if status_change:
        changes["customer_status"] = status_change
    audit.record("visit.create", "visit", visit.id, changes, actor_id=actor.id)
    return visit


# ---- verifying ------------------------------------------------------------------------------------

def build_evidence(visit: Visit, customer: Customer, settings: dict[str, Any]) -> dict[str, Any]:
    hashes = list(visit.photo_hashes or [])
    rows = {p.sha256: p for p in db.session.scalars(select(Photo).where(Photo.sha256.in_(hashes)))} if hashes else {}
    photos = [{"sha256": sha, "present": sha in rows, "exif": rows[sha].exif if sha in rows else None,
               "phash": rows[sha].phash if sha in rows else None} for sha in hashes]
    return {
        "visited_at": visit.visited_at,
        "client_time": visit.client_time,
        "received_at": visit.received_at,
        "position": visit.position,
        "customer_location": ({"lat": customer.lat, "lng": customer.lng}
                              if customer.lat is not None and customer.lng is not None else None),
        "photos": photos,
        "earlier": _earlier_photos(visit, hashes, any(p["phash"] for p in photos), settings),
    }


def _earlier_photos(visit: Visit, hashes: list[str], with_similar: bool, settings: dict[str, Any]) -> list[dict]:
    """Photos of other visits received before this one: the same bytes, and (when this visit
    has a perceptual hash to compare) any within the similarity window of its visit time."""
    if not hashes:
        return []
    wanted = [VisitPhoto.sha256.in_(hashes)]
    if with_similar:
        window = timedelta(days=int(settings["photo_similar_days"]))
        wanted.append(and_(VisitPhoto.visited_at >= visit.visited_at - window,
                           VisitPhoto.visited_at <= visit.visited_at + window, Photo.phash.is_not(None)))
    query = (select(VisitPhoto.sha256, Photo.phash, VisitPhoto.visit_id, VisitPhoto.visited_at)
             .outerjoin(Photo, Photo.sha256 == VisitPhoto.sha256)
             .where(VisitPhoto.visit_id != visit.id,
                    or_(VisitPhoto.received_at < visit.received_at,
                        and_(VisitPhoto.received_at == visit.received_at, VisitPhoto.visit_id < visit.id)),
                    or_(*wanted)))
    return [{"sha256": sha, "phash": phash, "visit_id": str(visit_id), "visited_at": visited_at}
            for sha, phash, visit_id, visited_at in db.session.execute(query)]


def run_verification(visit: Visit, customer: Customer, now: datetime | None = None) -> dict[str, Any]:
    """Judge the visit on its evidence as it is now; act on a change of status."""
    settings = verification_settings()
    result = checks.verify(build_evidence(visit, customer, settings), settings)
    before = visit.verification_status if visit.verification else None
    visit.verification = result
    visit.verification_status = result["status"]
    visit.verified_at = now or utcnow()
    _after_verification(visit, customer)
    if before is not None and before != result["status"]:
        audit.record("visit.verify", "visit", visit.id,
                     {"verification_status": [before, result["status"]]})
    return result


def _after_verification(visit: Visit, customer: Customer) -> None:
    status = visit.verification_status
    if status == checks.SUSPECT:
        if visit.review_status != "confirmed":
            _take_back_progress(visit, customer)
        if visit.review_status == "none":
            _tell_managers(visit, customer)
    elif status in (checks.VERIFIED, checks.UNVERIFIED) and visit.review_status != "false":
        _count_progress(visit, customer)


def _count_progress(visit: Visit, customer: Customer) -> None:
    from server.pools.service import touch_progress

    if visit.progress_at is not None:
        return
    at = min(visit.visited_at, visit.received_at)
    visit.progress_before = customer.last_progress_at
    visit.progress_at = at
    touch_progress(customer, at)


def _take_back_progress(visit: Visit, customer: Customer) -> None:
    if visit.progress_at is None:
        return
    before = visit.progress_before
    if customer.last_progress_at == visit.progress_at and before is not None and before < visit.progress_at:
        customer.last_progress_at = before
    visit.progress_at = visit.progress_before = None


def photo_arrived(sha256: str) -> list[Visit]:
    """Re-verify every visit that names the photo just stored (it was `photo_missing` there).

    The upload holds the photo's content lock (taken in `store_photo` before the photo row): a
    `visit.create` naming this photo that is still in flight either commits before this looks
    (and is found here) or waits for the lock and then finds the photo itself. Either way no
    visit stays pending on a photo that is there."""
    ids = list(db.session.scalars(select(VisitPhoto.visit_id).where(VisitPhoto.sha256 == sha256)
                                  .order_by(VisitPhoto.received_at, VisitPhoto.visit_id)))
    done = []
    for visit_id in ids:
        visit = db.session.get(Visit, visit_id)
        customer = customers.lock_customer(visit.customer_id)
        visit = db.session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update(of=Visit)
                                  .execution_options(populate_existing=True))
        run_verification(visit, customer)
        done.append(visit)
    db.session.flush()
    return done


# ---- managers -------------------------------------------------------------------------------------

def managers_above(author: User, customer: Customer) -> list[User]:
    """Active managers of the author's department or above it who see the customer; the
    admins when there is none."""
    above = select(Department.id).where(literal(author.department.path).startswith(Department.path))
    managers = db.session.scalars(select(User).where(User.role == Role.manager, User.active.is_(True),
                                                     User.department_id.in_(above), User.id != author.id)
                                  .order_by(User.username))
    chosen = [m for m in managers if access.can_see(m, customer.id)]
    if chosen:
        return chosen
    return list(db.session.scalars(select(User).where(User.role == Role.admin, User.active.is_(True),
                                                      User.id != author.id).order_by(User.username)))


def _tell_managers(visit: Visit, customer: Customer) -> None:
    """R-A3: a suspect visit waits for review; its author's managers are told once."""
    author = db.session.get(User, visit.author_id)
    data = {"visit_id": str(visit.id), "customer": {"id": str(customer.id), "code": customer.code,
                                                    "name": customer.name},
            "author": {"id": str(author.id), "display_name": author.display_name},
            "visited_at": visit.visited_at.isoformat(), "failed": checks.failed(visit.verification)}
    for manager in managers_above(author, customer):
        notify(manager.id, SUSPECT_KIND, data, customer_id=customer.id, dedupe_key=f"suspect_visit:{visit.id}")


def may_review(user: User, visit: Visit, author: User | None = None) -> bool:
    """Admins, and managers of the author's department or above it who see the customer; never
    the author."""
    if not user.active or user.role not in REVIEWERS or user.id == visit.author_id:
        return False
    if user.role == Role.admin:
        return True
    author = author or db.session.get(User, visit.author_id)
    return access.manages(user, author) and access.can_see(user, visit.customer_id)


def review_visit(visit_id: uuid.UUID, user: User, decision: str, comment: str | None,
                 now: datetime | None = None) -> Visit:
    """Confirm a suspect or unverified visit (it counts as progress) or mark it false (it does
    not, and leaves the visit count); the author is told."""
    now = now or utcnow()
    visit = get_visible_visit(user, visit_id)
    author = db.session.get(User, visit.author_id)
    if not may_review(user, visit, author):
        raise NotAuthorized("Only a manager above the author or an admin reviews visits",
                            details={"visit_id": str(visit.id)})
    customer = customers.lock_customer(visit.customer_id)
    visit = db.session.scalar(select(Visit).where(Visit.id == visit.id).with_for_update(of=Visit)
                              .execution_options(populate_existing=True))
    if visit.review_status != "none":
        raise AlreadyReviewed("This visit has been reviewed already",
                              details={"review_status": visit.review_status,
                                       "reviewed_by_id": str(visit.reviewed_by_id) if visit.reviewed_by_id else None,
                                       "reviewed_at": _iso(visit.reviewed_at)})
    if visit.verification_status not in REVIEWABLE:
        raise NotReviewable("Only suspect and unverified visits are reviewed",
                            details={"verification_status": visit.verification_status})
    comment = (comment or "").strip() or None
    visit.review_status = REVIEW_DECISIONS[decision]
    visit.reviewed_by_id = user.id
    visit.review_comment = comment
    visit.reviewed_at = now
    if visit.review_status == "confirmed":
        _count_progress(visit, customer)
    else:
        _take_back_progress(visit, customer)
        _forget_visit(visit, customer)
    db.session.flush()
    audit.record("visit.review", "visit", visit.id,
                 {"review_status": ["none", visit.review_status], "review_comment": [None, comment]},
                 actor_id=user.id)
    notify(visit.author_id, REVIEWED_KIND,
           {"visit_id": str(visit.id), "decision": decision, "review_status": visit.review_status,
            "comment": comment, "reviewer": {"id": str(user.id), "display_name": user.display_name},
            "customer": {"id": str(customer.id), "code": customer.code, "name": customer.name},
            "visited_at": visit.visited_at.isoformat()},
           customer_id=customer.id, dedupe_key=f"visit_reviewed:{visit.id}")
    return visit


def _forget_visit(visit: Visit, customer: Customer) -> None:
    """A visit marked false leaves the customer's visit count and last-visit date."""
    customer.visit_count = max(0, (customer.visit_count or 0) - 1)
    mine = min(visit.visited_at, visit.received_at)
    if customer.last_visit_at is not None and customer.last_visit_at <= mine:
        others = db.session.execute(select(Visit.visited_at, Visit.received_at).where(
            Visit.customer_id == customer.id, Visit.id != visit.id, Visit.review_status != "false")).all()
        customer.last_visit_at = max((min(v, r) for v, r in others), default=None)


# ---- reading --------------------------------------------------------------------------------------

def get_visible_visit(user: User, visit_id: uuid.UUID) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or not access.can_see(user, visit.customer_id):
        raise NotFound("Visit not found", details={"visit_id": str(visit_id)})
    return visit


def _cursor_key(value) -> tuple[datetime, uuid.UUID]:
    at, last = value
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment, uuid.UUID(last)


def _page(query, limit: int, cursor: str | None) -> tuple[list[Visit], str | None]:
    after = decode_cursor(cursor, _cursor_key)
    if after:
        query = query.where(or_(Visit.received_at < after[0],
                                and_(Visit.received_at == after[0], Visit.id < after[1])))
    rows = list(db.session.scalars(query.order_by(Visit.received_at.desc(), Visit.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1].received_at.isoformat(), str(rows[-1].id)]) if more and rows else None
    return rows, next_cursor


def list_visits(user: User, customer_id: uuid.UUID | None, status: str | None, limit: int,
                cursor: str | None) -> tuple[list[Visit], str | None]:
    query = select(Visit).where(Visit.customer_id.in_(select(Customer.id).where(access.visible_customers(user))))
    if customer_id is not None:
        query = query.where(Visit.customer_id == customer_id)
    if status:
        query = query.where(Visit.verification_status == status)
    return _page(query, limit, cursor)


def review_queue(user: User, status: str | None, review: str, limit: int,
                 cursor: str | None) -> tuple[list[Visit], str | None]:
    """Suspect and unverified visits for the caller to review: a manager's are those of authors
    in their department subtree (not their own) under customers they see; an admin's, all."""
    if not user.active or user.role not in REVIEWERS:
        raise NotAuthorized("Only managers and admins review visits", details={"role": user.role.value})
    query = select(Visit).where(Visit.verification_status.in_([status] if status else list(REVIEWABLE)),
                                Visit.customer_id.in_(select(Customer.id).where(access.visible_customers(user))))
    if review == "open":
        query = query.where(Visit.review_status == "none")
    elif review == "reviewed":
        query = query.where(Visit.review_status != "none")
    if user.role == Role.manager:
        subtree = (select(User.id).join(Department, User.department_id == Department.id)
                   .where(Department.path.startswith(user.department.path)))
        query = query.where(Visit.author_id.in_(subtree))
    return _page(query.where(Visit.author_id != user.id), limit, cursor)


def present(visit: Visit) -> dict[str, Any]:
    return {
        "id": str(visit.id), "customer_id": str(visit.customer_id), "author_id": str(visit.author_id),
        "contact_id": str(visit.contact_id) if visit.contact_id else None,
        "purpose": visit.purpose, "result": visit.result, "next_step": visit.next_step, "stage": visit.stage,
        "visited_at": visit.visited_at.isoformat(), "client_time": _iso(visit.client_time),
        "received_at": visit.received_at.isoformat(), "photo_hashes": list(visit.photo_hashes or []),
        "position": visit.position, "verification": visit.verification,
        "verification_status": visit.verification_status, "review_status": visit.review_status,
        "reviewed_by_id": str(visit.reviewed_by_id) if visit.reviewed_by_id else None,
        "review_comment": visit.review_comment, "reviewed_at": _iso(visit.reviewed_at),
        "created_at": visit.created_at.isoformat(), "version": visit.version,
    }


def present_full(visit: Visit, viewer: User) -> dict[str, Any]:
    """A visit with its customer and author named, for the review pages."""
    return present_many([visit], viewer)[0]


def present_many(visits: list[Visit], viewer: User) -> list[dict[str, Any]]:
    """`present_full` of several visits, their customers and authors read at once."""
    customer_ids = {v.customer_id for v in visits}
    author_ids = {v.author_id for v in visits}
    found = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))} \
        if customer_ids else {}
    authors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(author_ids)))} if author_ids else {}
    out = []
    for visit in visits:
        customer, author = found[visit.customer_id], authors[visit.author_id]
        out.append({**present(visit),
                    "customer": {"id": str(customer.id), "code": customer.code, "name": customer.name},
                    "author": {"id": str(author.id), "display_name": author.display_name},
                    "failed": checks.failed(visit.verification),
                    "can_review": (visit.review_status == "none" and visit.verification_status in REVIEWABLE
                                   and may_review(viewer, visit, author))})
    return out

