"""Browsing the pools online (SPEC R-O4, R-P1, §12): GET /api/v1/pools and
/api/v1/pools/{pool}/customers?q=&cursor= — basic fields only, for users who may claim there."""
from __future__ import annotations

from datetime import timedelta

from pool_helpers import BASIC_FIELDS, browse, error_of, now, ok, pool_customer


def test_pool_customers_show_exactly_the_basic_fields(client, factory):
    customer = pool_customer(factory, "KA", contacts=2, name="上海基本字段金融有限公司",
                             notes="机密备注", short_name="基本字段")
    rep = factory.user("rep", line="KA")
    page = ok(browse(client, factory.headers(rep), "KA", q="基本字段"))
    assert [item["id"] for item in page["items"]] == [str(customer.id)]
    item = page["items"][0]
    assert set(item) == BASIC_FIELDS  # no contacts, address, tax id, owner, notes, location…
    assert item["code"] == customer.code and item["code"].startswith("C")
    assert item["name"] == "上海基本字段金融有限公司"
    assert item["industry"] == "finance" and item["business_line"] == "KA"
    assert item["region"] == "上海市黄浦区" and item["pool"] == "KA"
    assert item["released_at"] is not None and item["times_reclaimed"] == 0
    assert page["next_cursor"] is None


def test_pool_list_gives_the_pools_a_rep_may_claim_from_with_counts(client, factory):
    pool_customer(factory, "KA", name="计数池客户甲金融有限公司")
    pool_customer(factory, "KA", name="计数池客户乙金融有限公司")
    pool_customer(factory, "INTERNET", name="计数池互联网视频有限公司")
    ka_rep = factory.user("rep", line="KA")
    pools = ok(client.get("/api/v1/pools", headers=factory.headers(ka_rep)))
    by_pool = {p["pool"]: p["count"] for p in pools}
    assert set(by_pool) == {"public", "KA"}
    assert by_pool["KA"] >= 2

    smb_rep = factory.user("rep", line="SMB")
    smb_pools = {p["pool"] for p in ok(client.get("/api/v1/pools", headers=factory.headers(smb_rep)))}
    assert smb_pools == {"public", "KA", "INTERNET", "RETAIL", "PUBLIC"}


def test_ka_rep_browses_public_and_ka_but_gets_403_on_internet(client, factory):
    public = pool_customer(factory, "public", name="公海可见小微商贸有限公司")
    ka = pool_customer(factory, "KA", name="公海可见金融控股有限公司")
    internet = pool_customer(factory, "INTERNET", name="公海可见视频科技有限公司")
    h = factory.headers(factory.user("rep", line="KA"))
    assert [i["id"] for i in ok(browse(client, h, "public", q="公海可见"))["items"]] == [str(public.id)]
    assert [i["id"] for i in ok(browse(client, h, "KA", q="公海可见"))["items"]] == [str(ka.id)]
    error = error_of(browse(client, h, "INTERNET", q="公海可见"), 403, "not_authorized")
    assert str(internet.id) not in str(error)


def test_smb_rep_may_browse_the_industry_pools(client, factory):
    ka = pool_customer(factory, "KA", name="小微浏览金融有限公司")
    internet = pool_customer(factory, "INTERNET", name="小微浏览视频有限公司")
    retail = pool_customer(factory, "RETAIL", name="小微浏览品牌有限公司")
    h = factory.headers(factory.user("rep", line="SMB"))
    for pool, customer in (("KA", ka), ("INTERNET", internet), ("RETAIL", retail)):
        assert [i["id"] for i in ok(browse(client, h, pool, q="小微浏览"))["items"]] == [str(customer.id)]


def test_unknown_pool_is_404(client, factory):
    h = factory.headers(factory.user("rep", line="KA"))
    error_of(browse(client, h, "SMB"), 404, "not_found")
    error_of(browse(client, h, "nonsense"), 404, "not_found")


def test_pool_paging_with_cursor_visits_every_customer_once_newest_release_first(client, factory):
    base = now() - timedelta(days=1)
    released = [base - timedelta(hours=h) for h in (0, 1, 1, 2, 3)]  # two share a release time
    made = [pool_customer(factory, "KA", released_at=at, name=f"翠湖分页{i}号金融有限公司")
            for i, at in enumerate(released)]
    h = factory.headers(factory.user("rep", line="KA"))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"q": "翠湖分页", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = ok(browse(client, h, "KA", **params))
        pages += 1
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(i["id"] for i in seen) == sorted(str(c.id) for c in made)
    assert len({i["id"] for i in seen}) == 5
    times = [i["released_at"] for i in seen]
    from datetime import datetime

    parsed = [datetime.fromisoformat(t) for t in times]
    assert parsed == sorted(parsed, reverse=True)


def test_bad_cursor_is_a_validation_error(client, factory):
    import uuid

    h = factory.headers(factory.user("rep", line="KA"))
    for cursor in ("garbage", "x|y", "2026-01-01T00:00:00+00:00|not-a-uuid",
                   f"2026-01-01T00:00:00|{uuid.uuid4()}"):  # a time without offset
        error_of(browse(client, h, "KA", cursor=cursor), 422, "validation_failed")


def test_pool_customer_without_a_release_date_is_still_paged(client, factory):
    """released_at is nullable (a customer imported straight into a pool): such a customer
    sorts by its creation date and paging neither drops it nor fails."""
    from server.customers.models import Customer

    from pool_helpers import set_fields

    made = [pool_customer(factory, "KA", name=f"无释放日{i}号金融有限公司") for i in range(3)]
    set_fields(factory.app, Customer, made[0].id, released_at=None)
    h = factory.headers(factory.user("rep", line="KA"))
    seen, cursor = [], None
    for _ in range(5):
        params = {"q": "无释放日", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = ok(browse(client, h, "KA", **params))
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(i["id"] for i in seen) == sorted(str(c.id) for c in made)
    assert next(i for i in seen if i["id"] == str(made[0].id))["released_at"] is None


def test_q_filters_by_name_and_region(client, factory):
    a = pool_customer(factory, "KA", name="滨江筛选金融有限公司", region="杭州市滨江区")
    b = pool_customer(factory, "KA", name="西湖筛选金融有限公司", region="杭州市西湖区")
    h = factory.headers(factory.user("rep", line="KA"))
    assert [i["id"] for i in ok(browse(client, h, "KA", q="滨江筛选"))["items"]] == [str(a.id)]
    assert {i["id"] for i in ok(browse(client, h, "KA", q="筛选金融"))["items"]} == {str(a.id), str(b.id)}
    assert [i["id"] for i in ok(browse(client, h, "KA", q="杭州市西湖区"))["items"]] == [str(b.id)]
    assert ok(browse(client, h, "KA", q="不存在的名字"))["items"] == []


def test_owned_and_voided_customers_are_not_in_the_pool(client, factory, db_ctx):
    from server.customers.models import Customer

    from pool_helpers import set_fields

    owner = factory.user("rep", line="KA")
    owned = factory.customer(owner, name="已有主人浏览金融有限公司")
    voided = pool_customer(factory, "KA", name="作废浏览金融有限公司")
    set_fields(factory.app, Customer, voided.id, voided_at=now(), void_reason="重复")
    h = factory.headers(factory.user("rep", line="KA"))
    ids = {i["id"] for i in ok(browse(client, h, "KA", q="浏览金融"))["items"]}
    assert str(owned.id) not in ids and str(voided.id) not in ids
