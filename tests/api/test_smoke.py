def test_rep_creates_customer_and_sees_it(client, factory):
    rep = factory.user("rep")
    h = factory.headers(rep)
    r = client.post("/api/v1/customers", json=factory.customer_args(), headers=h)
    assert r.status_code == 201, r.json
    assert r.json["code"].startswith("C")
    assert client.get(f"/api/v1/customers/{r.json['id']}", headers=h).status_code == 200
