"""The pull cookie: lost answers are retried safely, stale or foreign cookies reset (SPEC §12 Pull)."""
from __future__ import annotations

from sync_helpers import Device, customer_args, ok


def _keys(patch, op=None):
    return {(o["op"], o["entity"], o["id"]) for o in patch if op is None or o["op"] == op}


def _setup(factory):
    department = factory.department()
    rep = factory.user("rep", department=department)
    colleague = factory.user("rep", department=department)
    rep_device, colleague_device = Device(factory, rep), Device(factory, colleague)
    mine = customer_args(factory, contacts=[{"name": "张宏"}])
    theirs = customer_args(factory, contacts=[{"name": "李娜"}])
    assert rep_device.send("customer.create", mine)["status"] == "applied"
    colleague_device.queue("customer.create", theirs)
    colleague_device.queue("cofollower.add", {"customer_id": theirs["id"], "user_id": str(rep.id),
                                              "permission": "read"})
    colleague_device.push()
    return rep_device, colleague_device, mine, theirs


def test_a_lost_pull_answer_is_pulled_again_with_the_old_cookie(factory):
    rep_device, colleague_device, mine, theirs = _setup(factory)
    rep_device.sync()
    assert rep_device.has("customer", theirs["id"])
    before = rep_device.cookie

    assert rep_device.send("customer.update", {"id": mine["id"], "base_version": 0,
                                               "changes": {"notes": "新备注"}})["status"] == "applied"
    assert colleague_device.send("cofollower.remove", {"customer_id": theirs["id"],
                                                       "user_id": str(rep_device.user.id)})["status"] == "applied"
    lost = ok(rep_device.pull_raw(before))  # the phone never sees this answer
    expected = {("put", "customer", mine["id"]), ("del", "customer", theirs["id"]),
                ("del", "contact", theirs["contacts"][0]["id"])}
    assert expected <= _keys(lost["patch"])

    again = ok(rep_device.pull_raw(before))
    assert _keys(again["patch"]) == _keys(lost["patch"])
    assert again["reset"] is False and again["has_more"] is False
    rep_device.apply(again)
    assert not rep_device.has("customer", theirs["id"])
    assert rep_device.data("customer", mine["id"])["notes"] == "新备注"
    # and from either answer's cookie, nothing more
    assert ok(rep_device.pull_raw(lost["cookie"]))["patch"] == []
    assert ok(rep_device.pull_raw(again["cookie"]))["patch"] == []


def test_an_old_foreign_or_damaged_cookie_gets_the_whole_set(factory):
    rep_device, colleague_device, mine, theirs = _setup(factory)
    first = rep_device.sync()[-1]["cookie"]
    everything = set(rep_device.state)
    for _ in range(4):  # more pull runs than the server keeps snapshots for
        rep_device.sync()

    for cookie in (first, colleague_device.sync()[-1]["cookie"], "garbage", first[:-3] + "abc"):
        page = ok(rep_device.pull_raw(cookie))
        assert page["reset"] is True, cookie
        assert not page["has_more"]
        assert {(o["entity"], o["id"]) for o in page["patch"]} == everything
        assert all(o["op"] == "put" for o in page["patch"])


def test_a_lost_page_mid_run_is_served_again(factory):
    department = factory.department()
    rep = factory.user("rep", department=department)
    for _ in range(12):
        factory.customer(rep, contacts=[{"name": "甲"}])
    device = Device(factory, rep)
    first = device.pull_page(limit=10)
    assert first["has_more"] and first["reset"]
    cookie = device.cookie
    second = ok(device.pull_raw(cookie, limit=10))
    second_again = ok(device.pull_raw(cookie, limit=10))
    assert second["patch"] == second_again["patch"]
    assert second["reset"] is False and second_again["reset"] is False
    device.apply(second_again)
    rest = device.sync(limit=10)
    seen = [(o["entity"], o["id"]) for o in first["patch"] + second["patch"]
            + [o for p in rest for o in p["patch"]]]
    assert len(seen) == len(set(seen))
    assert sum(1 for e, _ in seen if e == "customer") == 12
    assert sum(1 for e, _ in seen if e == "contact") == 12
