"""The one error envelope for every failure, and the API documents (SPEC §13)."""
from __future__ import annotations

import json

from api_helpers import error_of


def test_malformed_json_is_400_malformed_request(client, factory):
    r = client.post("/api/v1/auth/login", data='{"username": "x", "password": ', content_type="application/json")
    error_of(r, 400, "malformed_request")
    rep = factory.user("rep")
    r = client.post("/api/v1/customers", data="{not json", content_type="application/json",
                    headers=factory.headers(rep))
    error_of(r, 400, "malformed_request")


def test_a_json_body_that_is_not_an_object_is_refused(client, factory):
    rep = factory.user("rep")
    r = client.post("/api/v1/customers", json=["a", "list"], headers=factory.headers(rep))
    error_of(r, 422, "validation_failed")


def test_unknown_api_route_is_404_not_found(client):
    error_of(client.get("/api/v1/no-such-thing"), 404, "not_found")
    error_of(client.get("/api/v2/customers"), 404, "not_found")


def test_unknown_id_format_is_404(client, factory):
    rep = factory.user("rep")
    error_of(client.get("/api/v1/customers/not-a-uuid", headers=factory.headers(rep)), 404, "not_found")


def test_wrong_method_is_405(client, factory):
    rep = factory.user("rep")
    error_of(client.delete("/api/v1/me", headers=factory.headers(rep)), 405, "method_not_allowed")
    error_of(client.put("/api/v1/customers", json={}, headers=factory.headers(rep)), 405, "method_not_allowed")


def test_body_over_the_limit_is_413(fresh_app):
    app = fresh_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    big = json.dumps({"username": "x" * 2000, "password": "y"})
    error_of(client.post("/api/v1/auth/login", data=big, content_type="application/json"), 413, "payload_too_large")
    # A body under the limit is handled normally.
    error_of(client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}), 401, "invalid_credentials")


def test_missing_token_is_401_unauthenticated(client):
    error_of(client.get("/api/v1/customers"), 401, "unauthenticated")
    error_of(client.get("/api/v1/admin/settings"), 401, "unauthenticated")


def test_wrong_authorization_scheme_is_401(client, factory):
    rep = factory.user("rep")
    token = factory.login(rep)["access_token"]
    error_of(client.get("/api/v1/me", headers={"Authorization": f"Token {token}"}), 401, "unauthenticated")


def test_validation_errors_name_the_fields(client, factory):
    admin = factory.user("admin")
    r = client.post("/api/v1/admin/users", json={"username": "a b", "role": "rep"}, headers=factory.headers(admin))
    error = error_of(r, 422, "validation_failed")
    assert {"username", "password", "display_name", "department_id"} <= set(error["details"]["fields"])


def test_unexpected_exception_is_500_without_internals(client, factory, monkeypatch):
    from server.settings import service

    def explode():
        raise RuntimeError("secret-internal-detail: connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(service, "industries", explode)
    rep = factory.user("rep")
    r = client.get("/api/v1/industries", headers=factory.headers(rep))
    error = error_of(r, 500, "internal_error")
    text = r.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "secret-internal-detail", "hunter2", "File \"", ".py"):
        assert leak not in text, leak
    assert error["details"] == {}


def test_unexpected_exception_rolls_back_the_request(client, factory, monkeypatch, db_ctx):
    """A request that fails half-way leaves nothing behind."""
    from sqlalchemy import func, select

    from server.customers import service
    from server.customers.models import Customer

    original = service.create_contact

    def fail_on_contact(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "create_contact", fail_on_contact)
    rep = factory.user("rep")
    body = factory.customer_args(contacts=[{"name": "某人"}])
    error_of(client.post("/api/v1/customers", json=body, headers=factory.headers(rep)), 500, "internal_error")
    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name == body["name"])) == 0


def test_openapi_document_lists_the_paths(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    for path in ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/me",
                 "/api/v1/admin/departments", "/api/v1/admin/users", "/api/v1/admin/users/{user_id}",
                 "/api/v1/admin/settings", "/api/v1/industries", "/api/v1/customers",
                 "/api/v1/customers/{customer_id}", "/api/v1/customers/{customer_id}/contacts"):
        assert path in paths, path
    assert "post" in doc["paths"]["/api/v1/customers"]


def test_interactive_docs_answer_html(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert "swagger" in r.get_data(as_text=True).lower()
