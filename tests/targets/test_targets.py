"""Targets (SPEC R-K1): who sets them, drafts and their approval, period rules, sync visibility,
retries, and the online list."""
from __future__ import annotations

from datetime import timedelta

import pytest
from target_helpers import TARGETS, Phone, audit_entries, error_of, make_team, ok, ops_of, org_today, session_of


@pytest.fixture
def team(factory):
    return make_team(factory)


def target_row(app, target_id):
    import uuid

    from server.targets.models import Target

    with session_of(app) as session:
        row = session.get(Target, uuid.UUID(str(target_id)))
        if row is not None:
            session.expunge(row)
        return row


def count_targets(app, user) -> int:
    from sqlalchemy import func, select

    from server.targets.models import Target

    with session_of(app) as session:
        return session.scalar(select(func.count()).select_from(Target).where(Target.user_id == user.id))


def test_manager_sets_a_target_for_a_team_rep(app, factory, team):
    manager, rep = Phone(factory, team.manager), Phone(factory, team.rep)
    args = manager.target(user_id=str(team.rep.id), name="12月指标")
    result = manager.applied("target.save", args)
    assert result["server"]["status"] == "active"
    assert "error" not in result  # no approval needed

    row = target_row(app, args["id"])
    assert (row.user_id, row.status, row.set_by_id, row.approved_by_id) == (team.rep.id, "active", team.manager.id,
                                                                           team.manager.id)
    assert (row.deal_amount, row.payment_amount) == (500_000_00, 200_000_00)
    (action, channel, changes, mutation_id), = audit_entries(app, "target", args["id"])
    assert (action, channel, mutation_id) == ("target.create", "sync", 1)
    assert changes["status"] == [None, "active"] and changes["deal_amount"] == [None, 500_000_00]

    rep.pull()
    data = rep.data("target", args["id"])
    assert data["status"] == "active" and data["user_name"] == "业务员甲" and data["name"] == "12月指标"
    assert data["actuals"] == {"new_customers": 0, "visits": 0, "verified_visits": 0, "deal_amount": 0,
                               "payment_amount": 0}

    # the same id again changes it, audited as an update
    manager.applied("target.save", {**args, "visits": 30})
    assert target_row(app, args["id"]).visits == 30
    assert [a[0] for a in audit_entries(app, "target", args["id"])] == ["target.create", "target.update"]
    assert count_targets(app, team.rep) == 1


def test_a_manager_above_sets_targets_for_the_whole_subtree(factory, team):
    head = Phone(factory, team.head)
    assert head.applied("target.save", head.target(user_id=str(team.rep3.id)))["server"]["status"] == "active"
    assert head.applied("target.save", head.target(user_id=str(team.manager.id)))["server"]["status"] == "active"


def test_rep_draft_waits_for_the_manager_who_approves_it_in_the_inbox(app, factory, team):
    rep, manager = Phone(factory, team.rep), Phone(factory, team.manager)
    args = rep.target(name="我的季度目标")
    result = rep.applied("target.save", args)
    assert result["server"]["status"] == "pending"
    assert result["error"]["code"] == "approval_required"
    approval_id = result["error"]["details"]["approval_id"]
    assert target_row(app, args["id"]).status == "pending"

    # the manager's inbox has it, with the target's numbers
    inbox = ok(manager.get("/api/v1/approvals", box="to_decide"))["items"]
    (item,) = [a for a in inbox if a["id"] == approval_id]
    assert item["kind"] == "target" and item["can_decide"] is True
    assert item["payload"]["target_id"] == args["id"] and item["payload"]["deal_amount"] == 500_000_00
    # a colleague rep and a manager elsewhere cannot decide it
    assert approval_id not in [a["id"] for a in ok(Phone(factory, team.other_manager).get(
        "/api/v1/approvals", box="to_decide"))["items"]]

    rep.pull()
    assert rep.data("target", args["id"])["status"] == "pending"
    assert rep.data("approval", approval_id)["status"] == "pending"

    decided = ok(manager.client.post(f"/api/v1/approvals/{approval_id}/decide", json={"decision": "approve"},
                                     headers=manager.headers))
    assert decided["status"] == "approved" and decided["result"] == {"target_id": args["id"], "status": "active"}
    row = target_row(app, args["id"])
    assert (row.status, row.approved_by_id, row.set_by_id) == ("active", team.manager.id, team.rep.id)
    assert "target.approve" in [a[0] for a in audit_entries(app, "target", args["id"])]

    rep.pull()
    assert rep.data("target", args["id"])["status"] == "active"
    # an approved target is the manager's to change now
    error = rep.rejected("target.save", {**args, "visits": 1}, "not_authorized")
    assert error["details"]["status"] == "active"


def test_rejected_draft_is_rejected_and_frees_its_period(app, factory, team):
    rep, manager = Phone(factory, team.rep), Phone(factory, team.manager)
    args = rep.target()
    approval_id = rep.applied("target.save", args)["error"]["details"]["approval_id"]
    ok(manager.client.post(f"/api/v1/approvals/{approval_id}/decide", json={"decision": "reject", "comment": "太低"},
                           headers=manager.headers))
    assert target_row(app, args["id"]).status == "rejected"
    rep.pull()
    assert rep.data("target", args["id"])["status"] == "rejected"
    # a rejected target does not block a new one over the same period
    assert manager.applied("target.save", manager.target(user_id=str(team.rep.id)))["server"]["status"] == "active"


def test_manager_saving_a_waiting_draft_decides_it(app, factory, team):
    rep, manager = Phone(factory, team.rep), Phone(factory, team.manager)
    args = rep.target(visits=5)
    approval_id = rep.applied("target.save", args)["error"]["details"]["approval_id"]
    manager.applied("target.save", {**args, "user_id": str(team.rep.id), "visits": 25})
    row = target_row(app, args["id"])
    assert (row.status, row.visits, row.approved_by_id) == ("active", 25, team.manager.id)
    approval = ok(manager.get(f"/api/v1/approvals/{approval_id}"))
    assert approval["status"] == "approved"


def test_only_managers_above_set_other_users_targets(app, factory, team):
    other_manager, rep, manager2 = Phone(factory, team.other_manager), Phone(factory, team.rep), Phone(factory, team.manager2)
    error = other_manager.rejected("target.save", other_manager.target(user_id=str(team.rep.id)), "not_authorized")
    assert error["details"] == {"user_id": str(team.rep.id)}
    rep.rejected("target.save", rep.target(user_id=str(team.rep2.id)), "not_authorized")
    # a manager of a sibling group is not above the rep either
    manager2.rejected("target.save", manager2.target(user_id=str(team.rep.id)), "not_authorized")
    ops = Phone(factory, factory.user("ops"))
    ops.rejected("target.save", ops.target(user_id=str(team.rep.id)), "not_authorized")
    assert count_targets(app, team.rep) == 0
    # online the same rule: 403 in the envelope, nothing written
    args = rep.target(user_id=str(team.rep2.id))
    target_id = args.pop("id")
    error_of(rep.client.put(f"{TARGETS}/{target_id}", json=args, headers=rep.headers), 403, "not_authorized")
    assert count_targets(app, team.rep2) == 0


def test_period_rules(app, factory, team):
    manager = Phone(factory, team.manager)
    today = org_today()
    rep_id = str(team.rep.id)
    error = manager.rejected("target.save", manager.target(user_id=rep_id, start_date=today.isoformat(),
                                                           end_date=(today - timedelta(days=1)).isoformat()),
                             "invalid_period")
    assert error["details"]["start_date"] == today.isoformat()

    december = manager.target(user_id=rep_id, start_date="2026-12-01", end_date="2026-12-31")
    manager.applied("target.save", december)
    # adjacent periods are fine, on either side
    manager.applied("target.save", manager.target(user_id=rep_id, start_date="2026-11-01", end_date="2026-11-30"))
    manager.applied("target.save", manager.target(user_id=rep_id, start_date="2027-01-01", end_date="2027-03-31"))
    # one shared day overlaps
    error = manager.rejected("target.save", manager.target(user_id=rep_id, start_date="2026-12-31",
                                                           end_date="2027-01-15"), "target_period_overlap")
    assert error["details"]["target_id"] == december["id"]
    manager.rejected("target.save", manager.target(user_id=rep_id, start_date="2026-10-15", end_date="2027-06-30"),
                     "target_period_overlap")
    # another user's periods do not matter; moving a target within its own period is fine
    manager.applied("target.save", manager.target(user_id=str(team.rep2.id), start_date="2026-12-01",
                                                  end_date="2026-12-31"))
    manager.applied("target.save", {**december, "start_date": "2026-12-05"})
    # a rep's own draft is held to the same rules
    Phone(factory, team.rep).rejected("target.save", manager.target(start_date="2026-12-10", end_date="2026-12-20"),
                                      "target_period_overlap")
    assert count_targets(app, team.rep) == 3

    # online the same answers, in the envelope
    online = manager.target(user_id=rep_id, start_date="2026-12-20", end_date="2026-12-10")
    online_id = online.pop("id")
    error_of(manager.client.put(f"{TARGETS}/{online_id}", json=online, headers=manager.headers), 422,
             "invalid_period")
    online.update(start_date="2026-12-10", end_date="2026-12-20")
    error_of(manager.client.put(f"{TARGETS}/{online_id}", json=online, headers=manager.headers), 409,
             "target_period_overlap")

    # bad input is a 4xx, nothing half written
    bad = manager.target(user_id=rep_id, start_date="2028-01-01", end_date="2028-01-31", deal_amount=10.5)
    assert manager.rejected("target.save", bad, "validation_failed")
    assert manager.rejected("target.save", {**bad, "deal_amount": -1}, "validation_failed")
    assert count_targets(app, team.rep) == 3


def test_retrying_the_same_mutation_does_not_duplicate(app, factory, team):
    rep = Phone(factory, team.rep)
    args = rep.target()
    batch = [{"id": 1, "name": "target.save", "args": args, "client_time": rep.client_time()}]
    from helpers import push

    first = ok(push(rep.client, rep.headers, rep.client_id, batch))
    again = ok(push(rep.client, rep.headers, rep.client_id, batch))
    assert first["results"][0]["status"] == "applied" and again["results"][0]["status"] == "replayed"
    assert count_targets(app, team.rep) == 1
    from sqlalchemy import func, select

    from server.approvals.models import Approval

    with session_of(app) as session:
        assert session.scalar(select(func.count()).select_from(Approval).where(
            Approval.kind == "target", Approval.requester_id == team.rep.id)) == 1


def test_pull_visibility(factory, team):
    manager = Phone(factory, team.manager)
    mine = manager.target(user_id=str(team.rep.id))
    colleague = manager.target(user_id=str(team.rep2.id))
    manager.applied("target.save", mine)
    manager.applied("target.save", colleague)
    head = Phone(factory, team.head)
    group2 = head.target(user_id=str(team.rep3.id))
    head.applied("target.save", group2)

    rep = Phone(factory, team.rep)
    rep.pull()
    assert set(ops_of(list(op for op in rep.state.values()), "target")) == {mine["id"]}
    manager.pull()
    assert set(ops_of(list(manager.state.values()), "target")) == {mine["id"], colleague["id"]}
    head.pull()
    assert set(ops_of(list(head.state.values()), "target")) == {mine["id"], colleague["id"], group2["id"]}
    other = Phone(factory, team.other_manager)
    other.pull()
    assert ops_of(list(other.state.values()), "target") == {}
    # a change reaches the subtree on the next pull, and nobody else
    manager.applied("target.save", {**colleague, "visits": 99})
    assert [o["id"] for o in rep.pull() if o["entity"] == "target"] == []
    assert [o["data"]["visits"] for o in manager.pull() if o["entity"] == "target"] == [99]


def test_online_list_follows_the_same_visibility(factory, team):
    manager = Phone(factory, team.manager)
    manager.applied("target.save", manager.target(user_id=str(team.rep.id), start_date="2026-11-01",
                                                  end_date="2026-11-30"))
    manager.applied("target.save", manager.target(user_id=str(team.rep.id), start_date="2026-12-01",
                                                  end_date="2026-12-31"))
    manager.applied("target.save", manager.target(user_id=str(team.rep2.id), start_date="2026-12-01",
                                                  end_date="2026-12-31"))
    items = ok(manager.get(TARGETS))["items"]
    assert len(items) == 3
    assert [i["start_date"] for i in ok(manager.get(TARGETS, user_id=str(team.rep.id)))["items"]] == \
        ["2026-12-01", "2026-11-01"]
    assert len(ok(manager.get(TARGETS, **{"from": "2026-12-01", "to": "2026-12-31"}))["items"]) == 2
    rep = Phone(factory, team.rep)
    assert {i["user_id"] for i in ok(rep.get(TARGETS))["items"]} == {str(team.rep.id)}
    assert ok(rep.get(TARGETS, user_id=str(team.rep2.id)))["items"] == []
    assert ok(Phone(factory, team.other_manager).get(TARGETS))["items"] == []
    assert len(ok(Phone(factory, team.head).get(TARGETS, department_id=str(team.group.id)))["items"]) == 3
    one = items[0]["id"]
    error_of(Phone(factory, team.rep3).get(f"{TARGETS}/{one}"), 404, "not_found")
    assert ok(manager.get(f"{TARGETS}/{one}"))["id"] == one


def test_a_managers_own_target_is_decided_above_them(app, factory, team):
    manager, head = Phone(factory, team.manager), Phone(factory, team.head)
    args = manager.target(user_id=str(team.manager.id))
    result = manager.applied("target.save", args)
    assert result["server"]["status"] == "pending"
    approval_id = result["error"]["details"]["approval_id"]
    # not in their own inbox, in the head's
    assert approval_id not in [a["id"] for a in ok(manager.get("/api/v1/approvals", box="to_decide"))["items"]]
    assert approval_id in [a["id"] for a in ok(head.get("/api/v1/approvals", box="to_decide"))["items"]]
    error_of(manager.client.post(f"/api/v1/approvals/{approval_id}/decide", json={"decision": "approve"},
                                 headers=manager.headers), 403, "not_authorized")
    ok(head.client.post(f"/api/v1/approvals/{approval_id}/decide", json={"decision": "approve"}, headers=head.headers))
    assert target_row(app, args["id"]).approved_by_id == team.head.id


def test_admins_set_any_target_business_support_reads_them(factory, team):
    admin = Phone(factory, team.admin)
    args = admin.target(user_id=str(team.other_rep.id))
    assert admin.applied("target.save", args)["server"]["status"] == "active"
    ops = Phone(factory, factory.user("ops"))
    assert [i["id"] for i in ok(ops.get(TARGETS))["items"]] == [args["id"]]
    ops.pull()
    assert ops.has("target", args["id"])
    # an unknown user is not found
    admin.rejected("target.save", admin.target(user_id=str(__import__("uuid").uuid4())), "not_found")
