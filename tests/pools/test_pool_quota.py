"""Quotas (SPEC R-P3): a rep owns at most N customers per business line; subsidiaries and voided
customers do not count; creation and claim beyond it are rejected with quota_exceeded."""
from __future__ import annotations

from pool_helpers import Device, INDUSTRY, get_customer, new_id, now, pool_customer, set_fields, set_settings


def _ka_rep_at_quota(factory, limit=3):
    set_settings(factory.app, {"quotas": {"KA": limit}})
    rep = factory.user("rep", line="KA")
    owned = [factory.customer(rep, name=f"配额占位{i}号金融有限公司") for i in range(limit)]
    return rep, owned


def _create_args(factory, **overrides) -> dict:
    args = factory.customer_args(id=new_id(), **overrides)
    return args


def test_creating_one_customer_beyond_the_quota_is_rejected_quota_exceeded(factory):
    rep, _ = _ka_rep_at_quota(factory)
    device = Device(factory, rep)
    result = device.send("customer.create", _create_args(factory, name="超额新建金融有限公司"))
    assert result["status"] == "rejected", result
    assert result["error"]["code"] == "quota_exceeded"
    assert result["error"]["details"]["count"] == 3 and result["error"]["details"]["limit"] == 3


def test_quota_is_per_line_other_lines_are_not_limited_by_it(factory):
    rep, _ = _ka_rep_at_quota(factory)
    result = Device(factory, rep).send("customer.create",
                                       _create_args(factory, name="小微不限额商贸有限公司", industry=INDUSTRY["SMB"]))
    assert result["status"] == "applied", result


def test_a_subsidiary_does_not_count_and_is_accepted_at_the_quota(factory):
    rep, owned = _ka_rep_at_quota(factory)
    result = Device(factory, rep).send("customer.create", _create_args(
        factory, name="配额子公司金融有限公司", parent_id=str(owned[0].id)))
    assert result["status"] == "applied", result


def test_voided_customers_do_not_count(factory):
    from server.customers.models import Customer

    rep, owned = _ka_rep_at_quota(factory)
    device = Device(factory, rep)
    assert device.send("customer.create", _create_args(factory, name="作废前新建金融有限公司"))["status"] == "rejected"
    set_fields(factory.app, Customer, owned[1].id, voided_at=now(), void_reason="重复录入")
    result = device.send("customer.create", _create_args(factory, name="作废后新建金融有限公司"))
    assert result["status"] == "applied", result


def test_claiming_one_customer_beyond_the_quota_is_rejected_quota_exceeded(factory):
    rep, _ = _ka_rep_at_quota(factory)
    customer = pool_customer(factory, "KA", name="超额申领金融有限公司")
    result = Device(factory, rep).claim(customer.id)
    assert result["status"] == "rejected", result
    assert result["error"]["code"] == "quota_exceeded"
    assert result["error"]["details"]["count"] == 3 and result["error"]["details"]["limit"] == 3
    still = get_customer(factory.app, customer.id)
    assert still.owner_id is None and still.pool.value == "KA"


def test_the_last_place_is_taken_by_a_claim_and_the_next_one_is_refused(factory):
    set_settings(factory.app, {"quotas": {"KA": 3}})
    rep = factory.user("rep", line="KA")
    for i in range(2):
        factory.customer(rep, name=f"最后名额占位{i}号金融有限公司")
    first = pool_customer(factory, "KA", name="最后名额甲金融有限公司")
    second = pool_customer(factory, "KA", name="最后名额乙金融有限公司")
    device = Device(factory, rep)
    assert device.claim(first.id)["status"] == "applied"
    result = device.claim(second.id)
    assert result["status"] == "rejected" and result["error"]["code"] == "quota_exceeded"


def test_claiming_a_subsidiary_at_the_quota_is_accepted(factory):
    rep, _ = _ka_rep_at_quota(factory)
    seed = factory.user("rep", line="KA")
    parent = factory.customer(seed, name="池中母公司金融集团有限公司")
    child = pool_customer(factory, "KA", seed=seed, name="池中子公司金融有限公司", parent_id=parent.id)
    result = Device(factory, rep).claim(child.id)
    assert result["status"] == "applied", result
    assert get_customer(factory.app, child.id).owner_id == rep.id


def test_claiming_after_a_voided_customer_frees_a_place(factory):
    from server.customers.models import Customer

    rep, owned = _ka_rep_at_quota(factory)
    customer = pool_customer(factory, "KA", name="作废腾位金融有限公司")
    set_fields(factory.app, Customer, owned[2].id, voided_at=now(), void_reason="测试作废")
    assert Device(factory, rep).claim(customer.id)["status"] == "applied"
