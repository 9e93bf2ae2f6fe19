"""Customer grade (R-C7) and class (R-C8), and the nightly regrade.

Grade, from the amounts of signed deals per calendar year of their signed date (a date in the
organisation's time zone), judged as of a day D whose year is Y:
- important: at least `grades.important_amount_fen` (default 1,000,000 CNY) in each of
  `grades.important_years` (3) consecutive years;
- stable: at least `grades.stable_amount_fen` (300,000 CNY) in each of `grades.stable_years` (2)
  consecutive years;
- potential: no signed deal yet (signed on or before D);
- general: the rest.
"Consecutive years" end with the current year Y or with the last complete year Y-1: the current
year counts as soon as it reaches the threshold (a customer is not made to wait for 31 December),
and a customer that met it through last year keeps the grade while the current year is still
under way (nobody is downgraded on 1 January because no contract was signed in the first days).
So on 2027-01-10 a customer with 1.2M in 2024, 2025 and 2026 and nothing yet in 2027 is
important; on 2028-01-10 (2025, 2026, 2027 needed, or 2026-2028) it is not.

When a customer becomes important its confidentiality becomes `confidential` (R-C10 default),
unless a person has explicitly set its confidentiality at some time (a change in its change
history made by a user); a confidentiality chosen at creation cannot be told from the default.

Class: `core` needs the 11 profile fields complete (name, address, postcode, region, industry,
type, source, introduction, and a contact with a name, a title and a mobile number — the same
contact) and an open opportunity whose expected close date is today or within 12 months;
`high_growth` needs the profile complete and a real contact within the last 30 days (a valid
follow-up, or a visit that is not suspect); else `ordinary`. Distributors use the same classes
(核心分销/高成长分销/普通分销 on screen). An opportunity whose expected close date has passed
does not count until its date is updated.

The class is recomputed for a customer whenever, in a committed transaction, its profile
fields, a contact, an opportunity, a follow-up or a visit of it changed (a session hook, so it
holds whichever service or channel made the change), and for every customer by the nightly
regrade (time alone moves customers out of "within 30 days"). A contact change also re-sends
the customer to phones, whose `missing_profile_fields` may have changed.
"""
from __future__ import annotations

import itertools
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from flask import has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, attributes

from server.common import context
from server.common.audit import AuditEntry, jsonable
from server.common.db import before_version, transaction_version, utcnow
from server.common.history import FieldChange
from server.customers.models import Confidentiality, Contact, Customer, CustomerClass, Grade
from server.pipeline.models import OPEN_STAGES, Deal, DealStatus, Opportunity

log = logging.getLogger("fieldcrm.pipeline.grades")

PROFILE_FIELDS = ("name", "address", "postcode", "region", "industry", "type", "source", "introduction")
CONTACT_CODES = ("contact", "contact_title", "contact_mobile")
PROFILE_CODES = PROFILE_FIELDS + CONTACT_CODES  # the 11 of R-C8, in the SPEC's order
CORE_MONTHS = 12
REAL_CONTACT_DAYS = 30
CHUNK = 500
DEFAULT_TIMEZONE = "Asia/Shanghai"


# ---- time -----------------------------------------------------------------------------------------

def _settings():
    from server.settings.service import get_settings

    return get_settings()


def org_zone() -> ZoneInfo:
    try:
        return ZoneInfo(_settings().timezone)
    except Exception:  # noqa: BLE001 — outside an app context or before settings exist
        return ZoneInfo(DEFAULT_TIMEZONE)


def org_date(at: datetime) -> date:
    return at.astimezone(org_zone()).date()


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if hasattr(value, "value"):  # enums
        value = value.value
    return isinstance(value, str) and not value.strip()


def _chunks(ids: Iterable[uuid.UUID], size: int = CHUNK):
    items = list(ids)
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---- profile and class (R-C8) ---------------------------------------------------------------------

def profile_missing(customer: Customer, contacts: list[tuple[Any, Any, Any, Any]]) -> list[str]:
    """The R-C8 profile fields the customer lacks, in the SPEC's order. `contacts`: (name, title,
    mobile, key_person) of its live contacts; one contact must have all three."""
    missing = [f for f in PROFILE_FIELDS if _blank(getattr(customer, f))]
    best: list[str] | None = None
    for name, title, mobile, key_person in sorted(contacts, key=lambda c: not c[3]):
        lacking = [code for code, value in (("contact", name), ("contact_title", title),
                                            ("contact_mobile", mobile)) if _blank(value)]
        if best is None or len(lacking) < len(best):
            best = lacking
    missing.extend(list(CONTACT_CODES) if best is None else best)
    return missing


def missing_profile_fields(customer: Customer, session=None) -> list[str]:
    from server.extensions import db

    session = session or db.session
    contacts = session.execute(select(Contact.name, Contact.title, Contact.mobile, Contact.key_person).where(
        Contact.customer_id == customer.id, Contact.voided_at.is_(None))).all()
    return profile_missing(customer, [tuple(c) for c in contacts])


def _activity_model(module: str, name: str):
    try:
        mod = __import__(module, fromlist=[name])
    except ImportError:
        return None
    model = getattr(mod, name, None)
    return model if model is not None and hasattr(model, "customer_id") and hasattr(model, "__table__") else None


def _followup_model():
    return _activity_model("server.followups.models", "FollowUp")


def _visit_model():
    return _activity_model("server.visits.models", "Visit")


def _first_attr(model, names: tuple[str, ...]):
    for name in names:
        column = getattr(model, name, None)
        if column is not None and hasattr(column, "property"):
            return column
    return None


def _real_contacts(session, ids: list[uuid.UUID], since: datetime, until: datetime) -> set[uuid.UUID]:
    """Customers with a valid follow-up or a visit that is not suspect in [since, until]."""
    found: set[uuid.UUID] = set()
    follow_up = _followup_model()
    if follow_up is not None and hasattr(follow_up, "valid"):
        found |= set(session.scalars(select(follow_up.customer_id).where(
            follow_up.customer_id.in_(ids), follow_up.valid.is_(True),
            follow_up.created_at >= since, follow_up.created_at <= until).distinct()))
    ids = [i for i in ids if i not in found]  # the visits decide only the others
    visit = _visit_model()
    if visit is not None and ids:
        when = _first_attr(visit, ("visited_at", "created_at"))
        if when is not None:
            conditions = [visit.customer_id.in_(ids), when >= since, when <= until]
            counted = _first_attr(visit, ("progress_at",))
            if counted is not None:
                # the visit module's own judgement: counted as progress (not suspect unless a
                # manager confirmed it, not marked false, verification no longer pending)
                conditions.append(counted.is_not(None))
            else:
                status = _first_attr(visit, ("verification_status", "status"))
                if status is not None:
                    conditions.append(status != "suspect")
                review = _first_attr(visit, ("review_status",))
                if review is not None:
                    conditions.append(review != "false")
            voided = _first_attr(visit, ("voided_at",))
            if voided is not None:
                conditions.append(voided.is_(None))
            found |= set(session.scalars(select(visit.customer_id).where(*conditions).distinct()))
    return found


def classify(session, customers: list[Customer], now: datetime | None = None) -> dict[uuid.UUID, tuple[CustomerClass, list[str]]]:
    """{customer id: (class, missing profile fields)} for these customers, as of `now`."""
    now = now or utcnow()
    today = org_date(now)
    result: dict[uuid.UUID, tuple[CustomerClass, list[str]]] = {}
    for batch in _chunks([c for c in customers], CHUNK):
        ids = [c.id for c in batch]
        contacts: dict[uuid.UUID, list[tuple]] = {}
        for cid, name, title, mobile, key_person in session.execute(
                select(Contact.customer_id, Contact.name, Contact.title, Contact.mobile, Contact.key_person)
                .where(Contact.customer_id.in_(ids), Contact.voided_at.is_(None))):
            contacts.setdefault(cid, []).append((name, title, mobile, key_person))
        missing = {c.id: profile_missing(c, contacts.get(c.id, [])) for c in batch}
        # Core and high-growth need the profile complete: most customers' is not, and for them
        # the opportunity and activity look-ups would decide nothing (one query each saved on
        # every mutation that touches a customer — this runs before each commit).
        complete = [cid for cid in ids if not missing[cid]]
        closing = set(session.scalars(select(Opportunity.customer_id).where(
            Opportunity.customer_id.in_(complete), Opportunity.voided_at.is_(None),
            Opportunity.stage.in_(OPEN_STAGES), Opportunity.expected_close_date >= today,
            Opportunity.expected_close_date <= add_months(today, CORE_MONTHS)).distinct())) if complete else set()
        undecided = [cid for cid in complete if cid not in closing]
        recent = (_real_contacts(session, undecided, now - timedelta(days=REAL_CONTACT_DAYS), now)
                  if undecided else set())
        for customer in batch:
            if missing[customer.id]:
                klass = CustomerClass.ordinary
            elif customer.id in closing:
                klass = CustomerClass.core
            elif customer.id in recent:
                klass = CustomerClass.high_growth
            else:
                klass = CustomerClass.ordinary
            result[customer.id] = (klass, missing[customer.id])
    return result


# ---- grade (R-C7) ---------------------------------------------------------------------------------

def grade_from(amounts: dict[int, int], year: int, has_deal: bool, rules) -> Grade:
    """The grade of a customer whose signed amounts per year are `amounts`, judged in `year`."""

    def streak(threshold: int, years: int) -> bool:
        years = max(1, int(years))
        return any(all(amounts.get(y, 0) >= int(threshold) for y in range(end - years + 1, end + 1))
                   for end in (year, year - 1))

    if not has_deal:
        return Grade.potential
    if streak(rules["important_amount_fen"], rules["important_years"]):
        return Grade.important
    if streak(rules["stable_amount_fen"], rules["stable_years"]):
        return Grade.stable
    return Grade.general


def yearly_amounts(session, ids: list[uuid.UUID], as_of: date) -> dict[uuid.UUID, dict[int, int]]:
    """{customer: {year: Σ signed amounts}} of deals signed on or before `as_of`."""
    year = func.extract("year", Deal.signed_date)
    out: dict[uuid.UUID, dict[int, int]] = {}
    for cid, y, total in session.execute(
            select(Deal.customer_id, year, func.sum(Deal.amount))
            .where(Deal.customer_id.in_(ids), Deal.status == DealStatus.signed, Deal.signed_date.is_not(None),
                   Deal.signed_date <= as_of)
            .group_by(Deal.customer_id, year)):
        out.setdefault(cid, {})[int(y)] = int(total)
    return out


def grades_of(session, ids: list[uuid.UUID], as_of: date) -> dict[uuid.UUID, Grade]:
    rules = _settings()["grades"]
    out = {}
    for batch in _chunks(ids):
        amounts = yearly_amounts(session, batch, as_of)
        for cid in batch:
            out[cid] = grade_from(amounts.get(cid, {}), as_of.year, cid in amounts, rules)
    return out


def _explicit_confidentiality(session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(session.scalars(select(FieldChange.entity_id).where(
        FieldChange.entity == "customer", FieldChange.entity_id.in_(ids), FieldChange.field == "confidentiality",
        FieldChange.actor_id.is_not(None)).distinct()))


# ---- applying ---------------------------------------------------------------------------------------

def _set_fields(session, customer: Customer, changes: dict[str, Any], action: str) -> dict[str, list]:
    """Set system-decided fields, each kept in the change history (no actor: the system)."""
    diff = {}
    version = None
    mutation = context.client_mutation.get()
    for field, value in changes.items():
        before = getattr(customer, field)
        if before == value:
            continue
        version = version or transaction_version(session)
        session.add(FieldChange(entity="customer", entity_id=customer.id, customer_id=customer.id, field=field,
                                before=jsonable(before), after=jsonable(value), version=version, actor_id=None,
                                client_id=mutation[0] if mutation else None,
                                client_mutation_id=mutation[1] if mutation else None))
        setattr(customer, field, value)
        diff[field] = [jsonable(before), jsonable(value)]
    if diff:
        session.add(AuditEntry(actor_id=None, action=action, entity="customer", entity_id=str(customer.id),
                               changes=diff, channel=context.channel.get(),
                               client_id=mutation[0] if mutation else None,
                               client_mutation_id=mutation[1] if mutation else None))
    return diff


def decide(session, customers: list[Customer], now: datetime | None = None, with_grades: bool = True
           ) -> dict[uuid.UUID, dict[str, Any]]:
    """What grade, class and confidentiality each customer should have now: {id: changes}."""
    now = now or utcnow()
    classes = classify(session, customers, now)
    grades = grades_of(session, [c.id for c in customers], org_date(now)) if with_grades else {}
    becoming = [c.id for c in customers if grades.get(c.id) == Grade.important and c.grade != Grade.important
                and c.confidentiality != Confidentiality.confidential]
    explicit = _explicit_confidentiality(session, becoming)
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for customer in customers:
        changes: dict[str, Any] = {}
        klass = classes[customer.id][0]
        if customer.customer_class != klass:
            changes["customer_class"] = klass
        if with_grades and customer.grade != grades[customer.id]:
            changes["grade"] = grades[customer.id]
            if customer.id in becoming and customer.id not in explicit:
                changes["confidentiality"] = Confidentiality.confidential
        if changes:
            out[customer.id] = changes
    return out


def regrade_customers(ids: list[uuid.UUID], now: datetime | None = None, session=None,
                      with_grades: bool = True) -> dict[uuid.UUID, dict[str, list]]:
    """Recompute and apply grade (unless `with_grades` is False), class and the confidentiality
    default for these customers, in the caller's transaction. {id: {field: [before, after]}}."""
    from server.extensions import db

    session = session or db.session
    rows = list(session.scalars(select(Customer).where(Customer.id.in_(list(ids)), Customer.voided_at.is_(None))))
    if not rows:
        return {}
    wanted = decide(session, rows, now, with_grades)
    applied = {}
    by_id = {c.id: c for c in rows}
    for cid, changes in wanted.items():
        diff = _set_fields(session, by_id[cid], changes, "customer.regrade" if with_grades else "customer.reclass")
        if diff:
            applied[cid] = diff
    session.flush()
    return applied


def regrade_all(as_of: datetime | None = None, commit: bool = True) -> dict[str, Any]:
    """The nightly regrade of every customer (voided ones aside): grades as of the organisation's
    day of `as_of`, classes as of `as_of`. Reads first without locks; the few customers that
    change are then locked (after the sync version, the order of every writer), decided again
    and written, in small transactions, so phones are never held up for long."""
    from server.extensions import db

    now = as_of or utcnow()
    session = db.session
    ids = list(session.scalars(select(Customer.id).where(Customer.voided_at.is_(None)).order_by(Customer.id)))
    changing: list[uuid.UUID] = []
    for batch in _chunks(ids):
        rows = list(session.scalars(select(Customer).where(Customer.id.in_(batch))))
        changing.extend(decide(session, rows, now).keys())
    if commit:
        session.commit()
    changed: dict[str, dict[str, list]] = {}
    for batch in _chunks(changing, 200):
        transaction_version(session)
        rows = list(session.scalars(select(Customer).where(Customer.id.in_(batch)).order_by(Customer.id)
                                    .with_for_update(of=Customer).execution_options(populate_existing=True)))
        for cid, changes in decide(session, rows, now).items():
            customer = next(c for c in rows if c.id == cid)
            diff = _set_fields(session, customer, changes, "customer.regrade")
            if diff:
                changed[str(cid)] = diff
        session.flush()
        if commit:
            session.commit()
    counts = {"grade": {}, "customer_class": {}}
    for grade, klass, n in session.execute(select(Customer.grade, Customer.customer_class, func.count())
                                           .where(Customer.voided_at.is_(None))
                                           .group_by(Customer.grade, Customer.customer_class)):
        counts["grade"][Grade(grade).value] = counts["grade"].get(Grade(grade).value, 0) + n
        klass = CustomerClass(klass).value
        counts["customer_class"][klass] = counts["customer_class"].get(klass, 0) + n
    return {"as_of": now.isoformat(), "as_of_date": org_date(now).isoformat(), "checked": len(ids),
            "changed": changed, "counts": counts}


def regrade_job(as_of: datetime | None = None) -> dict[str, Any]:
    """`fieldcrm customers regrade` and the daily job: idempotent, safe on several hosts."""
    from server.extensions import db

    context.channel.set("job")
    context.write_intent.set(True)
    try:
        return regrade_all(as_of, commit=True)
    except Exception:
        db.session.rollback()
        raise


def daily_regrade() -> None:
    """The daily job's step: never lets a failure stop the other daily jobs."""
    try:
        report = regrade_job()
        log.info("regrade: %d customers checked, %d changed", report["checked"], len(report["changed"]))
    except Exception:  # noqa: BLE001 — logged; tomorrow's run tries again
        log.exception("daily regrade failed")


# ---- the class follows every change (session hooks) -------------------------------------------------

_MARKS = "fieldcrm.pipeline.reclass"
_BUMPS = "fieldcrm.pipeline.resend"


def _activity_models() -> tuple:
    return tuple(m for m in (_followup_model(), _visit_model()) if m is not None)


@event.listens_for(Session, "before_flush")
def _mark_changed_customers(session: Session, flush_context, instances) -> None:
    marks: set = session.info.setdefault(_MARKS, set())
    bumps: set = session.info.setdefault(_BUMPS, set())
    activities = None
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Customer):
            if obj.id is not None and (obj in session.new or any(
                    attributes.get_history(obj, name).has_changes() for name in PROFILE_FIELDS)):
                marks.add(obj.id)
        elif isinstance(obj, Contact):
            if obj.customer_id is not None and (obj in session.new or session.is_modified(obj)):
                marks.add(obj.customer_id)
                bumps.add(obj.customer_id)
        elif isinstance(obj, Opportunity):
            if obj.customer_id is not None:
                marks.add(obj.customer_id)
        else:
            if activities is None:
                activities = _activity_models()
            if activities and isinstance(obj, activities) and getattr(obj, "customer_id", None) is not None:
                marks.add(obj.customer_id)


def _reclassify_on_commit(session: Session) -> None:
    """Before the outermost commit: the class of every customer touched (and a new version for
    those whose contacts changed, so phones get their new `missing_profile_fields`)."""
    if session.in_nested_transaction() or not has_app_context():
        return
    if not (session.new or session.dirty or session.deleted or session.info.get(_MARKS)):
        return
    session.flush()
    marks = session.info.pop(_MARKS, set())
    bumps = session.info.pop(_BUMPS, set())
    if not marks:
        return
    try:
        with session.no_autoflush:
            rows = list(session.scalars(select(Customer).where(Customer.id.in_(list(marks)),
                                                               Customer.voided_at.is_(None))))
            if not rows:
                return
            for cid, changes in decide(session, rows, with_grades=False).items():
                customer = next(c for c in rows if c.id == cid)
                _set_fields(session, customer, changes, "customer.reclass")
            if bumps:
                version = None
                for customer in rows:
                    if customer.id in bumps:
                        version = version or transaction_version(session)
                        if customer.version != version:
                            customer.version = version
        session.flush()
    finally:
        # Marks are for this transaction only (a failed commit rolls everything back).
        session.info.pop(_MARKS, None)
        session.info.pop(_BUMPS, None)


# before the transaction takes its sync version (and before COMMIT): see `before_version`; on
# PostgreSQL the counter row is locked from then to COMMIT, and these queries must not run
# while every other phone's mutation waits for it
before_version(_reclassify_on_commit)


@event.listens_for(Session, "after_soft_rollback")
def _forget_marks(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_MARKS, None)
        session.info.pop(_BUMPS, None)


def parse_as_of(value: str | None) -> datetime | None:
    """`--as-of`: a date means noon of that day in the organisation's time zone; a time without
    an offset is read in the organisation's time zone. ValueError when it is neither."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, 12, tzinfo=org_zone())
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=org_zone())
