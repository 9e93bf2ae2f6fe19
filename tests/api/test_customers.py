"""Creating customers: fields, uniqueness, codes, audit, industries, quota (SPEC §2, R-P3)."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from api_helpers import DEFAULT_INDUSTRY_CODES, error_of

CUSTOMERS = "/api/v1/customers"
DUPLICATE_KEYS = {"id", "code", "name", "owner_display_name", "pool"}
REAL_TAX_IDS = ["91350100M000100Y43", "91110108551385082Q"]


@pytest.fixture
def rep(factory):
    return factory.user("rep", department=factory.department("华东KA一部", line="KA"), display_name="业务员甲")


@pytest.fixture
def h(factory, rep):
    return factory.headers(rep)


def _create(client, factory, h, **overrides):
    return client.post(CUSTOMERS, json=factory.customer_args(**overrides), headers=h)


def _set_quota(db_ctx, **quotas):
    from server.settings.service import update_settings

    with db_ctx() as session:
        update_settings({"quotas": quotas})
        session.commit()


# ---- required and valid fields ----------------------------------------------------------------------

def test_required_fields_are_named_in_the_422(client, h):
    error = error_of(client.post(CUSTOMERS, json={}, headers=h), 422, "validation_failed")
    assert {"name", "type", "industry", "region", "address"} <= set(error["details"]["fields"])


@pytest.mark.parametrize("missing", ["name", "type", "industry", "region", "address"])
def test_each_required_field(client, factory, h, missing):
    body = factory.customer_args()
    del body[missing]
    error = error_of(client.post(CUSTOMERS, json=body, headers=h), 422, "validation_failed")
    assert set(error["details"]["fields"]) == {missing}


def test_unknown_industry_is_422(client, factory, h):
    error = error_of(_create(client, factory, h, industry="alchemy"), 422, "validation_failed")
    assert "industry" in error["details"]["fields"]


@pytest.mark.parametrize("field, value", [
    ("type", "reseller"), ("status", "signed"), ("confidentiality", "secret"), ("postcode", "2000"),
    ("introduction", "介" * 201), ("location", {"lat": 91, "lng": 121}), ("door_photo", "not-a-hash"),
])
def test_invalid_field_values_are_422(client, factory, h, field, value):
    error = error_of(_create(client, factory, h, **{field: value}), 422, "validation_failed")
    assert field in error["details"]["fields"]


def test_every_field_round_trips(client, factory, h, rep):
    parent = _create(client, factory, h, name="厦门母公司控股集团有限公司").json
    body = {
        "name": "厦门海沧精密制造有限公司",
        "short_name": "海沧精密",
        "tax_id": "91350100M000100Y43",
        "type": "distributor",
        "industry": "manufacturing_b2b",
        "region": "福建省厦门市海沧区",
        "address": "海沧大道 88 号",
        "location": {"lat": 24.4848, "lng": 118.0329},
        "source": "展会",
        "website": "https://haicang.example.com",
        "scale": "500-999人",
        "postcode": "361026",
        "introduction": "精密零部件制造商，主要客户为汽车厂商。",
        "door_photo": "a" * 64,
        "parent_id": parent["id"],
        "status": "intent",
        "confidentiality": "confidential",
        "legal_dispute": True,
        "notes": "年底有扩产计划",
    }
    r = client.post(CUSTOMERS, json=body, headers=h)
    assert r.status_code == 201, r.json
    detail = client.get(f"{CUSTOMERS}/{r.json['id']}", headers=h)
    assert detail.status_code == 200
    for answer in (r.json, detail.json):
        for key, value in body.items():
            assert answer[key] == value, key
        assert answer["business_line"] == "KA"
        assert answer["owner"] == {"id": str(rep.id), "display_name": "业务员甲"}
        assert answer["pool"] is None
        assert answer["grade"] == "potential"
        assert answer["customer_class"] == "ordinary"
        assert answer["contacts"] == []
        assert answer["voided_at"] is None
        assert datetime.fromisoformat(answer["created_at"]).tzinfo is not None


def test_defaults_of_optional_fields(client, factory, h):
    body = {"name": "最少字段测试有限公司", "type": "direct", "industry": "other", "region": "上海", "address": "某路1号"}
    r = client.post(CUSTOMERS, json=body, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "potential"
    assert r.json["confidentiality"] == "normal"
    assert r.json["legal_dispute"] is False
    assert r.json["tax_id"] is None
    assert r.json["location"] is None
    assert r.json["business_line"] == "SMB"


def test_contacts_created_with_the_customer(client, factory, h):
    contacts = [{"name": "吴总", "title": "总经理", "mobile": "13811112222", "key_person": True,
                 "email": "wu@example.com", "birthday": "1980-05-04", "attitude": "supportive"},
                {"name": "郑工", "title": "IT主管"}]
    r = _create(client, factory, h, contacts=contacts)
    assert r.status_code == 201, r.json
    by_name = {c["name"]: c for c in r.json["contacts"]}
    assert set(by_name) == {"吴总", "郑工"}
    assert by_name["吴总"]["mobile"] == "13811112222"
    assert by_name["吴总"]["key_person"] is True
    assert by_name["吴总"]["birthday"] == "1980-05-04"
    assert by_name["郑工"]["key_person"] is False


def test_money_fields_are_integers(client, factory, h):
    r = _create(client, factory, h)
    for answer in (r.json, client.get(f"{CUSTOMERS}/{r.json['id']}", headers=h).json):
        for key in ("deal_total", "payment_total", "receivables"):
            assert type(answer[key]) is int, (key, answer[key])
            assert answer[key] == 0


@pytest.mark.parametrize("field, value", [
    ("owner_id", str(uuid.uuid4())), ("code", "C2026999999"), ("version", 7), ("grade", "important"),
    ("pool", "public"), ("business_line", "RETAIL"), ("customer_class", "core"), ("deal_total", 100),
])
def test_server_owned_fields_in_the_body_are_refused(client, factory, h, field, value):
    error = error_of(_create(client, factory, h, **{field: value}), 422, "validation_failed")
    assert field in error["details"]["fields"]


def test_ops_cannot_create_customers(client, factory):
    ops = factory.user("ops")
    error_of(_create(client, factory, factory.headers(ops)), 403, "not_authorized")


# ---- uniqueness (R-C1, R-C2) -----------------------------------------------------------------------------

BASE_NAME = "ABC科技(上海)有限公司[总部]"


@pytest.mark.parametrize("variant", [
    "ＡＢＣ科技(上海)有限公司[总部]",       # full-width letters
    "ABC科技（上海）有限公司[总部]",        # full-width parentheses
    "ABC科技(上海)有限公司【总部】",        # Chinese square brackets
    "A B C 科技 (上海)　有限公司 [总部]",   # spaces, including an ideographic one
    "abc科技(上海)有限公司[总部]",          # case
    "Ａｂｃ科技（上海）有限公司【总部】",    # all at once
], ids=["fullwidth-letters", "fullwidth-parens", "cjk-brackets", "spaces", "case", "everything"])
def test_duplicate_name_variants_are_409_with_only_basic_details(client, factory, h, rep, variant):
    existing = _create(client, factory, h, name=BASE_NAME,
                       contacts=[{"name": "冯经理", "mobile": "13912345678"}]).json
    other = factory.user("rep", department=factory.department("华南KA部", line="KA"))
    r = _create(client, factory, factory.headers(other), name=variant)
    error = error_of(r, 409, "duplicate_customer")
    details = error["details"]
    assert set(details) == DUPLICATE_KEYS
    assert details == {"id": existing["id"], "code": existing["code"], "name": BASE_NAME,
                       "owner_display_name": "业务员甲", "pool": None}
    text = r.get_data(as_text=True)
    assert "13912345678" not in text and "冯经理" not in text and existing["address"] not in text


def test_the_owner_also_gets_duplicate_customer(client, factory, h):
    _create(client, factory, h, name=BASE_NAME)
    error_of(_create(client, factory, h, name=BASE_NAME), 409, "duplicate_customer")


def test_duplicate_tax_id_is_409(client, factory, h):
    existing = _create(client, factory, h, tax_id=REAL_TAX_IDS[0]).json
    error = error_of(_create(client, factory, h, tax_id=REAL_TAX_IDS[0]), 409, "duplicate_customer")
    assert error["details"]["id"] == existing["id"]
    assert set(error["details"]) == DUPLICATE_KEYS


def test_duplicate_tax_id_typed_differently_is_409(client, factory, h):
    _create(client, factory, h, tax_id=REAL_TAX_IDS[1])
    typed = " ９１１１０１０８５５１３８５０８２ｑ ".upper()  # full-width, spaces
    error_of(_create(client, factory, h, tax_id=typed), 409, "duplicate_customer")


@pytest.mark.parametrize("tax_id", ["91350100M000100Y44", "91350100M000100Y4", "913501OOM000100Y43"])
def test_invalid_tax_id_is_422(client, factory, h, tax_id):
    error = error_of(_create(client, factory, h, tax_id=tax_id), 422, "invalid_tax_id")
    assert error["details"]["tax_id"] == tax_id


@pytest.mark.parametrize("tax_id", REAL_TAX_IDS)
def test_real_tax_ids_are_accepted(client, factory, h, tax_id):
    r = _create(client, factory, h, tax_id=tax_id)
    assert r.status_code == 201, r.json
    assert r.json["tax_id"] == tax_id


def test_lower_case_tax_id_is_stored_canonical(client, factory, h):
    r = _create(client, factory, h, tax_id="91110108551385082q")
    assert r.status_code == 201, r.json
    assert r.json["tax_id"] == "91110108551385082Q"


def test_voided_customers_still_count_for_uniqueness(client, factory, h, db_ctx):
    from server.customers.models import Customer

    existing = _create(client, factory, h, name=BASE_NAME, tax_id=REAL_TAX_IDS[0]).json
    with db_ctx() as session:
        session.get(Customer, uuid.UUID(existing["id"])).voided_at = datetime.now(timezone.utc)
        session.commit()
    error_of(_create(client, factory, h, name="abc科技（上海）有限公司【总部】"), 409, "duplicate_customer")
    error_of(_create(client, factory, h, tax_id=REAL_TAX_IDS[0]), 409, "duplicate_customer")


# ---- codes (R-C3) -------------------------------------------------------------------------------------

def test_code_is_C_year_and_six_increasing_digits(client, factory, h):
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    codes = [_create(client, factory, h).json["code"] for _ in range(3)]
    for code in codes:
        assert re.fullmatch(rf"C{year}\d{{6}}", code), code
    numbers = [int(c[-6:]) for c in codes]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_rejected_creation_takes_no_code(client, factory, h):
    first = _create(client, factory, h, name=BASE_NAME).json["code"]
    error_of(_create(client, factory, h, name=BASE_NAME), 409, "duplicate_customer")
    second = _create(client, factory, h).json["code"]
    assert int(second[-6:]) == int(first[-6:]) + 1


# ---- audit -------------------------------------------------------------------------------------------

def test_creation_is_audited_with_before_and_after(client, factory, h, rep, db_ctx):
    from sqlalchemy import select

    from server.common.audit import AuditEntry

    r = _create(client, factory, h, name="审计测试有限公司", contacts=[{"name": "褚经理", "mobile": "13800001111"}])
    assert r.status_code == 201
    customer_id = r.json["id"]
    contact_id = r.json["contacts"][0]["id"]
    with db_ctx() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id.in_([customer_id, contact_id]))
                                  .order_by(AuditEntry.id)).all()
    by_entity = {e.entity: e for e in entries}
    assert set(by_entity) == {"customer", "contact"}
    customer_entry, contact_entry = by_entity["customer"], by_entity["contact"]
    assert customer_entry.action == "customer.create"
    assert customer_entry.channel == "api"
    assert customer_entry.actor_id == rep.id
    assert customer_entry.changes["name"] == [None, "审计测试有限公司"]
    assert customer_entry.changes["code"] == [None, r.json["code"]]
    assert customer_entry.changes["owner_id"] == [None, str(rep.id)]
    assert contact_entry.action == "contact.create"
    assert contact_entry.channel == "api"
    assert contact_entry.actor_id == rep.id
    assert contact_entry.changes["name"] == [None, "褚经理"]
    assert contact_entry.changes["customer_id"] == [None, customer_id]


# ---- industries (R-C5) ----------------------------------------------------------------------------------

def test_industries_lists_the_31_default_codes_with_their_lines(client, h):
    r = client.get("/api/v1/industries", headers=h)
    assert r.status_code == 200
    by_code = {i["code"]: i for i in r.json}
    assert len(r.json) == 31
    assert {c: i["business_line"] for c, i in by_code.items()} == DEFAULT_INDUSTRY_CODES
    assert by_code["internet_finance"]["business_line"] == "KA"
    assert by_code["internet_finance"]["also_lines"] == ["INTERNET"]
    assert by_code["other"]["business_line"] == "SMB"
    assert by_code["finance"]["also_lines"] == []
    for item in r.json:
        assert item["name_zh"] and item["name_en"]


@pytest.mark.parametrize("industry, line", [("games", "INTERNET"), ("finance", "KA"), ("brand", "RETAIL"),
                                            ("government", "PUBLIC"), ("other", "SMB"),
                                            ("internet_finance", "KA")])
def test_customer_line_is_its_industrys_line(client, factory, h, industry, line):
    r = _create(client, factory, h, industry=industry)
    assert r.status_code == 201, r.json
    assert r.json["business_line"] == line


# ---- quota (R-P3) -----------------------------------------------------------------------------------------

def test_quota_exceeded_at_the_default_of_50(client, factory, rep, h):
    from server.customers.service import create_customer
    from server.extensions import db
    from server.org.models import User

    with factory.ctx():
        actor = db.session.get(User, rep.id)
        for _ in range(50):
            create_customer(factory.customer_args(), actor)
    error = error_of(_create(client, factory, h), 409, "quota_exceeded")
    assert error["details"]["count"] == 50
    assert error["details"]["limit"] == 50


def test_quota_counts_per_line_and_spares_subsidiaries(client, factory, rep, h, db_ctx):
    from server.customers.models import Customer

    _set_quota(db_ctx, KA=3)
    mine = [_create(client, factory, h) for _ in range(3)]
    assert all(r.status_code == 201 for r in mine)
    error = error_of(_create(client, factory, h), 409, "quota_exceeded")
    assert (error["details"]["count"], error["details"]["limit"]) == (3, 3)

    # A subsidiary of one of theirs does not count (R-C9).
    sub = _create(client, factory, h, parent_id=mine[0].json["id"])
    assert sub.status_code == 201, sub.json
    # Another line has its own quota; SMB is unlimited.
    assert _create(client, factory, h, industry="games").status_code == 201
    assert _create(client, factory, h, industry="other").status_code == 201
    # Another rep's quota is their own.
    other = factory.user("rep", department=rep.department)
    assert _create(client, factory, factory.headers(other)).status_code == 201

    # A voided customer frees its place.
    with db_ctx() as session:
        session.get(Customer, uuid.UUID(mine[1].json["id"])).voided_at = datetime.now(timezone.utc)
        session.commit()
    assert _create(client, factory, h).status_code == 201
    error_of(_create(client, factory, h), 409, "quota_exceeded")



# ---- duplicate look-up while typing (R-C2) -------------------------------------------------------------

def test_lookup_starts_at_two_characters_and_shows_who_protects_it(client, factory, rep, h):
    existing = _create(client, factory, h, name="宁波港湾船舶重工有限公司").json
    other = factory.user("rep", department=factory.department("华南KA部", line="KA"))
    other_h = factory.headers(other)

    one = client.get(CUSTOMERS, query_string={"q": "港"}, headers=other_h)
    assert one.status_code == 200 and one.json["matches"] == []

    for typed in ("港湾", "港湾船舶", "nbgw"):  # name fragments and pinyin initials
        r = client.get(CUSTOMERS, query_string={"q": typed}, headers=other_h)
        assert r.status_code == 200
        (match,) = [m for m in r.json["matches"] if m["id"] == existing["id"]]
        assert match["owner_display_name"] == "业务员甲"
        assert match["code"] == existing["code"]
        assert r.json["items"] == []
