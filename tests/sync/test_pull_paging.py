"""A large first pull comes in pages that add up to exactly the visible set (SPEC §12 Pull)."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sync_helpers import Device

from server.customers import access
from server.customers.models import Contact, Customer

CUSTOMERS = 300


def _many_customers(factory, owner, n):
    """n customers with 2 contacts each, straight through the service (fast)."""
    from server.customers.service import create_customer
    from server.extensions import db
    from server.org.models import User
    from server.settings.service import update_settings

    with factory.ctx():
        update_settings({"quotas": {"KA": n + 50}})
    with factory.ctx():
        actor = db.session.get(User, owner.id)
        for i in range(n):
            args = factory.customer_args(name=f"分页测试{i:04d}号贸易有限公司", contacts=[
                {"name": f"甲{i}", "mobile": "13800001234"}, {"name": f"乙{i}", "mobile": "13900005678"}])
            create_customer(args, actor)


def test_large_first_pull_pages_add_up_to_exactly_the_visible_set(factory, db_ctx):
    department = factory.department()
    rep = factory.user("rep", department=department)
    neighbour = factory.user("rep", department=department)
    _many_customers(factory, rep, CUSTOMERS)
    factory.customer(neighbour)  # not visible to the rep
    device = Device(factory, rep)

    pages = device.sync(limit=100)
    assert len(pages) >= 9
    assert pages[0]["reset"] is True
    assert all(page["reset"] is False for page in pages[1:])
    assert all(page["has_more"] is True for page in pages[:-1])
    assert pages[-1]["has_more"] is False
    assert all(len(page["patch"]) <= 100 for page in pages)
    assert all(len(page["patch"]) == 100 for page in pages[:-1])

    ops = [op for page in pages for op in page["patch"]]
    assert all(op["op"] == "put" for op in ops)
    duplicates = [key for key, n in Counter((op["entity"], op["id"]) for op in ops).items() if n > 1]
    assert duplicates == []

    with db_ctx() as session:
        viewer = session.get(type(rep), rep.id)
        visible = {str(i) for i in session.scalars(select(Customer.id).where(access.visible_customers(viewer)))}
        contacts = {str(i) for i in session.scalars(select(Contact.id).where(
            Contact.customer_id.in_(select(Customer.id).where(access.visible_customers(viewer))),
            Contact.voided_at.is_(None)))}
        versions = {str(i): v for i, v in session.execute(select(Customer.id, Customer.version).where(
            access.visible_customers(viewer)))}
    assert len(visible) == CUSTOMERS and len(contacts) == 2 * CUSTOMERS
    assert {op["id"] for op in ops if op["entity"] == "customer"} == visible
    assert {op["id"] for op in ops if op["entity"] == "contact"} == contacts
    assert all(op["version"] == versions[op["id"]] for op in ops if op["entity"] == "customer")
    assert {"department", "user", "settings"} <= {op["entity"] for op in ops}
    assert all(op["data"]["masked"] is False for op in ops if op["entity"] == "contact")

    # the last page's cookie: nothing new
    quiet = device.pull_page(limit=100)
    assert quiet["patch"] == [] and quiet["reset"] is False and quiet["has_more"] is False
    assert quiet["last_mutation_id"] == 0
