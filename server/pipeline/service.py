"""Sales pipeline rules (SPEC §8, R-O5, R-P5): opportunities with stage gates, deals, payments.

Used by the sync mutation handlers and the HTTP views alike; nothing here commits.

Who may do what:
- create an opportunity, a deal or a payment: the customer's owner or a write co-follower
  (or an admin) — `access.can_write` (R-O2, R-S2);
- edit an opportunity (`update`, `set_stage`): those, and the opportunity's own owner as long as
  they may see the customer (R-O5: an opportunity owner who does not own the customer edits that
  opportunity only, never the customer or its other records). An opportunity owner must be
  able to see the customer; one who no longer can (transfer, co-follower or share removed)
  has their opportunities passed to the customer's owner at commit (end of this module).

Stage gates (R-S1, R-S2) are checked on entering a stage, creation included (a new opportunity
enters the stage it is created in, `qualify` by default); each stage checks its own column of
the SPEC table. A refusal is `stage_requirements_unmet` with `details.missing`, codes from
GATE_CODES. A won opportunity with a signed deal stays won.

Money is integer fen throughout. The weighted amount of an opportunity is amount × win rate,
rounded to the nearest fen (win rates are multiples of 20 %, so there is never a tie); the
summary adds those per-opportunity values, so the phone's numbers add up to the summary's.
"""
from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import has_app_context
from sqlalchemy import event, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, attributes

from server.common import audit
from server.common.db import before_version, content_lock, transaction_version, utcnow
from server.common.errors import AppError, NotAuthorized, NotFound, ValidationFailed
from server.customers import access
from server.customers import service as customers
from server.customers.models import Customer, CustomerStatus
from server.extensions import db
from server.org.models import User
from server.pipeline import attachments
from server.pipeline.models import OPEN_STAGES, WIN_RATES, Deal, DealStatus, Opportunity, Payment, Stage
from server.pipeline.schemas import MAX_FEN
from server.settings.service import get_settings

# What each gate can report missing (details.missing of `stage_requirements_unmet`).
GATE_CODES = {
    Stage.qualify: ("need", "budget", "timeline"),
    Stage.solution: ("products", "quantities"),
    Stage.negotiation: ("products", "quantities", "prices"),
    Stage.contracting: ("contract_draft",),
    Stage.won: ("signed_deal",),
    Stage.lost: ("loss_reason",),
}
OPPORTUNITY_FIELDS = ("name", "owner_id", "amount", "expected_close_date", "products", "budget", "authority", "need",
                      "timeline", "competition", "champion", "contract_forecast", "contract_forecast_date",
                      "payment_forecast", "payment_forecast_date", "revenue_forecast", "revenue_forecast_date",
                      "contract_draft", "loss_reason", "stage")
DEAL_FIELDS = ("customer_id", "opportunity_id", "contract_no", "amount", "signed_date", "attachment", "status",
               "paid_total")


class StageRequirementsUnmet(AppError):
    status, code = 422, "stage_requirements_unmet"


class Overpayment(AppError):
    status, code = 409, "overpayment"


class ContractNoTaken(AppError):
    status, code = 409, "contract_no_taken"


# ---- small helpers --------------------------------------------------------------------------------

def org_today(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(ZoneInfo(get_settings().timezone)).date()


def weighted(amount: int, stage: Stage) -> int:
    """amount × win rate in fen, to the nearest fen (integers only)."""
    return (amount * WIN_RATES[stage] + 50) // 100


def contract_no_key(raw: str) -> str:
    """How contract numbers are compared: NFKC (full-width to half-width), no white space,
    case-folded. "HT-2026-001", "ht-2026-001" and "ＨＴ－２０２６－００１" are one number."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace()).casefold()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def clean_products(lines: list[dict]) -> list[dict]:
    """Product lines as stored: product (trimmed), quantity (int or None), unit_price (fen or None)."""
    return [{"product": line["product"].strip(), "quantity": line.get("quantity"),
             "unit_price": line.get("unit_price")} for line in lines]


def order_total(lines: list[dict]) -> int | None:
    """Σ quantity × unit price, when every line has both; else None."""
    if not lines or any(line.get("quantity") is None or line.get("unit_price") is None for line in lines):
        return None
    return sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines)


def _not_future(value: date | None, field: str) -> None:
    if value is not None and value > org_today():
        raise ValidationFailed("The date cannot be in the future",
                               details={"fields": {field: ["later than today"]}})


def _visible_customer(actor: User, customer_id: uuid.UUID) -> Customer:
    """The customer row, locked for this transaction (the sync version first, as every writer
    does), if the actor may see it; else 404."""
    customer = lock_customer(customer_id)
    if customer.voided_at is not None or not access.can_see(actor, customer.id):
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def _lock_content(sha256: str | None) -> None:
    """A record naming an attachment takes its content lock before any row lock, so an upload of
    those bytes running at the same time finds the record committed (and bumps it, so phones see
    `*_uploaded`) or is found by it (attachments._announce)."""
    if isinstance(sha256, str) and sha256:
        content_lock(db.session, sha256)


def lock_customer(customer_id: uuid.UUID) -> Customer:
    """The customer row locked for this transaction and read afresh (a concurrent payment's new
    totals, not the copy loaded before the lock). The sync version is taken first: the lock
    order of every writer."""
    transaction_version(db.session)
    customer = db.session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update(of=Customer)
                                 .execution_options(populate_existing=True))
    if customer is None:
        raise NotFound("Customer not found", details={"customer_id": str(customer_id)})
    return customer


def _touch(customer: Customer) -> None:
    from server.pools.service import touch_progress

    touch_progress(customer, utcnow())


# ---- opportunities --------------------------------------------------------------------------------

def signed_deal_exists(opportunity_id: uuid.UUID) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Deal.opportunity_id == opportunity_id, Deal.status == DealStatus.signed))))


def stage_missing(opportunity: Opportunity, stage: Stage, loss_reason: str | None = None,
                  signed: bool | None = None) -> list[str]:
    """What keeps `opportunity` from entering `stage` now (empty: the gate is open)."""
    lines = opportunity.products or []
    missing: list[str] = []
    if stage == Stage.qualify:
        missing = [f for f in ("need", "budget", "timeline") if _blank(getattr(opportunity, f))]
    elif stage in (Stage.solution, Stage.negotiation):
        if not lines:
            missing.append("products")
        elif any(line.get("quantity") is None for line in lines):
            missing.append("quantities")
        if stage == Stage.negotiation and lines and any(line.get("unit_price") is None for line in lines):
            missing.append("prices")
    elif stage == Stage.contracting:
        if _blank(opportunity.contract_draft):
            missing.append("contract_draft")
    elif stage == Stage.won:
        if not (signed if signed is not None else signed_deal_exists(opportunity.id)):
            missing.append("signed_deal")
    elif stage == Stage.lost:
        if _blank(loss_reason) and _blank(opportunity.loss_reason):
            missing.append("loss_reason")
    return missing


def _require_gate(opportunity: Opportunity, stage: Stage, loss_reason: str | None = None) -> None:
    missing = stage_missing(opportunity, stage, loss_reason)
    if missing:
        raise StageRequirementsUnmet("The opportunity does not meet the requirements of this stage",
                                     details={"stage": stage.value, "missing": missing,
                                              "opportunity_id": str(opportunity.id)})


def can_edit_opportunity(user: User, opportunity: Opportunity, customer: Customer) -> bool:
    if access.can_write(user, customer):
        return True
    return (user.active and opportunity.owner_id == user.id and customer.voided_at is None
            and customer.owner_id is not None and access.can_see(user, customer.id))


def _check_owner(customer: Customer, owner_id: uuid.UUID) -> None:
    """An opportunity's owner is an active user who may see its customer (else they could not
    even pull the opportunity they own)."""
    user = db.session.get(User, owner_id)
    if user is None or not user.active or not access.can_see(user, customer.id):
        raise ValidationFailed("The opportunity's owner must be an active user who can see the customer",
                               code="invalid_owner", details={"fields": {"owner_id": ["cannot own this"]},
                                                             "owner_id": str(owner_id)})


def opportunity_snapshot(opportunity: Opportunity) -> dict[str, Any]:
    return {k: getattr(opportunity, k) for k in OPPORTUNITY_FIELDS} | {"customer_id": opportunity.customer_id}


def create_opportunity(args: dict, actor: User) -> Opportunity:
    """R-S1/R-S2: by the owner or a write co-follower of the customer; owned by the actor unless
    `owner_id` names another user who can see the customer. Progress (R-P5)."""
    _lock_content(args.get("contract_draft"))
    customer = _visible_customer(actor, args["customer_id"])
    access.require_write(actor, customer)
    owner_id = args.get("owner_id") or actor.id
    if owner_id != actor.id:
        _check_owner(customer, owner_id)
    opportunity_id = customers._entity_id(args.get("id"), Opportunity)
    products = clean_products(args.get("products") or [])
    amount = args.get("amount")
    if amount is None:
        amount = order_total(products) or 0
        if amount > MAX_FEN:
            raise ValidationFailed("The order total is too large", details={"fields": {"amount": ["too large"]}})
    stage = Stage(args.get("stage") or Stage.qualify.value)
    now = utcnow()
    opportunity = Opportunity(
        id=opportunity_id, customer_id=customer.id, owner_id=owner_id, name=args["name"].strip(), amount=amount,
        products=products, stage=stage, stage_changed_at=now, created_by_id=actor.id, created_at=now,
        updated_at=now,
        **{k: _strip(args.get(k)) for k in ("expected_close_date", "budget", "authority", "need", "timeline",
                                            "competition", "champion", "contract_forecast", "contract_forecast_date",
                                            "payment_forecast", "payment_forecast_date", "revenue_forecast",
                                            "revenue_forecast_date", "contract_draft", "loss_reason")})
    _require_gate(opportunity, stage, opportunity.loss_reason)
    db.session.add(opportunity)
    db.session.flush()
    attachments.link(opportunity.contract_draft, "opportunity", opportunity.id, customer.id)
    _touch(customer)
    audit.record("opportunity.create", "opportunity", opportunity.id,
                 audit.diff({}, opportunity_snapshot(opportunity)), actor_id=actor.id)
    return opportunity


def get_opportunity(actor: User, opportunity_id: uuid.UUID, lock: bool = False) -> tuple[Opportunity, Customer]:
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.voided_at is not None:
        raise NotFound("Opportunity not found", details={"opportunity_id": str(opportunity_id)})
    if lock:
        customer = lock_customer(opportunity.customer_id)
        db.session.refresh(opportunity)
    else:
        customer = db.session.get(Customer, opportunity.customer_id)
    if customer is None or customer.voided_at is not None or not access.can_see(actor, customer.id):
        raise NotFound("Opportunity not found", details={"opportunity_id": str(opportunity_id)})
    return opportunity, customer


def _editable(actor: User, opportunity_id: uuid.UUID) -> tuple[Opportunity, Customer]:
    opportunity, customer = get_opportunity(actor, opportunity_id, lock=True)
    if not can_edit_opportunity(actor, opportunity, customer):
        raise NotAuthorized("Only the customer's owner, a write co-follower or the opportunity's owner may "
                            "change this opportunity", details={"opportunity_id": str(opportunity.id)})
    return opportunity, customer


def update_opportunity(opportunity_id: uuid.UUID, changes: dict[str, Any], base_version: int | None,
                       actor: User) -> tuple[Opportunity, list[dict]]:
    """Field merge (SPEC §12): fields nobody else changed since `base_version` apply; a field
    someone else changed is overwritten in arrival order and named in `overwrote`. The stage
    changes only through `set_stage` (its gates); `owner_id` only by those who may write the
    customer. Any real change is progress (R-P5)."""
    _lock_content(changes.get("contract_draft"))
    opportunity, customer = _editable(actor, opportunity_id)
    if "owner_id" in changes and changes["owner_id"] != opportunity.owner_id:
        if not access.can_write(actor, customer):
            raise NotAuthorized("Only the customer's owner or a write co-follower may reassign an opportunity",
                                details={"opportunity_id": str(opportunity.id)})
        _check_owner(customer, changes["owner_id"])
    changes = dict(changes)
    if "products" in changes:
        changes["products"] = clean_products(changes["products"] or [])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            raise ValidationFailed("The name is empty", details={"fields": {"name": ["must not be empty"]}})
    for key in ("budget", "authority", "need", "timeline", "competition", "champion", "loss_reason"):
        if key in changes:
            changes[key] = _strip(changes[key])
    if opportunity.stage == Stage.lost and "loss_reason" in changes and _blank(changes["loss_reason"]):
        raise ValidationFailed("A lost opportunity keeps its loss reason",
                               details={"fields": {"loss_reason": ["required while lost"]}})
    before = opportunity_snapshot(opportunity)
    overwrote = _apply(opportunity, changes, base_version, actor)
    if "contract_draft" in changes:
        attachments.link(opportunity.contract_draft, "opportunity", opportunity.id, customer.id)
    after = opportunity_snapshot(opportunity)
    diff = audit.diff(before, after)
    if diff:
        opportunity.updated_at = utcnow()
        _touch(customer)
        db.session.flush()
        audit.record("opportunity.update", "opportunity", opportunity.id, diff, actor_id=actor.id)
    return opportunity, overwrote


def _apply(opportunity: Opportunity, changes: dict[str, Any], base_version: int | None, actor: User) -> list[dict]:
    from server.common.history import apply_changes

    return apply_changes(opportunity, "opportunity", changes, base_version, actor.id, opportunity.customer_id)


class OpportunityWon(ValidationFailed):
    code = "opportunity_won"


def set_stage(opportunity_id: uuid.UUID, stage: str, loss_reason: str | None, actor: User) -> Opportunity:
    """Enter `stage` if its gate is open (R-S2); progress (R-P5). Re-entering the current stage
    is a no-op (a lost one may update its loss reason)."""
    opportunity, customer = _editable(actor, opportunity_id)
    target = Stage(stage)
    loss_reason = _strip(loss_reason) or None
    if target == opportunity.stage and not (target == Stage.lost and loss_reason
                                            and loss_reason != opportunity.loss_reason):
        return opportunity
    if opportunity.stage == Stage.won and target != Stage.won and signed_deal_exists(opportunity.id):
        raise OpportunityWon("A won opportunity with a signed contract stays won",
                             details={"opportunity_id": str(opportunity.id), "stage": opportunity.stage.value})
    _require_gate(opportunity, target, loss_reason)
    before = opportunity_snapshot(opportunity)
    changes: dict[str, Any] = {"stage": target}
    if target == Stage.lost:
        if loss_reason:
            changes["loss_reason"] = loss_reason
    elif opportunity.loss_reason is not None:
        changes["loss_reason"] = None  # reopened: the reason stays in the change history
    _apply(opportunity, changes, None, actor)
    opportunity.stage_changed_at = opportunity.updated_at = utcnow()
    _touch(customer)
    db.session.flush()
    audit.record("opportunity.set_stage", "opportunity", opportunity.id,
                 audit.diff(before, opportunity_snapshot(opportunity)), actor_id=actor.id)
    return opportunity


def present_opportunity(opportunity: Opportunity, signed: bool | None = None) -> dict[str, Any]:
    if signed is None:
        signed = opportunity.stage == Stage.won or signed_deal_exists(opportunity.id)
    products = []
    for line in opportunity.products or []:
        quantity, price = line.get("quantity"), line.get("unit_price")
        products.append({"product": line.get("product"), "quantity": quantity, "unit_price": price,
                         "line_total": quantity * price if quantity is not None and price is not None else None})
    data = {k: getattr(opportunity, k) for k in (
        "id", "customer_id", "owner_id", "name", "amount", "expected_close_date", "budget", "authority", "need",
        "timeline", "competition", "champion", "contract_forecast", "contract_forecast_date", "payment_forecast",
        "payment_forecast_date", "revenue_forecast", "revenue_forecast_date", "contract_draft", "loss_reason",
        "stage_changed_at", "created_by_id", "created_at", "updated_at", "voided_at", "version")}
    data.update(products=products, stage=opportunity.stage.value, win_rate=opportunity.win_rate,
                weighted_amount=weighted(opportunity.amount, opportunity.stage),
                contract_draft_uploaded=attachments.uploaded(opportunity.contract_draft),
                gates={s.value: stage_missing(opportunity, s, signed=signed if s == Stage.won else None)
                       for s in Stage})
    return data


def visible_opportunities(viewer: User):
    return select(Opportunity).join(Customer, Customer.id == Opportunity.customer_id).where(
        access.visible_customers(viewer), Opportunity.voided_at.is_(None))


def list_opportunities(viewer: User, customer_id: uuid.UUID | None, stage: str | None, limit: int) -> list[Opportunity]:
    query = visible_opportunities(viewer)
    if customer_id is not None:
        query = query.where(Opportunity.customer_id == customer_id)
    if stage is not None:
        query = query.where(Opportunity.stage == Stage(stage))
    return list(db.session.scalars(query.order_by(Opportunity.created_at.desc(), Opportunity.id).limit(limit)))


def pipeline_summary(viewer: User, customer_id: uuid.UUID | None = None,
                     owner_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Totals by stage of the opportunities the viewer may see (R-O4), in fen, exactly: the
    weighted amounts are the per-opportunity ones added up."""
    query = select(Opportunity.stage, Opportunity.amount).join(Customer, Customer.id == Opportunity.customer_id) \
        .where(access.visible_customers(viewer), Opportunity.voided_at.is_(None))
    if customer_id is not None:
        query = query.where(Opportunity.customer_id == customer_id)
    if owner_id is not None:
        query = query.where(Opportunity.owner_id == owner_id)
    totals = {s: {"count": 0, "amount": 0, "weighted_amount": 0} for s in Stage}
    for stage, amount in db.session.execute(query):
        entry = totals[Stage(stage)]
        entry["count"] += 1
        entry["amount"] += int(amount)
        entry["weighted_amount"] += weighted(int(amount), Stage(stage))

    def add(stages) -> dict[str, int]:
        return {k: sum(totals[s][k] for s in stages) for k in ("count", "amount", "weighted_amount")}

    return {"currency": "CNY", "unit": "fen",
            "stages": [{"stage": s.value, "win_rate": WIN_RATES[s], **totals[s]} for s in Stage],
            "open": add(OPEN_STAGES), "total": add(list(Stage))}


# ---- deals ----------------------------------------------------------------------------------------

def _raise_if_contract_taken(key: str, shown: str) -> None:
    if db.session.scalar(select(Deal.id).where(Deal.contract_no_key == key)) is not None:
        raise ContractNoTaken("This contract number is already recorded",
                              details={"contract_no": shown, "fields": {"contract_no": ["already used"]}})


def create_deal(args: dict, actor: User) -> Deal:
    """R-S3: a draft contract under a customer (owner or write co-follower), optionally for one
    of its opportunities; the contract number is unique in the whole system. Progress (R-P5)."""
    _lock_content(args.get("attachment"))
    customer = _visible_customer(actor, args["customer_id"])
    access.require_write(actor, customer)
    opportunity_id = args.get("opportunity_id")
    if opportunity_id is not None:
        opportunity = db.session.get(Opportunity, opportunity_id)
        if opportunity is None or opportunity.voided_at is not None or opportunity.customer_id != customer.id:
            raise ValidationFailed("The opportunity is not one of this customer's",
                                   details={"fields": {"opportunity_id": ["not an opportunity of this customer"]}})
        if opportunity.stage == Stage.lost:
            raise ValidationFailed("The opportunity is lost; reopen it before recording its contract",
                                   code="opportunity_lost", details={"opportunity_id": str(opportunity.id)})
    contract_no = " ".join(args["contract_no"].split())
    key = contract_no_key(contract_no)
    if not key:
        raise ValidationFailed("The contract number is empty", details={"fields": {"contract_no": ["empty"]}})
    _not_future(args.get("signed_date"), "signed_date")
    deal_id = customers._entity_id(args.get("id"), Deal)
    _raise_if_contract_taken(key, contract_no)
    now = utcnow()
    deal = Deal(id=deal_id, customer_id=customer.id, opportunity_id=opportunity_id, contract_no=contract_no,
                contract_no_key=key, amount=args["amount"], signed_date=args.get("signed_date"),
                attachment=args.get("attachment"), status=DealStatus.draft, paid_total=0, created_by_id=actor.id,
                created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(deal)
            db.session.flush()
    except IntegrityError:
        _raise_if_contract_taken(key, contract_no)  # a concurrent deal took the number first
        raise
    attachments.link(deal.attachment, "deal", deal.id, customer.id)
    _touch(customer)
    audit.record("deal.create", "deal", deal.id, audit.diff({}, {k: getattr(deal, k) for k in DEAL_FIELDS}),
                 actor_id=actor.id)
    return deal


def get_deal(actor: User, deal_id: uuid.UUID) -> tuple[Deal, Customer]:
    deal = db.session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("Deal not found", details={"deal_id": str(deal_id)})
    customer = db.session.get(Customer, deal.customer_id)
    if customer is None or customer.voided_at is not None or not access.can_see(actor, customer.id):
        raise NotFound("Deal not found", details={"deal_id": str(deal_id)})
    return deal, customer


def _locked_deal(actor: User, deal_id: uuid.UUID) -> tuple[Deal, Customer]:
    deal, _ = get_deal(actor, deal_id)
    customer = _visible_customer(actor, deal.customer_id)
    deal = db.session.scalar(select(Deal).where(Deal.id == deal.id).with_for_update(of=Deal)
                             .execution_options(populate_existing=True))
    return deal, customer


def sign_deal(deal_id: uuid.UUID, actor: User, signed_date: date | None = None,
              attachment: str | None = None) -> Deal:
    """R-S3, R-C6: the contract is signed. Its customer becomes `signed` and its deal total grows
    by the amount (so receivables appear, R-S5); its opportunity is won. Progress (R-P5).
    Signing a signed deal again changes nothing (its amount is never counted twice)."""
    _lock_content(attachment)
    deal, customer = _locked_deal(actor, deal_id)
    access.require_write(actor, customer)
    if deal.status == DealStatus.signed:
        return deal
    when = signed_date or deal.signed_date or org_today()
    _not_future(when, "signed_date")
    before = {k: getattr(deal, k) for k in DEAL_FIELDS}
    now = utcnow()
    deal.status, deal.signed_date, deal.signed_at, deal.signed_by_id = DealStatus.signed, when, now, actor.id
    if attachment:
        deal.attachment = attachment
        attachments.link(attachment, "deal", deal.id, customer.id)
    deal.updated_at = now
    customer_before = {"status": customer.status, "deal_total": customer.deal_total}
    customer.deal_total = int(customer.deal_total or 0) + int(deal.amount)
    if customer.status != CustomerStatus.signed:
        from server.common.history import apply_changes

        apply_changes(customer, "customer", {"status": CustomerStatus.signed}, None, actor.id, customer.id)
    customer.updated_at = now
    if deal.opportunity_id is not None:
        opportunity = db.session.get(Opportunity, deal.opportunity_id)
        if opportunity is not None and opportunity.voided_at is None and opportunity.stage != Stage.won:
            opp_before = opportunity_snapshot(opportunity)
            _apply(opportunity, {"stage": Stage.won, "loss_reason": None} if opportunity.loss_reason
                   else {"stage": Stage.won}, None, actor)
            opportunity.stage_changed_at = opportunity.updated_at = now
            db.session.flush()
            audit.record("opportunity.set_stage", "opportunity", opportunity.id,
                         {**audit.diff(opp_before, opportunity_snapshot(opportunity)), "deal_id": [None, deal.id]},
                         actor_id=actor.id)
    _touch(customer)
    db.session.flush()
    audit.record("deal.sign", "deal", deal.id, audit.diff(before, {k: getattr(deal, k) for k in DEAL_FIELDS}),
                 actor_id=actor.id)
    audit.record("customer.deal_signed", "customer", customer.id,
                 {**audit.diff(customer_before, {"status": customer.status, "deal_total": customer.deal_total}),
                  "deal_id": [None, deal.id]}, actor_id=actor.id)
    from server.pipeline import grades

    grades.regrade_customers([customer.id])
    return deal


def present_deal(deal: Deal) -> dict[str, Any]:
    data = {k: getattr(deal, k) for k in (
        "id", "customer_id", "opportunity_id", "contract_no", "amount", "paid_total", "signed_date", "attachment",
        "signed_at", "signed_by_id", "created_by_id", "created_at", "updated_at", "version")}
    data.update(status=deal.status.value,
                outstanding=deal.amount - deal.paid_total if deal.status == DealStatus.signed else 0,
                attachment_uploaded=attachments.uploaded(deal.attachment))
    return data


def list_deals(viewer: User, customer_id: uuid.UUID | None, opportunity_id: uuid.UUID | None,
               limit: int) -> list[Deal]:
    query = select(Deal).join(Customer, Customer.id == Deal.customer_id).where(access.visible_customers(viewer))
    if customer_id is not None:
        query = query.where(Deal.customer_id == customer_id)
    if opportunity_id is not None:
        query = query.where(Deal.opportunity_id == opportunity_id)
    return list(db.session.scalars(query.order_by(Deal.created_at.desc(), Deal.id).limit(limit)))


# ---- payments -------------------------------------------------------------------------------------

def create_payment(args: dict, actor: User) -> Payment:
    """R-S4: a payment received on a signed contract, never making the paid total exceed the
    contract amount (`overpayment`, details: contract amount, paid, remaining). Adds to the
    customer's payment total, so receivables shrink (R-S5). Progress (R-P5)."""
    _lock_content(args.get("proof"))
    deal, customer = _locked_deal(actor, args["deal_id"])
    access.require_write(actor, customer)
    if deal.status != DealStatus.signed:
        raise ValidationFailed("Payments are recorded on signed contracts only", code="deal_not_signed",
                               details={"deal_id": str(deal.id), "status": deal.status.value})
    _not_future(args["received_date"], "received_date")
    proof = args.get("proof")
    if proof and attachments.mime_of(proof) == attachments.MIME_PDF:
        raise ValidationFailed("The proof of a payment is an image", details={"fields": {"proof": ["not an image"]}})
    amount = int(args["amount"])
    paid = int(deal.paid_total or 0)
    if paid + amount > deal.amount:
        raise Overpayment("This payment would make the paid total exceed the contract amount",
                          details={"contract_amount": deal.amount, "paid": paid,
                                   "remaining": deal.amount - paid, "amount": amount, "deal_id": str(deal.id)})
    payment_id = customers._entity_id(args.get("id"), Payment)
    now = utcnow()
    payment = Payment(id=payment_id, deal_id=deal.id, customer_id=customer.id, amount=amount,
                      received_date=args["received_date"], proof=proof, created_by_id=actor.id, created_at=now)
    db.session.add(payment)
    deal.paid_total = paid + amount
    deal.updated_at = now
    before = {"payment_total": customer.payment_total}
    customer.payment_total = int(customer.payment_total or 0) + amount
    customer.updated_at = now
    _touch(customer)
    db.session.flush()
    attachments.link(proof, "payment", payment.id, customer.id)
    audit.record("payment.create", "payment", payment.id,
                 audit.diff({}, {"deal_id": deal.id, "customer_id": customer.id, "amount": amount,
                                 "received_date": payment.received_date, "proof": proof}), actor_id=actor.id)
    audit.record("customer.payment_received", "customer", customer.id,
                 {**audit.diff(before, {"payment_total": customer.payment_total}), "payment_id": [None, payment.id]},
                 actor_id=actor.id)
    return payment


def present_payment(payment: Payment) -> dict[str, Any]:
    data = {k: getattr(payment, k) for k in ("id", "deal_id", "customer_id", "amount", "received_date", "proof",
                                            "created_by_id", "created_at", "version")}
    data["proof_uploaded"] = attachments.uploaded(payment.proof)
    return data


def list_payments(viewer: User, customer_id: uuid.UUID | None, deal_id: uuid.UUID | None,
                  limit: int) -> list[Payment]:
    query = select(Payment).join(Customer, Customer.id == Payment.customer_id).where(
        access.visible_customers(viewer))
    if customer_id is not None:
        query = query.where(Payment.customer_id == customer_id)
    if deal_id is not None:
        query = query.where(Payment.deal_id == deal_id)
    return list(db.session.scalars(query.order_by(Payment.received_date.desc(), Payment.id).limit(limit)))


# ---- opportunities follow access (R-O2 收回, R-T1) -------------------------------------------------
#
# An opportunity's owner must be able to see its customer. When that stops being true — the
# customer is transferred or claimed by someone else, the owner stops co-following it, a share
# is removed — the opportunity passes to the customer's owner (R-O2: what a removed co-follower
# created stays and passes to the owner). A customer in a pool keeps its opportunities as they
# are until someone owns it again. Checked before the commit of any transaction that changed a
# customer's owner, co-followers or shares, whichever service or channel did it.

_ACCESS_MARKS = "fieldcrm.pipeline.opportunity_access"


@event.listens_for(Session, "before_flush")
def _mark_access_changes(session: Session, flush_context, instances) -> None:
    from server.customers.models import CoFollower, Share

    marks = None
    for obj in session.deleted:
        if isinstance(obj, (CoFollower, Share)) and obj.customer_id is not None:
            marks = marks if marks is not None else session.info.setdefault(_ACCESS_MARKS, set())
            marks.add(obj.customer_id)
    for obj in session.dirty:
        if isinstance(obj, Customer) and attributes.get_history(obj, "owner_id").has_changes():
            marks = marks if marks is not None else session.info.setdefault(_ACCESS_MARKS, set())
            marks.add(obj.id)


def _pass_orphaned_opportunities(session: Session) -> None:
    if session.in_nested_transaction() or not has_app_context():
        return
    if not (session.new or session.dirty or session.deleted or session.info.get(_ACCESS_MARKS)):
        return
    session.flush()
    marks = session.info.pop(_ACCESS_MARKS, set())
    if not marks:
        return
    with session.no_autoflush:
        rows = session.execute(
            select(Opportunity, Customer.owner_id).join(Customer, Customer.id == Opportunity.customer_id)
            .where(Opportunity.customer_id.in_(list(marks)), Opportunity.voided_at.is_(None),
                   Customer.owner_id.is_not(None), Customer.voided_at.is_(None),
                   Opportunity.owner_id != Customer.owner_id)).all()
        seeing: dict[tuple, bool] = {}
        for opportunity, customer_owner_id in rows:
            key = (opportunity.owner_id, opportunity.customer_id)
            if key not in seeing:
                user = session.get(User, opportunity.owner_id)
                seeing[key] = user is not None and user.active and access.can_see(user, opportunity.customer_id)
            if seeing[key]:
                continue
            _pass_to(session, opportunity, customer_owner_id)
    session.flush()


# before the transaction takes its sync version (and before COMMIT): see `before_version`
before_version(_pass_orphaned_opportunities)


def _pass_to(session: Session, opportunity: Opportunity, owner_id: uuid.UUID) -> None:
    from server.common import context
    from server.common.audit import AuditEntry, jsonable
    from server.common.history import FieldChange

    mutation = context.client_mutation.get()
    before = opportunity.owner_id
    session.add(FieldChange(entity="opportunity", entity_id=opportunity.id, customer_id=opportunity.customer_id,
                            field="owner_id", before=jsonable(before), after=jsonable(owner_id),
                            version=transaction_version(session), actor_id=None,
                            client_id=mutation[0] if mutation else None,
                            client_mutation_id=mutation[1] if mutation else None))
    opportunity.owner_id = owner_id
    opportunity.updated_at = utcnow()
    session.add(AuditEntry(actor_id=None, action="opportunity.owner_passed", entity="opportunity",
                           entity_id=str(opportunity.id), changes={"owner_id": [jsonable(before), jsonable(owner_id)]},
                           channel=context.channel.get(), client_id=mutation[0] if mutation else None,
                           client_mutation_id=mutation[1] if mutation else None))


@event.listens_for(Session, "after_soft_rollback")
def _forget_access_marks(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_ACCESS_MARKS, None)
