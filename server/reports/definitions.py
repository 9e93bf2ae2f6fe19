"""Every report of SPEC §10 (keys as in the contract): 10 query reports, 16 statistics, target
completion, invalid tracking, suspect visits and the reclaim forecast.

Conventions that make drill-downs add up:
- a report's *subject user* (what `user_id` / `department_id` filter on, and the "user" of
  per-user statistics) is: for customers the creator (new customers) or the owner (the rest);
  for visits and follow-ups the author; for deals and payments the deal's salesperson (who
  signed it, else who recorded it); for claims the claimant; for transfers the receiver;
- `from`/`to` are dates in the organisation's zone on the report's own date: created (customers),
  visited (visits), signed (deals), received (payments), when it happened (claims, transfers,
  change requests);
- every row is under a customer the caller sees (`visible_customers`), and each statistic counts
  exactly the rows its drill report lists with the drill's filters.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, String, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from server.approvals.models import Approval
from server.common.audit import AuditEntry
from server.customers import access
from server.customers.access import SEES_ALL, visible_customers
from server.customers.models import Customer, CustomerStatus
from server.extensions import db
from server.followups.models import FollowUp
from server.org.models import Department, User
from server.pipeline.models import WIN_RATES, Deal, DealStatus, Opportunity, Payment, Stage
from server.reports import sql
from server.reports.core import Chart, Col, Ctx, Report, Series, register
from server.visits.models import Visit

# ---- labels -------------------------------------------------------------------------------------

CUSTOMER_STATUS = {"potential": ("潜在", "Potential"), "intent": ("意向", "Intent"),
                   "signed": ("成交", "Signed"), "lost": ("流失", "Lost")}
CUSTOMER_TYPE = {"direct": ("直客", "Direct"), "distributor": ("渠道·分销", "Distributor")}
GRADE = {"important": ("重要", "Important"), "stable": ("稳定", "Stable"), "general": ("一般", "General"),
         "potential": ("潜在", "Potential")}
VERIFICATION = {"verified": ("已验证", "Verified"), "pending": ("待验证", "Pending"),
                "unverified": ("补录", "Unverified"), "suspect": ("可疑", "Suspect")}
REVIEW = {"none": ("未复核", "Not reviewed"), "confirmed": ("已确认", "Confirmed"), "false": ("判定虚假", "Marked false")}
DEAL_STATUS = {"draft": ("草稿", "Draft"), "signed": ("已签约", "Signed")}
APPROVAL_STATUS = {"pending": ("待审批", "Pending"), "approved": ("已通过", "Approved"),
                   "rejected": ("已驳回", "Rejected"), "cancelled": ("已撤回", "Cancelled")}
STAGE = {"qualify": ("需求确认", "Qualify"), "solution": ("方案制定", "Solution"),
         "negotiation": ("商务谈判", "Negotiation"), "contracting": ("签约", "Contracting"),
         "won": ("赢单", "Won"), "lost": ("输单", "Lost")}
POOL = {"public": ("公海", "Public pool"), "KA": ("KA行业池", "KA pool"), "INTERNET": ("泛互联网行业池", "Internet pool"),
        "RETAIL": ("消费零售行业池", "Retail pool"), "PUBLIC": ("公共业务行业池", "Public-sector pool")}

CUSTOMER_STATUSES = tuple(CUSTOMER_STATUS)
CUSTOMER_CHOICES = {"type": tuple(CUSTOMER_TYPE), "status": CUSTOMER_STATUSES, "stage": tuple(STAGE),
                    "no_source": (True,)}
VISIT_CHOICES = {"type": tuple(CUSTOMER_TYPE), "status": tuple(VERIFICATION),
                 "review": ("open", "reviewed", "all")}

# reusable columns
C_CODE = Col("code", "客户编号", "Code")
C_NAME = Col("name", "客户名称", "Customer")
C_TYPE = Col("type", "类型", "Type", labels=CUSTOMER_TYPE)
C_INDUSTRY = Col("industry", "行业", "Industry")
C_REGION = Col("region", "区域", "Region")
C_STATUS = Col("status", "客户状态", "Status", labels=CUSTOMER_STATUS)
C_OWNER = Col("owner", "负责人", "Owner")
C_USER = Col("user", "人员", "User")
C_DEPT = Col("department", "部门", "Department")
C_MONTH = Col("month", "月份", "Month")

Owner, OwnerDept = aliased(User, name="owner_u"), aliased(Department, name="owner_d")
Subject, SubjectDept = aliased(User, name="subject_u"), aliased(Department, name="subject_d")


def deal_sales():
    """Who a deal counts for: who signed it, else who recorded it."""
    return func.coalesce(Deal.signed_by_id, Deal.created_by_id)


def customer_conditions(ctx: Ctx, status: bool = True, region: bool = True, type_: bool = True,
                        visible: bool = True) -> list:
    """R-O4 plus the filters on the customer's own fields (`visible=False` only where the query
    already applies the access rule itself, as the R-P8 flag query does)."""
    conditions = [visible_customers(ctx.user)] if visible else []
    if region and ctx.f("region") is not None:
        conditions.append(Customer.region == ctx.f("region"))
    if type_ and ctx.f("type") is not None:
        conditions.append(Customer.type == ctx.f("type"))
    if status and ctx.f("status") is not None:
        conditions.append(Customer.status == ctx.f("status"))
    if ctx.f("no_source"):
        conditions.append(or_(Customer.source.is_(None), Customer.source == ""))
    if ctx.f("source") is not None:
        conditions.append(Customer.source == ctx.f("source"))
    if ctx.f("stage") is not None:
        conditions.append(exists().where(Opportunity.customer_id == Customer.id, Opportunity.stage == ctx.f("stage"),
                                         Opportunity.voided_at.is_(None)))
    return conditions


def with_subject(query, subject):
    """Join the subject user and their department (names in the rows)."""
    return query.outerjoin(Subject, Subject.id == subject).outerjoin(SubjectDept, SubjectDept.id == Subject.department_id)


def with_owner(query):
    return query.outerjoin(Owner, Owner.id == Customer.owner_id).outerjoin(OwnerDept, OwnerDept.id == Owner.department_id)


def verification_counts():
    return [func.count(case((Visit.verification_status == s, 1))).label(s) for s in VERIFICATION]


def verification_columns() -> list[Col]:
    return [Col(s, zh, en, "int") for s, (zh, en) in VERIFICATION.items()]


def mine(ctx: Ctx, subject) -> list:
    return [subject == ctx.user.id]


# ---- query reports ------------------------------------------------------------------------------

def q_new_customers(ctx: Ctx):
    query = select(Customer.id.label("_id"), Customer.code, Customer.name, Customer.type, Customer.industry,
                   Customer.region, Customer.status, Customer.source, Subject.display_name.label("created_by"),
                   SubjectDept.name.label("department"), Owner.display_name.label("owner"), Customer.created_at)
    query = with_subject(query.select_from(Customer), Customer.created_by_id).outerjoin(
        Owner, Owner.id == Customer.owner_id)
    return query.where(*customer_conditions(ctx), *ctx.in_period_ts(Customer.created_at),
                       *ctx.subject_filters(Customer.created_by_id))


register(Report(
    "new_customers", "新增客户", "New customers", "query",
    [C_CODE, C_NAME, C_TYPE, C_INDUSTRY, C_REGION, C_STATUS, Col("source", "来源", "Source"),
     Col("created_by", "创建人", "Created by"), C_DEPT, C_OWNER, Col("created_at", "创建时间", "Created", "datetime")],
    q_new_customers, filters=("from", "to", "department_id", "user_id", "region", "type", "status", "source",
                              "no_source"),
    sort=(("created_at", "desc"),), choices=CUSTOMER_CHOICES))


def q_claims(ctx: Ctx):
    customer_id = sql.uuid_from_text(AuditEntry.entity_id, ctx.dialect)
    query = select(AuditEntry.id.label("_id"), AuditEntry.at, Customer.code, Customer.name, Customer.region,
                   Customer.type, AuditEntry.changes[("pool", 0)].as_string().label("pool"),
                   Subject.display_name.label("user"), SubjectDept.name.label("department"), Customer.status,
                   Owner.display_name.label("owner"))
    query = with_subject(query.select_from(AuditEntry).join(Customer, Customer.id == customer_id),
                         AuditEntry.actor_id).outerjoin(Owner, Owner.id == Customer.owner_id)
    return query.where(AuditEntry.action == "customer.claim", AuditEntry.entity == "customer",
                       *customer_conditions(ctx), *ctx.in_period_ts(AuditEntry.at),
                       *ctx.subject_filters(AuditEntry.actor_id))


register(Report(
    "claims", "客户申领", "Claims", "query",
    [Col("at", "申领时间", "Claimed at", "datetime"), C_CODE, C_NAME, C_REGION, C_TYPE,
     Col("pool", "来源客户池", "From pool", labels=POOL), Col("user", "申领人", "Claimed by"), C_DEPT, C_STATUS,
     Col("owner", "当前负责人", "Owner now")],
    q_claims, sort=(("at", "desc"),), choices=CUSTOMER_CHOICES))


def visit_conditions(ctx: Ctx, status: bool = True, customer: bool = True) -> list:
    conditions = [*(customer_conditions(ctx, status=False) if customer else []), *ctx.in_period_ts(Visit.visited_at),
                  *ctx.subject_filters(Visit.author_id)]
    if status and ctx.f("status") is not None:
        conditions.append(Visit.verification_status == ctx.f("status"))
    review = ctx.f("review")
    if review == "open":
        conditions.append(Visit.review_status == "none")
    elif review == "reviewed":
        conditions.append(Visit.review_status != "none")
    return conditions


def q_visits(ctx: Ctx):
    query = select(Visit.id.label("_id"), Visit.visited_at, Customer.code, Customer.name, Customer.region,
                   Subject.display_name.label("user"), SubjectDept.name.label("department"), Visit.purpose,
                   Visit.result, Visit.verification_status, Visit.review_status, Visit.received_at)
    query = with_subject(query.select_from(Visit).join(Customer, Customer.id == Visit.customer_id), Visit.author_id)
    return query.where(*visit_conditions(ctx))


VISIT_COLUMNS = [Col("visited_at", "拜访时间", "Visited at", "datetime"), C_CODE, C_NAME, C_REGION,
                 Col("user", "拜访人", "Visited by"), C_DEPT, Col("purpose", "目的", "Purpose"),
                 Col("result", "结果", "Result"),
                 Col("verification_status", "验证状态", "Verification", labels=VERIFICATION),
                 Col("review_status", "复核", "Review", labels=REVIEW),
                 Col("received_at", "上传时间", "Received at", "datetime")]

register(Report("visits", "拜访记录", "Visits", "query", VISIT_COLUMNS, q_visits,
                filters=("from", "to", "department_id", "user_id", "region", "type", "status", "review"),
                sort=(("visited_at", "desc"),), choices=VISIT_CHOICES))


def q_customer_locations(ctx: Ctx):
    query = select(Customer.id.label("_id"), Customer.code, Customer.name, Customer.region, Customer.address,
                   Customer.lat, Customer.lng, Customer.status, Owner.display_name.label("owner"),
                   OwnerDept.name.label("department"), Customer.last_visit_at)
    query = with_owner(query.select_from(Customer))
    return query.where(Customer.lat.is_not(None), Customer.lng.is_not(None), *customer_conditions(ctx),
                       *ctx.in_period_ts(Customer.created_at), *ctx.subject_filters(Customer.owner_id))


register(Report(
    "customer_locations", "客户位置", "Customer locations", "query",
    [C_CODE, C_NAME, C_REGION, Col("address", "地址", "Address"), Col("lat", "纬度", "Latitude"),
     Col("lng", "经度", "Longitude"), C_STATUS, C_OWNER, C_DEPT,
     Col("last_visit_at", "最近拜访", "Last visit", "datetime")],
    q_customer_locations, sort=(("code", "asc"),), choices=CUSTOMER_CHOICES))


def q_payments(ctx: Ctx):
    query = select(Payment.id.label("_id"), Payment.received_date, Deal.contract_no, Customer.code, Customer.name,
                   Customer.region, Payment.amount, Deal.amount.label("contract_amount"),
                   Subject.display_name.label("user"), SubjectDept.name.label("department"))
    query = with_subject(query.select_from(Payment).join(Deal, Deal.id == Payment.deal_id)
                         .join(Customer, Customer.id == Payment.customer_id), deal_sales())
    return query.where(*customer_conditions(ctx), *ctx.in_period_date(Payment.received_date),
                       *ctx.subject_filters(deal_sales()))


register(Report(
    "payments", "回款记录", "Payments", "query",
    [Col("received_date", "回款日期", "Received", "date"), Col("contract_no", "合同编号", "Contract no."), C_CODE,
     C_NAME, C_REGION, Col("amount", "回款金额(分)", "Amount (fen)", "money"),
     Col("contract_amount", "合同金额(分)", "Contract amount (fen)", "money"), Col("user", "销售", "Salesperson"),
     C_DEPT],
    q_payments, sort=(("received_date", "desc"),), choices=CUSTOMER_CHOICES))


def deal_conditions(ctx: Ctx) -> list:
    conditions = [*customer_conditions(ctx, status=False), *ctx.in_period_date(Deal.signed_date),
                  *ctx.subject_filters(deal_sales())]
    if ctx.f("status") is not None:
        conditions.append(Deal.status == ctx.f("status"))
    return conditions


def q_deals(ctx: Ctx):
    query = select(Deal.id.label("_id"), Deal.signed_date, Deal.contract_no, Customer.code, Customer.name,
                   Customer.region, Deal.status, Deal.amount, Deal.paid_total.label("paid"),
                   case((Deal.status == DealStatus.signed, Deal.amount - Deal.paid_total), else_=0).label("outstanding"),
                   Subject.display_name.label("user"), SubjectDept.name.label("department"))
    query = with_subject(query.select_from(Deal).join(Customer, Customer.id == Deal.customer_id), deal_sales())
    return query.where(*deal_conditions(ctx))


register(Report(
    "deals", "成交合同", "Deals", "query",
    [Col("signed_date", "签约日期", "Signed", "date"), Col("contract_no", "合同编号", "Contract no."), C_CODE, C_NAME,
     C_REGION, Col("status", "合同状态", "Status", labels=DEAL_STATUS), Col("amount", "合同金额(分)", "Amount (fen)", "money"),
     Col("paid", "已回款(分)", "Paid (fen)", "money"), Col("outstanding", "应收(分)", "Receivable (fen)", "money"),
     Col("user", "销售", "Salesperson"), C_DEPT],
    q_deals, sort=(("signed_date", "desc"),), choices={"type": tuple(CUSTOMER_TYPE), "status": tuple(DEAL_STATUS)}))


FromUser, ToUser = aliased(User, name="from_u"), aliased(User, name="to_u")


def q_transfers(ctx: Ctx):
    customer_id = sql.uuid_from_text(AuditEntry.entity_id, ctx.dialect)
    from_id = sql.uuid_from_text(AuditEntry.changes[("owner_id", 0)].as_string(), ctx.dialect)
    to_id = sql.uuid_from_text(AuditEntry.changes[("owner_id", 1)].as_string(), ctx.dialect)
    Actor = aliased(User, name="actor_u")
    query = select(AuditEntry.id.label("_id"), AuditEntry.at, Customer.code, Customer.name, Customer.region,
                   FromUser.display_name.label("from_user"), Subject.display_name.label("to_user"),
                   SubjectDept.name.label("department"), AuditEntry.changes[("reason", 1)].as_string().label("reason"),
                   Actor.display_name.label("by"))
    query = (query.select_from(AuditEntry).join(Customer, Customer.id == customer_id)
             .outerjoin(FromUser, FromUser.id == from_id).outerjoin(Actor, Actor.id == AuditEntry.actor_id))
    query = with_subject(query, to_id)
    return query.where(AuditEntry.action == "customer.transfer", AuditEntry.entity == "customer",
                       *customer_conditions(ctx), *ctx.in_period_ts(AuditEntry.at), *ctx.subject_filters(to_id))


register(Report(
    "transfers", "客户转交", "Transfers", "query",
    [Col("at", "转交时间", "Transferred at", "datetime"), C_CODE, C_NAME, C_REGION,
     Col("from_user", "原负责人", "From"), Col("to_user", "接收人", "To"), C_DEPT, Col("reason", "原因", "Reason"),
     Col("by", "操作人", "By")],
    q_transfers, sort=(("at", "desc"),), choices=CUSTOMER_CHOICES))


def q_daily_reports(ctx: Ctx):
    from server.daily_reports.models import DailyReport

    query = select(DailyReport.id.label("_id"), DailyReport.report_date, User.display_name.label("user"),
                   Department.name.label("department"), DailyReport.summary, DailyReport.plan,
                   DailyReport.submitted_at)
    query = query.select_from(DailyReport).join(User, User.id == DailyReport.user_id).join(
        Department, Department.id == User.department_id)
    return query.where(access.visible_users(ctx.user), *ctx.in_period_date(DailyReport.report_date),
                       *ctx.subject_filters(DailyReport.user_id))


register(Report(
    "daily_reports", "销售日报", "Daily reports", "query",
    [Col("report_date", "日期", "Date", "date"), C_USER, C_DEPT, Col("summary", "今日总结", "Summary"),
     Col("plan", "明日计划", "Plan for tomorrow"), Col("submitted_at", "提交时间", "Submitted", "datetime")],
    q_daily_reports, filters=("from", "to", "department_id", "user_id"), sort=(("report_date", "desc"),)))


def q_customer_info(ctx: Ctx):
    query = select(Customer.id.label("_id"), Customer.code, Customer.name, Customer.type, Customer.industry,
                   Customer.region, Customer.status, Customer.grade, Customer.source,
                   Owner.display_name.label("owner"), OwnerDept.name.label("department"), Customer.visit_count,
                   Customer.last_visit_at, Customer.deal_total, Customer.payment_total,
                   (Customer.deal_total - Customer.payment_total).label("receivables"), Customer.created_at)
    query = with_owner(query.select_from(Customer))
    return query.where(*customer_conditions(ctx), *ctx.in_period_ts(Customer.created_at),
                       *ctx.subject_filters(Customer.owner_id))


CUSTOMER_FILTERS = ("from", "to", "department_id", "user_id", "region", "type", "status", "source", "no_source",
                    "stage")

register(Report(
    "customer_info", "客户信息", "Customer information", "query",
    [C_CODE, C_NAME, C_TYPE, C_INDUSTRY, C_REGION, C_STATUS, Col("grade", "等级", "Grade", labels=GRADE),
     Col("source", "来源", "Source"), C_OWNER, C_DEPT, Col("visit_count", "拜访次数", "Visits", "int"),
     Col("last_visit_at", "最近拜访", "Last visit", "datetime"),
     Col("deal_total", "成交金额(分)", "Deal total (fen)", "money"),
     Col("payment_total", "回款金额(分)", "Paid (fen)", "money"),
     Col("receivables", "应收(分)", "Receivables (fen)", "money"), Col("created_at", "创建时间", "Created", "datetime")],
    q_customer_info, filters=CUSTOMER_FILTERS, sort=(("code", "asc"),), choices=CUSTOMER_CHOICES))


def q_change_requests(ctx: Ctx):
    Decider = aliased(User, name="decider_u")
    query = select(Approval.id.label("_id"), Approval.created_at, Customer.code, Customer.name, Customer.region,
                   Approval.payload.label("_payload"), Subject.display_name.label("user"),
                   SubjectDept.name.label("department"), Approval.status, Decider.display_name.label("decided_by"),
                   Approval.decided_at, Approval.comment)
    query = with_subject(query.select_from(Approval).join(Customer, Customer.id == Approval.customer_id),
                         Approval.requester_id).outerjoin(Decider, Decider.id == Approval.decided_by_id)
    conditions = [Approval.kind == "change_request", *customer_conditions(ctx, status=False),
                  *ctx.in_period_ts(Approval.created_at), *ctx.subject_filters(Approval.requester_id)]
    if ctx.f("status") is not None:
        conditions.append(Approval.status == ctx.f("status"))
    return query.where(*conditions)


def present_change_requests(ctx: Ctx, rows: list[dict]) -> None:
    for row in rows:
        changes = (row.get("_payload") or {}).get("changes") or {}
        row["changes"] = "; ".join(f"{k} → {v}" for k, v in changes.items())


register(Report(
    "change_requests", "信息变更", "Change requests", "query",
    [Col("created_at", "申请时间", "Requested", "datetime"), C_CODE, C_NAME, C_REGION,
     Col("changes", "变更内容", "Changes", sortable=False), Col("user", "申请人", "Requested by"), C_DEPT,
     Col("status", "审批状态", "Status", labels=APPROVAL_STATUS), Col("decided_by", "审批人", "Decided by"),
     Col("decided_at", "审批时间", "Decided", "datetime"), Col("comment", "审批意见", "Comment")],
    q_change_requests, sort=(("created_at", "desc"),),
    choices={"type": tuple(CUSTOMER_TYPE), "status": tuple(APPROVAL_STATUS)}, present=present_change_requests))


# ---- statistics: visits -------------------------------------------------------------------------

def visits_per_customer(ctx: Ctx, only_mine: bool):
    """Aggregate the visits per customer id first (narrow rows), then name the customers. For
    viewers who see every owned customer the customer filters go after the aggregate (they are
    per customer, so the result is the same) and the 400,000-row join before it disappears; for
    the others joining first keeps only their share of the visits."""
    visit_only = visit_conditions(ctx, customer=False) + (mine(ctx, Visit.author_id) if only_mine else [])
    # count(*), not count(id): with only customer_id, visited_at and verification_status read, the
    # covering index ix_visits_customer_visited_status answers it by an index-only scan in
    # customer order — a streaming GroupAggregate instead of a hash table of 100,000 groups
    per_customer = select(Visit.customer_id.label("cid"), func.count().label("visits"), *verification_counts(),
                          func.max(Visit.visited_at).label("last_visit")).select_from(Visit)
    sees_all = ctx.user.role in SEES_ALL
    if not sees_all:
        per_customer = per_customer.join(Customer, Customer.id == Visit.customer_id).where(*customer_conditions(ctx,
                                                                                                              status=False))
    per_customer = per_customer.where(*visit_only).group_by(Visit.customer_id).subquery("per_customer")
    query = select(Customer.id.label("_id"), Customer.code, Customer.name, Customer.region,
                   Owner.display_name.label("owner"), per_customer.c.visits,
                   *[per_customer.c[s] for s in VERIFICATION], per_customer.c.last_visit)
    query = (query.select_from(per_customer).join(Customer, Customer.id == per_customer.c.cid)
             .outerjoin(Owner, Owner.id == Customer.owner_id))
    return query.where(*customer_conditions(ctx, status=False)) if sees_all else query


PER_CUSTOMER_VISIT_COLUMNS = [C_CODE, C_NAME, C_REGION, C_OWNER, Col("visits", "拜访次数", "Visits", "int"),
                              *verification_columns(), Col("last_visit", "最近拜访", "Last visit", "datetime")]

register(Report("visits_this_year", "本年拜访统计", "Visits this year", "statistics", PER_CUSTOMER_VISIT_COLUMNS,
                lambda ctx: visits_per_customer(ctx, False),
                filters=("from", "to", "department_id", "user_id", "region", "type", "status", "review"),
                sort=(("visits", "desc"),), period="year", choices=VISIT_CHOICES))
register(Report("my_visits_this_year", "我的本年拜访", "My visits this year", "statistics",
                PER_CUSTOMER_VISIT_COLUMNS, lambda ctx: visits_per_customer(ctx, True),
                filters=("from", "to", "region", "type", "status", "review"),
                sort=(("visits", "desc"),), period="year", choices=VISIT_CHOICES))


def q_visits_by_region(ctx: Ctx):
    query = select(Customer.region, func.count(Visit.id).label("visits"), *verification_counts(),
                   func.count(func.distinct(Visit.customer_id)).label("customers"))
    query = query.select_from(Visit).join(Customer, Customer.id == Visit.customer_id)
    return query.where(*visit_conditions(ctx)).group_by(Customer.region)


def drill_visits(ctx: Ctx, row: dict, **extra) -> dict:
    return {**ctx.period_params(), **ctx.passthrough("department_id", "user_id", "type", "status", "review"), **extra}


register(Report(
    "visits_by_region_month", "本月区域拜访", "Visits by region this month", "statistics",
    [C_REGION, Col("visits", "拜访次数", "Visits", "int"), *verification_columns(),
     Col("customers", "拜访客户数", "Customers visited", "int")],
    q_visits_by_region, filters=("from", "to", "department_id", "user_id", "region", "type", "review"),
    sort=(("visits", "desc"),), period="month", choices=VISIT_CHOICES,
    chart=Chart("bar", "region", "visits", lambda ctx, row: drill_visits(ctx, row, region=row["region"]),
                series=tuple(Series(s, zh, en, {"status": s}) for s, (zh, en) in VERIFICATION.items()),
                x_order="rows")))


# ---- statistics: new customers ------------------------------------------------------------------

def q_new_by_region_month(ctx: Ctx):
    month = sql.local_month(Customer.created_at, ctx.zone_name, ctx.dialect).label("month")
    query = select(month, Customer.region, func.count(Customer.id).label("customers")).select_from(Customer)
    return query.where(*customer_conditions(ctx), *ctx.in_period_ts(Customer.created_at),
                       *ctx.subject_filters(Customer.created_by_id)).group_by(month, Customer.region)


register(Report(
    "new_customers_by_region_month", "各区域月度新增客户", "New customers per month by region", "statistics",
    [C_MONTH, C_REGION, Col("customers", "新增客户数", "New customers", "int")],
    q_new_by_region_month, sort=(("month", "asc"), ("customers", "desc")), period="year", choices=CUSTOMER_CHOICES,
    chart=Chart("bar", "month", "new_customers",
                lambda ctx, row: {**ctx.month_params(row["month"]), "region": row["region"],
                                  **ctx.passthrough("department_id", "user_id", "type", "status")},
                pivot="region", value="customers")))


def q_my_new_by_type_month(ctx: Ctx):
    month = sql.local_month(Customer.created_at, ctx.zone_name, ctx.dialect).label("month")
    query = select(month, Customer.type, func.count(Customer.id).label("customers")).select_from(Customer)
    return query.where(*customer_conditions(ctx), *ctx.in_period_ts(Customer.created_at),
                       Customer.created_by_id == ctx.user.id).group_by(month, Customer.type)


register(Report(
    "my_new_customers_by_type_month", "我的月度新增客户（按类型）", "My new customers per month by type", "statistics",
    [C_MONTH, C_TYPE, Col("customers", "新增客户数", "New customers", "int")],
    q_my_new_by_type_month, filters=("from", "to", "region", "type", "status"),
    sort=(("month", "asc"), ("type", "asc")), period="year", choices=CUSTOMER_CHOICES,
    chart=Chart("bar", "month", "new_customers",
                lambda ctx, row: {**ctx.month_params(row["month"]), "type": _code(row["type"]),
                                  "user_id": str(ctx.user.id), **ctx.passthrough("region", "status")},
                pivot="type", value="customers")))


def _code(value: Any) -> Any:
    return getattr(value, "value", value)


# ---- statistics: activity (one UNION ALL of every kind of record, grouped once) ------------------

MEASURES = ("new_customers", "follow_ups", "invalid_follow_ups", "visits", "verified_visits", "unverified_visits",
            "suspect_visits", "deals", "deal_amount", "payment_amount")


def _part(uid, day, values: dict[str, Any]):
    cols = [uid.label("uid"), day.label("day")]
    for measure in MEASURES:
        value = values.get(measure, 0)
        cols.append((literal(value, BigInteger) if isinstance(value, int) else value).label(measure))
    return cols


def activity_union(ctx: Ctx, by_day: bool):
    """(uid, day, measures…) for every record of the period under visible customers."""
    def day(ts=None, date_col=None):
        if not by_day:
            return literal("", String)
        if date_col is not None:  # already the organisation's calendar date
            return func.to_char(date_col, "YYYY-MM-DD") if ctx.dialect == "postgresql" else func.substr(date_col, 1, 10)
        return sql.local_date(ts, ctx.zone_name, ctx.dialect)

    cust = customer_conditions(ctx, status=False)
    # the customers the caller sees, found once (a CTE referenced four times is materialized)
    seen = select(Customer.id.label("id")).where(*cust).cte("seen_customers")
    one = literal(1, BigInteger)
    verified = case((Visit.verification_status == "verified", 1), else_=0)
    parts = [
        select(*_part(Customer.created_by_id, day(Customer.created_at), {"new_customers": one}))
        .where(*cust, *ctx.in_period_ts(Customer.created_at)),
        select(*_part(FollowUp.author_id, day(FollowUp.created_at),
                      {"follow_ups": case((FollowUp.valid.is_(True), 1), else_=0),
                       "invalid_follow_ups": case((FollowUp.valid.is_(False), 1), else_=0)}))
        .join(seen, seen.c.id == FollowUp.customer_id).where(*ctx.in_period_ts(FollowUp.created_at)),
        select(*_part(Visit.author_id, day(Visit.visited_at),
                      {"visits": one, "verified_visits": verified,
                       "unverified_visits": case((Visit.verification_status == "unverified", 1), else_=0),
                       "suspect_visits": case((Visit.verification_status == "suspect", 1), else_=0)}))
        .join(seen, seen.c.id == Visit.customer_id).where(*ctx.in_period_ts(Visit.visited_at)),
        select(*_part(deal_sales(), day(date_col=Deal.signed_date), {"deals": one, "deal_amount": Deal.amount}))
        .join(seen, seen.c.id == Deal.customer_id)
        .where(Deal.status == DealStatus.signed, *ctx.in_period_date(Deal.signed_date)),
        select(*_part(deal_sales(), day(date_col=Payment.received_date), {"payment_amount": Payment.amount}))
        .select_from(Payment).join(Deal, Deal.id == Payment.deal_id).join(seen, seen.c.id == Payment.customer_id)
        .where(*ctx.in_period_date(Payment.received_date)),
    ]
    return union_all(*parts).subquery("activity")


def _sums(activity):
    return [func.coalesce(func.sum(activity.c[m]), 0).label(m) for m in MEASURES]


ACTIVITY_COLUMNS = [Col("new_customers", "新增客户", "New customers", "int"),
                    Col("follow_ups", "有效跟进", "Valid follow-ups", "int"),
                    Col("invalid_follow_ups", "无效跟进", "Invalid follow-ups", "int"),
                    Col("visits", "拜访", "Visits", "int"), Col("verified_visits", "已验证拜访", "Verified", "int"),
                    Col("unverified_visits", "补录拜访", "Unverified", "int"),
                    Col("suspect_visits", "可疑拜访", "Suspect", "int"), Col("deals", "签约数", "Deals", "int"),
                    Col("deal_amount", "签约金额(分)", "Deal amount (fen)", "money"),
                    Col("payment_amount", "回款金额(分)", "Payments (fen)", "money")]


def q_activity_by_user(ctx: Ctx):
    activity = activity_union(ctx, by_day=False)
    query = select(activity.c.uid.label("_x_id"), Subject.display_name.label("user"),
                   SubjectDept.name.label("department"), *_sums(activity))
    query = with_subject(query.select_from(activity), activity.c.uid)
    return query.where(*ctx.subject_filters(activity.c.uid)).group_by(
        activity.c.uid, Subject.display_name, SubjectDept.name)


def drill_user(ctx: Ctx, row: dict) -> dict:
    return {**ctx.period_params(), "user_id": str(row["_x_id"]), **ctx.passthrough("region", "type")}


register(Report(
    "activity_by_user_month", "本月人员活动量", "This month's activity per user", "statistics",
    [C_USER, C_DEPT, *ACTIVITY_COLUMNS], q_activity_by_user,
    filters=("from", "to", "department_id", "user_id", "region", "type"), sort=(("visits", "desc"),),
    period="month", choices={"type": tuple(CUSTOMER_TYPE)},
    chart=Chart("bar", "user", "visits", drill_user, x_order="rows", series=(
        Series("new_customers", "新增客户", "New customers", report="new_customers"),
        Series("visits", "拜访", "Visits", report="visits"),
        Series("deal_amount", "签约金额(分)", "Deal amount (fen)", {"status": "signed"}, report="deals",
               sum_column="amount")))))


def q_my_activity(ctx: Ctx):
    activity = activity_union(ctx, by_day=True)
    query = select(activity.c.day.label("date"), *_sums(activity)).select_from(activity)
    return query.where(activity.c.uid == ctx.user.id).group_by(activity.c.day)


register(Report(
    "my_activity_month", "我的本月活动量", "My activity this month", "statistics",
    [Col("date", "日期", "Date", "date"), *ACTIVITY_COLUMNS], q_my_activity,
    filters=("from", "to", "region", "type"), sort=(("date", "asc"),), period="month",
    choices={"type": tuple(CUSTOMER_TYPE)},
    chart=Chart("bar", "date", "visits",
                lambda ctx, row: {**ctx.day_params(row["date"]), "user_id": str(ctx.user.id),
                                  **ctx.passthrough("region", "type")},
                series=(Series("visits", "拜访", "Visits", report="visits"),
                        Series("new_customers", "新增客户", "New customers", report="new_customers")))))


# ---- statistics: deals --------------------------------------------------------------------------

def signed_deals(ctx: Ctx, *group_cols, extra_cols=()):
    query = select(*group_cols, *extra_cols, func.count(Deal.id).label("deals"),
                   func.coalesce(func.sum(Deal.amount), 0).label("amount"))
    query = query.select_from(Deal).join(Customer, Customer.id == Deal.customer_id)
    return query, [*customer_conditions(ctx, status=False), Deal.status == DealStatus.signed,
                   *ctx.in_period_date(Deal.signed_date), *ctx.subject_filters(deal_sales())]


DEAL_FILTERS = ("from", "to", "department_id", "user_id", "region", "type")
DEAL_CHOICES = {"type": tuple(CUSTOMER_TYPE)}


def drill_deals(ctx: Ctx, **extra) -> dict:
    return {**ctx.period_params(), "status": "signed", **ctx.passthrough("department_id", "user_id", "region", "type"),
            **extra}


def q_deal_amount_by_user_month(ctx: Ctx):
    month = sql.date_month(Deal.signed_date, ctx.dialect).label("month")
    uid = deal_sales()
    query, conditions = signed_deals(ctx, month, uid.label("uid"))
    # grouped by month and user id first (two narrow keys), then the names joined to the ~2,400
    # groups rather than to the ~94,000 deals of a year
    per_month = query.where(*conditions).group_by(month, uid).subquery("per_user_month")
    named = select(per_month.c.month, per_month.c.uid.label("_pivot_id"), Subject.display_name.label("user"),
                   SubjectDept.name.label("department"), per_month.c.deals, per_month.c.amount)
    return with_subject(named.select_from(per_month), per_month.c.uid)


register(Report(
    "deal_amount_by_user_month", "人员月度签约金额", "Deal amount per user per month", "statistics",
    [C_MONTH, C_USER, C_DEPT, Col("deals", "签约数", "Deals", "int"), Col("amount", "签约金额(分)", "Amount (fen)", "money")],
    q_deal_amount_by_user_month, filters=DEAL_FILTERS, sort=(("month", "asc"), ("amount", "desc")), period="year",
    choices=DEAL_CHOICES,
    chart=Chart("line", "month", "deals",
                lambda ctx, row: {**drill_deals(ctx), **ctx.month_params(row["month"]), "user_id": str(row["_pivot_id"])},
                pivot="user", value="amount", sum_column="amount")))


def q_deals_this_month_by_user(ctx: Ctx):
    uid = deal_sales()
    query, conditions = signed_deals(ctx, uid.label("_x_id"), Subject.display_name.label("user"),
                                     SubjectDept.name.label("department"),
                                     extra_cols=(func.coalesce(func.sum(Deal.paid_total), 0).label("paid"),
                                                 func.coalesce(func.sum(Deal.amount - Deal.paid_total), 0)
                                                 .label("outstanding")))
    return with_subject(query, uid).where(*conditions).group_by(uid, Subject.display_name, SubjectDept.name)


register(Report(
    "deals_this_month_by_user", "本月人员签约", "Deals this month per user", "statistics",
    [C_USER, C_DEPT, Col("deals", "签约数", "Deals", "int"), Col("amount", "签约金额(分)", "Amount (fen)", "money"),
     Col("paid", "已回款(分)", "Paid (fen)", "money"), Col("outstanding", "应收(分)", "Receivable (fen)", "money")],
    q_deals_this_month_by_user, filters=DEAL_FILTERS, sort=(("amount", "desc"),), period="month",
    choices=DEAL_CHOICES,
    chart=Chart("bar", "user", "deals", lambda ctx, row: drill_deals(ctx, user_id=str(row["_x_id"])),
                series=(Series("amount", "签约金额(分)", "Amount (fen)"),), sum_column="amount", x_order="rows")))


def q_deals_by_region_user(ctx: Ctx):
    uid = deal_sales()
    query, conditions = signed_deals(ctx, Customer.region, uid.label("_pivot_id"), Subject.display_name.label("user"),
                                     SubjectDept.name.label("department"))
    return with_subject(query, uid).where(*conditions).group_by(Customer.region, uid, Subject.display_name,
                                                                SubjectDept.name)


register(Report(
    "deals_by_region_user_year", "本年区域·人员签约", "Deals this year by region and user", "statistics",
    [C_REGION, C_USER, C_DEPT, Col("deals", "签约数", "Deals", "int"), Col("amount", "签约金额(分)", "Amount (fen)", "money")],
    q_deals_by_region_user, filters=DEAL_FILTERS, sort=(("region", "asc"), ("amount", "desc")), period="year",
    choices=DEAL_CHOICES,
    chart=Chart("bar", "region", "deals",
                lambda ctx, row: drill_deals(ctx, region=row["region"], user_id=str(row["_pivot_id"])),
                pivot="user", value="amount", sum_column="amount")))


def q_deal_amount_by_region(ctx: Ctx):
    query, conditions = signed_deals(ctx, Customer.region)
    return query.where(*conditions).group_by(Customer.region)


register(Report(
    "deal_amount_by_region_year", "本年区域签约金额", "Deal amount by region this year", "statistics",
    [C_REGION, Col("deals", "签约数", "Deals", "int"), Col("amount", "签约金额(分)", "Amount (fen)", "money")],
    q_deal_amount_by_region, filters=DEAL_FILTERS, sort=(("amount", "desc"),), period="year", choices=DEAL_CHOICES,
    chart=Chart("pie", "region", "deals", lambda ctx, row: drill_deals(ctx, region=row["region"]),
                series=(Series("amount", "签约金额(分)", "Amount (fen)"),), sum_column="amount", x_order="rows")))


# ---- statistics: customers (snapshots; from/to pick customers by when they were created) --------

def customers_grouped(ctx: Ctx, group_col, only_mine: bool = False, extra=()):
    query = select(group_col, func.count(Customer.id).label("customers"), *extra).select_from(Customer)
    conditions = [*customer_conditions(ctx), *ctx.in_period_ts(Customer.created_at),
                  *ctx.subject_filters(Customer.owner_id)]
    if only_mine:
        conditions.append(Customer.owner_id == ctx.user.id)
    return query.where(*conditions).group_by(group_col)


def drill_customers(ctx: Ctx, **extra) -> dict:
    return {**ctx.period_params(), **ctx.passthrough("department_id", "user_id", "region", "type", "status"), **extra}


MONEY_SUMS = (func.coalesce(func.sum(Customer.deal_total), 0).label("deal_total"),
              func.coalesce(func.sum(Customer.deal_total - Customer.payment_total), 0).label("receivables"))
MONEY_COLS = [Col("deal_total", "成交金额(分)", "Deal total (fen)", "money"),
              Col("receivables", "应收(分)", "Receivables (fen)", "money")]

register(Report(
    "my_customers_by_status", "我的客户（按状态）", "My customers by status", "statistics",
    [C_STATUS, Col("customers", "客户数", "Customers", "int"), *MONEY_COLS],
    lambda ctx: customers_grouped(ctx, Customer.status, only_mine=True, extra=MONEY_SUMS),
    filters=("from", "to", "region", "type", "status"), sort=(("customers", "desc"),), choices=CUSTOMER_CHOICES,
    chart=Chart("pie", "status", "customer_info",
                lambda ctx, row: {**drill_customers(ctx), "status": _code(row["status"]), "user_id": str(ctx.user.id)},
                series=(Series("customers", "客户数", "Customers"),), x_order="rows")))


def q_customers_by_stage(ctx: Ctx):
    order = case(*[(Opportunity.stage == s, i) for i, s in enumerate(Stage)], else_=99)
    rate = case(*[(Opportunity.stage == s, WIN_RATES[s]) for s in Stage], else_=0)
    query = select(Opportunity.stage, func.min(order).label("_order"),
                   func.count(func.distinct(Opportunity.customer_id)).label("customers"),
                   func.count(Opportunity.id).label("opportunities"),
                   func.coalesce(func.sum(Opportunity.amount), 0).label("amount"),
                   func.coalesce(func.sum((Opportunity.amount * rate + 50) // 100), 0).label("weighted_amount"))
    query = query.select_from(Opportunity).join(Customer, Customer.id == Opportunity.customer_id)
    return query.where(Opportunity.voided_at.is_(None), *customer_conditions(ctx),
                       *ctx.in_period_ts(Customer.created_at), *ctx.subject_filters(Customer.owner_id)).group_by(
        Opportunity.stage)


register(Report(
    "customers_by_stage", "客户阶段分布", "Customers per stage", "statistics",
    [Col("stage", "商机阶段", "Stage", labels=STAGE), Col("customers", "客户数", "Customers", "int"),
     Col("opportunities", "商机数", "Opportunities", "int"), Col("amount", "商机金额(分)", "Amount (fen)", "money"),
     Col("weighted_amount", "加权金额(分)", "Weighted (fen)", "money")],
    q_customers_by_stage, filters=CUSTOMER_FILTERS[:7], sort=(("_order", "asc"),), choices=CUSTOMER_CHOICES,
    chart=Chart("bar", "stage", "customer_info",
                lambda ctx, row: drill_customers(ctx, stage=_code(row["stage"])),
                series=(Series("customers", "客户数", "Customers"),), x_order="rows")))

register(Report(
    "customers_by_type", "客户类型分布", "Customers by type", "statistics",
    [C_TYPE, Col("customers", "客户数", "Customers", "int"), *MONEY_COLS],
    lambda ctx: customers_grouped(ctx, Customer.type, extra=MONEY_SUMS), filters=CUSTOMER_FILTERS[:7],
    sort=(("customers", "desc"),), choices=CUSTOMER_CHOICES,
    chart=Chart("pie", "type", "customer_info", lambda ctx, row: drill_customers(ctx, type=_code(row["type"])),
                series=(Series("customers", "客户数", "Customers"),), x_order="rows")))

register(Report(
    "customers_by_status", "客户状态分布", "Customers by status", "statistics",
    [C_STATUS, Col("customers", "客户数", "Customers", "int"), *MONEY_COLS],
    lambda ctx: customers_grouped(ctx, Customer.status, extra=MONEY_SUMS), filters=CUSTOMER_FILTERS[:7],
    sort=(("customers", "desc"),), choices=CUSTOMER_CHOICES,
    chart=Chart("pie", "status", "customer_info", lambda ctx, row: drill_customers(ctx, status=_code(row["status"])),
                series=(Series("customers", "客户数", "Customers"),), x_order="rows")))


def q_customers_by_source(ctx: Ctx):
    source = func.nullif(Customer.source, "").label("source")
    return customers_grouped(ctx, source)


register(Report(
    "customers_by_source", "客户来源分布", "Customers by source", "statistics",
    [Col("source", "来源", "Source"), Col("customers", "客户数", "Customers", "int")],
    q_customers_by_source, filters=CUSTOMER_FILTERS[:7], sort=(("customers", "desc"),), choices=CUSTOMER_CHOICES,
    chart=Chart("pie", "source", "customer_info",
                lambda ctx, row: drill_customers(ctx, **({"source": row["source"]} if row["source"] is not None
                                                        else {"no_source": "true"})),
                series=(Series("customers", "客户数", "Customers"),), x_order="rows")))


# ---- target completion (R-K1), invalid tracking (R-P8), suspect visits, reclaim forecast ----------

def rows_target_completion(ctx: Ctx) -> list[dict]:
    """Targets overlapping the period (active ones, of people the caller may see), each with the
    actuals of its own period from `targets.service.actuals` (SQL aggregates, one per measure and
    period); then one team row per department of those people (sums of its members' rows)."""
    from server.targets.models import Target
    from server.targets.service import actuals

    conditions = [Target.status == "active", Target.voided_at.is_(None), access.visible_users(ctx.user),
                  *ctx.subject_filters(Target.user_id)]
    if ctx.end:
        conditions.append(Target.start_date <= ctx.end)
    if ctx.start:
        conditions.append(Target.end_date >= ctx.start)
    query = (select(Target, User.display_name, Department.id, Department.name).join(User, User.id == Target.user_id)
             .join(Department, Department.id == User.department_id).where(*conditions))
    found = db.session.execute(query).all()
    periods: dict[tuple, list] = {}
    for target, *_ in found:
        periods.setdefault((target.start_date, target.end_date), []).append(target.user_id)
    measured = {period: actuals(sorted(set(ids), key=str), *period) for period, ids in periods.items()}
    rows, teams = [], {}
    for target, name, dept_id, dept_name in found:
        got = measured[(target.start_date, target.end_date)].get(target.user_id) or {}
        row = {"_id": target.id, "level": "user", "user": name, "department": dept_name, "target": target.name,
               "start_date": target.start_date, "end_date": target.end_date}
        for measure in ("new_customers", "visits", "deal_amount", "payment_amount"):
            row[f"{measure}_target"] = int(getattr(target, measure) or 0)
            row[f"{measure}_actual"] = int(got.get(measure) or 0)
        row["verified_visits_actual"] = int(got.get("verified_visits") or 0)
        rows.append(row)
        team = teams.setdefault(dept_id, {"_id": dept_id, "level": "team", "user": None, "department": dept_name,
                                          "target": None, "start_date": None, "end_date": None})
        for key, value in row.items():
            if key.endswith(("_target", "_actual")):
                team[key] = team.get(key, 0) + value
    rows += list(teams.values())
    for row in rows:
        for measure in ("new_customers", "visits", "deal_amount", "payment_amount"):
            target_value = row[f"{measure}_target"]
            row[f"{measure}_pct"] = (None if not target_value else
                                     round(row[f"{measure}_actual"] * 100.0 / target_value, 1))
    return rows


register(Report(
    "target_completion", "指标完成情况", "Target completion", "statistics",
    [Col("level", "层级", "Level", labels={"user": ("个人", "Person"), "team": ("团队", "Team")}), C_USER, C_DEPT,
     Col("target", "指标", "Target"), Col("start_date", "开始", "Start", "date"), Col("end_date", "结束", "End", "date"),
     Col("new_customers_target", "新增客户指标", "New customers target", "int"),
     Col("new_customers_actual", "新增客户", "New customers", "int"),
     Col("new_customers_pct", "新增完成率%", "New customers %", "percent"),
     Col("visits_target", "拜访指标", "Visits target", "int"), Col("visits_actual", "拜访", "Visits", "int"),
     Col("verified_visits_actual", "已验证拜访", "Verified visits", "int"),
     Col("visits_pct", "拜访完成率%", "Visits %", "percent"),
     Col("deal_amount_target", "签约指标(分)", "Deal target (fen)", "money"),
     Col("deal_amount_actual", "签约金额(分)", "Deal amount (fen)", "money"),
     Col("deal_amount_pct", "签约完成率%", "Deals %", "percent"),
     Col("payment_amount_target", "回款指标(分)", "Payment target (fen)", "money"),
     Col("payment_amount_actual", "回款金额(分)", "Payments (fen)", "money"),
     Col("payment_amount_pct", "回款完成率%", "Payments %", "percent")],
    lambda ctx: None, filters=("from", "to", "department_id", "user_id"),
    sort=(("level", "desc"), ("department", "asc"), ("user", "asc")), period="month",
    rows_in_python=rows_target_completion))


def q_invalid_tracking(ctx: Ctx):
    from server.followups.service import flag_query

    flagged, _rules = flag_query(ctx.user, ctx.now)
    named = {c.key: c.element for c in flagged.selected_columns if c.key in ("invalid_count", "last_valid",
                                                                           "has_key_contact")}
    # the row's columns straight from the flag query's own customers row: joining the customers
    # table a second time by id (to name them) cost a 100,000-row hash join for an admin
    query = flagged.with_only_columns(
        Customer.id.label("_id"), Customer.code, Customer.name, Customer.region, Customer.status,
        Owner.display_name.label("owner"), OwnerDept.name.label("department"),
        named["invalid_count"].label("invalid_follow_ups"), named["last_valid"].label("last_valid_at"),
        named["has_key_contact"].label("_key_contact"), Customer.created_at, Customer.assigned_at)
    return with_owner(query).where(*customer_conditions(ctx, visible=False), *ctx.in_period_ts(Customer.created_at),
                                   *ctx.subject_filters(Customer.owner_id))


def present_invalid(ctx: Ctx, rows: list[dict]) -> None:
    from server.followups.service import flag_query, flag_reasons
    from server.customers.models import Customer as C

    _q, rules = flag_query(ctx.user, ctx.now)
    customers = {c.id: c for c in db.session.scalars(select(C).where(C.id.in_([r["_id"] for r in rows])))}
    names = {"too_many_invalid_follow_ups": ("无效跟进过多", "Too many invalid follow-ups"),
             "no_valid_follow_up": ("长期无有效跟进", "No valid follow-up"),
             "no_key_contact": ("无关键联系人", "No key contact")}
    for row in rows:
        reasons = flag_reasons(customers[row["_id"]], row["invalid_follow_ups"] or 0, row["last_valid_at"],
                               bool(row["_key_contact"]), ctx.now, rules)
        row["reasons"] = "、".join(names[r["code"]][1 if ctx.lang == "en" else 0] for r in reasons)


register(Report(
    "invalid_tracking", "无效跟踪客户", "Invalid tracking", "statistics",
    [C_CODE, C_NAME, C_REGION, C_STATUS, C_OWNER, C_DEPT,
     Col("invalid_follow_ups", "无效跟进数", "Invalid follow-ups", "int"),
     Col("last_valid_at", "最近有效跟进", "Last valid follow-up", "datetime"),
     Col("reasons", "原因", "Reasons", sortable=False), Col("created_at", "创建时间", "Created", "datetime")],
    q_invalid_tracking, sort=(("invalid_follow_ups", "desc"), ("code", "asc")), choices=CUSTOMER_CHOICES,
    present=present_invalid))


def q_suspect_visits(ctx: Ctx):
    query = q_visits(ctx).add_columns(Visit.verification.label("_verification"))
    if ctx.f("status") is None:
        query = query.where(Visit.verification_status.in_(("suspect", "unverified")))
    if ctx.f("review") is None:
        query = query.where(Visit.review_status == "none")  # the review queue: not decided yet
    return query


def present_suspect(ctx: Ctx, rows: list[dict]) -> None:
    for row in rows:
        checks = (row.get("_verification") or {}).get("checks") or []
        row["reasons"] = ", ".join(c["code"] for c in checks if c.get("passed") is False)


register(Report(
    "suspect_visits", "可疑拜访待复核", "Suspect visits to review", "statistics",
    [*VISIT_COLUMNS[:8], VISIT_COLUMNS[8], Col("reasons", "未通过的检查", "Failed checks", sortable=False),
     *VISIT_COLUMNS[9:]],
    q_suspect_visits, filters=("from", "to", "department_id", "user_id", "region", "type", "status", "review"),
    sort=(("visited_at", "desc"),), present=present_suspect, lists_records=True,
    choices={**VISIT_CHOICES, "status": ("suspect", "unverified")}))


def q_reclaim_forecast(ctx: Ctx):
    from server.pools.service import _due_condition, reclaim_days

    days = int(ctx.f("days") or 7)
    period = case(*[(Customer.status == s, reclaim_days(s)) for s in CustomerStatus], else_=0)
    due_at = sql.plus_days(Customer.last_progress_at, period, ctx.dialect).label("due_at")
    query = select(Customer.id.label("_id"), Customer.code, Customer.name, Customer.region, Customer.status,
                   Owner.display_name.label("owner"), OwnerDept.name.label("department"),
                   Customer.last_progress_at, due_at)
    return with_owner(query.select_from(Customer)).where(
        _due_condition(ctx.now, extra_days=days), *customer_conditions(ctx), *ctx.subject_filters(Customer.owner_id))


def present_reclaim(ctx: Ctx, rows: list[dict]) -> None:
    from server.pools.service import days_to_reclaim

    customers = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_([r["_id"] for r in rows])))}
    for row in rows:
        row["days_left"] = days_to_reclaim(customers[row["_id"]], ctx.now)


register(Report(
    "reclaim_forecast", "即将回收客户", "Customers to be reclaimed", "statistics",
    [C_CODE, C_NAME, C_REGION, C_STATUS, C_OWNER, C_DEPT,
     Col("last_progress_at", "最近进展", "Last progress", "datetime"), Col("due_at", "回收时间", "Due", "datetime"),
     Col("days_left", "剩余天数", "Days left", "int", sortable=False)],
    q_reclaim_forecast, filters=("days", "department_id", "user_id", "region", "type", "status"),
    sort=(("due_at", "asc"),), present=present_reclaim, lists_records=True, choices={**CUSTOMER_CHOICES, "days": (7, 30)}))
