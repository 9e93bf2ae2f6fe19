"""Opportunities and their stage gates (SPEC R-S1, R-S2), through sync and online."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pipeline_fixtures import customer, phones, team  # noqa: F401 — fixtures
from pipeline_helpers import BANT, deal_args, new_id, opportunity_args, ops_of
from sqlalchemy import select

from server.common.audit import AuditEntry
from server.common.history import FieldChange
from server.pipeline.models import Opportunity, Stage

LINES_WITH_QUANTITIES = [{"product": "云服务器 ECS", "quantity": 20}, {"product": "对象存储 OSS", "quantity": 5}]
ORDER = [{"product": "云服务器 ECS", "quantity": 20, "unit_price": 3_000_00},
         {"product": "对象存储 OSS", "quantity": 5, "unit_price": 1_200_00}]
DRAFT = "ab" * 32


def _stage(db_ctx, opportunity_id) -> Stage:
    with db_ctx() as session:
        return session.get(Opportunity, uuid.UUID(str(opportunity_id))).stage


# ---- qualify: need, budget, timeline ------------------------------------------------------------

@pytest.mark.parametrize("missing", [["need"], ["budget"], ["timeline"], ["need", "budget", "timeline"]])
def test_entering_qualify_needs_need_budget_and_timeline(customer, phones, db_ctx, missing):
    args = opportunity_args(customer, **{f: "  " if i % 2 else None for i, f in enumerate(missing)})
    error = phones("owner").rejected("opportunity.create", args, "stage_requirements_unmet")
    assert error["details"]["stage"] == "qualify"
    assert error["details"]["missing"] == missing
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(args["id"])) is None


def test_an_opportunity_created_with_need_budget_and_timeline_is_in_qualify_at_20_percent(customer, phones, db_ctx):
    args = opportunity_args(customer, amount=500_000_00)
    result = phones("owner").applied("opportunity.create", args)
    assert result["server"]["stage"] == "qualify"
    assert result["server"]["win_rate"] == 20 and result["server"]["weighted_amount"] == 100_000_00
    with db_ctx() as session:
        opportunity = session.get(Opportunity, uuid.UUID(args["id"]))
        assert opportunity.owner_id == phones("owner").user.id and opportunity.created_by_id == opportunity.owner_id
        assert opportunity.need == BANT["need"]


def test_re_entering_qualify_after_clearing_the_need_is_refused(customer, phones):
    owner = phones("owner")
    args = opportunity_args(customer, products=LINES_WITH_QUANTITIES)
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "solution"})
    owner.applied("opportunity.update", {"id": args["id"], "base_version": 0, "changes": {"need": ""}})
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "qualify"},
                           "stage_requirements_unmet")
    assert error["details"]["missing"] == ["need"]


# ---- solution: product lines with quantities -------------------------------------------------------

@pytest.mark.parametrize("products,missing", [
    ([], ["products"]),
    ([{"product": "云服务器 ECS"}], ["quantities"]),
    ([{"product": "云服务器 ECS", "quantity": 3}, {"product": "CDN", "quantity": None}], ["quantities"]),
])
def test_entering_solution_needs_product_lines_with_quantities(customer, phones, db_ctx, products, missing):
    owner = phones("owner")
    args = opportunity_args(customer, products=products)
    owner.applied("opportunity.create", args)
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "solution"},
                           "stage_requirements_unmet")
    assert error["details"] == {"stage": "solution", "missing": missing, "opportunity_id": args["id"]}
    assert _stage(db_ctx, args["id"]) == Stage.qualify


def test_entering_solution_with_quantities(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer, products=LINES_WITH_QUANTITIES)
    owner.applied("opportunity.create", args)
    result = owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "solution"})
    assert result["server"]["stage"] == "solution" and result["server"]["win_rate"] == 40
    assert _stage(db_ctx, args["id"]) == Stage.solution


# ---- negotiation: an order (lines with prices) ---------------------------------------------------------

@pytest.mark.parametrize("products,missing", [
    ([], ["products"]),
    (LINES_WITH_QUANTITIES, ["prices"]),
    ([{"product": "云服务器 ECS", "quantity": 20, "unit_price": 3_000_00}, {"product": "CDN", "quantity": 1}],
     ["prices"]),
    ([{"product": "云服务器 ECS", "unit_price": 3_000_00}], ["quantities"]),
])
def test_entering_negotiation_needs_an_order_with_prices(customer, phones, db_ctx, products, missing):
    owner = phones("owner")
    args = opportunity_args(customer, products=products)
    owner.applied("opportunity.create", args)
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "negotiation"},
                           "stage_requirements_unmet")
    assert error["details"]["missing"] == missing
    assert _stage(db_ctx, args["id"]) == Stage.qualify


def test_entering_negotiation_with_an_order(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer, products=LINES_WITH_QUANTITIES)
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "solution"})
    owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "negotiation"}, "stage_requirements_unmet")
    owner.applied("opportunity.update", {"id": args["id"], "base_version": 0, "changes": {"products": ORDER}})
    result = owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "negotiation"})
    assert result["server"]["win_rate"] == 60
    assert _stage(db_ctx, args["id"]) == Stage.negotiation


def test_without_an_amount_the_order_total_is_the_amount(customer, phones, db_ctx):
    args = opportunity_args(customer, products=ORDER, amount=...)
    phones("owner").applied("opportunity.create", args)
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(args["id"])).amount == 20 * 3_000_00 + 5 * 1_200_00


# ---- contracting: a contract draft attached ------------------------------------------------------------

def test_entering_contracting_needs_a_contract_draft(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer, products=ORDER)
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "negotiation"})
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "contracting"},
                           "stage_requirements_unmet")
    assert error["details"]["missing"] == ["contract_draft"]
    owner.applied("opportunity.update", {"id": args["id"], "base_version": 0, "changes": {"contract_draft": DRAFT}})
    assert owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "contracting"})["server"]["win_rate"] == 80
    assert _stage(db_ctx, args["id"]) == Stage.contracting


# ---- won: a signed contract recorded ------------------------------------------------------------------

def test_entering_won_needs_a_signed_deal_of_this_opportunity(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer, products=ORDER, contract_draft=DRAFT)
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "contracting"})
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "won"}, "stage_requirements_unmet")
    assert error["details"]["missing"] == ["signed_deal"]
    # a draft deal is not a signed contract; a signed deal of another opportunity neither
    draft = deal_args(customer, "HT-DRAFT-1", opportunity_id=args["id"])
    owner.applied("deal.create", draft)
    other = opportunity_args(customer)
    owner.applied("opportunity.create", other)
    elsewhere = deal_args(customer, "HT-OTHER-1", opportunity_id=other["id"])
    owner.applied("deal.create", elsewhere)
    owner.applied("deal.sign", {"id": elsewhere["id"]})
    owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "won"}, "stage_requirements_unmet")
    assert _stage(db_ctx, other["id"]) == Stage.won  # signing won the other one
    # signing this opportunity's deal wins it (deal.sign, R-S3)
    owner.applied("deal.sign", {"id": draft["id"]})
    assert _stage(db_ctx, args["id"]) == Stage.won
    assert owner.push("opportunity.set_stage", {"id": args["id"], "stage": "won"})["status"] == "applied"


def test_a_won_opportunity_with_a_signed_deal_stays_won(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer)
    owner.applied("opportunity.create", args)
    deal = deal_args(customer, "HT-WON-1", opportunity_id=args["id"])
    owner.applied("deal.create", deal)
    owner.applied("deal.sign", {"id": deal["id"]})
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "lost", "loss_reason": "x"},
                           "opportunity_won")
    assert error["details"]["stage"] == "won"
    assert _stage(db_ctx, args["id"]) == Stage.won


# ---- lost: a loss reason ---------------------------------------------------------------------------------

def test_entering_lost_needs_a_loss_reason(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer)
    owner.applied("opportunity.create", args)
    error = owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "lost"}, "stage_requirements_unmet")
    assert error["details"]["missing"] == ["loss_reason"]
    owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "lost", "loss_reason": "   "},
                   "stage_requirements_unmet")
    result = owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "lost", "loss_reason": "已选择竞品"})
    assert result["server"] == {**result["server"], "stage": "lost", "win_rate": 0, "weighted_amount": 0}
    with db_ctx() as session:
        opportunity = session.get(Opportunity, uuid.UUID(args["id"]))
        assert opportunity.stage == Stage.lost and opportunity.loss_reason == "已选择竞品"
    # a lost opportunity takes no contract; reopened (its gate met) it does
    owner.rejected("deal.create", deal_args(customer, "HT-LOST-1", opportunity_id=args["id"]), "opportunity_lost")
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "qualify"})
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(args["id"])).loss_reason is None
        reasons = session.scalars(select(FieldChange.before).where(
            FieldChange.entity_id == uuid.UUID(args["id"]), FieldChange.field == "loss_reason")).all()
        assert "已选择竞品" in reasons  # kept in the change history


def test_a_loss_reason_given_beforehand_opens_the_lost_gate(customer, phones):
    owner = phones("owner")
    args = opportunity_args(customer, loss_reason="预算冻结")
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "lost"})


# ---- creating directly in a later stage; the stage is not a field ----------------------------------------

def test_creating_in_a_later_stage_checks_that_stage_gate(customer, phones):
    owner = phones("owner")
    error = owner.rejected("opportunity.create", opportunity_args(customer, stage="negotiation"),
                           "stage_requirements_unmet")
    assert error["details"]["missing"] == ["products"]
    owner.applied("opportunity.create", opportunity_args(customer, stage="negotiation", products=ORDER))
    error = owner.rejected("opportunity.create", opportunity_args(customer, stage="won"), "stage_requirements_unmet")
    assert error["details"]["missing"] == ["signed_deal"]


@pytest.mark.parametrize("changes", [{"stage": "won"}, {"products": [{"quantity": 3}]}, {"amount": None},
                                     {"name": None}, {"products": [{"product": "x", "unit_price": 1.5}]}, {"win_rate": 100}, {"weighted_amount": 1}, {"version": 3},
                                     {"customer_id": new_id()}, {"created_by_id": new_id()}])
def test_update_refuses_the_stage_and_server_owned_fields(customer, phones, db_ctx, changes):
    owner = phones("owner")
    args = opportunity_args(customer)
    owner.applied("opportunity.create", args)
    error = owner.rejected("opportunity.update", {"id": args["id"], "base_version": 0, "changes": changes},
                           "validation_failed")
    assert set(error["details"]["fields"]) == set(changes)
    assert _stage(db_ctx, args["id"]) == Stage.qualify


def test_re_entering_the_current_stage_changes_nothing(customer, phones, db_ctx):
    owner = phones("owner")
    args = opportunity_args(customer)
    owner.applied("opportunity.create", args)
    with db_ctx() as session:
        version = session.get(Opportunity, uuid.UUID(args["id"])).version
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "qualify"})
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(args["id"])).version == version


# ---- merge, history, audit, progress -----------------------------------------------------------------------

def test_concurrent_edits_merge_by_field_and_report_what_was_overwritten(customer, phones, db_ctx):
    owner, writer = phones("owner"), phones("writer")
    args = opportunity_args(customer)
    owner.applied("opportunity.create", args)
    base = ops_of(owner.pull(), "opportunity")[args["id"]]["version"]
    writer.applied("opportunity.update", {"id": args["id"], "base_version": base,
                                          "changes": {"competition": "友商A报价更低", "champion": "张总"}})
    result = owner.applied("opportunity.update", {"id": args["id"], "base_version": base,
                                                  "changes": {"competition": "友商B", "authority": "CIO拍板"}})
    (overwritten,) = result["server"]["overwrote"]
    assert overwritten["field"] == "competition" and overwritten["value"] == "友商A报价更低"
    assert overwritten["by"] == str(writer.user.id)
    with db_ctx() as session:
        opportunity = session.get(Opportunity, uuid.UUID(args["id"]))
        assert (opportunity.competition, opportunity.champion, opportunity.authority) == ("友商B", "张总", "CIO拍板")
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "opportunity",
                                                                  AuditEntry.entity_id == args["id"])).all()
        assert actions == ["opportunity.create", "opportunity.update", "opportunity.update"]


def test_every_opportunity_change_is_progress(customer, phones, db_ctx):
    from server.customers.models import Customer

    owner = phones("owner")
    long_ago = customer.created_at - timedelta(days=80)

    def set_progress_back():
        with db_ctx() as session:
            row = session.get(Customer, customer.id)
            row.last_progress_at = long_ago
            session.commit()

    def progressed() -> bool:
        with db_ctx() as session:
            return session.get(Customer, customer.id).last_progress_at > long_ago

    set_progress_back()
    args = opportunity_args(customer, products=LINES_WITH_QUANTITIES)
    owner.applied("opportunity.create", args)
    assert progressed()
    set_progress_back()
    owner.applied("opportunity.update", {"id": args["id"], "base_version": 0, "changes": {"champion": "李工"}})
    assert progressed()
    set_progress_back()
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "solution"})
    assert progressed()
    set_progress_back()
    owner.rejected("opportunity.set_stage", {"id": args["id"], "stage": "contracting"}, "stage_requirements_unmet")
    assert not progressed()  # a refused change is no progress


def test_the_pulled_opportunity_carries_win_rate_weighted_amount_and_gate_checklist(customer, phones):
    owner = phones("owner")
    args = opportunity_args(customer, amount=3, products=LINES_WITH_QUANTITIES)
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "solution"})
    data = ops_of(owner.pull(), "opportunity")[args["id"]]["data"]
    assert data["stage"] == "solution" and data["win_rate"] == 40
    assert data["amount"] == 3 and data["weighted_amount"] == 1  # 3 × 40 % = 1.2 fen -> 1
    assert data["gates"] == {"qualify": [], "solution": [], "negotiation": ["prices"],
                             "contracting": ["contract_draft"], "won": ["signed_deal"], "lost": ["loss_reason"]}
    assert data["products"][0] == {"product": "云服务器 ECS", "quantity": 20, "unit_price": None, "line_total": None}


def test_online_endpoints_apply_the_same_gates(client, factory, customer, team):
    headers = factory.headers(team["owner"])
    body = opportunity_args(customer)
    del body["id"]
    r = client.post("/api/v1/pipeline/opportunities", json={**body, "need": None}, headers=headers)
    assert r.status_code == 422 and r.json["error"]["code"] == "stage_requirements_unmet"
    assert r.json["error"]["details"]["missing"] == ["need"]
    r = client.post("/api/v1/pipeline/opportunities", json=body, headers=headers)
    assert r.status_code == 201, r.json
    opportunity_id = r.json["id"]
    r = client.post(f"/api/v1/pipeline/opportunities/{opportunity_id}/stage", json={"stage": "solution"},
                    headers=headers)
    assert r.status_code == 422 and r.json["error"]["details"]["missing"] == ["products"]
    r = client.patch(f"/api/v1/pipeline/opportunities/{opportunity_id}",
                     json={"changes": {"products": LINES_WITH_QUANTITIES}}, headers=headers)
    assert r.status_code == 200, r.json
    r = client.post(f"/api/v1/pipeline/opportunities/{opportunity_id}/stage", json={"stage": "solution"},
                    headers=headers)
    assert r.status_code == 200 and r.json["stage"] == "solution" and r.json["win_rate"] == 40
    r = client.patch(f"/api/v1/pipeline/opportunities/{opportunity_id}", json={"changes": {"stage": "won"}},
                     headers=headers)
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_failed"
    r = client.get("/api/v1/pipeline/opportunities", query_string={"customer_id": str(customer.id)},
                   headers=headers)
    assert [o["id"] for o in r.json] == [opportunity_id]
