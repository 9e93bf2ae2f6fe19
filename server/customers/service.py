"""Customer rules: creation, uniqueness, codes, contacts, presentation with masking.

Used by the HTTP views and by the sync mutation handlers alike; nothing here commits.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from server.common import audit
from server.common.db import allocate_value, transaction_version, utcnow
from server.common.errors import AppError, Conflict, NotFound, ValidationFailed
from server.common.history import apply_changes
from server.customers import access
from server.customers.identity import (normalize_name, normalize_tax_id, pinyin_initials,
                                       tax_id_problem)
from server.customers.models import (Confidentiality, Contact, Customer, CustomerStatus, CustomerType,
                                     Pool)
from server.extensions import db
from server.org.models import BusinessLine, Role, User
from server.settings.service import get_settings, industry

CONTACT_FIELDS = ("name", "title", "department", "mobile", "phone", "email", "wechat", "birthday",
                  "notes", "key_person", "attitude")
CUSTOMER_FIELDS = ("name", "short_name", "tax_id", "type", "industry", "region", "address", "source",
                   "website", "scale", "postcode", "introduction", "door_photo", "parent_id", "status",
                   "confidentiality", "legal_dispute", "notes")


class DuplicateCustomer(AppError):
    status, code = 409, "duplicate_customer"


class InvalidTaxId(AppError):
    status, code = 422, "invalid_tax_id"


class QuotaExceeded(AppError):
    status, code = 409, "quota_exceeded"


class IdConflict(AppError):
    status, code = 409, "id_conflict"


def industry_pool(line: BusinessLine) -> Pool:
    """The pool of a business line (R-P1): SMB customers use the public pool."""
    return Pool.public if line == BusinessLine.SMB else Pool(line.value)


def line_of_industry(code: str) -> BusinessLine:
    entry = industry(code)
    if entry is None:
        raise ValidationFailed("Unknown industry", details={"fields": {"industry": [f"unknown code {code!r}"]}})
    return BusinessLine(entry["business_line"])


def clean_tax_id(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    code = normalize_tax_id(raw)
    problem = tax_id_problem(code)
    if problem:
        raise InvalidTaxId("The unified social credit code is not valid",
                           details={"tax_id": raw, "problem": problem})
    return code


def duplicate_details(existing: Customer) -> dict[str, Any]:
    """Only what R-C2 allows: id, code, name and the owner's name or the pool."""
    return {
        "id": str(existing.id),
        "code": existing.code,
        "name": existing.name,
        "owner_display_name": existing.owner.display_name if existing.owner else None,
        "pool": existing.pool.value if existing.pool else None,
    }


def find_duplicate(name_key: str, tax_id: str | None, exclude_id: uuid.UUID | None = None) -> Customer | None:
    conditions = [Customer.name_key == name_key]
    if tax_id:
        conditions.append(Customer.tax_id == tax_id)
    query = select(Customer).where(or_(*conditions))
    if exclude_id:
        query = query.where(Customer.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def raise_if_duplicate(name_key: str, tax_id: str | None, exclude_id: uuid.UUID | None = None) -> None:
    existing = find_duplicate(name_key, tax_id, exclude_id)
    if existing is not None:
        raise DuplicateCustomer("A customer with this name or tax id already exists",
                                details=duplicate_details(existing))


def org_today_year() -> int:
    return datetime.now(ZoneInfo(get_settings().timezone)).year


def assign_code(customer: Customer) -> None:
    """R-C3: C + year + 6-digit sequence, from a per-year counter (see `allocate_value`: on
    PostgreSQL a rejected creation leaves a gap rather than holding up every other one)."""
    year = org_today_year()
    customer.code = f"C{year}{allocate_value(db.session, f'customer_code:{year}'):06d}"


def owned_count(user: User, line: BusinessLine) -> int:
    """Customers counting toward the quota of a line: owned, not voided, not subsidiaries."""
    return db.session.scalar(select(func.count()).select_from(Customer).where(
        Customer.owner_id == user.id, Customer.business_line == line,
        Customer.voided_at.is_(None), Customer.parent_id.is_(None))) or 0


def check_quota(user: User, line: BusinessLine, adding: int = 1) -> None:
    """R-P3. The caller holds the write lock (SQLite immediate transaction) or the user's row
    lock (PostgreSQL, `lock_user`) so that racing claims count one after the other."""
    limit = get_settings().quotas.get(line.value)
    if limit is None:
        return
    count = owned_count(user, line)
    if count + adding > limit:
        raise QuotaExceeded("This would exceed the customer quota of the business line",
                            details={"count": count, "limit": limit, "business_line": line.value,
                                     "fits": max(0, limit - count)})


def lock_user(user: User) -> None:
    """Serialize quota decisions for one user on PostgreSQL (a no-op cost on SQLite)."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _entity_id(given: uuid.UUID | None, model) -> uuid.UUID:
    if given is None:
        return uuid.uuid4()
    if db.session.get(model, given) is not None:
        raise IdConflict("This id is already used by another record", details={"id": str(given)})
    return given


def create_customer(args: dict, actor: User) -> Customer:
    """R-C1–R-C5, R-O1, R-P3: validate, check uniqueness and quota, assign the code, own it."""
    if actor.role == Role.ops:
        raise access.NotAuthorized("Business-support reviewers do not create customers")
    name = args["name"].strip()
    name_key = normalize_name(name)
    if len(name_key) < 2:
        raise ValidationFailed("The name is too short", details={"fields": {"name": ["at least 2 characters"]}})
    tax_id = clean_tax_id(args.get("tax_id"))
    line = line_of_industry(args["industry"])
    parent_id = args.get("parent_id")
    pending_parent = None
    if parent_id is not None:
        parent = access.get_visible_customer(actor, parent_id)
        if parent.business_line != line:
            # R-C9: a parent in another line needs an ops approval. The customer is created
            # without its parent now; approving the `subsidiary_line` approval attaches it.
            pending_parent, parent_id, args = parent, None, {**args, "parent_id": None}
    raise_if_duplicate(name_key, tax_id)
    customer_id = _entity_id(args.get("id"), Customer)
    lock_user(actor)
    if parent_id is None:
        check_quota(actor, line)
    location = args.get("location") or {}
    now = utcnow()
    customer = Customer(
        id=customer_id, name=name, name_key=name_key, name_initials=pinyin_initials(name), tax_id=tax_id,
        type=CustomerType(args["type"]), industry=args["industry"], business_line=line,
        region=args["region"].strip(), address=args["address"].strip(),
        lat=location.get("lat"), lng=location.get("lng"),
        status=CustomerStatus(args.get("status") or "potential"),
        confidentiality=Confidentiality(args.get("confidentiality") or "normal"),
        owner_id=actor.id, pool=None, origin_pool=industry_pool(line), created_by_id=actor.id,
        created_at=now, assigned_at=now, last_progress_at=now,
        **{k: args.get(k) for k in ("short_name", "source", "website", "scale", "postcode", "introduction",
                                    "door_photo", "parent_id", "notes")},
        legal_dispute=bool(args.get("legal_dispute", False)),
    )
    assign_code(customer)
    _flush_unique(name_key, tax_id, add=customer)
    audit.record("customer.create", "customer", customer.id,
                 audit.diff({}, customer_snapshot(customer)), actor_id=actor.id)
    for contact_args in args.get("contacts") or []:
        create_contact(customer, contact_args, actor)
    if pending_parent is not None:
        customer.pending_approval = request_subsidiary_line(customer, pending_parent, actor)
    return customer


def _flush_unique(name_key: str, tax_id: str | None, exclude_id: uuid.UUID | None = None,
                  add: Customer | None = None) -> None:
    """Flush; a concurrent insert of the same name or tax id becomes `duplicate_customer`.

    `add` is added inside the savepoint: `begin_nested()` flushes whatever is already pending
    before it starts, outside the savepoint's protection."""
    try:
        with db.session.begin_nested():
            if add is not None:
                db.session.add(add)
            db.session.flush()
    except IntegrityError:
        raise_if_duplicate(name_key, tax_id, exclude_id)
        raise


def customer_snapshot(customer: Customer) -> dict[str, Any]:
    data = {k: getattr(customer, k) for k in CUSTOMER_FIELDS}
    data.update(code=customer.code, owner_id=customer.owner_id, pool=customer.pool,
                lat=customer.lat, lng=customer.lng, business_line=customer.business_line)
    return data


def create_contact(customer: Customer, args: dict, actor: User) -> Contact:
    access.require_write(actor, customer)
    contact = Contact(id=_entity_id(args.get("id"), Contact), customer_id=customer.id,
                      created_by_id=actor.id,
                      **{k: args[k] for k in CONTACT_FIELDS if k in args})
    contact.key_person = bool(args.get("key_person", False))
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.create", "contact", contact.id,
                 audit.diff({}, {k: getattr(contact, k) for k in CONTACT_FIELDS} | {"customer_id": customer.id}),
                 actor_id=actor.id)
    return contact


def get_contact(actor: User, contact_id: uuid.UUID) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.voided_at is not None or not access.can_see(actor, contact.customer_id):
        raise NotFound("Contact not found", details={"contact_id": str(contact_id)})
    return contact


# ---- presentation ------------------------------------------------------------------------------

def mask_phone(number: str | None) -> str | None:
    """138****5678: keep the first 3 and last 4 digits (R-C10)."""
    if not number:
        return number
    digits = [c for c in number if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(digits)
    return "".join(digits[:3]) + "****" + "".join(digits[-4:])


def present_contact(contact: Contact, unmasked: bool) -> dict[str, Any]:
    data = {k: getattr(contact, k) for k in ContactPresentFields}
    data["masked"] = not unmasked
    if not unmasked:
        data["mobile"] = mask_phone(contact.mobile)
        data["phone"] = mask_phone(contact.phone)
    return data


ContactPresentFields = ("id", "customer_id", *CONTACT_FIELDS, "created_by_id", "created_at", "updated_at",
                        "version")


def present_customer(customer: Customer, viewer: User, with_contacts: bool = False) -> dict[str, Any]:
    data = {c: getattr(customer, c) for c in (
        "id", "code", "name", "short_name", "tax_id", "type", "industry", "business_line", "region", "address",
        "source", "website", "scale", "postcode", "introduction", "door_photo", "parent_id", "status", "grade",
        "customer_class", "confidentiality", "legal_dispute", "notes", "pool", "created_at", "updated_at",
        "assigned_at", "last_progress_at", "visit_count", "last_visit_at", "deal_total", "payment_total",
        "receivables", "voided_at", "version")}
    for key in ("type", "business_line", "status", "grade", "customer_class", "confidentiality", "pool"):
        if data[key] is not None:
            data[key] = data[key].value
    data["location"] = ({"lat": customer.lat, "lng": customer.lng}
                        if customer.lat is not None and customer.lng is not None else None)
    data["owner"] = ({"id": customer.owner.id, "display_name": customer.owner.display_name}
                     if customer.owner else None)
    if with_contacts:
        unmasked = access.sees_unmasked(viewer, customer)
        data["contacts"] = [present_contact(c, unmasked) for c in customer.contacts if c.voided_at is None]
    return data


# ---- search -------------------------------------------------------------------------------------

def search_visible(viewer: User, q: str | None, scope: str, limit: int,
                   after: tuple[str, str] | None) -> tuple[list[Customer], tuple[str, str] | None]:
    """The customers the viewer may see, newest first, filtered by list (R-O3) and text."""
    from server.customers.models import CoFollower, Share

    query = select(Customer).where(access.visible_customers(viewer))
    if scope == "owned":
        query = query.where(Customer.owner_id == viewer.id)
    elif scope == "co_followed":
        query = query.where(Customer.id.in_(select(CoFollower.customer_id).where(CoFollower.user_id == viewer.id)))
    elif scope == "shared_with_me":
        query = query.where(Customer.owner_id != viewer.id,
                            Customer.id.in_(select(Share.customer_id).where(Share.user_id == viewer.id)))
    elif scope == "shared_by_me":
        query = query.where(Customer.owner_id == viewer.id, Customer.id.in_(select(Share.customer_id)))
    if q:
        key = normalize_name(q)
        query = query.where(or_(Customer.name_key.contains(key, autoescape=True),
                                Customer.name_initials.startswith(key.lower(), autoescape=True),
                                Customer.code == q.strip().upper()))
    if after:
        query = query.where((Customer.created_at < datetime.fromisoformat(after[0])) | (
            (Customer.created_at == datetime.fromisoformat(after[0])) & (Customer.id < uuid.UUID(after[1]))))
    rows = list(db.session.scalars(query.order_by(Customer.created_at.desc(), Customer.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = (rows[-1].created_at.isoformat(), str(rows[-1].id)) if more and rows else None
    return rows, cursor


# R-C2 fuzzy look-up. A company name is region + trade name (字号) + industry word + legal form;
# the region and the legal form are shared by thousands of names, so fuzzy scores compare the
# rest (the "core"). Chinese typos are mostly wrong characters of the same or a similar
# reading (空掉 for 空调, 春艺 for 春意), so the cores are also compared as toneless pinyin.
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司", "集团",
                "公司", "分公司", "合伙企业(有限合伙)", "合伙企业", "工作室", "事务所", "经营部", "商行")
_REGION_WORDS = ("上海市", "上海", "北京市", "北京", "天津市", "天津", "重庆市", "重庆", "中国", "浙江", "江苏",
                 "浦东新区", "浦东", "苏州", "杭州", "嘉兴", "昆山", "无锡", "宁波", "南通", "太仓", "松江",
                 "嘉定", "闵行", "南京", "深圳", "广州")
FUZZY_MIN_CORE = 3  # characters of the typed core before fuzzy matching starts
FUZZY_CHAR_SCORE = 80  # rapidfuzz ratio of the cores (characters)
FUZZY_PINYIN_SCORE = 85  # ratio of the cores' toneless pinyin
FUZZY_PARTIAL_SCORE = 90  # pinyin ratio of a typed part against the same length of a name
_FUZZY_CACHE: dict[str, tuple[str, str]] = {}  # name key -> (core, pinyin of the core); pure
_FUZZY_CACHE_MAX = 500_000
_CORE_PATTERNS: list[Any] = []


def _core_patterns() -> list[Any]:
    import re

    if not _CORE_PATTERNS:
        def alternatives(words):
            return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        _CORE_PATTERNS.extend([
            re.compile(r"\([^)]*\)?"),
            re.compile(rf"^(?:{alternatives(_REGION_WORDS)})(?=..)"),  # keep at least 2 characters
            re.compile(rf"(?<=..)(?:{alternatives(_LEGAL_FORMS)})$"),
        ])
    return _CORE_PATTERNS


def _name_core(key: str, typed: bool = False) -> str:
    """The distinctive part of a normalized name: without bracketed places, the region in
    front and the legal form at the end. A typed query also loses a half-typed legal form."""
    brackets, region, legal_form = _core_patterns()
    core = region.sub("", brackets.sub("", key), count=1)
    stripped = legal_form.sub("", core, count=1)
    if typed and stripped == core:
        for form in _LEGAL_FORMS:
            for cut in range(len(form) - 1, 1, -1):
                if core.endswith(form[:cut]) and len(core) - cut >= 2:
                    return core[:-cut]
    return stripped


def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return ch if ch.isascii() else "".join(lazy_pinyin(ch, errors="ignore"))


def _fuzzy_form(key: str, typed: bool = False) -> tuple[str, tuple[str, ...]]:
    """(core, toneless pinyin of each character of the core) of a name key, cached."""
    if typed:
        core = _name_core(key, typed=True)
        return core, tuple(_char_pinyin(ch) for ch in core)
    cached = _FUZZY_CACHE.get(key)
    if cached is None:
        core = _name_core(key)
        cached = (core, tuple(_char_pinyin(ch) for ch in core))
        if len(_FUZZY_CACHE) >= _FUZZY_CACHE_MAX:
            _FUZZY_CACHE.clear()
        _FUZZY_CACHE[key] = cached
    return cached


@dataclass
class _FuzzyIndex:
    keys: list[str]
    cores: list[str]
    syllables: list[tuple[str, ...]]
    pinyins: list[str]
    by_length: dict[int, list[int]]  # core length -> indexes
    _prefixes: dict[int, list[str]] = field(default_factory=dict)

    def prefixes(self, length: int) -> list[str]:
        """Pinyin of the first `length` characters of cores longer than that ("" otherwise)."""
        if length not in self._prefixes:
            self._prefixes[length] = ["".join(s[:length]) if len(s) > length else "" for s in self.syllables]
        return self._prefixes[length]


_FUZZY_INDEX: dict[str, tuple[Any, _FuzzyIndex]] = {}


def _fuzzy_index() -> _FuzzyIndex:
    """Every name key with its core and the core's pinyin, kept per process while the
    customers' last version and last creation time (two index look-ups) stay the same: every
    new customer and every name change takes a new version. So a look-up does not re-read
    20,000 names on each key press. A stale index would only cost a fuzzy suggestion: name and
    initials matches are read live, and uniqueness is checked on save."""
    token = tuple(db.session.execute(select(  # separately, so that each is one index look-up
        select(func.max(Customer.version)).scalar_subquery(),
        select(func.max(Customer.created_at)).scalar_subquery())).one())
    url = str(db.engine.url)
    cached = _FUZZY_INDEX.get(url)
    if cached is not None and cached[0] == token:
        return cached[1]
    keys = list(db.session.connection().execute(select(Customer.name_key)).scalars())
    forms = [_fuzzy_form(k) for k in keys]
    by_length: dict[int, list[int]] = {}
    for i, (core, _syllables) in enumerate(forms):
        by_length.setdefault(len(core), []).append(i)
    index = _FuzzyIndex(keys, [c for c, _ in forms], [s for _, s in forms], ["".join(s) for _, s in forms],
                        by_length)
    _FUZZY_INDEX[url] = (token, index)
    return index


def _fuzzy_ids(key: str, exclude: set[uuid.UUID], limit: int) -> list[uuid.UUID]:
    """Customers whose names look like the typed one, best first, by rapidfuzz over every
    name (voided ones too): the cores by characters and by pinyin, and, for a core typed only
    in part or with more words, its start against the same number of characters."""
    from rapidfuzz import fuzz, process

    q_core, q_syllables = _fuzzy_form(key, typed=True)
    if len(q_core) < FUZZY_MIN_CORE:
        return []
    index = _fuzzy_index()
    if not index.keys:
        return []
    want = limit + len(exclude)
    scores: dict[int, float] = {}

    def take(query: str, choices: list[str], cutoff: float, penalty: float = 0,
             positions: list[int] | None = None) -> None:
        for _choice, score, i in process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=cutoff,
                                                 limit=want * 2):
            i = positions[i] if positions is not None else i
            scores[i] = max(scores.get(i, 0), score - penalty)

    take(q_core, index.cores, FUZZY_CHAR_SCORE)
    take("".join(q_syllables), index.pinyins, FUZZY_PINYIN_SCORE)
    if len(q_core) >= 4:
        # typed the start of a longer name: 春意空掉 ~ 春意空调设备
        take("".join(q_syllables), index.prefixes(len(q_core)), FUZZY_PARTIAL_SCORE, penalty=8)
        # typed more than a shorter name: 春意空掉设备 ~ 春意空调
        for length in range(4, len(q_core)):
            group = index.by_length.get(length)
            if group:
                take("".join(q_syllables[:length]), [index.pinyins[i] for i in group], FUZZY_PARTIAL_SCORE,
                     penalty=8, positions=group)
    best = sorted(scores, key=lambda i: (-scores[i], abs(len(index.cores[i]) - len(q_core)), index.keys[i]))
    best = best[:want]
    if not best:
        return []
    ids = dict(db.session.execute(select(Customer.name_key, Customer.id)
                                  .where(Customer.name_key.in_([index.keys[i] for i in best]))).all())
    return [ids[index.keys[i]] for i in best if index.keys[i] in ids and ids[index.keys[i]] not in exclude][:limit]


def duplicate_matches(viewer: User, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """R-C2 look-up over every customer (voided ones too, marked `voided`), from two characters:
    names containing the typed text (`match: name`), pinyin initials containing it (`initials`,
    "shcykt" finds 上海春意空调有限公司) and similar names (`fuzzy`). Each shows only id, code,
    name, owner's display name or pool, whether the viewer may see it, and the match kind:
    enough for "already protected" without revealing anything else. Voided customers carry
    `voided: true`."""
    key = normalize_name(q or "")
    if len(key) < 2:
        return []
    found: dict[uuid.UUID, str] = {}
    for cid in db.session.scalars(
            select(Customer.id).where(Customer.name_key.contains(key, autoescape=True))
            .order_by(func.length(Customer.name_key), Customer.name_key).limit(limit)):
        found.setdefault(cid, "name")
    initials = key.lower()
    if len(found) < limit and initials.isascii() and initials.isalnum():
        for cid in db.session.scalars(
                select(Customer.id).where(Customer.name_initials.contains(initials, autoescape=True))
                .order_by(Customer.name_initials.startswith(initials, autoescape=True).desc(),
                          func.length(Customer.name_initials), Customer.name_key).limit(limit)):
            found.setdefault(cid, "initials")
    if len(found) < limit:
        for cid in _fuzzy_ids(key, set(found), limit - len(found)):
            found.setdefault(cid, "fuzzy")
    if not found:
        return []
    rows = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(list(found))))}
    visible = set(db.session.scalars(
        select(Customer.id).where(Customer.id.in_(list(found)), access.visible_customers(viewer))))
    matches = []
    for cid, kind in found.items():
        if cid in rows:
            match = {**duplicate_details(rows[cid]), "id": cid, "visible": cid in visible, "match": kind}
            if rows[cid].voided_at is not None:
                match["voided"] = True  # only on voided ones: live matches keep the R-C2 keys
            matches.append(match)
    return matches


# ---- co-followers and transfers ----------------------------------------------------------------

def remove_cofollower(customer: Customer, row, actor: User) -> None:
    """R-O2: the co-follower loses access; what they created stays under the customer."""
    db.session.delete(row)
    customer.updated_at = utcnow()
    audit.record("cofollower.remove", "customer", customer.id,
                 {"co_follower": [{"user_id": row.user_id, "permission": row.permission}, None]},
                 actor_id=actor.id)


@dataclass
class TransferOutcome:
    """What `transfer_customers` did: customers moved now, approvals opened for the rest."""

    transferred: list[Customer] = field(default_factory=list)
    approvals: list[Any] = field(default_factory=list)  # server.approvals.models.Approval

    def notice(self) -> dict[str, Any] | None:
        """The sync `approval_required` notice when some customers wait for a department head."""
        if not self.approvals:
            return None
        ids = [str(a.id) for a in self.approvals]
        return {"code": "approval_required",
                "message": "Customers with receivables outstanding or a legal dispute wait for the "
                           "department head's approval",
                "details": {"approval_id": ids[0], "approval_ids": ids,
                            "customer_ids": [str(a.customer_id) for a in self.approvals],
                            "transferred": len(self.transferred)}}


def line_allows(user: User, customer: Customer) -> bool:
    """A user's line may follow the customer: its industry's line, or a line that industry is
    also followed by (internet finance: KA and INTERNET, R-C5)."""
    if user.business_line == customer.business_line:
        return True
    entry = industry(customer.industry) or {}
    return user.business_line.value in (entry.get("also_lines") or [])


def manages_both(actor: User, owner: User | None, receiver: User) -> bool:
    """An admin, or a manager whose department is an ancestor (or self) of both departments."""
    if actor.role == Role.admin:
        return True
    return (actor.role == Role.manager and owner is not None
            and owner.department.path.startswith(actor.department.path)
            and receiver.department.path.startswith(actor.department.path))


def needs_transfer_approval(customer: Customer) -> bool:
    """R-T1: receivables outstanding or a legal dispute need the department head."""
    return customer.receivables > 0 or bool(customer.legal_dispute)


def transfer_customers(customers: list[Customer], receiver: User, reason: str, actor: User, *,
                       approved: bool = False, approval_id: uuid.UUID | None = None) -> TransferOutcome:
    """R-T1: hand one or many customers to another rep or manager, with a reason.

    Checks, for every customer, before anything moves (all or nothing):
    - the actor is the owner, a manager above the owner, or an admin;
    - the receiver is an active rep or manager;
    - the receiver's line may follow the customer, else only a manager of both departments'
      lines (an ancestor of both) or an admin may transfer (`cross_line_forbidden`);
    - the receiver stays within quota for every line (`quota_exceeded`, details say how many fit).
    A customer with receivables outstanding or a legal dispute needs the department head's
    approval: unless the actor is that head (a manager above the owner, or an admin) or the
    call comes from an approved approval (`approved`), it becomes a pending `transfer` approval
    and moves when approved (every rule checked again then). Accounts move with the customer
    (OWNER_CHANGE_HOOKS); co-followers, shares and history stay; the receiver's own co-follow
    row becomes ownership. The receiver and the former owners are notified.
    """
    from server.customers.models import CoFollower
    from server.pools.service import CrossLineForbidden

    if not actor.active:
        raise access.NotAuthorized("Inactive users cannot transfer customers")
    if receiver.role not in (Role.rep, Role.manager):
        raise ValidationFailed("Customers can only be transferred to reps or managers",
                               details={"fields": {"to_user_id": ["not a rep or manager"]}})
    if not receiver.active:
        raise ValidationFailed("That user is not an active user", code="user_inactive",
                               details={"user_id": str(receiver.id)})
    for customer in customers:
        if customer.voided_at is not None:
            raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
        if customer.owner_id is None:
            raise ValidationFailed("A pool customer is claimed, not transferred", code="not_owned",
                                   details={"customer_id": str(customer.id)})
        if not (customer.owner_id == actor.id or access.manages(actor, customer.owner)):
            if not access.can_see(actor, customer.id):
                raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
            raise access.NotAuthorized("Only the owner or their manager may transfer this customer",
                                       details={"customer_id": str(customer.id)})
        if customer.owner_id != receiver.id and not line_allows(receiver, customer) \
                and not manages_both(actor, customer.owner, receiver):
            raise CrossLineForbidden(
                "The receiver is in another business line; only a manager of both lines or an admin "
                "may transfer across lines",
                details={"customer_id": str(customer.id), "customer_line": customer.business_line.value,
                         "receiver_line": receiver.business_line.value})
    moving = [c for c in customers if c.owner_id != receiver.id]
    lock_user(receiver)
    by_line: dict[BusinessLine, int] = {}
    for customer in moving:
        if customer.parent_id is None:
            by_line[customer.business_line] = by_line.get(customer.business_line, 0) + 1
    for line, adding in sorted(by_line.items(), key=lambda item: item[0].value):
        check_quota(receiver, line, adding)

    outcome = TransferOutcome()
    direct: list[Customer] = []
    for customer in moving:
        head = actor.role == Role.admin or (actor.role == Role.manager and access.manages(actor, customer.owner))
        if needs_transfer_approval(customer) and not approved and not head:
            outcome.approvals.append(_request_transfer_approval(customer, receiver, reason, actor))
        else:
            direct.append(customer)

    now = utcnow()
    former_owners: dict[uuid.UUID, list[Customer]] = {}
    for customer in direct:
        before = customer.owner_id
        customer.owner_id, customer.assigned_at, customer.last_progress_at = receiver.id, now, now
        customer.owner = receiver
        stale = db.session.scalar(select(CoFollower).where(CoFollower.customer_id == customer.id,
                                                           CoFollower.user_id == receiver.id))
        if stale is not None:
            db.session.delete(stale)
        changes: dict[str, Any] = {"owner_id": [before, receiver.id], "reason": [None, reason]}
        if approval_id is not None:
            changes["approval_id"] = [None, approval_id]
        audit.record("customer.transfer", "customer", customer.id, changes, actor_id=actor.id)
        owner_changed(customer, before, receiver.id)
        former_owners.setdefault(before, []).append(customer)
        outcome.transferred.append(customer)
    db.session.flush()
    if direct and receiver.id != actor.id:
        _notify_transfer(receiver, "customers_transferred_in", direct, actor, reason)
    if direct:
        for former, moved in former_owners.items():
            if former != actor.id:  # an owner who transferred their own customers knows
                _notify_transfer_out(former, moved, receiver, actor, reason)
    return outcome


def _transfer_summary(customers: list[Customer]) -> list[dict[str, Any]]:
    return [{"id": str(c.id), "code": c.code, "name": c.name} for c in customers[:50]]


def _notify_transfer(receiver: User, kind: str, customers: list[Customer], actor: User, reason: str) -> None:
    from server.notifications.service import notify

    notify(receiver.id, kind, {"count": len(customers), "customers": _transfer_summary(customers),
                               "by": actor.display_name, "reason": reason},
           customer_id=customers[0].id if len(customers) == 1 else None)


def _notify_transfer_out(former_id: uuid.UUID, customers: list[Customer], receiver: User, actor: User,
                         reason: str) -> None:
    from server.notifications.service import notify

    notify(former_id, "customers_transferred_out",
           {"count": len(customers), "customers": _transfer_summary(customers), "to": receiver.display_name,
            "by": actor.display_name, "reason": reason},
           customer_id=customers[0].id if len(customers) == 1 else None)


def _request_transfer_approval(customer: Customer, receiver: User, reason: str, actor: User):
    from server.approvals.service import pending_for, request_approval

    if pending_for(customer.id, "transfer") is not None:
        raise Conflict("A transfer of this customer is already waiting for approval", code="approval_pending",
                       details={"customer_id": str(customer.id)})
    return request_approval("transfer", actor, customer, {
        "customer_id": customer.id, "code": customer.code, "name": customer.name,
        "from_owner_id": customer.owner_id, "to_user_id": receiver.id, "to_display_name": receiver.display_name,
        "reason": reason, "receivables": customer.receivables, "legal_dispute": bool(customer.legal_dispute)})


# ---- owner changes, change requests, void and restore, history (R-T1, R-T2, R-C9, R-C11) -------

# Called on every owner change (transfer, claim, return to a pool, hand-over): hook(customer,
# old_owner_id, new_owner_id). Accounts move with their customer through one of these (R-C12).
OWNER_CHANGE_HOOKS: list[Callable[[Customer, uuid.UUID | None, uuid.UUID | None], None]] = []


def owner_changed(customer: Customer, old_owner_id: uuid.UUID | None, new_owner_id: uuid.UUID | None) -> None:
    if old_owner_id == new_owner_id:
        return
    for hook in list(OWNER_CHANGE_HOOKS):
        hook(customer, old_owner_id, new_owner_id)


def lock_customer(customer_id: uuid.UUID) -> Customer:
    """The customer row, locked for this transaction (PostgreSQL; SQLite holds the write lock).

    Lock order of every writer: the sync version (the global counter's row) before customer
    rows, as in pools (a customer locked first deadlocks with a concurrent write under it)."""
    transaction_version(db.session)
    customer = db.session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update(of=Customer)
                                 .execution_options(populate_existing=True))  # as committed, not as cached
    if customer is None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


class ParentLineMismatch(ValidationFailed):
    code = "parent_line_mismatch"


CHANGE_REQUEST_FIELDS = ("name", "tax_id", "industry", "parent_id")


def _check_parent(customer: Customer, parent_id: uuid.UUID) -> Customer:
    """The new parent exists, is not voided, and is not the customer or one of its subsidiaries."""
    parent = db.session.get(Customer, parent_id)
    if parent is None or parent.voided_at is not None:
        raise NotFound("Parent customer not found", details={"parent_id": str(parent_id)})
    seen: set[uuid.UUID] = set()
    cursor: Customer | None = parent
    while cursor is not None and cursor.id not in seen:
        if cursor.id == customer.id:
            raise ValidationFailed("A customer cannot be its own parent or its subsidiary's subsidiary",
                                   code="parent_cycle", details={"parent_id": str(parent_id)})
        seen.add(cursor.id)
        cursor = db.session.get(Customer, cursor.parent_id) if cursor.parent_id else None
    return parent


def _change_targets(customer: Customer, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate a change request against today's data; the fields that really change, cleaned.

    Re-run when the approval is decided, so uniqueness (R-C1), the tax-id check and the parent
    rules are judged on the data of that moment."""
    unknown = sorted(set(changes) - set(CHANGE_REQUEST_FIELDS))
    if unknown:
        raise ValidationFailed("Only name, tax id, industry and parent change through a change request",
                               details={"fields": {f: ["not changed through a change request"] for f in unknown}})
    targets: dict[str, Any] = {}
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if len(normalize_name(name)) < 2:
            raise ValidationFailed("The name is too short", details={"fields": {"name": ["at least 2 characters"]}})
        if name != customer.name:
            targets["name"] = name
    if "tax_id" in changes:
        tax_id = clean_tax_id(changes["tax_id"])
        if tax_id != customer.tax_id:
            targets["tax_id"] = tax_id
    if "industry" in changes:
        line_of_industry(changes["industry"])
        if changes["industry"] != customer.industry:
            targets["industry"] = changes["industry"]
    if "parent_id" in changes:
        parent_id = uuid.UUID(str(changes["parent_id"])) if changes["parent_id"] else None
        if parent_id is not None:
            _check_parent(customer, parent_id)
        if parent_id != customer.parent_id:
            targets["parent_id"] = parent_id
    if "name" in targets or "tax_id" in targets:
        name_key = normalize_name(targets.get("name", customer.name))
        raise_if_duplicate(name_key, targets.get("tax_id") if "tax_id" in targets else None,
                           exclude_id=customer.id)
    return targets


def _line_mismatch(customer: Customer, targets: dict[str, Any]) -> dict[str, Any] | None:
    """R-C9 after the change: the parent and the subsidiaries must be in the customer's line."""
    line = line_of_industry(targets.get("industry", customer.industry))
    parent_id = targets["parent_id"] if "parent_id" in targets else customer.parent_id
    if parent_id is not None:
        parent = db.session.get(Customer, parent_id)
        if parent is not None and parent.business_line != line:
            return {"line": line.value, "parent_line": parent.business_line.value, "parent_id": str(parent_id)}
    if line != customer.business_line:
        other = db.session.scalar(select(Customer).where(Customer.parent_id == customer.id,
                                                         Customer.business_line != line).limit(1))
        if other is not None:
            return {"line": line.value, "subsidiary_line": other.business_line.value,
                    "subsidiary_id": str(other.id)}
    return None


def request_change(customer: Customer, changes: dict[str, Any], reason: str, actor: User,
                   approval_id: uuid.UUID | None = None):
    """R-T2: the owner or a write co-follower asks to change name, tax id, industry or parent.

    Name and tax id need a manager above the owner; industry and parent need that manager and
    then business support (ops). A resulting line mismatch with the parent or the subsidiaries
    (R-C9) is named in the request, so the ops stage approves it knowingly."""
    from server.approvals.service import request_approval

    access.require_write(actor, customer)
    targets = _change_targets(customer, changes)
    if not targets:
        raise ValidationFailed("Nothing would change", code="nothing_to_change",
                               details={"fields": {f: ["same as now"] for f in changes}})
    if "parent_id" in targets and targets["parent_id"] is not None:
        access.get_visible_customer(actor, targets["parent_id"])  # name only parents you can see
    mismatch = _line_mismatch(customer, targets)
    before = {f: getattr(customer, f) for f in targets}
    return request_approval("change_request", actor, customer, {
        "customer_id": customer.id, "code": customer.code, "name": customer.name,
        "changes": targets, "before": before, "reason": reason, "line_mismatch": mismatch},
        approval_id=approval_id)


def change_request_stages(fields: list[str]) -> list[str]:
    return ["manager", "ops"] if {"industry", "parent_id"} & set(fields) else ["manager"]


def apply_change_request(approval, decider: User) -> dict[str, Any]:
    """The approved change, all at once, every rule checked again: uniqueness, tax id, parent
    (exists, no cycle, same line unless the mismatch was approved), the owner's quota when the
    customer starts counting in a line. Before/after go to the change history."""
    customer = lock_customer(approval.customer_id)
    if customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
    targets = _change_targets(customer, approval.payload["changes"])
    if not targets:
        return {"changed": []}
    mismatch = _line_mismatch(customer, targets)
    if mismatch is not None and not approval.payload.get("line_mismatch"):
        raise ParentLineMismatch("A subsidiary must be in its parent's business line", details=mismatch)
    old_line = customer.business_line
    new_line = line_of_industry(targets.get("industry", customer.industry))
    counted_before = customer.parent_id is None
    counts_after = (targets["parent_id"] if "parent_id" in targets else customer.parent_id) is None
    if customer.owner is not None and counts_after and (not counted_before or new_line != old_line):
        lock_user(customer.owner)
        check_quota(customer.owner, new_line)
    fields = dict(targets)
    if new_line != old_line:
        fields["business_line"] = new_line
        if customer.origin_pool == industry_pool(old_line):
            customer.origin_pool = industry_pool(new_line)
    before = customer_snapshot(customer)
    apply_changes(customer, "customer", fields, None, approval.requester_id, customer.id)
    if "name" in targets:
        customer.name_key = normalize_name(customer.name)
        customer.name_initials = pinyin_initials(customer.name)
    customer.updated_at = utcnow()
    _flush_unique(customer.name_key, customer.tax_id, exclude_id=customer.id)
    audit.record("customer.change_request", "customer", customer.id,
                 {**audit.diff(before, customer_snapshot(customer)), "approval_id": [None, approval.id],
                  "approved_by": [None, decider.id]}, actor_id=approval.requester_id)
    return {"changed": sorted(fields)}


def request_subsidiary_line(customer: Customer, parent: Customer, actor: User):
    """R-C9 at creation: a parent in another line waits for business support's approval."""
    from server.approvals.service import request_approval

    return request_approval("subsidiary_line", actor, customer, {
        "customer_id": customer.id, "code": customer.code, "name": customer.name,
        "parent_id": parent.id, "parent_code": parent.code, "parent_name": parent.name,
        "parent_line": parent.business_line.value, "line": customer.business_line.value})


def apply_subsidiary_line(approval, decider: User) -> dict[str, Any]:
    customer = lock_customer(approval.customer_id)
    if customer.voided_at is not None:
        raise NotFound("Customer not found", details={"customer_id": str(customer.id)})
    parent = _check_parent(customer, uuid.UUID(str(approval.payload["parent_id"])))
    if customer.parent_id == parent.id:
        return {"parent_id": str(parent.id)}
    apply_changes(customer, "customer", {"parent_id": parent.id}, None, approval.requester_id, customer.id)
    customer.updated_at = utcnow()
    db.session.flush()
    audit.record("customer.subsidiary_line", "customer", customer.id,
                 {"parent_id": [None, parent.id], "approval_id": [None, approval.id],
                  "approved_by": [None, decider.id]}, actor_id=approval.requester_id)
    return {"parent_id": str(parent.id)}


def approval_notice(approval, message: str) -> dict[str, Any]:
    """The sync result's `approval_required` notice (status stays `applied`, SPEC §12)."""
    return {"code": "approval_required", "message": message,
            "details": {"approval_id": str(approval.id), "kind": approval.kind}}


def may_void(actor: User, customer: Customer) -> bool:
    """R-C11: a manager above the owner, or an admin (the only one for pool customers)."""
    if not actor.active:
        return False
    if actor.role == Role.admin:
        return True
    return customer.owner is not None and actor.role == Role.manager and access.manages(actor, customer.owner)


def _voidable(actor: User, customer_id: uuid.UUID) -> Customer:
    customer = lock_customer(customer_id)
    if not may_void(actor, customer):
        if actor.role != Role.admin and not access.can_see(actor, customer.id, include_voided=True):
            raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
        raise access.NotAuthorized("Only a manager above the owner or an admin may void or restore customers",
                                   details={"customer_id": str(customer_id)})
    return customer


def void_customer(customer_id: uuid.UUID, actor: User, reason: str) -> Customer:
    """R-C11: the customer disappears from lists and phones (pull sends `del`), stays in history
    and in duplicate checks, and can be restored. Nothing is deleted. Idempotent."""
    customer = _voidable(actor, customer_id)
    if customer.voided_at is not None:
        return customer  # already voided: a retry changes nothing
    customer.voided_at, customer.void_reason = utcnow(), reason
    db.session.flush()
    audit.record("customer.void", "customer", customer.id,
                 {"voided_at": [None, customer.voided_at], "void_reason": [None, reason]}, actor_id=actor.id)
    if customer.owner_id is not None and customer.owner_id != actor.id:
        from server.notifications.service import notify

        notify(customer.owner_id, "customer_voided", {"code": customer.code, "name": customer.name,
                                                      "reason": reason, "by": actor.display_name},
               customer_id=customer.id)
    return customer


def restore_customer(customer_id: uuid.UUID, actor: User, reason: str | None = None) -> Customer:
    """Undo a void (idempotent). The owner's quota is checked again (a voided customer did not
    count); an owner who left meanwhile finds it on the hand-over list (R-U2)."""
    customer = _voidable(actor, customer_id)
    if customer.voided_at is None:
        return customer  # not voided (or restored already): nothing to do
    if customer.owner is not None and customer.parent_id is None:
        lock_user(customer.owner)
        check_quota(customer.owner, customer.business_line)
    before = {"voided_at": customer.voided_at, "void_reason": customer.void_reason}
    customer.voided_at, customer.void_reason = None, None
    customer.updated_at = utcnow()
    db.session.flush()
    audit.record("customer.restore", "customer", customer.id,
                 {**audit.diff(before, {"voided_at": None, "void_reason": None}), "reason": [None, reason]},
                 actor_id=actor.id)
    if customer.owner_id is not None and customer.owner_id != actor.id:
        from server.notifications.service import notify

        notify(customer.owner_id, "customer_restored", {"code": customer.code, "name": customer.name,
                                                        "by": actor.display_name}, customer_id=customer.id)
    return customer


# Audit actions already shown field by field in the change history.
_FIELD_LEVEL_ACTIONS = {"customer.update", "contact.update"}
_PHONE_FIELDS = {"mobile", "phone"}


def change_history(viewer: User, customer_id: uuid.UUID) -> dict[str, Any]:
    """变更记录 (R-T2): every field change of the customer and its contacts with before/after,
    and the events of the customer and its contacts (creation, ownership moves, co-followers,
    shares, void/restore, approved changes). For anyone who may see the customer, voided ones included; confidential
    phone numbers stay masked as in the customer itself (R-C10)."""
    from server.common.audit import AuditEntry
    from server.common.history import customer_history

    customer = access.get_visible_customer(viewer, customer_id, include_voided=True)
    unmasked = access.sees_unmasked(viewer, customer)
    changes = customer_history(customer.id)
    contact_ids = [str(i) for i in db.session.scalars(select(Contact.id).where(Contact.customer_id == customer.id))]
    events = list(db.session.scalars(select(AuditEntry).where(
        or_(and_(AuditEntry.entity == "customer", AuditEntry.entity_id == str(customer.id)),
            and_(AuditEntry.entity == "contact", AuditEntry.entity_id.in_(contact_ids))),
        AuditEntry.action.not_in(_FIELD_LEVEL_ACTIONS)).order_by(AuditEntry.id)))
    actor_ids = {c.actor_id for c in changes} | {e.actor_id for e in events}
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_([a for a in actor_ids if a is not None]))).all()) if actor_ids else {}

    def who(user_id):
        return {"id": user_id, "display_name": names.get(user_id)} if user_id else None

    def shown(entity: str, field_name: str, value):
        if not unmasked and entity == "contact" and field_name in _PHONE_FIELDS and isinstance(value, str):
            return mask_phone(value)
        return value

    return {
        "customer_id": customer.id,
        "changes": [{"id": c.id, "at": c.at, "entity": c.entity, "entity_id": c.entity_id, "field": c.field,
                     "before": shown(c.entity, c.field, c.before), "after": shown(c.entity, c.field, c.after),
                     "version": c.version, "actor": who(c.actor_id), "overwrote_version": c.overwrote_version}
                    for c in changes],
        "events": [{"id": e.id, "at": e.at, "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
                    "changes": {k: [shown(e.entity, k, v) for v in pair] if isinstance(pair, list) else pair
                                for k, pair in (e.changes or {}).items()},
                    "actor": who(e.actor_id), "channel": e.channel} for e in events],
    }
