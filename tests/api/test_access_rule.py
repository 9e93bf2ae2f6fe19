"""The access rule R-O4 through every customer path, and masking of confidential numbers (R-C10)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from api_helpers import error_of

CUSTOMERS = "/api/v1/customers"
MATCH_KEYS = {"id", "code", "name", "owner_display_name", "pool"}
# The look-up adds two flags about the match itself, never more data about the customer.
LOOKUP_FLAGS = {"visible", "match"}


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def _sees(client, headers, customer) -> bool:
    """Whether the detail answers and the customer is in the list — which must agree."""
    detail = client.get(f"{CUSTOMERS}/{customer.id}", headers=headers)
    listed = str(customer.id) in _ids(client.get(CUSTOMERS, headers=headers))
    assert (detail.status_code == 200) == listed, (detail.status_code, listed)
    if detail.status_code != 200:
        error_of(detail, 404, "not_found")
    return listed


def _add(db_ctx, row):
    with db_ctx() as session:
        session.add(row)
        session.commit()


def _share(db_ctx, customer, by, user=None, department=None):
    from server.customers.models import Share

    _add(db_ctx, Share(customer_id=customer.id, user_id=user.id if user else None,
                       department_id=department.id if department else None, shared_by_id=by.id))


def _co_follow(db_ctx, customer, user, permission, by):
    from server.customers.models import CoFollower

    _add(db_ctx, CoFollower(customer_id=customer.id, user_id=user.id, permission=permission, added_by_id=by.id))


def _void(db_ctx, customer):
    from server.customers.models import Customer

    with db_ctx() as session:
        row = session.get(Customer, customer.id)
        row.voided_at = datetime.now(timezone.utc)
        row.void_reason = "重复录入"
        session.commit()


@pytest.fixture
def two_reps(factory):
    department = factory.department("华东KA一部", line="KA")
    a = factory.user("rep", department=department, display_name="业务员甲")
    b = factory.user("rep", department=department, display_name="业务员乙")
    return a, b


# ---- rep A and rep B ---------------------------------------------------------------------------------

def test_rep_cannot_reach_another_reps_customer_by_any_path(client, factory, two_reps):
    a, b = two_reps
    theirs = factory.customer(b, name="杭州乙方精密机械有限公司")
    factory.contact(theirs, b, name="钱经理", mobile="13955556666")
    mine = factory.customer(a, name="杭州甲方数据科技有限公司")
    h = factory.headers(a)

    # Detail: the same 404 as for an id that does not exist at all.
    hidden = error_of(client.get(f"{CUSTOMERS}/{theirs.id}", headers=h), 404, "not_found")
    random_id = uuid.uuid4()
    missing = error_of(client.get(f"{CUSTOMERS}/{random_id}", headers=h), 404, "not_found")
    assert hidden["message"] == missing["message"]
    assert hidden["details"] == {k: (str(theirs.id) if v == str(random_id) else v)
                                 for k, v in missing["details"].items()}

    # Lists, in every scope.
    for scope in ("all", "owned", "co_followed", "shared_with_me", "shared_by_me"):
        assert str(theirs.id) not in _ids(client.get(CUSTOMERS, query_string={"scope": scope}, headers=h)), scope
    assert str(mine.id) in _ids(client.get(CUSTOMERS, headers=h))

    # Search: not among the items; the duplicate look-up names it with basic fields only.
    r = client.get(CUSTOMERS, query_string={"q": "乙方精密"}, headers=h)
    assert str(theirs.id) not in _ids(r)
    matches = [m for m in r.json["matches"] if m["id"] == str(theirs.id)]
    assert len(matches) == 1
    match = matches[0]
    assert set(match) - LOOKUP_FLAGS == MATCH_KEYS
    assert match["name"] == "杭州乙方精密机械有限公司"
    assert match["code"] == theirs.code
    assert match["owner_display_name"] == "业务员乙"
    assert match["visible"] is False
    text = r.get_data(as_text=True)
    assert "13955556666" not in text and "钱经理" not in text and theirs.tax_id not in text

    # Writing under it: the same 404.
    error_of(client.post(f"{CUSTOMERS}/{theirs.id}/contacts", json={"name": "孙"}, headers=h), 404, "not_found")
    error_of(client.post(f"{CUSTOMERS}/{random_id}/contacts", json={"name": "孙"}, headers=h), 404, "not_found")

    # Naming it as the parent of a new customer does not reveal it either.
    r = client.post(CUSTOMERS, json=factory.customer_args(parent_id=str(theirs.id)), headers=h)
    error_of(r, 404, "not_found")


def test_search_by_pinyin_initials_finds_own_customer(client, factory, two_reps):
    a, _ = two_reps
    mine = factory.customer(a, name="上海春意空调有限公司")
    r = client.get(CUSTOMERS, query_string={"q": "shcykt"}, headers=factory.headers(a))
    assert str(mine.id) in _ids(r)


# ---- managers, ops, admins ---------------------------------------------------------------------------

def test_manager_sees_their_department_subtree_but_not_a_sibling(client, factory):
    region = factory.department("华东大区", line="KA")
    team = factory.department("上海KA组", parent=region)
    sub_team = factory.department("上海KA一小组", parent=team)
    sibling = factory.department("杭州KA组", parent=region)

    manager = factory.user("manager", department=team)
    in_team = factory.customer(factory.user("rep", department=team))
    in_sub_team = factory.customer(factory.user("rep", department=sub_team))
    in_sibling = factory.customer(factory.user("rep", department=sibling))
    in_region = factory.customer(factory.user("rep", department=region))

    h = factory.headers(manager)
    assert _sees(client, h, in_team)
    assert _sees(client, h, in_sub_team)
    assert not _sees(client, h, in_sibling)
    assert not _sees(client, h, in_region)  # a parent department is not below the manager

    region_h = factory.headers(factory.user("manager", department=region))
    assert all(_sees(client, region_h, c) for c in (in_team, in_sub_team, in_sibling, in_region))


def test_manager_of_another_line_sees_nothing_of_this_one(client, factory, two_reps):
    a, _ = two_reps
    customer = factory.customer(a)
    other = factory.user("manager", department=factory.department("零售事业部", line="RETAIL"))
    assert not _sees(client, factory.headers(other), customer)


@pytest.mark.parametrize("role", ["ops", "admin"])
def test_ops_and_admin_see_every_customer(client, factory, role):
    customers = [factory.customer(factory.user("rep", line=line), industry=industry)
                 for line, industry in (("KA", "finance"), ("RETAIL", "brand"), ("INTERNET", "games"))]
    viewer = factory.user(role, department=factory.department(line="SMB"))
    h = factory.headers(viewer)
    for customer in customers:
        assert _sees(client, h, customer)


# ---- sharing and co-following -------------------------------------------------------------------------

def test_share_with_a_user_makes_it_visible_read_only(client, factory, db_ctx, two_reps):
    a, b = two_reps
    customer = factory.customer(b)
    h = factory.headers(a)
    assert not _sees(client, h, customer)

    _share(db_ctx, customer, by=b, user=a)
    assert _sees(client, h, customer)
    assert str(customer.id) in _ids(client.get(CUSTOMERS, query_string={"scope": "shared_with_me"}, headers=h))
    assert str(customer.id) not in _ids(client.get(CUSTOMERS, query_string={"scope": "owned"}, headers=h))
    error_of(client.post(f"{CUSTOMERS}/{customer.id}/contacts", json={"name": "孙"}, headers=h),
             403, "not_authorized")
    # The owner sees it among the customers they share.
    assert str(customer.id) in _ids(client.get(CUSTOMERS, query_string={"scope": "shared_by_me"},
                                               headers=factory.headers(b)))


def test_share_with_a_department_reaches_its_subtree_only(client, factory, db_ctx, two_reps):
    _, b = two_reps
    customer = factory.customer(b)
    retail = factory.department("零售事业部", line="RETAIL")
    retail_team = factory.department("零售一组", parent=retail)
    public = factory.department("公共业务部", line="PUBLIC")
    in_dept = factory.user("rep", department=retail)
    in_child = factory.user("rep", department=retail_team)
    outside = factory.user("rep", department=public)

    _share(db_ctx, customer, by=b, department=retail)
    for user in (in_dept, in_child):
        h = factory.headers(user)
        assert _sees(client, h, customer)
        error_of(client.post(f"{CUSTOMERS}/{customer.id}/contacts", json={"name": "孙"}, headers=h),
                 403, "not_authorized")
    assert not _sees(client, factory.headers(outside), customer)


def test_share_with_a_child_department_does_not_reach_its_parent(client, factory, db_ctx, two_reps):
    _, b = two_reps
    customer = factory.customer(b)
    retail = factory.department("零售事业部", line="RETAIL")
    retail_team = factory.department("零售一组", parent=retail)
    parent_rep = factory.user("rep", department=retail)
    _share(db_ctx, customer, by=b, department=retail_team)
    assert not _sees(client, factory.headers(parent_rep), customer)


def test_read_co_follower_sees_but_cannot_add_contacts(client, factory, db_ctx, two_reps):
    a, b = two_reps
    customer = factory.customer(b)
    _co_follow(db_ctx, customer, a, "read", by=b)
    h = factory.headers(a)
    assert _sees(client, h, customer)
    assert str(customer.id) in _ids(client.get(CUSTOMERS, query_string={"scope": "co_followed"}, headers=h))
    error_of(client.post(f"{CUSTOMERS}/{customer.id}/contacts", json={"name": "孙"}, headers=h),
             403, "not_authorized")


def test_write_co_follower_can_add_contacts(client, factory, db_ctx, two_reps):
    a, b = two_reps
    customer = factory.customer(b)
    _co_follow(db_ctx, customer, a, "write", by=b)
    h = factory.headers(a)
    r = client.post(f"{CUSTOMERS}/{customer.id}/contacts", json={"name": "孙经理", "mobile": "13711112222"},
                    headers=h)
    assert r.status_code == 201, r.json
    assert r.json["customer_id"] == str(customer.id)
    assert r.json["created_by_id"] == str(a.id)
    # The owner sees the new contact under their customer.
    detail = client.get(f"{CUSTOMERS}/{customer.id}", headers=factory.headers(b)).json
    assert "孙经理" in {c["name"] for c in detail["contacts"]}


# ---- voided customers ------------------------------------------------------------------------------------

def test_voided_customers_disappear_from_lists(client, factory, db_ctx, two_reps):
    a, _ = two_reps
    kept = factory.customer(a)
    voided = factory.customer(a, name="作废测试贸易有限公司")
    manager = factory.user("manager", department=a.department)
    admin = factory.user("admin")
    _void(db_ctx, voided)
    for user in (a, manager, admin):
        h = factory.headers(user)
        ids = _ids(client.get(CUSTOMERS, headers=h))
        assert str(kept.id) in ids
        assert str(voided.id) not in ids
        assert str(voided.id) not in _ids(client.get(CUSTOMERS, query_string={"q": "作废测试"}, headers=h))


# ---- confidential numbers ---------------------------------------------------------------------------------

def test_confidential_contact_numbers_are_masked_for_a_manager(client, factory, db_ctx, two_reps):
    owner, other = two_reps
    customer = factory.customer(owner, confidentiality="confidential")
    factory.contact(customer, owner, name="周总", mobile="13812345678", phone="021-61234567")
    co_follower = factory.user("rep", department=owner.department)
    _co_follow(db_ctx, customer, co_follower, "read", by=owner)
    manager = factory.user("manager", department=owner.department)
    ops = factory.user("ops")
    admin = factory.user("admin")

    def contact_seen_by(user):
        r = client.get(f"{CUSTOMERS}/{customer.id}", headers=factory.headers(user))
        assert r.status_code == 200, r.json
        (contact,) = r.json["contacts"]
        return contact

    for user in (manager, ops):
        contact = contact_seen_by(user)
        assert contact["mobile"] == "138****5678"
        assert contact["phone"] == "021****4567"
        assert contact["masked"] is True
        assert contact["name"] == "周总"
    for user in (owner, co_follower, admin):
        contact = contact_seen_by(user)
        assert contact["mobile"] == "13812345678"
        assert contact["phone"] == "021-61234567"
        assert contact["masked"] is False


def test_normal_customer_numbers_are_plain_for_a_manager(client, factory, two_reps):
    owner, _ = two_reps
    customer = factory.customer(owner)
    factory.contact(customer, owner, mobile="13812345678")
    manager = factory.user("manager", department=owner.department)
    (contact,) = client.get(f"{CUSTOMERS}/{customer.id}", headers=factory.headers(manager)).json["contacts"]
    assert contact["mobile"] == "13812345678"
    assert contact["masked"] is False


def test_confidential_numbers_are_masked_in_the_raw_body(client, factory, two_reps):
    owner, _ = two_reps
    customer = factory.customer(owner, confidentiality="confidential")
    factory.contact(customer, owner, mobile="13812345678")
    manager = factory.user("manager", department=owner.department)
    text = client.get(f"{CUSTOMERS}/{customer.id}", headers=factory.headers(manager)).get_data(as_text=True)
    assert "13812345678" not in text
