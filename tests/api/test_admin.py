"""Administration: departments, users, settings (SPEC R-U1, §13, and every "setting" default)."""
from __future__ import annotations

import uuid

import pytest
from api_helpers import DEFAULT_INDUSTRY_CODES, error_of

DEPARTMENTS = "/api/v1/admin/departments"
USERS = "/api/v1/admin/users"
SETTINGS = "/api/v1/admin/settings"


@pytest.fixture
def admin_h(factory):
    return factory.headers(factory.user("admin"))


# ---- departments -----------------------------------------------------------------------------------

def test_department_tree_children_inherit_the_line_unless_set(client, admin_h):
    top = client.post(DEPARTMENTS, json={"name": "泛互联网事业部", "business_line": "INTERNET"}, headers=admin_h)
    assert top.status_code == 201, top.json
    assert top.json["business_line"] == "INTERNET"
    assert top.json["parent_id"] is None

    child = client.post(DEPARTMENTS, json={"name": "游戏行业组", "parent_id": top.json["id"]}, headers=admin_h)
    assert child.status_code == 201, child.json
    assert child.json["parent_id"] == top.json["id"]
    assert child.json["business_line"] == "INTERNET"
    assert child.json["own_business_line"] is None

    grandchild = client.post(DEPARTMENTS, json={"name": "游戏一组", "parent_id": child.json["id"]}, headers=admin_h)
    assert grandchild.json["business_line"] == "INTERNET"

    own = client.post(DEPARTMENTS, json={"name": "零售合作组", "parent_id": top.json["id"], "business_line": "RETAIL"},
                      headers=admin_h)
    assert own.status_code == 201, own.json
    assert own.json["business_line"] == "RETAIL"
    assert own.json["own_business_line"] == "RETAIL"
    under_own = client.post(DEPARTMENTS, json={"name": "零售一组", "parent_id": own.json["id"]}, headers=admin_h)
    assert under_own.json["business_line"] == "RETAIL"

    listed = client.get(DEPARTMENTS, headers=admin_h)
    assert listed.status_code == 200
    by_id = {d["id"]: d for d in listed.json}
    for made in (top, child, grandchild, own, under_own):
        assert by_id[made.json["id"]]["business_line"] == made.json["business_line"]
        assert by_id[made.json["id"]]["parent_id"] == made.json["parent_id"]


def test_top_level_department_without_a_line_is_422(client, admin_h):
    error = error_of(client.post(DEPARTMENTS, json={"name": "无条线部门"}, headers=admin_h), 422, "validation_failed")
    assert "business_line" in error["details"]["fields"]


def test_department_with_an_unknown_line_is_422(client, admin_h):
    error = error_of(client.post(DEPARTMENTS, json={"name": "X", "business_line": "CLOUD"}, headers=admin_h),
                     422, "validation_failed")
    assert "business_line" in error["details"]["fields"]


def test_department_creation_is_audited(client, admin_h, db_ctx):
    from sqlalchemy import select

    from server.common.audit import AuditEntry

    r = client.post(DEPARTMENTS, json={"name": "公共业务部", "business_line": "PUBLIC"}, headers=admin_h)
    with db_ctx() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "department",
                                                         AuditEntry.entity_id == r.json["id"])).one()
    assert entry.action == "department.create"
    assert entry.channel == "api"
    assert entry.changes["name"] == [None, "公共业务部"]


# ---- users -------------------------------------------------------------------------------------------

def _user_body(department, **overrides):
    body = {"username": "wangwu", "password": "long-enough-pw", "display_name": "王五", "role": "rep",
            "department_id": str(department.id)}
    body.update(overrides)
    return body


def test_create_user_and_they_can_log_in(client, factory, admin_h):
    department = factory.department("华南KA部", line="KA")
    r = client.post(USERS, json=_user_body(department, email="wangwu@example.com", mobile="13900001111"),
                    headers=admin_h)
    assert r.status_code == 201, r.json
    assert r.json["username"] == "wangwu"
    assert r.json["display_name"] == "王五"
    assert r.json["role"] == "rep"
    assert r.json["department_id"] == str(department.id)
    assert r.json["business_line"] == "KA"
    assert r.json["active"] is True
    assert r.json["email"] == "wangwu@example.com"
    assert "password" not in r.json and "password_hash" not in r.json
    login = client.post("/api/v1/auth/login", json={"username": "wangwu", "password": "long-enough-pw"})
    assert login.status_code == 200

    got = client.get(f"{USERS}/{r.json['id']}", headers=admin_h)
    assert got.status_code == 200 and got.json["username"] == "wangwu"
    assert r.json["id"] in {u["id"] for u in client.get(USERS, headers=admin_h).json}


def test_username_taken_is_409(client, factory, admin_h):
    department = factory.department()
    assert client.post(USERS, json=_user_body(department), headers=admin_h).status_code == 201
    error_of(client.post(USERS, json=_user_body(department), headers=admin_h), 409, "username_taken")
    # Usernames are case-insensitive.
    error_of(client.post(USERS, json=_user_body(department, username="WangWu"), headers=admin_h),
             409, "username_taken")


def test_short_password_is_422(client, factory, admin_h):
    department = factory.department()
    error = error_of(client.post(USERS, json=_user_body(department, password="short7!"), headers=admin_h),
                     422, "validation_failed")
    assert "password" in error["details"]["fields"]


@pytest.mark.parametrize("missing", ["username", "password", "display_name", "role", "department_id"])
def test_user_required_fields(client, factory, admin_h, missing):
    department = factory.department()
    body = _user_body(department)
    del body[missing]
    error = error_of(client.post(USERS, json=body, headers=admin_h), 422, "validation_failed")
    assert missing in error["details"]["fields"]


def test_unknown_role_is_422(client, factory, admin_h):
    department = factory.department()
    error = error_of(client.post(USERS, json=_user_body(department, role="boss"), headers=admin_h),
                     422, "validation_failed")
    assert "role" in error["details"]["fields"]


def test_patch_user_changes_the_given_fields_only(client, factory, admin_h):
    first = factory.department("一部", line="KA")
    second = factory.department("二部", line="RETAIL")
    rep = factory.user("rep", department=first, display_name="旧名字")
    r = client.patch(f"{USERS}/{rep.id}", json={"display_name": "新名字", "role": "manager",
                                                "department_id": str(second.id)}, headers=admin_h)
    assert r.status_code == 200, r.json
    assert r.json["display_name"] == "新名字"
    assert r.json["role"] == "manager"
    assert r.json["department_id"] == str(second.id)
    assert r.json["business_line"] == "RETAIL"
    assert r.json["username"] == rep.username
    assert r.json["active"] is True
    again = client.get(f"{USERS}/{rep.id}", headers=admin_h).json
    assert (again["display_name"], again["role"]) == ("新名字", "manager")


def test_patch_unknown_user_is_404(client, admin_h):
    error_of(client.patch(f"{USERS}/{uuid.uuid4()}", json={"display_name": "x"}, headers=admin_h), 404, "not_found")


def test_patch_user_refuses_unknown_fields(client, factory, admin_h):
    rep = factory.user("rep")
    error = error_of(client.patch(f"{USERS}/{rep.id}", json={"username": "renamed"}, headers=admin_h),
                     422, "validation_failed")
    assert "username" in error["details"]["fields"]


# ---- settings ------------------------------------------------------------------------------------------

def test_settings_defaults_are_the_spec_defaults(client, admin_h):
    r = client.get(SETTINGS, headers=admin_h)
    assert r.status_code == 200
    s = r.json
    assert s["timezone"] == "Asia/Shanghai"
    assert s["quotas"] == {"KA": 50, "INTERNET": 50, "RETAIL": 50, "PUBLIC": None, "SMB": None}
    assert s["cooldown_days"] == 3
    assert s["reclaim"]["default_days"] == 90
    assert s["reclaim"]["warning_days"] == 7
    assert s["handover_grace_days"] == 7
    assert s["invalid_tracking"] == {"max_invalid_follow_ups": 3, "no_valid_follow_up_days": 15,
                                     "no_key_contact_days": 30}
    assert s["login"]["max_failures"] == 5
    assert s["grades"] == {"important_amount_fen": 100_000_000, "important_years": 3,
                           "stable_amount_fen": 30_000_000, "stable_years": 2}
    v = s["verification"]
    assert v["time_mismatch_s"] == 900
    assert v["future_capture_s"] == 300
    assert (v["far_from_customer_min_m"], v["far_from_customer_max_m"]) == (200, 1000)
    assert v["location_inconsistent_m"] == 1000
    assert v["photo_similar_days"] == 180
    assert "photoshop" in v["editor_software"]
    assert s["follow_up"]["empty_phrases"]
    assert {"没找到人", "外出", "沟通"} <= set(s["follow_up"]["empty_phrases"])
    codes = {i["code"]: i["business_line"] for i in s["industries"]}
    assert codes == DEFAULT_INDUSTRY_CODES
    assert len(s["industries"]) == 31


def test_settings_put_partial_update_merges(client, admin_h):
    r = client.put(SETTINGS, json={"quotas": {"KA": 10}, "verification": {"time_mismatch_s": 600}},
                   headers=admin_h)
    assert r.status_code == 200, r.json
    assert r.json["quotas"] == {"KA": 10, "INTERNET": 50, "RETAIL": 50, "PUBLIC": None, "SMB": None}
    assert r.json["verification"]["time_mismatch_s"] == 600
    assert r.json["verification"]["far_from_customer_max_m"] == 1000  # sibling key kept
    assert r.json["cooldown_days"] == 3  # untouched key kept
    assert len(r.json["industries"]) == 31

    # The change is stored, not just echoed.
    again = client.get(SETTINGS, headers=admin_h).json
    assert again["quotas"]["KA"] == 10 and again["quotas"]["RETAIL"] == 50
    assert again["verification"]["time_mismatch_s"] == 600

    # A second partial update keeps the first one.
    client.put(SETTINGS, json={"quotas": {"SMB": 200}, "timezone": "Asia/Urumqi"}, headers=admin_h)
    again = client.get(SETTINGS, headers=admin_h).json
    assert again["quotas"] == {"KA": 10, "INTERNET": 50, "RETAIL": 50, "PUBLIC": None, "SMB": 200}
    assert again["timezone"] == "Asia/Urumqi"


def test_settings_quota_may_be_set_back_to_unlimited(client, admin_h):
    client.put(SETTINGS, json={"quotas": {"KA": 10}}, headers=admin_h)
    r = client.put(SETTINGS, json={"quotas": {"KA": None}}, headers=admin_h)
    assert r.status_code == 200
    assert r.json["quotas"]["KA"] is None


@pytest.mark.parametrize("body, field", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"quotas": {"KA": -1}}, "quotas"),
    ({"cooldown_days": -3}, "cooldown_days"),
    ({"reclaim": {"default_days": 0}}, "reclaim"),
    ({"login": {"max_failures": 0}}, "login"),
    ({"quotas": {"CLOUD": 5}}, "quotas"),
    ({"no_such_setting": 1}, "no_such_setting"),
    ({"industries": []}, "industries"),
    ({"industries": [{"code": "Bad Code", "name_zh": "坏", "name_en": "Bad", "business_line": "KA"}]}, "industries"),
    ({"industries": [{"name_zh": "无代码", "name_en": "No code", "business_line": "KA"}]}, "industries"),
    ({"industries": [{"code": "moon", "name_zh": "月球", "name_en": "Moon", "business_line": "MOON"}]}, "industries"),
], ids=["bad-timezone", "negative-quota", "negative-cooldown", "zero-reclaim-days", "zero-login-failures",
        "unknown-line", "unknown-key", "empty-industries", "bad-industry-code", "industry-without-code",
        "industry-unknown-line"])
def test_settings_put_validates(client, admin_h, body, field):
    error = error_of(client.put(SETTINGS, json=body, headers=admin_h), 422, "validation_failed")
    assert field in error["details"]["fields"], error
    # Nothing was stored.
    assert client.get(SETTINGS, headers=admin_h).json["quotas"]["KA"] == 50


def test_settings_duplicate_industry_code_is_422(client, admin_h):
    industries = client.get(SETTINGS, headers=admin_h).json["industries"]
    duplicate = industries + [{"code": "finance", "name_zh": "金融2", "name_en": "Finance 2", "business_line": "KA"}]
    error = error_of(client.put(SETTINGS, json={"industries": duplicate}, headers=admin_h), 422, "validation_failed")
    assert "industries" in error["details"]["fields"]
    assert len(client.get(SETTINGS, headers=admin_h).json["industries"]) == 31


def test_settings_new_industry_is_listed_and_usable(client, factory, admin_h):
    industries = client.get(SETTINGS, headers=admin_h).json["industries"]
    added = industries + [{"code": "space", "name_zh": "航天", "name_en": "Space", "business_line": "KA",
                           "also_lines": []}]
    assert client.put(SETTINGS, json={"industries": added}, headers=admin_h).status_code == 200
    rep = factory.user("rep")
    listed = client.get("/api/v1/industries", headers=factory.headers(rep)).json
    assert {"code": "space", "business_line": "KA"}.items() <= next(i for i in listed if i["code"] == "space").items()
    r = client.post("/api/v1/customers", json=factory.customer_args(industry="space"), headers=factory.headers(rep))
    assert r.status_code == 201, r.json
    assert r.json["business_line"] == "KA"


def test_settings_changes_are_audited(client, factory, db_ctx):
    from sqlalchemy import select

    from server.common.audit import AuditEntry

    admin = factory.user("admin")
    r = client.put(SETTINGS, json={"quotas": {"KA": 12}, "cooldown_days": 5}, headers=factory.headers(admin))
    assert r.status_code == 200
    with db_ctx() as session:
        entries = {e.entity_id: e for e in session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "settings", AuditEntry.action == "settings.update"))}
    assert set(entries) == {"quotas", "cooldown_days"}
    quotas = entries["quotas"]
    assert quotas.actor_id == admin.id
    assert quotas.channel == "api"
    before, after = quotas.changes["quotas"]
    assert before["KA"] == 50 and after["KA"] == 12
    assert entries["cooldown_days"].changes["cooldown_days"] == [3, 5]


def test_failed_settings_update_is_not_audited(client, factory, db_ctx):
    from sqlalchemy import func, select

    from server.common.audit import AuditEntry

    admin_h = factory.headers(factory.user("admin"))
    client.put(SETTINGS, json={"quotas": {"KA": -5}}, headers=admin_h)
    with db_ctx() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "settings")) == 0
