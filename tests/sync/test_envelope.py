"""HTTP errors of the push and pull envelopes (SPEC §12: 400, 401, 409, 413, 426)."""
from __future__ import annotations

import io
import json
import uuid

from sync_helpers import PULL, PUSH, Device, count, customer_args, error_of, mutation, numbered, ok, statuses

from server.customers.models import Customer
from server.sync_api.models import SyncClient


def test_another_users_client_id_is_refused(factory, db_ctx):
    department = factory.department()
    alice = factory.user("rep", department=department)
    bob = factory.user("rep", department=department)
    mine = Device(factory, alice)
    assert statuses(ok(mine.push_raw(numbered(1, [("customer.create", customer_args(factory))])))) == [(1, "applied")]
    customers = count(db_ctx, Customer)

    theirs = Device(factory, bob, client_id=mine.client_id)
    error = error_of(theirs.push_raw(numbered(2, [("customer.create", customer_args(factory))])),
                     409, "client_user_mismatch")
    assert error["details"]["client_id"] == mine.client_id
    error_of(theirs.pull_raw(), 409, "client_user_mismatch")
    assert count(db_ctx, Customer) == customers
    with db_ctx() as session:
        row = session.get(SyncClient, mine.client_id)
        assert row.user_id == alice.id and row.last_mutation_id == 1
    # the owner of the install is not disturbed
    assert ok(mine.pull_raw())["last_mutation_id"] == 1


def test_malformed_bodies_are_400(factory):
    rep = factory.user("rep")
    device = Device(factory, rep)
    client, headers = device.client, device.headers
    for url in (PUSH, PULL):
        error_of(client.post(url, data="{not json", headers={**headers, "Content-Type": "application/json"}),
                 400, "malformed_request")
        error_of(client.post(url, json=[1, 2], headers=headers), 400, "malformed_request")
        error_of(client.post(url, json={"client_id": "not-a-uuid", "schema_version": 1, "mutations": []},
                             headers=headers), 400, "malformed_request")
        error_of(client.post(url, json={"client_id": device.client_id, "mutations": []}, headers=headers),
                 400, "malformed_request")
    error_of(client.post(PUSH, json={"client_id": device.client_id, "schema_version": 1, "mutations": {}},
                         headers=headers), 400, "malformed_request")
    error_of(device.push_raw([{"id": 0, "name": "customer.create", "args": {}}]), 400, "malformed_request")
    error_of(device.push_raw([{"id": 1, "name": "", "args": {}}]), 400, "malformed_request")
    error_of(device.push_raw([{"id": 1, "name": "customer.create", "args": []}]), 400, "malformed_request")
    error_of(client.post(PULL, json={"client_id": device.client_id, "schema_version": 1, "cookie": 5},
                         headers=headers), 400, "malformed_request")
    error_of(client.post(PULL, json={"client_id": device.client_id, "schema_version": 1, "limit": 0},
                         headers=headers), 400, "malformed_request")


def test_non_consecutive_ids_in_a_batch_are_400_and_nothing_is_processed(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    customers = count(db_ctx, Customer)
    batch = [mutation(1, "customer.create", customer_args(factory)),
             mutation(3, "customer.create", customer_args(factory))]
    error = error_of(device.push_raw(batch), 400, "malformed_request")
    assert error["details"]["index"] == 1
    error_of(device.push_raw([mutation(2, "customer.create", customer_args(factory)),
                              mutation(1, "customer.create", customer_args(factory))]), 400, "malformed_request")
    assert count(db_ctx, Customer) == customers
    assert ok(device.pull_raw())["last_mutation_id"] == 0


def test_too_many_mutations_is_413(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    customers = count(db_ctx, Customer)
    batch = [mutation(i, "customer.create", customer_args(factory)) for i in range(2, 503)]
    error = error_of(device.push_raw(batch), 413, "payload_too_large")
    assert error["details"]["limit_mutations"] == 500
    assert count(db_ctx, Customer) == customers
    # 500 pass the envelope (here they start after a gap, so the server answers without work)
    answer = ok(device.push_raw(batch[:500]))
    assert answer["last_mutation_id"] == 0 and answer["results"] == []
    assert count(db_ctx, Customer) == customers


def test_body_over_5_mb_is_413(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    customers = count(db_ctx, Customer)
    big = customer_args(factory, notes="备" * 4000)
    body = {"client_id": device.client_id, "schema_version": 1,
            "mutations": [mutation(i, "customer.create", {**big, "name": f"大客户{i}号有限公司"})
                          for i in range(1, 501)]}
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert len(raw) > 5 * 1024 * 1024
    response = device.client.post(PUSH, data=raw, headers={**device.headers, "Content-Type": "application/json"})
    error = error_of(response, 413, "payload_too_large")
    assert error["details"]["limit_bytes"] == 5 * 1024 * 1024
    assert count(db_ctx, Customer) == customers


def test_chunked_body_over_5_mb_is_413_too(factory, db_ctx):
    """Without a Content-Length (chunked upload) the limit holds all the same."""
    rep = factory.user("rep")
    device = Device(factory, rep)
    owned = customer_args(factory)
    assert statuses(ok(device.push_raw([mutation(1, "customer.create", owned)]))) == [(1, "applied")]
    body = {"client_id": device.client_id, "schema_version": 1,
            "mutations": [mutation(i, "customer.update", {"id": owned["id"], "base_version": 0,
                                                          "changes": {"notes": f"{i}" + "长" * 4000}})
                          for i in range(2, 502)]}
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert len(raw) > 5 * 1024 * 1024
    response = device.client.post(PUSH, input_stream=io.BytesIO(raw),
                                   headers={**device.headers, "Content-Type": "application/json",
                                            "Transfer-Encoding": "chunked"},
                                   environ_overrides={"wsgi.input_terminated": True})
    error_of(response, 413, "payload_too_large")
    assert ok(device.pull_raw())["last_mutation_id"] == 1
    with db_ctx() as session:
        assert session.get(Customer, uuid.UUID(owned["id"])).notes is None


def test_schema_versions_current_and_previous_accepted_older_is_426(factory, db_ctx):
    rep = factory.user("rep")
    device = Device(factory, rep)
    error = error_of(device.push_raw(numbered(1, [("customer.create", customer_args(factory))]), schema_version=-1),
                     426, "upgrade_required")
    assert 0 in error["details"]["accepted"] and 1 in error["details"]["accepted"]
    error_of(device.client.post(PULL, json={"client_id": device.client_id, "schema_version": -1, "cookie": None},
                                headers=device.headers), 426, "upgrade_required")
    assert ok(device.pull_raw())["last_mutation_id"] == 0

    previous = ok(device.push_raw(numbered(1, [("customer.create", customer_args(factory))]), schema_version=0))
    assert statuses(previous) == [(1, "applied")]
    page = ok(device.client.post(PULL, json={"client_id": device.client_id, "schema_version": 0, "cookie": None},
                                 headers=device.headers))
    assert page["last_mutation_id"] == 1
    current = ok(device.push_raw(numbered(2, [("customer.create", customer_args(factory))]), schema_version=1))
    assert statuses(current) == [(2, "applied")]


def test_deactivated_user_gets_401_on_the_next_request(factory, db_ctx):
    from server.extensions import db
    from server.org.models import User
    from server.org.service import update_user

    rep = factory.user("rep")
    device = Device(factory, rep)
    assert statuses(ok(device.push_raw(numbered(1, [("customer.create", customer_args(factory))])))) == [(1, "applied")]
    ok(device.pull_raw())
    customers = count(db_ctx, Customer)

    with factory.ctx():
        update_user(db.session.get(User, rep.id), {"active": False})

    error = error_of(device.push_raw(numbered(2, [("customer.create", customer_args(factory))])), 401,
                     "account_inactive")
    assert error
    error_of(device.pull_raw(), 401, "account_inactive")
    assert count(db_ctx, Customer) == customers
