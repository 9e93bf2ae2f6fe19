"""The demo's sales pipeline: opportunities in every stage, contracts and payments over the last
three years, so that weighted pipelines, receivables, grades and classes all have something to
show. Called by the demo loader with its own generator:

    load_demo_pipeline(rng, owned_customers, reps, now=now)

`owned_customers`: the customers reps own (created and flushed); `reps`: the reps (users, or
anything with a `.user`). Rows are built directly with their audit entries, like the loader's
other activity; every total is kept consistent (customer deal/payment totals, deal paid
totals, signed customers, won opportunities with their signed deals, no overpayment), and
every opportunity satisfies the gate of its stage. Event times stay at or before each
customer's last progress, so the loader's reclaim timeline (warnings, badges) is unchanged;
customers left with receivables are exempt from reclaim, as the SPEC wants.

With `complete_profiles` (default), most customers get a postcode (the one profile field the
loader leaves empty), so that classes (R-C8) are not all "ordinary". Grades and classes are
computed at the end, as the nightly job would.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from server.common import audit
from server.common.db import utcnow, uuid7
from server.customers.models import CoFollower, Customer, CustomerStatus
from server.extensions import db
from server.pipeline import grades
from server.pipeline.models import Deal, DealStatus, Opportunity, Payment, Stage
from server.pipeline.service import contract_no_key
from server.settings.service import get_settings

__all__ = ["load_demo_pipeline", "PipelineDemoReport"]

OPPORTUNITY_SHARE = 0.45
HISTORY_SHARE = 0.24
POSTCODE_SHARE = 0.75
STAGE_WEIGHTS = ((Stage.qualify, 30), (Stage.solution, 20), (Stage.negotiation, 15), (Stage.contracting, 12),
                 (Stage.won, 13), (Stage.lost, 10))
PRODUCTS = (("云服务器 ECS", 2_800_00, 12_000_00), ("对象存储 OSS", 500_00, 3_000_00),
            ("CDN 流量包", 1_000_00, 8_000_00), ("数据库 RDS", 5_000_00, 30_000_00),
            ("GPU 算力实例", 20_000_00, 90_000_00), ("安全防护套餐", 8_000_00, 40_000_00),
            ("视频直播服务", 3_000_00, 25_000_00), ("专属技术支持", 50_000_00, 200_000_00))
PROJECTS = ("上云迁移", "混合云建设", "数据中台", "容灾备份", "直播平台扩容", "安全合规升级", "AI 训练平台",
            "全国 CDN 加速", "年度框架采购")
NEEDS = ("核心业务系统需要弹性扩容", "现有机房年底到期，需要迁移", "业务高峰期带宽不足", "等保三级整改",
         "新业务线上线需要算力")
BUDGETS = ("年度 IT 预算已批", "预算约 200 万，需分期", "预算待财务确认，区间 50-80 万", "专项资金已到位")
AUTHORITIES = ("CIO 拍板", "采购委员会集体决策", "总经理审批", "IT 总监推荐、财务总监审批")
TIMELINES = ("本季度完成选型", "明年一季度上线", "6 个月内分两期实施", "年底前签约")
COMPETITION = ("友商 A 报价更低", "现有供应商续约", "自建机房方案", "暂无明显竞争")
CHAMPIONS = ("运维经理", "技术负责人", "采购经理", "业务部门总监")
LOSS_REASONS = ("价格没有优势", "客户选择了竞品", "项目预算取消", "决策人变动，项目搁置")


@dataclass
class PipelineDemoReport:
    opportunities: dict[str, int] = field(default_factory=dict)
    deals_signed: int = 0
    deals_draft: int = 0
    payments: int = 0
    receivables: int = 0  # fen
    grades: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)


def _user_of(rep: Any):
    return getattr(rep, "user", rep)


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _at(day: date, rng: random.Random, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 18), rng.randrange(60)), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


class _Builder:
    def __init__(self, rng: random.Random, now: datetime, report: PipelineDemoReport):
        self.rng, self.now, self.report = rng, now, report
        self.zone = _zone()
        self.today = now.astimezone(self.zone).date()
        self.contract_seq = 0

    # ---- rows ---------------------------------------------------------------------------------

    def contract_no(self, signed: date) -> str:
        self.contract_seq += 1
        return f"HT{signed.year}-{self.contract_seq:05d}"

    def products(self, priced: bool = True, quantities: bool = True) -> list[dict]:
        lines = []
        for product, low, high in self.rng.sample(PRODUCTS, self.rng.randint(1, 3)):
            lines.append({"product": product,
                          "quantity": self.rng.choice((1, 2, 3, 5, 10, 20)) if quantities else None,
                          "unit_price": self.rng.randrange(low, high, 100) if priced else None})
        return lines

    def opportunity(self, customer: Customer, stage: Stage, owner_id, at: datetime, updated: datetime) -> Opportunity:
        rng = self.rng
        priced = stage not in (Stage.qualify, Stage.solution) or rng.random() < 0.3
        quantities = stage != Stage.qualify or rng.random() < 0.5
        lines = self.products(priced=priced, quantities=quantities) if stage != Stage.qualify or rng.random() < 0.6 \
            else []
        total = sum(line["quantity"] * line["unit_price"] for line in lines
                    if line["quantity"] is not None and line["unit_price"] is not None)
        amount = total if total and priced else rng.randrange(50_000_00, 2_000_000_00, 1_000_00)
        if stage in (Stage.won, Stage.lost):
            close = min(updated.astimezone(self.zone).date(), self.today)
        elif rng.random() < 0.12:
            close = self.today - timedelta(days=rng.randint(5, 60))  # overdue: needs updating
        else:
            close = self.today + timedelta(days=rng.randint(10, 420))
        opportunity = Opportunity(
            id=uuid7(), customer_id=customer.id, owner_id=owner_id, name=f"{rng.choice(PROJECTS)}项目",
            amount=amount, expected_close_date=close, products=lines, need=rng.choice(NEEDS),
            budget=rng.choice(BUDGETS), timeline=rng.choice(TIMELINES),
            authority=rng.choice(AUTHORITIES) if rng.random() < 0.7 else None,
            competition=rng.choice(COMPETITION) if rng.random() < 0.6 else None,
            champion=rng.choice(CHAMPIONS) if rng.random() < 0.5 else None,
            stage=stage, stage_changed_at=updated, created_by_id=owner_id, created_at=at, updated_at=updated)
        if stage in (Stage.contracting, Stage.won) or (stage == Stage.negotiation and rng.random() < 0.2):
            opportunity.contract_draft = f"{rng.getrandbits(256):064x}"  # named; the file is not in the demo
        if stage == Stage.lost:
            opportunity.loss_reason = rng.choice(LOSS_REASONS)
        if rng.random() < 0.5 and stage not in (Stage.lost,):
            opportunity.contract_forecast = amount
            opportunity.contract_forecast_date = close
            opportunity.payment_forecast = amount
            opportunity.payment_forecast_date = close + timedelta(days=rng.choice((30, 60, 90)))
            opportunity.revenue_forecast = amount
            opportunity.revenue_forecast_date = close + timedelta(days=rng.choice((30, 90, 180)))
        db.session.add(opportunity)
        self.report.opportunities[stage.value] = self.report.opportunities.get(stage.value, 0) + 1
        audit.record("opportunity.create", "opportunity", opportunity.id,
                     {"customer_id": [None, customer.id], "stage": [None, stage.value], "amount": [None, amount]},
                     actor_id=owner_id)
        return opportunity

    def deal(self, customer: Customer, amount: int, signed: date | None, actor_id, opportunity_id=None,
             created: datetime | None = None) -> Deal:
        # entered when signed, or (an older contract) when the customer was entered
        created = min(max(created or (_at(signed, self.rng, self.zone) if signed else self.now), customer.created_at),
                      self.now)
        number = self.contract_no(signed or self.today)
        deal = Deal(id=uuid7(), customer_id=customer.id, opportunity_id=opportunity_id, contract_no=number,
                    contract_no_key=contract_no_key(number), amount=amount, signed_date=signed,
                    status=DealStatus.signed if signed else DealStatus.draft, paid_total=0,
                    created_by_id=actor_id, created_at=created, updated_at=created)
        if signed:
            deal.signed_at = created
            deal.signed_by_id = actor_id
            customer.deal_total = int(customer.deal_total or 0) + amount
            customer.status = CustomerStatus.signed
            self.report.deals_signed += 1
        else:
            self.report.deals_draft += 1
        if opportunity_id is not None:
            db.session.flush()  # the opportunity row first (no ORM relationship orders the inserts)
        db.session.add(deal)
        audit.record("deal.create", "deal", deal.id, {"customer_id": [None, customer.id], "contract_no": [None, number],
                                                     "amount": [None, amount]}, actor_id=actor_id)
        if signed:
            audit.record("deal.sign", "deal", deal.id, {"status": ["draft", "signed"],
                                                       "signed_date": [None, signed.isoformat()]}, actor_id=actor_id)
        return deal

    def payments(self, customer: Customer, deal: Deal, actor_id, latest: date) -> None:
        """Most contracts older than a year are paid up; recent ones partly (receivables)."""
        rng = self.rng
        age = (self.today - deal.signed_date).days
        if age > 365:
            share = 1.0 if rng.random() < 0.85 else rng.choice((0.5, 0.8))
        elif age > 90:
            share = rng.choice((0.3, 0.5, 0.7, 1.0))
        else:
            share = rng.choice((0.0, 0.0, 0.3, 0.5))
        target = int(deal.amount * share) // 100 * 100 if share < 1 else deal.amount
        parts = 1 if target == deal.amount and rng.random() < 0.5 else rng.randint(1, 3)
        paid = 0
        day = deal.signed_date
        db.session.flush()  # the deal row before its payments
        for index in range(parts):
            if paid >= target:
                break
            amount = target - paid if index == parts - 1 else max(100, (target - paid) // (parts - index))
            day = min(day + timedelta(days=rng.randint(15, 90)), latest)
            if day < deal.signed_date:
                break
            payment = Payment(id=uuid7(), deal_id=deal.id, customer_id=customer.id, amount=amount, received_date=day,
                              created_by_id=actor_id, created_at=_at(day, rng, self.zone))
            db.session.add(payment)
            paid += amount
            self.report.payments += 1
            audit.record("payment.create", "payment", payment.id,
                         {"deal_id": [None, deal.id], "amount": [None, amount],
                          "received_date": [None, day.isoformat()]}, actor_id=actor_id)
        deal.paid_total = paid
        customer.payment_total = int(customer.payment_total or 0) + paid


def _history_years(rng: random.Random, today: date) -> list[tuple[int, int, int]]:
    """(year, number of contracts, amount per contract in fen) of a customer's past contracts:
    some important (≥ 1M CNY for 3 years), some stable (≥ 300k for 2), the rest general."""
    roll = rng.random()
    if roll < 0.12:
        return [(today.year - k, rng.randint(1, 2), rng.randrange(1_000_000_00, 2_500_000_00, 10_000_00))
                for k in (2, 1, 0)]
    if roll < 0.35:
        return [(today.year - k, 1, rng.randrange(300_000_00, 900_000_00, 10_000_00)) for k in (1, 0)]
    return [(today.year - rng.choice((0, 1, 2)), 1, rng.randrange(20_000_00, 280_000_00, 1_000_00))
            for _ in range(rng.randint(1, 2))]


def load_demo_pipeline(rng: random.Random, owned_customers: Iterable[Customer], reps: Iterable[Any],
                       now: datetime | None = None, complete_profiles: bool = True) -> PipelineDemoReport:
    """Opportunities, deals and payments for the demo's owned customers (nothing committed)."""
    now = now or utcnow()
    report = PipelineDemoReport()
    builder = _Builder(rng, now, report)
    customers = [c for c in owned_customers if c.owner_id is not None and c.voided_at is None]
    rep_ids = {_user_of(r).id for r in reps}
    followers: dict[Any, list] = {}
    for batch_start in range(0, len(customers), 500):
        ids = [c.id for c in customers[batch_start:batch_start + 500]]
        for customer_id, user_id in db.session.execute(select(CoFollower.customer_id, CoFollower.user_id).where(
                CoFollower.customer_id.in_(ids))):
            if user_id in rep_ids:
                followers.setdefault(customer_id, []).append(user_id)
    today = builder.today
    for customer in customers:
        owner_id = customer.owner_id
        start = customer.created_at
        last = max(customer.last_progress_at or start, start)
        latest_day = min(last.astimezone(builder.zone).date(), today)
        if complete_profiles and not customer.postcode and rng.random() < POSTCODE_SHARE:
            customer.postcode = f"200{rng.randrange(0, 1000):03d}"

        if rng.random() < OPPORTUNITY_SHARE:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                stage = rng.choices([s for s, _ in STAGE_WEIGHTS], weights=[w for _, w in STAGE_WEIGHTS])[0]
                created = _between(rng, start, last)
                updated = _between(rng, created, last)
                # now and then a co-follower works the opportunity (R-O5: they may edit that one only)
                by = rng.choice(followers[customer.id]) if followers.get(customer.id) and rng.random() < 0.3 \
                    else owner_id
                opportunity = builder.opportunity(customer, stage, by, created, updated)
                if stage == Stage.won:
                    signed = min(updated.astimezone(builder.zone).date(), latest_day)
                    deal = builder.deal(customer, opportunity.amount, signed, owner_id, opportunity.id,
                                        created=updated)
                    builder.payments(customer, deal, owner_id, latest_day)
                elif stage == Stage.contracting and rng.random() < 0.5:
                    builder.deal(customer, opportunity.amount, None, owner_id, opportunity.id, created=updated)

        if rng.random() < HISTORY_SHARE:
            for year, count, amount in _history_years(rng, today):
                for _ in range(count):
                    first = date(year, 1, 1)
                    last_day = min(date(year, 12, 31), latest_day)
                    if last_day < first:
                        continue
                    signed = first + timedelta(days=rng.randint(0, (last_day - first).days))
                    deal = builder.deal(customer, amount, signed, owner_id)
                    builder.payments(customer, deal, owner_id, latest_day)
    db.session.flush()
    grades.regrade_customers([c.id for c in customers], now=now)
    for customer in customers:
        report.receivables += customer.receivables
        report.grades[customer.grade.value] = report.grades.get(customer.grade.value, 0) + 1
        report.classes[customer.customer_class.value] = report.classes.get(customer.customer_class.value, 0) + 1
    return report
