"""A pull's `last_mutation_id` only names mutations whose effects the pull contains.

The phone drops every mutation up to a pull's `last_mutation_id` from its outbox when the pull
run ends (its view is then the server's copy). So that id must be read before the run fixes
its version cut-off: a push landing between the two must not be acknowledged by a pull that
cannot contain its effects, or the rep's record would vanish from the phone until the next pull.
"""
from __future__ import annotations

from sync_helpers import Device, customer_args

from server.sync_api.service import SqlPullPort


def test_a_push_landing_while_a_pull_starts_is_not_acknowledged_by_that_pull(factory, monkeypatch):
    rep = factory.user("rep")
    phone = Device(factory, rep)
    created = customer_args(factory)
    assert phone.send("customer.create", created)["status"] == "applied"
    phone.sync()

    # The push of mutation 2 commits right after the pull fixed its cut-off: the race, made
    # deterministic by pushing from inside the port's version read.
    fix_upto = SqlPullPort.current_version

    def cut_off_then_a_push_lands(port):
        upto = fix_upto(port)
        monkeypatch.setattr(SqlPullPort, "current_version", fix_upto)
        update = {"id": created["id"], "base_version": 0, "changes": {"notes": "门卫说下周二再来"}}
        assert phone.send("customer.update", update)["status"] == "applied"
        return upto

    monkeypatch.setattr(SqlPullPort, "current_version", cut_off_then_a_push_lands)
    page = phone.pull_raw(phone.cookie).get_json()
    assert not [op for op in page["patch"] if op["id"] == created["id"]]  # the change is after the cut-off …
    assert page["last_mutation_id"] == 1                                # … so it is not acknowledged yet

    # The next pull brings the change and acknowledges mutation 2 with it.
    again = phone.pull_raw(page["cookie"]).get_json()
    [put] = [op for op in again["patch"] if op["id"] == created["id"]]
    assert put["data"]["notes"] == "门卫说下周二再来"
    assert again["last_mutation_id"] == 2


def test_every_page_of_a_paged_run_reports_the_id_read_at_its_start(factory):
    rep = factory.user("rep")
    phone = Device(factory, rep)
    for _ in range(3):
        phone.queue("customer.create", customer_args(factory))
    phone.push()
    first = phone.pull_raw(limit=2).get_json()
    assert first["has_more"] and first["last_mutation_id"] == 3
    # a push between pages: the run's cut-off was fixed before it, so pages keep saying 3
    assert phone.send("customer.create", customer_args(factory))["status"] == "applied"
    page = first
    while page["has_more"]:
        page = phone.pull_raw(page["cookie"], limit=2).get_json()
        assert page["last_mutation_id"] == 3
    assert phone.pull_raw(page["cookie"]).get_json()["last_mutation_id"] == 4
