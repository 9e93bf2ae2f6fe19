"""Who may call what: one table, role x endpoint -> status.

`PERMISSIONS` is a module-level list so every later feature adds its endpoints here; the
coverage test at the bottom fails when an /api/v1 endpoint exists that the table does not name.

The world: department 华东KA一部 with `owner` (a rep owning the customer), `rep` (another rep of the
same department), and `manager` (its manager); `ops` and `admin` sit in departments of their own.
Every role listed in an entry is checked against exactly the status given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pytest
from api_helpers import bearer, error_of
from conftest import TEST_PASSWORD

ROLES = ("anonymous", "rep", "manager", "ops", "admin")  # every entry names these; `owner` is optional
ERROR_CODES = {401: "unauthenticated", 403: "not_authorized", 404: "not_found", 415: "unsupported_media_type",
               422: "not_flagged"}


@dataclass
class World:
    factory: object
    department: object
    users: dict
    customer: object
    target_user: object


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # placeholders: {customer} {user} {department} {report} (a report key)
    expect: dict[str, int]
    body: Callable[[World], dict] | None = None
    token: str = "access"  # which of the role's tokens is sent: access | refresh
    note: str = ""


def _new_department(w: World) -> dict:
    return {"name": "新部门", "parent_id": str(w.department.id)}


def _new_user(w: World) -> dict:
    return {"username": "newhire", "password": "long-enough-pw", "display_name": "新同事", "role": "rep",
            "department_id": str(w.department.id)}


def _new_customer(w: World) -> dict:
    return w.factory.customer_args()


def _new_contact(_w: World) -> dict:
    return {"name": "张经理", "title": "采购总监", "mobile": "13912345678"}


def _login_body(w: World) -> dict:
    return {"username": w.users["owner"].username, "password": TEST_PASSWORD}


ADMIN_ONLY_READ = {"anonymous": 401, "rep": 403, "manager": 403, "ops": 403, "admin": 200}
EVERY_USER = {"anonymous": 401, "rep": 200, "manager": 200, "ops": 200, "admin": 200, "owner": 200}

PERMISSIONS: list[Case] = [
    # auth
    Case("POST", "/api/v1/auth/login", {r: 200 for r in ROLES}, body=_login_body,
         note="anyone may try to sign in; the bearer token is ignored"),
    Case("POST", "/api/v1/auth/refresh", EVERY_USER, token="refresh"),
    Case("POST", "/api/v1/auth/logout", {"anonymous": 401, "rep": 204, "manager": 204, "ops": 204, "admin": 204}),
    Case("GET", "/api/v1/me", EVERY_USER),
    # administration
    Case("GET", "/api/v1/admin/departments", ADMIN_ONLY_READ),
    Case("POST", "/api/v1/admin/departments", {**ADMIN_ONLY_READ, "admin": 201}, body=_new_department),
    Case("GET", "/api/v1/admin/users", ADMIN_ONLY_READ),
    Case("POST", "/api/v1/admin/users", {**ADMIN_ONLY_READ, "admin": 201}, body=_new_user),
    Case("GET", "/api/v1/admin/users/{user}", ADMIN_ONLY_READ),
    Case("PATCH", "/api/v1/admin/users/{user}", ADMIN_ONLY_READ, body=lambda w: {"display_name": "改名"}),
    Case("GET", "/api/v1/admin/settings", ADMIN_ONLY_READ),
    Case("PUT", "/api/v1/admin/settings", ADMIN_ONLY_READ, body=lambda w: {"cooldown_days": 4}),
    # reference data
    Case("GET", "/api/v1/industries", EVERY_USER),
    Case("GET", "/api/v1/health", {r: 200 for r in ROLES}, note="no authentication: load balancers and monitors"),
    # customers
    Case("GET", "/api/v1/customers", EVERY_USER),
    Case("POST", "/api/v1/customers",
         {"anonymous": 401, "rep": 201, "manager": 201, "ops": 403, "admin": 201, "owner": 201},
         body=_new_customer, note="ops review, they do not create customers"),
    Case("GET", "/api/v1/customers/{customer}",
         {"anonymous": 401, "rep": 404, "manager": 200, "ops": 200, "admin": 200, "owner": 200},
         note="a rep cannot tell another rep's customer from a missing one"),
    Case("POST", "/api/v1/customers/{customer}/contacts",
         {"anonymous": 401, "rep": 404, "manager": 403, "ops": 403, "admin": 201, "owner": 201},
         body=_new_contact, note="only the owner, a write co-follower or an admin write"),
    # transfers, void/restore, change history, hand-over, approvals (R-T1, R-C11, R-T2, R-U2, R-T3)
    Case("POST", "/api/v1/customers/transfer",
         {"anonymous": 401, "rep": 404, "manager": 200, "ops": 403, "admin": 200, "owner": 200},
         body=lambda w: {"customer_ids": [str(w.customer.id)], "to_user_id": str(w.target_user.id),
                         "reason": "工作调整"},
         note="the owner, a manager above the owner, or an admin"),
    Case("POST", "/api/v1/customers/{customer}/void",
         {"anonymous": 401, "rep": 404, "manager": 200, "ops": 403, "admin": 200, "owner": 403},
         body=lambda w: {"reason": "重复录入"}, note="reps cannot delete anything (R-C11)"),
    Case("POST", "/api/v1/customers/{customer}/restore",
         {"anonymous": 401, "rep": 404, "manager": 200, "ops": 403, "admin": 200, "owner": 403},
         body=lambda w: {"reason": "误操作"}, note="idempotent: restoring a live customer changes nothing"),
    Case("GET", "/api/v1/customers/{customer}/history",
         {"anonymous": 401, "rep": 404, "manager": 200, "ops": 200, "admin": 200, "owner": 200},
         note="whoever may see the customer"),
    Case("GET", "/api/v1/customers/handover",
         {"anonymous": 401, "rep": 403, "manager": 200, "ops": 403, "admin": 200, "owner": 403}),
    Case("GET", "/api/v1/approvals", EVERY_USER, note="each sees what they requested or decide"),
    Case("GET", "/api/v1/approvals/{customer}",
         {"anonymous": 401, "rep": 404, "manager": 404, "ops": 404, "admin": 404, "owner": 404},
         note="no such approval (the id is a customer's); tests/approvals covers real ones"),
    Case("POST", "/api/v1/approvals/{customer}/decide",
         {"anonymous": 401, "rep": 404, "manager": 404, "ops": 404, "admin": 404, "owner": 404},
         body=lambda w: {"decision": "approve"}),
    Case("GET", "/api/v1/customers/flagged",
         {"anonymous": 401, "rep": 403, "manager": 200, "ops": 403, "admin": 200, "owner": 403}),
    Case("POST", "/api/v1/customers/flagged/return",
         {"anonymous": 401, "rep": 403, "manager": 422, "ops": 403, "admin": 422, "owner": 403},
         body=lambda w: {"customer_ids": [str(w.customer.id)], "reason": "无效跟踪"},
         note="the world's customer is not flagged, so the managers' answer is not_flagged"),
    # sales pipeline (R-S1–R-S5): online reads and writes beside sync; {customer} is no pipeline id
    Case("GET", "/api/v1/pipeline/summary", EVERY_USER, note="totals over the opportunities the caller may see"),
    Case("GET", "/api/v1/pipeline/opportunities", EVERY_USER),
    Case("POST", "/api/v1/pipeline/opportunities",
         {"anonymous": 401, "rep": 404, "manager": 403, "ops": 403, "admin": 201, "owner": 201},
         body=lambda w: {"customer_id": str(w.customer.id), "name": "上云项目", "need": "扩容", "budget": "已批",
                         "timeline": "Q3"},
         note="the owner, a write co-follower or an admin (R-S2)"),
    Case("GET", "/api/v1/pipeline/opportunities/{customer}", {"anonymous": 401, **{r: 404 for r in ROLES[1:]},
                                                              "owner": 404}),
    Case("PATCH", "/api/v1/pipeline/opportunities/{customer}", {"anonymous": 401, **{r: 404 for r in ROLES[1:]},
                                                                "owner": 404},
         body=lambda w: {"changes": {"champion": "张总"}}),
    Case("POST", "/api/v1/pipeline/opportunities/{customer}/stage", {"anonymous": 401, **{r: 404 for r in ROLES[1:]},
                                                                     "owner": 404},
         body=lambda w: {"stage": "solution"}),
    Case("GET", "/api/v1/pipeline/deals", EVERY_USER),
    Case("POST", "/api/v1/pipeline/deals",
         {"anonymous": 401, "rep": 404, "manager": 403, "ops": 403, "admin": 201, "owner": 201},
         body=lambda w: {"customer_id": str(w.customer.id), "contract_no": "HT-PERM-1", "amount": 100_00}),
    Case("GET", "/api/v1/pipeline/deals/{customer}", {"anonymous": 401, **{r: 404 for r in ROLES[1:]}, "owner": 404}),
    Case("POST", "/api/v1/pipeline/deals/{customer}/sign", {"anonymous": 401, **{r: 404 for r in ROLES[1:]},
                                                            "owner": 404}, body=lambda w: {}),
    Case("GET", "/api/v1/pipeline/payments", EVERY_USER),
    Case("POST", "/api/v1/pipeline/payments", {"anonymous": 401, **{r: 404 for r in ROLES[1:]}, "owner": 404},
         body=lambda w: {"deal_id": str(w.customer.id), "amount": 100, "received_date": "2026-01-05"}),
    Case("PUT", "/api/v1/pipeline/attachments/{customer}", {"anonymous": 401, **{r: 404 for r in ROLES[1:]},
                                                            "owner": 404},
         note="not a SHA-256: the same 404 as an unknown one"),
    Case("GET", "/api/v1/pipeline/attachments/{customer}", {"anonymous": 401, **{r: 404 for r in ROLES[1:]},
                                                            "owner": 404}),
    Case("GET", "/api/v1/visits", EVERY_USER),
    Case("GET", "/api/v1/visits/review",
         {"anonymous": 401, "rep": 403, "manager": 200, "ops": 403, "admin": 200, "owner": 403}),
    Case("GET", "/api/v1/visits/{customer}",
         {"anonymous": 401, "rep": 404, "manager": 404, "ops": 404, "admin": 404, "owner": 404}, note="no such visit"),
    Case("POST", "/api/v1/visits/{customer}/review",
         {"anonymous": 401, "rep": 404, "manager": 404, "ops": 404, "admin": 404, "owner": 404},
         body=lambda w: {"decision": "confirm"}),
    # targets and daily reports (R-K1, R-K2); {customer} is no target id, so PUT creates one
    Case("GET", "/api/v1/targets", EVERY_USER, note="own; a manager's subtree; admins and ops all"),
    Case("GET", "/api/v1/targets/{customer}", {"anonymous": 401, **{r: 404 for r in ROLES[1:]}, "owner": 404}),
    Case("PUT", "/api/v1/targets/{customer}",
         {"anonymous": 401, "rep": 403, "manager": 200, "ops": 403, "admin": 200, "owner": 403},
         body=lambda w: {"user_id": str(w.target_user.id), "name": "12月指标", "start_date": "2026-12-01",
                         "end_date": "2026-12-31", "new_customers": 5, "visits": 20, "deal_amount": 100_000_00,
                         "payment_amount": 50_000_00},
         note="a manager above the user or an admin; a rep only drafts their own"),
    Case("GET", "/api/v1/daily-reports", EVERY_USER, note="own; a manager's subtree with who is missing"),
    Case("POST", "/api/v1/daily-reports", EVERY_USER,
         body=lambda w: {"id": "0190a000-0000-7000-8000-000000000001", "date": "2026-01-05", "summary": "拜访三家客户"},
         note="everyone writes their own report"),
    # customer import (R-I1): managers and admins; the JSON body sent here is no multipart upload
    Case("GET", "/api/v1/imports/customers/template",
         {"anonymous": 401, "rep": 403, "manager": 200, "ops": 403, "admin": 200, "owner": 403}),
    Case("POST", "/api/v1/imports/customers",
         {"anonymous": 401, "rep": 403, "manager": 415, "ops": 403, "admin": 415, "owner": 403},
         body=lambda w: {"mode": "dry_run"}, note="tests/imports uploads real files"),
    # reports (SPEC §10): everyone reads them within the access rule; reps may not export
    Case("GET", "/api/v1/reports", EVERY_USER),
    Case("GET", "/api/v1/reports/{report}", EVERY_USER, note="rows scoped by R-O4; tests/reports checks them"),
    Case("GET", "/api/v1/reports/{report}/export", {"anonymous": 401, "rep": 403, "owner": 403, "manager": 200,
                                                    "ops": 200, "admin": 200}, note="XLSX by default; logged"),
]


@pytest.fixture
def world(factory) -> World:
    department = factory.department("华东KA一部", line="KA")
    users = {
        "owner": factory.user("rep", department=department, display_name="客户负责人"),
        "rep": factory.user("rep", department=department, display_name="同部门业务员"),
        "manager": factory.user("manager", department=department, display_name="部门经理"),
        "ops": factory.user("ops", department=factory.department("商务与综合支持组", line="SMB")),
        "admin": factory.user("admin", department=factory.department("系统管理", line="SMB")),
    }
    customer = factory.customer(users["owner"])
    target = factory.user("rep", department=department, display_name="被管理的用户")
    return World(factory, department, users, customer, target)


def _cases():
    for case in PERMISSIONS:
        for role, status in case.expect.items():
            yield pytest.param(case, role, status, id=f"{case.method} {case.path} as {role} -> {status}")


def test_every_entry_names_every_role():
    for case in PERMISSIONS:
        missing = set(ROLES) - set(case.expect)
        unknown = set(case.expect) - set(ROLES) - {"owner"}
        assert not missing and not unknown, (case.method, case.path, missing, unknown)


@pytest.mark.parametrize("case, role, status", list(_cases()))
def test_permission(client, world, case, role, status):
    path = case.path.format(customer=world.customer.id, user=world.target_user.id, department=world.department.id,
                            report="visits")
    headers = {}
    if role != "anonymous":
        tokens = world.factory.login(world.users[role])
        headers = bearer(tokens[f"{case.token}_token"])
    kwargs = {"headers": headers}
    if case.body is not None:
        kwargs["json"] = case.body(world)
    response = client.open(path, method=case.method, **kwargs)
    if status >= 400:
        error_of(response, status, ERROR_CODES[status])
    else:
        assert response.status_code == status, (response.status_code, response.get_json())
        if status != 204:
            assert "error" not in (response.get_json() or {})


# Endpoints of features still being built elsewhere (their own issue adds their rows to
# PERMISSIONS and removes the prefix here). Nothing else may be missing from the table.
NOT_YET_IN_TABLE: tuple[str, ...] = ("/api/v1/sync/", "/api/v1/photos/", "/api/v1/pools")


def _normalize(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_the_table_covers_every_api_endpoint(app):
    """A new endpoint must be added to PERMISSIONS (with every role's expected status)."""
    existing = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        if rule.rule.startswith(NOT_YET_IN_TABLE):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            existing.add((method, _normalize(rule.rule)))
    covered = {(case.method, _normalize(case.path)) for case in PERMISSIONS}
    missing = sorted(existing - covered)
    assert not missing, f"endpoints missing from PERMISSIONS in {__file__}: {missing}"
    stale = sorted(covered - existing)
    assert not stale, f"PERMISSIONS names endpoints that do not exist: {stale}"
