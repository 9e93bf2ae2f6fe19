"""Who may create and edit pipeline records (SPEC R-O2, R-O4, R-O5, R-S2)."""
from __future__ import annotations

import uuid

from pipeline_fixtures import customer, phones, team  # noqa: F401 — fixtures
from pipeline_helpers import deal_args, opportunity_args, ops_of, payment_args, signed_deal

from server.pipeline.models import Deal, Opportunity


def test_a_write_co_follower_creates_opportunities_deals_and_payments(customer, phones, db_ctx):
    writer = phones("writer")
    args = opportunity_args(customer)
    writer.applied("opportunity.create", args)
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(args["id"])).owner_id == writer.user.id
    deal_id = signed_deal(writer, customer, 10_000_00, opportunity_id=args["id"])
    writer.applied("payment.create", payment_args(deal_id, 4_000_00))
    with db_ctx() as session:
        assert session.get(Deal, uuid.UUID(deal_id)).paid_total == 4_000_00


def test_a_read_co_follower_and_others_create_nothing(customer, phones, db_ctx):
    phones("reader").rejected("opportunity.create", opportunity_args(customer), "not_authorized")
    phones("reader").rejected("deal.create", deal_args(customer, "HT-R-1"), "not_authorized")
    # who cannot even see the customer is told it does not exist
    phones("other").rejected("opportunity.create", opportunity_args(customer), "not_found")
    phones("outsider").rejected("deal.create", deal_args(customer, "HT-O-1"), "not_found")
    # a manager sees the customer but does not write under it (only the owner's side does)
    phones("manager").rejected("opportunity.create", opportunity_args(customer), "not_authorized")


def test_an_opportunity_owner_who_does_not_own_the_customer_edits_that_opportunity_only(customer, phones, db_ctx,
                                                                                      team):
    """R-O5: the owner gives an opportunity to the read co-follower; they may edit and move it,
    but not the owner's other opportunities, nor the customer, nor record contracts."""
    owner, reader = phones("owner"), phones("reader")
    theirs = opportunity_args(customer, owner_id=str(reader.user.id), name="读协同的商机")
    mine = opportunity_args(customer, name="负责人的商机")
    owner.applied("opportunity.create", theirs)
    owner.applied("opportunity.create", mine)
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(theirs["id"])).owner_id == reader.user.id
        assert session.get(Opportunity, uuid.UUID(theirs["id"])).created_by_id == owner.user.id

    reader.applied("opportunity.update", {"id": theirs["id"], "base_version": 0,
                                          "changes": {"champion": "王主任", "amount": 88_000_00,
                                                      "products": [{"product": "GPU 算力", "quantity": 4}]}})
    reader.applied("opportunity.set_stage", {"id": theirs["id"], "stage": "solution"})
    with db_ctx() as session:
        row = session.get(Opportunity, uuid.UUID(theirs["id"]))
        assert (row.champion, row.amount, row.stage.value) == ("王主任", 88_000_00, "solution")

    reader.rejected("opportunity.update", {"id": mine["id"], "base_version": 0, "changes": {"champion": "x"}},
                    "not_authorized")
    reader.rejected("opportunity.set_stage", {"id": mine["id"], "stage": "lost", "loss_reason": "x"},
                    "not_authorized")
    reader.rejected("customer.update", {"id": str(customer.id), "base_version": 0, "changes": {"notes": "x"}},
                    "not_authorized")
    reader.rejected("deal.create", deal_args(customer, "HT-RO5-1", opportunity_id=theirs["id"]), "not_authorized")
    # nor hand the opportunity to someone else
    reader.rejected("opportunity.update", {"id": theirs["id"], "base_version": 0,
                                           "changes": {"owner_id": str(team["writer"].id)}}, "not_authorized")
    # they see both opportunities (they may see the customer) but edit only their own
    assert {theirs["id"], mine["id"]} <= set(ops_of(reader.pull(), "opportunity"))


def test_the_customer_owner_and_write_co_followers_edit_any_opportunity_of_the_customer(customer, phones, team):
    owner, writer = phones("owner"), phones("writer")
    theirs = opportunity_args(customer, owner_id=str(team["reader"].id))
    owner.applied("opportunity.create", theirs)
    writer.applied("opportunity.update", {"id": theirs["id"], "base_version": 0, "changes": {"champion": "赵"}})
    owner.applied("opportunity.update", {"id": theirs["id"], "base_version": 0,
                                         "changes": {"owner_id": str(team["writer"].id)}})


def test_an_opportunity_owner_must_be_able_to_see_the_customer(customer, phones, team):
    error = phones("owner").rejected("opportunity.create", opportunity_args(customer, owner_id=str(team["other"].id)),
                                     "invalid_owner")
    assert error["details"]["owner_id"] == str(team["other"].id)


def test_an_opportunity_owner_who_lost_sight_of_the_customer_cannot_edit_it(customer, phones, team, db_ctx):
    owner, reader = phones("owner"), phones("reader")
    theirs = opportunity_args(customer, owner_id=str(reader.user.id))
    owner.applied("opportunity.create", theirs)
    owner.applied("cofollower.remove", {"customer_id": str(customer.id), "user_id": str(reader.user.id)})
    reader.rejected("opportunity.update", {"id": theirs["id"], "base_version": 0, "changes": {"champion": "x"}},
                    "not_found")
    # what they worked passes to the customer's owner (R-O2 收回), kept in the change history
    with db_ctx() as session:
        from sqlalchemy import select

        from server.common.history import FieldChange

        assert session.get(Opportunity, uuid.UUID(theirs["id"])).owner_id == owner.user.id
        change = session.scalar(select(FieldChange).where(FieldChange.entity_id == uuid.UUID(theirs["id"]),
                                                          FieldChange.field == "owner_id"))
        assert change.before == str(reader.user.id) and change.after == str(owner.user.id)
    owner.applied("opportunity.set_stage", {"id": theirs["id"], "stage": "lost", "loss_reason": "交接后关闭"})


def test_a_transfer_passes_the_former_owners_opportunities_to_the_receiver(customer, phones, db_ctx, team):
    owner, writer = phones("owner"), phones("writer")
    mine, theirs = opportunity_args(customer), opportunity_args(customer)
    owner.applied("opportunity.create", mine)
    writer.applied("opportunity.create", theirs)
    owner.applied("customer.transfer", {"customer_ids": [str(customer.id)], "to_user_id": str(team["other"].id),
                                        "reason": "区域调整"})
    with db_ctx() as session:
        assert session.get(Opportunity, uuid.UUID(mine["id"])).owner_id == team["other"].id
        assert session.get(Opportunity, uuid.UUID(theirs["id"])).owner_id == team["writer"].id  # still co-follows
    phones("other").applied("opportunity.update", {"id": mine["id"], "base_version": 0,
                                                   "changes": {"champion": "新负责人对接"}})
    owner.rejected("opportunity.update", {"id": mine["id"], "base_version": 0, "changes": {"champion": "x"}},
                   "not_found")


def test_others_get_404_online_and_nothing_in_their_pull(client, factory, customer, phones, team):
    owner = phones("owner")
    args = opportunity_args(customer)
    owner.applied("opportunity.create", args)
    deal_id = signed_deal(owner, customer, 5_000_00)
    outsider = phones("outsider")
    ops = outsider.pull()
    assert not ops_of(ops, "opportunity") and not ops_of(ops, "deal")
    headers = outsider.headers
    assert client.get(f"/api/v1/pipeline/opportunities/{args['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/pipeline/deals/{deal_id}", headers=headers).status_code == 404
    assert outsider.summary()["total"]["count"] == 0
    manager = phones("manager")  # a manager of the owner's department sees them
    assert manager.summary()["total"]["count"] == 1
    assert client.get(f"/api/v1/pipeline/deals/{deal_id}", headers=manager.headers).status_code == 200
