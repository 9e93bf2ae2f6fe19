"""The duplicate look-up as you type (SPEC R-C2): names, pinyin initials, fuzzy matches."""
from __future__ import annotations

import random
import statistics
import time
import uuid

import pytest
from followup_helpers import Phone
from sqlalchemy import insert

from server.common.db import utcnow
from server.customers.models import Customer

CUSTOMERS = "/api/v1/customers"
ALLOWED = {"id", "code", "name", "owner_display_name", "pool", "visible", "match"}


@pytest.fixture
def world(factory):
    department = factory.department("华东KA一组", line="KA")
    me = factory.user("rep", department=department, display_name="我")
    other = factory.user("rep", department=department, display_name="业务员乙")
    mine = factory.customer(me, name="上海春意空调有限公司")
    theirs = factory.customer(other, name="春意（苏州）制冷设备有限公司", industry="manufacturing_b2b",
                              contacts=[{"name": "钱经理", "mobile": "13955556666"}])
    return me, other, mine, theirs


def lookup(client, factory, user, q):
    r = client.get(CUSTOMERS, query_string={"q": q}, headers=factory.headers(user))
    assert r.status_code == 200, r.json
    return {m["id"]: m for m in r.json["matches"]}


def test_containing_names_match_from_two_characters(client, factory, world):
    me, _other, mine, theirs = world
    found = lookup(client, factory, me, "春意")
    assert found[str(mine.id)]["match"] == "name" and found[str(theirs.id)]["match"] == "name"
    assert lookup(client, factory, me, "春") == {}


@pytest.mark.parametrize("typed", ["春意(苏州)制冷", "春意（苏州）制冷", "春意 （ 苏州 ） 制冷", "ＳＨ", "春意(苏州)"])
def test_full_width_half_width_and_space_variants(client, factory, world, typed):
    me, other, _mine, _theirs = world
    special = factory.customer(other, name="ＳＨ春意（苏州）制冷科技有限公司")
    assert lookup(client, factory, me, typed)[str(special.id)]["match"] == "name"


def test_square_bracket_variants(client, factory, world):
    me, other, _mine, _theirs = world
    bracketed = factory.customer(other, name="上海【春意】暖通工程有限公司")
    assert lookup(client, factory, me, "[春意]暖通")[str(bracketed.id)]["match"] == "name"
    assert lookup(client, factory, me, "〔春意〕暖通")[str(bracketed.id)]["match"] == "name"


@pytest.mark.parametrize("typed", ["shcykt", "SHCYKT", "cykt", "shcyktyxgs"])
def test_pinyin_initials(client, factory, world, typed):
    me, _other, mine, _theirs = world
    assert lookup(client, factory, me, typed)[str(mine.id)]["match"] == "initials"


@pytest.mark.parametrize("typed", ["上海春意空掉有限公司", "上海春艺空调有限公司", "春意空掉", "上海春意空调设备"])
def test_fuzzy_typos_find_the_existing_customer(client, factory, world, typed):
    me, other, mine, _theirs = world
    factory.customer(other, name="上海华腾物流有限公司", industry="transport_logistics")
    found = lookup(client, factory, me, typed)
    assert found[str(mine.id)]["match"] == "fuzzy"
    assert list(found)[0] == str(mine.id)  # the best match comes first


def test_a_typo_in_the_start_of_a_longer_name(client, factory, world):
    me, other, _mine, _theirs = world
    longer = factory.customer(other, name="上海春意暖通设备工程有限公司", industry="manufacturing_b2b")
    assert lookup(client, factory, me, "春意暖同设备")[str(longer.id)]["match"] == "fuzzy"


def test_more_words_typed_than_an_existing_shorter_name(client, factory, world):
    me, _other, mine, _theirs = world
    assert lookup(client, factory, me, "春意空掉设备安装")[str(mine.id)]["match"] == "fuzzy"


def test_fuzzy_matching_does_not_match_a_different_trade_name(client, factory, world):
    me, other, _mine, _theirs = world
    logistics = factory.customer(other, name="上海华腾物流有限公司", industry="transport_logistics")
    assert str(logistics.id) not in lookup(client, factory, me, "上海华辉物流有限公司")
    assert str(logistics.id) in lookup(client, factory, me, "上海华滕物流有限公司")  # same reading


def test_a_non_visible_customers_match_shows_only_the_allowed_keys(client, factory, world):
    me, _other, mine, theirs = world
    found = lookup(client, factory, me, "春意")
    match = found[str(theirs.id)]
    assert set(match) == ALLOWED
    assert match == {"id": str(theirs.id), "code": theirs.code, "name": "春意（苏州）制冷设备有限公司",
                     "owner_display_name": "业务员乙", "pool": None, "visible": False, "match": "name"}
    assert found[str(mine.id)]["visible"] is True
    # the same for fuzzy matches
    fuzzy = lookup(client, factory, me, "春意制冷设被")[str(theirs.id)]
    assert set(fuzzy) == ALLOWED and fuzzy["match"] == "fuzzy" and fuzzy["visible"] is False


def test_pool_customers_show_their_pool(client, factory, world):
    me, other, _mine, theirs = world
    Phone(client, factory, other).applied("customer.release", {"customer_id": str(theirs.id), "reason": "无需求"})
    match = lookup(client, factory, me, "春意（苏州）")[str(theirs.id)]
    assert match["owner_display_name"] is None and match["pool"] == "KA" and match["visible"] is False


def test_voided_customers_are_included_and_marked(client, factory, world, db_ctx):
    me, _other, _mine, theirs = world
    with db_ctx() as session:
        session.get(Customer, theirs.id).voided_at = utcnow()
        session.commit()
    match = lookup(client, factory, me, "春意（苏州）")[str(theirs.id)]
    assert match["voided"] is True and match["visible"] is False
    assert set(match) == ALLOWED | {"voided"}


def test_the_service_limits_and_orders_the_matches(factory, world, db_ctx):
    from server.customers.service import duplicate_matches

    me, other, mine, theirs = world
    for n in range(12):
        factory.customer(other, name=f"上海春意{n:02d}号贸易有限公司", industry="other")
    with db_ctx():
        matches = duplicate_matches(me, "春意", limit=5)
    assert len(matches) == 5 and all(m["match"] == "name" for m in matches)
    assert [len(m["name"]) for m in matches] == sorted(len(m["name"]) for m in matches)


# ---- 20,000 customers --------------------------------------------------------------------------------

def _bulk_customers(session, owner_id, count: int) -> None:
    from server.customers.identity import normalize_name, pinyin_initials
    from server.demo import data

    now = utcnow()
    rows = []
    for n, (name, industry) in enumerate(data.company_names(random.Random(99), count)):
        rows.append({"id": uuid.uuid4(), "code": f"C2099{n:06d}", "name": name, "name_key": normalize_name(name),
                     "name_initials": pinyin_initials(name), "type": "direct", "industry": industry,
                     "business_line": "SMB", "region": "上海市", "address": "上海市黄浦区", "owner_id": owner_id,
                     "pool": None, "created_at": now, "updated_at": now, "status": "potential",
                     "grade": "potential", "customer_class": "ordinary", "confidentiality": "normal",
                     "legal_dispute": False, "times_reclaimed": 0, "visit_count": 0, "deal_total": 0,
                     "payment_total": 0, "version": 1})
    for start in range(0, len(rows), 2000):
        session.execute(insert(Customer), rows[start:start + 2000])


def test_duplicate_lookup_over_20000_customers_is_fast(factory, world, db_ctx, capsys):
    from server.customers.service import duplicate_matches

    me, other, mine, _theirs = world
    with db_ctx() as session:
        _bulk_customers(session, other.id, 20_000)
        session.commit()
    timings = {}
    with db_ctx():
        for q in ("上海春意空掉有限公司", "春意空掉", "shcykt", "物流", "上海华腾物流有限公"):
            duplicate_matches(me, q)  # warm the pinyin cache as a running server would be
            runs = []
            for _ in range(5):
                start = time.perf_counter()
                found = duplicate_matches(me, q)
                runs.append(time.perf_counter() - start)
            timings[q] = statistics.median(runs)
            assert found, q
        assert duplicate_matches(me, "上海春意空掉有限公司")[0]["id"] == mine.id
    with capsys.disabled():
        print("\nduplicate look-up over 20,000 customers (median ms):",
              {q: round(t * 1000, 1) for q, t in timings.items()})
    # the target is < 100 ms; the bound leaves room for a busy test machine
    assert max(timings.values()) < 0.3, timings
