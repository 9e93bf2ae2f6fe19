"""Push applies every mutation exactly once, in order, whatever the network does (SPEC §12 Push)."""
from __future__ import annotations

import uuid

from sync_helpers import Device, count, customer_args, error_of, new_id, numbered, ok, statuses

from server.common.audit import AuditEntry
from server.common.db import SYNC_VERSION, current_value
from server.common.history import FieldChange
from server.customers.models import Contact, Customer
from server.sync_api.models import SyncRejection, SyncResult


def _ids(*values):
    return [uuid.UUID(v) for v in values]


def _current_version(db_ctx) -> int:
    """The global version counter (SPEC §12: one counter for every write)."""
    with db_ctx() as session:
        return current_value(session, SYNC_VERSION)


def _counts(db_ctx, client_id):
    return {
        "customers": count(db_ctx, Customer),
        "contacts": count(db_ctx, Contact),
        "audit": count(db_ctx, AuditEntry),
        "field_changes": count(db_ctx, FieldChange),
        "results": count(db_ctx, SyncResult, SyncResult.client_id == client_id),
        "rejections": count(db_ctx, SyncRejection, SyncRejection.client_id == client_id),
    }


def _batch(factory):
    """customer.create with a contact, contact.create, customer.update: three related writes."""
    create = customer_args(factory, contacts=[{"name": "张宏", "mobile": "13800001234"}])
    contact_id = new_id()
    return create, contact_id, numbered(1, [
        ("customer.create", create),
        ("contact.create", {"id": contact_id, "customer_id": create["id"], "name": "李娜", "mobile": "13900002222"}),
        ("customer.update", {"id": create["id"], "base_version": 0, "changes": {"notes": "首次拜访"}}),
    ])


def test_same_batch_twice_creates_nothing_twice(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    create, contact_id, batch = _batch(factory)
    before = _counts(db_ctx, device.client_id)

    first = ok(device.push_raw(batch))
    assert statuses(first) == [(1, "applied"), (2, "applied"), (3, "applied")], first
    assert first["last_mutation_id"] == 3
    after_first = _counts(db_ctx, device.client_id)
    assert after_first["customers"] == before["customers"] + 1
    assert after_first["contacts"] == before["contacts"] + 2
    assert after_first["results"] == 3

    second = ok(device.push_raw(batch))
    assert statuses(second) == [(1, "replayed"), (2, "replayed"), (3, "replayed")], second
    assert second["last_mutation_id"] == 3
    # the stored result comes back: same version, same customer code
    for old, again in zip(first["results"], second["results"]):
        assert again["server"] == old["server"]
    assert second["results"][0]["server"]["code"].startswith("C")
    # nothing was created, audited or changed a second time
    assert _counts(db_ctx, device.client_id) == after_first
    assert count(db_ctx, Customer, Customer.id == uuid.UUID(create["id"])) == 1
    assert count(db_ctx, Contact, Contact.id.in_(_ids(contact_id, create["contacts"][0]["id"]))) == 2


def test_lost_answer_then_retry_with_new_mutations(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    specs = [("customer.create", customer_args(factory, contacts=[{"name": f"联系人{i}"}])) for i in range(4)]
    start = _counts(db_ctx, device.client_id)

    lost = ok(device.push_raw(numbered(1, specs[:2])))  # the phone never sees this answer
    assert statuses(lost) == [(1, "applied"), (2, "applied")]

    retry = ok(device.push_raw(numbered(1, specs)))  # so it sends 1, 2 again with 3, 4 queued since
    assert statuses(retry) == [(1, "replayed"), (2, "replayed"), (3, "applied"), (4, "applied")], retry
    assert retry["last_mutation_id"] == 4
    assert [r["server"] for r in retry["results"][:2]] == [r["server"] for r in lost["results"]]
    codes = [r["server"]["code"] for r in retry["results"]]
    assert len(set(codes)) == 4
    now = _counts(db_ctx, device.client_id)
    assert now["customers"] == start["customers"] + 4
    assert now["contacts"] == start["contacts"] + 4
    assert now["results"] == 4
    for _name, args in specs:
        assert count(db_ctx, Customer, Customer.id == uuid.UUID(args["id"])) == 1


def test_gap_processes_nothing_then_resend_from_the_gap(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    specs = [("customer.create", customer_args(factory)) for _ in range(5)]
    assert statuses(ok(device.push_raw(numbered(1, specs[:2])))) == [(1, "applied"), (2, "applied")]
    customers = count(db_ctx, Customer)

    gap = ok(device.push_raw(numbered(4, specs[3:])))  # mutation 3 went missing
    assert gap["last_mutation_id"] == 2
    assert gap["results"] == []
    assert count(db_ctx, Customer) == customers
    assert count(db_ctx, Customer, Customer.id.in_(_ids(specs[3][1]["id"], specs[4][1]["id"]))) == 0

    resent = ok(device.push_raw(numbered(3, specs[2:])))
    assert statuses(resent) == [(3, "applied"), (4, "applied"), (5, "applied")], resent
    assert resent["last_mutation_id"] == 5
    assert count(db_ctx, Customer) == customers + 3
    assert count(db_ctx, SyncResult, SyncResult.client_id == device.client_id) == 5


def test_worker_dies_mid_batch_then_retry_loses_and_doubles_nothing(factory, db_ctx, monkeypatch):
    from server.customers import service

    rep = factory.user("rep")
    device = Device(factory, rep)
    first, second = customer_args(factory), customer_args(factory)
    c1, c2, c3 = new_id(), new_id(), new_id()
    batch = numbered(1, [
        ("customer.create", first),
        ("contact.create", {"id": c1, "customer_id": first["id"], "name": "甲"}),
        ("contact.create", {"id": c2, "customer_id": first["id"], "name": "乙"}),
        ("customer.create", second),
        ("contact.create", {"id": c3, "customer_id": second["id"], "name": "丙"}),
    ])
    customers, contacts = count(db_ctx, Customer), count(db_ctx, Contact)
    versions = _current_version(db_ctx)

    real = service.create_contact
    calls = []

    def dying(customer, args, actor):
        calls.append(str(args.get("id")))
        if str(args.get("id")) == c2:
            real(customer, args, actor)  # it even wrote something before dying
            raise RuntimeError("worker killed")
        return real(customer, args, actor)

    monkeypatch.setattr(service, "create_contact", dying)
    answer = device.push_raw(batch)
    error = error_of(answer, 503, "unavailable")
    assert error["details"]["last_mutation_id"] == 2
    assert [(r["id"], r["status"]) for r in error["details"]["results"]] == [(1, "applied"), (2, "applied")]
    # exactly the first two mutations' effects, nothing of the third (nor of 4 and 5)
    assert count(db_ctx, Customer) == customers + 1
    assert count(db_ctx, Contact) == contacts + 1
    assert count(db_ctx, Contact, Contact.id == uuid.UUID(c1)) == 1
    assert count(db_ctx, Contact, Contact.id.in_(_ids(c2, c3))) == 0
    assert count(db_ctx, Customer, Customer.id == uuid.UUID(second["id"])) == 0
    assert count(db_ctx, SyncResult, SyncResult.client_id == device.client_id) == 2
    assert count(db_ctx, SyncRejection, SyncRejection.client_id == device.client_id) == 0
    # the third mutation's counter bump was rolled back with it
    assert _current_version(db_ctx) == versions + 2
    assert ok(device.pull_raw())["last_mutation_id"] == 2

    monkeypatch.setattr(service, "create_contact", real)
    retry = ok(device.push_raw(batch))
    assert statuses(retry) == [(1, "replayed"), (2, "replayed"), (3, "applied"), (4, "applied"),
                               (5, "applied")], retry
    assert retry["last_mutation_id"] == 5
    assert count(db_ctx, Customer) == customers + 2
    assert count(db_ctx, Contact) == contacts + 3
    for contact_id in (c1, c2, c3):
        assert count(db_ctx, Contact, Contact.id == uuid.UUID(contact_id)) == 1


def test_every_write_takes_a_strictly_increasing_global_version(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    device.sync()
    create = customer_args(factory, contacts=[{"name": "张宏"}])
    created = device.send("customer.create", create)
    v1 = created["server"]["version"]
    assert v1 == _current_version(db_ctx)  # the counter hands out the version
    with db_ctx() as session:
        customer = session.get(Customer, uuid.UUID(create["id"]))
        contact = session.get(Contact, uuid.UUID(create["contacts"][0]["id"]))
        # one transaction, one version for everything it wrote
        assert customer.version == contact.version == v1

    # two mutations of one batch are two transactions: strictly increasing versions
    device.queue("customer.update", {"id": create["id"], "base_version": v1, "changes": {"notes": "a"}})
    device.queue("customer.update", {"id": create["id"], "base_version": v1, "changes": {"website": "https://a.example"}})
    answer = device.push()
    v2, v3 = (r["server"]["version"] for r in answer["results"])
    assert v1 < v2 < v3 == _current_version(db_ctx)

    # the cookie taken before a write sees it on the next pull, with the written version
    patch = device.patch()
    customers = {o["id"]: o for o in patch if o["entity"] == "customer"}
    assert customers[create["id"]]["version"] == v3
    assert customers[create["id"]]["data"]["notes"] == "a"
    assert customers[create["id"]]["data"]["website"] == "https://a.example"
    assert device.has("contact", create["contacts"][0]["id"])
    # and nothing more afterwards
    assert device.patch() == []


def test_an_empty_push_answers_the_clients_real_last_mutation_id(factory):
    """A phone may push an empty outbox to learn where the server stands."""
    rep = factory.user("rep")
    device = Device(factory, rep)
    assert ok(device.push_raw([]))["last_mutation_id"] == 0
    ok(device.push_raw(numbered(1, [("customer.create", customer_args(factory)),
                                    ("customer.create", customer_args(factory))])))
    empty = ok(device.push_raw([]))
    assert empty["last_mutation_id"] == 2 and empty["results"] == []


def test_an_unknown_mutation_is_rejected_and_the_queue_moves_on(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    create = customer_args(factory)
    answer = ok(device.push_raw(numbered(1, [("customer.teleport", {"customer_id": create["id"]}),
                                             ("customer.create", create)])))
    assert statuses(answer) == [(1, "rejected"), (2, "applied")]
    assert answer["results"][0]["error"]["code"] == "validation_failed"
    device.sync()
    assert [(r["mutation_id"], r["name"]) for r in device.rejections] == [(1, "customer.teleport")]
