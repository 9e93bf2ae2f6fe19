"""Concurrent writers and a puller looping meanwhile lose nothing (SPEC §12: one global counter).

Real threads, real commits (`fresh_app`), each thread with its own test client, so the pushes
and pulls run in separate transactions exactly as under gunicorn. On PostgreSQL the writers
truly overlap; SQLite serializes them, which must work all the same.
"""
from __future__ import annotations

import os
import random
import threading
import time

import pytest
from sqlalchemy import select
from sync_helpers import Device, new_id

BACKEND = os.environ.get("FIELDCRM_TEST_DB", "sqlite")

WRITERS = 4
CUSTOMERS_PER_WRITER = 16  # each with a contact; ~40 mutations per writer with the updates
BATCH = 4


def _writer_specs(factory, writer_no):
    """create / update / contact.update interleaved, ~40 mutations."""
    specs = []
    created = []
    for i in range(CUSTOMERS_PER_WRITER):
        contact_id = new_id()
        args = factory.customer_args(id=new_id(), name=f"并发{writer_no}号写手{i:02d}号客户有限公司",
                                     contacts=[{"id": contact_id, "name": f"联系人{writer_no}-{i}"}])
        specs.append(("customer.create", args))
        created.append((args["id"], contact_id))
        target, target_contact = created[(i * 7) % len(created)]
        specs.append(("customer.update", {"id": target, "base_version": 0, "changes": {"notes": f"第{i}次更新"}}))
        if i % 2:
            specs.append(("contact.update", {"id": target_contact, "base_version": 0,
                                             "changes": {"title": f"职位{i}"}}))
    return specs, created


def _slow_commits(monkeypatch):
    """Writers dawdle between taking their version and committing (audit is written after the
    rows are flushed), so that commits land out of version order if the counter allowed it."""
    from server.common import audit

    real = audit.record

    def dawdling(*args, **kwargs):
        entry = real(*args, **kwargs)
        time.sleep(random.uniform(0, 0.012))
        return entry

    monkeypatch.setattr(audit, "record", dawdling)


def _run_concurrently(app, factory_class, monkeypatch):
    factory = factory_class(app)
    department = factory.department("并发同步部", line="KA")
    manager = factory.user("manager", department=department)
    reps = [factory.user("rep", department=department) for _ in range(WRITERS)]
    writers = [Device(factory, rep) for rep in reps]
    puller = Device(factory, manager)
    plans = [_writer_specs(factory, n) for n in range(WRITERS)]
    _slow_commits(monkeypatch)

    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()
    start = threading.Barrier(WRITERS + 1)
    puller_pages = []

    def write(device, specs):
        try:
            start.wait(timeout=30)
            for offset in range(0, len(specs), BATCH):
                for name, args in specs[offset:offset + BATCH]:
                    device.queue(name, args)
                answer = device.push()
                assert all(r["status"] == "applied" for r in answer["results"]), answer
                assert device.outbox == []
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)

    def pull_meanwhile():
        try:
            start.wait(timeout=30)
            # at least 3 pages even when the writers finish first on a busy machine
            while writing.is_set() or len(puller_pages) < 3:
                puller_pages.append(puller.pull_page(limit=50))
                time.sleep(0.001)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w, plan[0])) for w, plan in zip(writers, plans)]
    reader = threading.Thread(target=pull_meanwhile)
    for thread in threads + [reader]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writing.clear()
    reader.join(timeout=60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads + [reader])
    return factory, manager, puller, plans, puller_pages


def _check(app, factory, manager, puller, plans, puller_pages):
    assert len(puller_pages) >= 3, "the puller should have pulled while the writers wrote"
    # catch up: until there is nothing more and an empty patch
    for _ in range(200):
        page = puller.pull_page(limit=50)
        if not page["has_more"] and page["patch"] == []:
            break
    else:
        raise AssertionError("the puller never caught up")

    # a fresh full pull of the same user gives exactly the state the puller accumulated
    fresh = Device(factory, manager, headers=puller.headers)
    fresh.sync(limit=50)
    assert fresh.state.keys() == puller.state.keys()
    differing = [key for key in fresh.state if fresh.state[key] != puller.state[key]]
    assert differing == [], [(k, puller.state[k]["version"], fresh.state[k]["version"]) for k in differing[:5]]

    # and that state is the database: every customer and contact written, at its last version
    from server.customers.models import Contact, Customer
    from server.extensions import db

    with app.app_context():
        customers = {str(i): v for i, v in db.session.execute(select(Customer.id, Customer.version))}
        contacts = {str(i): v for i, v in db.session.execute(select(Contact.id, Contact.version))}
        notes = {str(i): n for i, n in db.session.execute(select(Customer.id, Customer.notes))}
    expected_customers = {cid for _specs, created in plans for cid, _ in created}
    expected_contacts = {contact for _specs, created in plans for _, contact in created}
    assert set(customers) == expected_customers
    assert {k[1]: v["version"] for k, v in puller.state.items() if k[0] == "customer"} == customers
    assert {k[1]: v["version"] for k, v in puller.state.items() if k[0] == "contact"} == contacts
    assert set(contacts) == expected_contacts
    assert all(puller.data("customer", cid)["notes"] == notes[cid] for cid in customers)


@pytest.mark.postgres_only
def test_concurrent_writers_and_a_looping_puller_lose_nothing_postgresql(fresh_app, factory, monkeypatch):
    app = fresh_app()
    _check(app, *_run_concurrently(app, type(factory), monkeypatch))


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite leg; PostgreSQL runs the postgres_only twin")
def test_concurrent_writers_and_a_looping_puller_lose_nothing_sqlite(fresh_app, factory, monkeypatch):
    app = fresh_app()
    _check(app, *_run_concurrently(app, type(factory), monkeypatch))
