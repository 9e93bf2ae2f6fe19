"""The demo's pipeline (`server.demo.pipeline.load_demo_pipeline`): every stage, contracts and
payments over three years, consistent totals, gates met, grades and classes as the job sees them."""
from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import func, select

from server.common.db import utcnow
from server.customers.models import CoFollower, Customer, CustomerStatus
from server.pipeline.models import Deal, DealStatus, Opportunity, Payment, Stage
from server.pipeline.service import stage_missing


def test_demo_pipeline_is_rich_and_consistent(factory, db_ctx):
    from server.demo.pipeline import load_demo_pipeline
    from server.org.models import User
    from server.pipeline.grades import regrade_job

    department = factory.department("演示销售组", line="RETAIL")
    reps = [factory.user("rep", department=department) for _ in range(3)]
    ids = []
    for index in range(90):
        owner = reps[index % 3]
        customer = factory.customer(owner, name=f"上海演示{index:03d}号贸易有限公司", industry="retailer",
                                    source="展会", introduction="演示客户")
        factory.contact(customer, owner, title="采购经理", mobile="13800138000")
        ids.append(customer.id)
    with db_ctx() as session:
        session.add(CoFollower(customer_id=ids[0], user_id=reps[1].id, permission="write"))
        session.commit()

    now = utcnow()
    with db_ctx() as session:
        customers = list(session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.code)))
        users = [session.get(User, r.id) for r in reps]
        report = load_demo_pipeline(random.Random(2026), customers, users, now=now)
        session.commit()

    assert set(report.opportunities) == {s.value for s in Stage}, report.opportunities
    assert report.deals_signed >= 10 and report.payments >= 10 and report.receivables > 0
    assert {"general"} <= set(report.grades) and ({"important", "stable"} & set(report.grades)), report.grades
    with db_ctx() as session:
        for customer in session.scalars(select(Customer).where(Customer.id.in_(ids))):
            signed = session.scalar(select(func.coalesce(func.sum(Deal.amount), 0)).where(
                Deal.customer_id == customer.id, Deal.status == DealStatus.signed))
            paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.customer_id == customer.id))
            assert (customer.deal_total, customer.payment_total) == (signed, paid), customer.code
            assert 0 <= customer.receivables <= customer.deal_total
            if signed:
                assert customer.status == CustomerStatus.signed
        for deal in session.scalars(select(Deal).where(Deal.customer_id.in_(ids))):
            paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.deal_id == deal.id))
            assert deal.paid_total == paid <= deal.amount
            assert deal.status == DealStatus.signed or paid == 0
        years = Counter(d.signed_date.year for d in session.scalars(select(Deal).where(
            Deal.customer_id.in_(ids), Deal.status == DealStatus.signed)))
        assert len(years) == 3, years  # three years of contracts
        for opportunity in session.scalars(select(Opportunity).where(Opportunity.customer_id.in_(ids))):
            assert stage_missing(opportunity, opportunity.stage) == [], (opportunity.stage, opportunity.id)
        numbers = session.scalars(select(Deal.contract_no)).all()
        assert len(numbers) == len(set(numbers))

    # the nightly job, run now, finds nothing to change
    with db_ctx():
        assert regrade_job(now)["changed"] == {}
