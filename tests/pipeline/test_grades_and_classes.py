"""Customer grades from signed deals per year (R-C7), the confidential default of important
customers (R-C10), and classes with profile completeness (R-C8)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from pipeline_fixtures import customer, phones, team  # noqa: F401 — fixtures
from pipeline_helpers import new_id, opportunity_args, ops_of, signed_deal

from server.customers.models import Confidentiality, Customer, CustomerClass, Grade
from server.pipeline.grades import add_months, grade_from, parse_as_of

RULES = {"important_amount_fen": 100_000_000, "important_years": 3, "stable_amount_fen": 30_000_000,
         "stable_years": 2}
MILLION = 100_000_000  # 1,000,000 CNY in fen
STABLE = 30_000_000  # 300,000 CNY in fen
SHANGHAI = timezone(timedelta(hours=8))


def _row(db_ctx, customer_id) -> Customer:
    with db_ctx() as session:
        row = session.get(Customer, customer_id)
        session.refresh(row)
        return row


def _regrade(db_ctx, as_of: datetime) -> dict:
    from server.pipeline.grades import regrade_job

    with db_ctx():
        return regrade_job(as_of)


# ---- the rule, year by year ---------------------------------------------------------------------------

@pytest.mark.parametrize("amounts,year,expected", [
    ({}, 2026, Grade.potential),
    ({2026: 1}, 2026, Grade.general),
    # important: 3 consecutive years at 1M, ending this year or last year
    ({2024: MILLION, 2025: MILLION, 2026: MILLION}, 2026, Grade.important),
    ({2023: MILLION, 2024: MILLION, 2025: MILLION}, 2026, Grade.important),  # 2026 still under way
    ({2023: MILLION, 2024: MILLION, 2025: MILLION}, 2027, Grade.general),  # 2026 was empty
    ({2024: MILLION, 2025: MILLION, 2026: MILLION - 1}, 2026, Grade.stable),  # one fen short
    ({2022: MILLION, 2024: MILLION, 2025: MILLION}, 2025, Grade.stable),  # not consecutive
    # stable: 2 consecutive years at 300k
    ({2025: STABLE, 2026: STABLE}, 2026, Grade.stable),
    ({2024: STABLE, 2025: STABLE}, 2026, Grade.stable),
    ({2024: STABLE, 2025: STABLE}, 2027, Grade.general),
    ({2025: STABLE - 1, 2026: 5 * MILLION}, 2026, Grade.general),
    ({2024: STABLE, 2026: STABLE}, 2026, Grade.general),
])
def test_grade_rule(amounts, year, expected):
    assert grade_from(amounts, year, bool(amounts), RULES) == expected


def test_grade_thresholds_are_settings():
    rules = {**RULES, "stable_amount_fen": 100, "stable_years": 1}
    assert grade_from({2026: 100}, 2026, True, rules) == Grade.stable


def test_add_months_keeps_month_ends():
    assert add_months(date(2026, 2, 28), 12) == date(2027, 2, 28)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_as_of_dates_are_days_of_the_organisation():
    assert parse_as_of("2027-01-01").astimezone(SHANGHAI).date() == date(2027, 1, 1)
    assert parse_as_of("2026-12-31T23:30:00").utcoffset() == timedelta(hours=8)
    with pytest.raises(ValueError):
        parse_as_of("next year")


# ---- regrade from signed deals ---------------------------------------------------------------------------

def test_regrade_across_year_boundaries_in_the_organisations_time_zone(customer, phones, db_ctx):
    owner = phones("owner")
    signed_deal(owner, customer, STABLE, signed_date="2025-06-30")
    signed_deal(owner, customer, STABLE - 50_000_00, signed_date="2026-03-01")
    signed_deal(owner, customer, 50_000_00, signed_date="2026-11-20")  # 2026 reaches 300k with this one

    def grade_at(moment: datetime) -> Grade:
        _regrade(db_ctx, moment)
        return _row(db_ctx, customer.id).grade

    assert grade_at(datetime(2025, 7, 1, tzinfo=timezone.utc)) == Grade.general  # only 2025
    assert grade_at(datetime(2026, 11, 19, 12, tzinfo=timezone.utc)) == Grade.general  # 2026 not there yet
    assert grade_at(datetime(2026, 11, 20, 12, tzinfo=timezone.utc)) == Grade.stable  # this year counts at once
    assert grade_at(datetime(2027, 6, 1, tzinfo=timezone.utc)) == Grade.stable  # last complete year
    # 2027-12-31 23:59 in Shanghai is still 2027: 2025 and 2026 end with the last complete year
    assert grade_at(datetime(2027, 12, 31, 15, 59, tzinfo=timezone.utc)) == Grade.stable
    # a minute later it is 2028 in Shanghai (still 2027 in UTC): neither 2027-2028 nor 2026-2027
    assert grade_at(datetime(2027, 12, 31, 16, 0, tzinfo=timezone.utc)) == Grade.general
    # before any signed deal: potential
    assert grade_at(datetime(2025, 6, 29, tzinfo=timezone.utc)) == Grade.potential


def test_a_draft_deal_leaves_a_customer_potential_and_signing_grades_it_at_once(customer, phones, db_ctx):
    from pipeline_helpers import deal_args

    owner = phones("owner")
    args = deal_args(customer, "HT-G-1", 5 * MILLION)
    owner.applied("deal.create", args)
    _regrade(db_ctx, datetime.now(timezone.utc))
    assert _row(db_ctx, customer.id).grade == Grade.potential
    owner.applied("deal.sign", {"id": args["id"]})
    assert _row(db_ctx, customer.id).grade == Grade.general  # one year of 5M: a deal, not yet stable


def test_becoming_important_makes_a_customer_confidential_unless_someone_chose_otherwise(factory, customer, phones,
                                                                                          db_ctx, team):
    owner = phones("owner")
    chosen = factory.customer(team["owner"], name="上海自选保密客户有限公司")
    # the owner explicitly keeps `chosen` normal (a change through the change history)
    owner.applied("customer.update", {"id": str(chosen.id), "base_version": 0,
                                      "changes": {"confidentiality": "confidential"}})
    owner.applied("customer.update", {"id": str(chosen.id), "base_version": 0,
                                      "changes": {"confidentiality": "normal"}})
    for target in (customer, chosen):
        for year in (2023, 2024, 2025):
            signed_deal(owner, target, MILLION, signed_date=f"{year}-05-10")
    # (signing regrades at once, as of now; the nightly run as of early 2026 agrees)
    _regrade(db_ctx, datetime(2026, 2, 1, tzinfo=timezone.utc))
    automatic = _row(db_ctx, customer.id)
    assert automatic.grade == Grade.important and automatic.confidentiality == Confidentiality.confidential
    kept = _row(db_ctx, chosen.id)
    assert kept.grade == Grade.important and kept.confidentiality == Confidentiality.normal
    # the change history shows the system's decisions (no actor)
    with db_ctx() as session:
        from sqlalchemy import select

        from server.common.history import FieldChange

        changes = session.execute(select(FieldChange.field, FieldChange.after, FieldChange.actor_id).where(
            FieldChange.entity_id == customer.id, FieldChange.field.in_(["grade", "confidentiality"]))
            .order_by(FieldChange.id)).all()
        assert ("confidentiality", "confidential", None) in changes and ("grade", "important", None) in changes
    # the phone learns the new grade with the customer
    data = ops_of(owner.pull(), "customer")[str(customer.id)]["data"]
    assert data["grade"] == "important" and data["confidentiality"] == "confidential"


def test_regrade_is_idempotent_and_reachable_from_the_cli(app, customer, phones, db_ctx):
    from server.cli import cli

    owner = phones("owner")
    for year in (2022, 2023):
        signed_deal(owner, customer, STABLE, signed_date=f"{year}-09-01")
    _regrade(db_ctx, datetime(2025, 6, 1, tzinfo=timezone.utc))
    assert _row(db_ctx, customer.id).grade == Grade.general  # 2022-2023 are no longer "consecutive to now"
    runner = CliRunner()
    first = runner.invoke(cli, ["customers", "regrade", "--as-of", "2024-01-05"],
                          obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "as of 2024-01-05" in first.output and "grade general -> stable" in first.output
    second = runner.invoke(cli, ["customers", "regrade", "--as-of", "2024-01-05"],
                           obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False)
    assert second.exit_code == 0 and "0 changed" in second.output
    bad = runner.invoke(cli, ["customers", "regrade", "--as-of", "soon"], obj=ScriptInfo(create_app=lambda: app))
    assert bad.exit_code != 0
    assert _row(db_ctx, customer.id).grade == Grade.stable


# ---- classes and profile completeness (R-C8) -----------------------------------------------------------------

def _complete_profile(owner, customer) -> str:
    owner.applied("customer.update", {"id": str(customer.id), "base_version": 0, "changes": {
        "postcode": "200001", "source": "展会", "introduction": "华东地区空调与新风设备制造商"}})
    contact_id = new_id()
    owner.applied("contact.create", {"id": contact_id, "customer_id": str(customer.id), "name": "张宏",
                                     "title": "采购总监", "mobile": "13800001234", "key_person": True})
    return contact_id


def test_the_synced_customer_lists_missing_profile_fields(customer, phones):
    owner = phones("owner")
    data = ops_of(owner.pull(), "customer")[str(customer.id)]["data"]
    assert data["customer_class"] == "ordinary"
    assert data["missing_profile_fields"] == ["postcode", "source", "introduction", "contact", "contact_title",
                                              "contact_mobile"]
    owner.applied("contact.create", {"id": new_id(), "customer_id": str(customer.id), "name": "李四",
                                     "mobile": "13900001111"})
    data = ops_of(owner.pull(), "customer")[str(customer.id)]["data"]  # a contact change re-sends the customer
    assert data["missing_profile_fields"] == ["postcode", "source", "introduction", "contact_title"]
    _complete_profile(owner, customer)
    data = ops_of(owner.pull(), "customer")[str(customer.id)]["data"]
    assert data["missing_profile_fields"] == [] and data["customer_class"] == "ordinary"


def test_class_follows_contacts_and_opportunities(customer, phones, db_ctx):
    owner = phones("owner")
    contact_id = _complete_profile(owner, customer)
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.ordinary  # complete, but nothing going on

    # a real contact within 30 days: high-growth
    owner.applied("follow_up.create", {"id": new_id(), "customer_id": str(customer.id), "kind": "phone",
                                       "contact_id": contact_id, "content": "电话沟通了新风系统改造的预算和时间表"})
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.high_growth

    # an open opportunity expected to close within 12 months: core
    far = opportunity_args(customer, expected_close_date=(date.today() + timedelta(days=400)).isoformat())
    owner.applied("opportunity.create", far)
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.high_growth  # 13 months away
    owner.applied("opportunity.update", {"id": far["id"], "base_version": 0, "changes": {
        "expected_close_date": (date.today() + timedelta(days=200)).isoformat()}})
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.core
    data = ops_of(owner.pull(), "customer")[str(customer.id)]["data"]
    assert data["customer_class"] == "core" and data["missing_profile_fields"] == []

    # the opportunity is lost: no longer core
    owner.applied("opportunity.set_stage", {"id": far["id"], "stage": "lost", "loss_reason": "项目取消"})
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.high_growth

    # a profile field removed: ordinary whatever else, and the phone is told which
    owner.applied("customer.update", {"id": str(customer.id), "base_version": 0, "changes": {"postcode": None}})
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.ordinary
    data = ops_of(owner.pull(), "customer")[str(customer.id)]["data"]
    assert data["customer_class"] == "ordinary" and data["missing_profile_fields"] == ["postcode"]


def test_the_nightly_regrade_lets_time_move_classes(customer, phones, db_ctx):
    owner = phones("owner")
    contact_id = _complete_profile(owner, customer)
    owner.applied("follow_up.create", {"id": new_id(), "customer_id": str(customer.id), "kind": "visit",
                                       "contact_id": contact_id, "content": "上门拜访，确认了机房改造的范围"})
    close = date.today() + timedelta(days=60)
    owner.applied("opportunity.create", opportunity_args(customer, expected_close_date=close.isoformat()))
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.core
    now = datetime.now(timezone.utc)
    _regrade(db_ctx, now + timedelta(days=40))  # the close date still ahead, the follow-up old
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.core
    _regrade(db_ctx, now + timedelta(days=70))  # overdue close date, follow-up older than 30 days
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.ordinary
    _regrade(db_ctx, now)
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.core


def test_an_invalid_follow_up_is_not_a_real_contact(customer, phones, db_ctx):
    owner = phones("owner")
    _complete_profile(owner, customer)
    owner.applied("follow_up.create", {"id": new_id(), "customer_id": str(customer.id), "kind": "phone",
                                       "contact_id": None, "content": "打电话"})
    assert _row(db_ctx, customer.id).customer_class == CustomerClass.ordinary


def test_one_contact_must_carry_name_title_and_mobile(factory, team, db_ctx):
    from server.pipeline.grades import missing_profile_fields

    customer = factory.customer(team["owner"], name="上海分散联系人有限公司", postcode="200002", source="转介绍",
                                introduction="测试")
    factory.contact(customer, team["owner"], title="总监", mobile=None)
    factory.contact(customer, team["owner"], title=None, mobile="13700001111")
    with db_ctx() as session:
        row = session.get(Customer, customer.id)
        assert missing_profile_fields(row) in (["contact_title"], ["contact_mobile"])
    factory.contact(customer, team["owner"], title="经理", mobile="13700002222")
    with db_ctx() as session:
        assert missing_profile_fields(session.get(Customer, customer.id)) == []
