import uuid


def push(client, headers, client_id, mutations, schema_version=1):
    return client.post("/api/v1/sync/push", json={"client_id": client_id, "schema_version": schema_version,
                                                  "mutations": mutations}, headers=headers)


def pull(client, headers, client_id, cookie=None, limit=2000):
    return client.post("/api/v1/sync/pull", json={"client_id": client_id, "schema_version": 1,
                                                  "cookie": cookie, "limit": limit}, headers=headers)


def test_push_then_pull_roundtrip(client, factory):
    rep = factory.user("rep")
    h = factory.headers(rep)
    cid = str(uuid.uuid4())
    customer_id = str(uuid.uuid4())
    contact_id = str(uuid.uuid4())
    args = factory.customer_args(id=customer_id, contacts=[{"id": contact_id, "name": "张宏", "mobile": "13800001234"}])
    r = push(client, h, cid, [{"id": 1, "name": "customer.create", "args": args}])
    assert r.status_code == 200, r.json
    assert r.json["results"][0]["status"] == "applied", r.json
    r2 = push(client, h, cid, [{"id": 1, "name": "customer.create", "args": args}])
    assert r2.json["results"][0]["status"] == "replayed"
    p = pull(client, h, cid)
    assert p.status_code == 200, p.json
    kinds = {(op["entity"], op["id"]) for op in p.json["patch"]}
    assert ("customer", customer_id) in kinds and ("contact", contact_id) in kinds
    assert p.json["reset"] is True and p.json["last_mutation_id"] == 1
    p2 = pull(client, h, cid, p.json["cookie"])
    assert p2.json["patch"] == [] and p2.json["reset"] is False
    r3 = push(client, h, cid, [{"id": 2, "name": "customer.update",
                                "args": {"id": customer_id, "base_version": 0, "changes": {"notes": "hello"}}}])
    assert r3.json["results"][0]["status"] == "applied", r3.json
    p3 = pull(client, h, cid, p2.json["cookie"])
    assert [op["entity"] for op in p3.json["patch"]] == ["customer"]
    assert p3.json["patch"][0]["data"]["notes"] == "hello"
