"""Import of historical customers from the template (SPEC R-I1).

One pass checks every row and reports every problem with the row number Excel shows; then,
unless it was a dry run, the rows are created through `server.customers.service.create_customer`
itself, so an imported customer is exactly one made in the app (R-C1 uniqueness, R-C3 code,
R-P3 quota under the owner's lock, audit with the request's channel, contacts). A row without
an owner goes to its origin pool (R-P1/R-P5: the industry pool of its line, the public pool
for SMB) the way a released customer does.

`all_or_nothing` writes nothing unless every row is clean (422 with the report otherwise);
`valid_only` creates the clean rows and reports the others. Nothing here commits.
"""
from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, func, or_, select

from server.common import audit
from server.common.errors import AppError, NotAuthorized
from server.customers import access
from server.customers import service as customers
from server.customers.identity import normalize_name, normalize_tax_id, tax_id_problem
from server.customers.models import Customer
from server.customers.schemas import CustomerCreateSchema
from server.extensions import db
from server.imports import spreadsheet
from server.imports.regions import region_known
from server.org.models import BusinessLine, Role, User
from server.pools.models import ClaimCooldown
from server.settings.service import get_settings, industries

MAX_FILE_BYTES = 5 * 1024 * 1024
MODES = ("dry_run", "all_or_nothing", "valid_only")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    aliases: tuple[str, ...]
    required: bool = False
    note: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("name", "客户名称", ("name", "customer name", "customer"), True, "全称，全系统唯一"),
    Column("short_name", "简称", ("short name",)),
    Column("tax_id", "统一社会信用代码", ("tax id", "unified social credit code", "credit code"), False,
           "18 位，校验位按 GB 32100-2015 检查"),
    Column("type", "客户类型", ("type", "customer type"), True, "直客 或 渠道（direct / distributor）"),
    Column("industry", "行业", ("industry",), True, "行业名称或代码，见「行业」表"),
    Column("region", "区域", ("region",), True, "以省级行政区开头，如 上海市黄浦区、江苏省苏州市"),
    Column("address", "地址", ("address",), True),
    Column("lat", "纬度", ("lat", "latitude"), False, "与经度同填或同空"),
    Column("lng", "经度", ("lng", "lon", "longitude")),
    Column("source", "来源", ("source",)),
    Column("website", "网站", ("website",)),
    Column("scale", "规模", ("scale",)),
    Column("postcode", "邮编", ("postcode", "zip", "zip code", "post code"), False, "6 位数字"),
    Column("introduction", "简介", ("introduction", "intro"), False, "不超过 200 字"),
    Column("status", "客户状态", ("status",), False, "潜在 / 意向 / 流失，空 = 潜在"),
    Column("confidentiality", "保密级别", ("confidentiality",), False, "普通 / 保密，空 = 普通"),
    Column("legal_dispute", "法律纠纷", ("legal dispute",), False, "是 / 否，空 = 否"),
    Column("notes", "备注", ("notes", "remarks")),
    Column("owner", "负责人账号", ("owner", "owner username", "owner_username"), False,
           "负责人的登录账号；空 = 进入该客户的来源客户池（行业客户池，SMB 为公海）"),
    Column("contact_name", "联系人姓名", ("contact name", "contact")),
    Column("contact_title", "联系人职务", ("contact title",)),
    Column("contact_mobile", "联系人手机", ("contact mobile", "mobile")),
)
REQUIRED = tuple(c.key for c in COLUMNS if c.required)
TYPES = {"direct": "direct", "直客": "direct", "distributor": "distributor", "渠道": "distributor",
         "分销": "distributor", "渠道·分销": "distributor", "渠道/分销": "distributor"}
STATUSES = {"potential": "potential", "潜在": "potential", "intent": "intent", "意向": "intent",
            "lost": "lost", "流失": "lost", "丢失": "lost"}
CONFIDENTIALITY = {"normal": "normal", "普通": "normal", "confidential": "confidential", "保密": "confidential"}
BOOLEANS = {"是": True, "否": False, "yes": True, "no": False, "y": True, "n": False, "true": True,
            "false": False, "1": True, "0": False, "有": True, "无": False}
FIELD_LABELS = {c.key: c.zh for c in COLUMNS} | {"contacts": "联系人"}


class ImportRejected(AppError):
    status, code = 422, "import_rejected"


class InvalidTemplate(AppError):
    status, code = 422, "invalid_template"


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip().casefold()
    for mark in ("(必填)", "(选填)", "*"):
        text = text.replace(mark, "")
    return " ".join(text.replace("_", " ").replace("-", " ").split())


HEADER_KEYS: dict[str, str] = {}
for _column in COLUMNS:
    for _alias in (_column.zh, _column.key, *_column.aliases):
        HEADER_KEYS[_header_key(_alias)] = _column.key


# ---- the template ----------------------------------------------------------------------------

def template_header() -> list[str]:
    return [c.zh + ("*" if c.required else "") for c in COLUMNS]


def template(fmt: str) -> tuple[bytes, str, str]:
    """(bytes, MIME type, file extension) of the downloadable template."""
    if fmt == "csv":
        return spreadsheet.write_csv(template_header()), "text/csv; charset=utf-8", "csv"
    notes = [["列", "英文列名（也可用）", "必填", "说明"]] + [
        [c.zh, c.key, "是" if c.required else "", c.note] for c in COLUMNS]
    industry_rows = [["代码", "名称", "English", "业务线"]] + [
        [i["code"], i["name_zh"], i["name_en"], i["business_line"]] for i in industries()]
    return (spreadsheet.write_xlsx(template_header(), notes, industry_rows), spreadsheet.XLSX_MIME, "xlsx")


# ---- checking --------------------------------------------------------------------------------

@dataclass
class Row:
    number: int
    args: dict[str, Any] = field(default_factory=dict)
    owner: User | None = None
    line: BusinessLine | None = None
    problems: list[dict[str, str]] = field(default_factory=list)
    customer_id: uuid.UUID | None = None
    imported: bool = False

    def problem(self, field_name: str | None, code: str, message: str) -> None:
        self.problems.append({"field": field_name, "code": code, "message": message})


def _columns(header: list[str]) -> dict[int, str]:
    positions: dict[int, str] = {}
    unknown, seen = [], {}
    for index, title in enumerate(header):
        if not title.strip():
            continue
        key = HEADER_KEYS.get(_header_key(title))
        if key is None:
            unknown.append(title)
        elif key in seen:
            raise InvalidTemplate("A column appears twice", details={"column": title, "also": seen[key]})
        else:
            seen[key], positions[index] = title, key
    missing = [FIELD_LABELS[k] for k in REQUIRED if k not in seen]
    if unknown or missing:
        # An unknown column is refused, not ignored: a misspelt 联系人手机 would silently drop data.
        raise InvalidTemplate("The header row does not match the template",
                              details={"unknown_columns": unknown, "missing_columns": missing,
                                       "expected": template_header()})
    return positions


def _industry_lookup() -> dict[str, str]:
    lookup = {}
    for entry in industries():
        for name in (entry["code"], entry["name_zh"], entry["name_en"]):
            lookup[_header_key(name)] = entry["code"]
    return lookup


def _choice(row: Row, key: str, raw: str, table: dict[str, Any], args: dict) -> None:
    if not raw:
        return
    value = {_header_key(k): v for k, v in table.items()}.get(_header_key(raw))
    if value is None:
        row.problem(key, "invalid_value", f"{raw!r} is not one of: {', '.join(sorted(set(map(str, table))))}")
    else:
        args[key] = value


def _parse(row: Row, cells: dict[str, str], industry_codes: dict[str, str]) -> None:
    """Cells → create args (as the app's CustomerCreateSchema takes them), or problems."""
    args: dict[str, Any] = {}
    for key in REQUIRED:
        if not cells.get(key):
            row.problem(key, "required", f"{FIELD_LABELS[key]} is required")
    for key in ("name", "short_name", "address", "source", "website", "scale", "postcode", "introduction", "notes"):
        if cells.get(key):
            args[key] = cells[key]
    if cells.get("tax_id"):
        code = normalize_tax_id(cells["tax_id"])
        problem = tax_id_problem(code)
        if problem:
            row.problem("tax_id", "invalid_tax_id", f"not a valid unified social credit code ({problem})")
        else:
            args["tax_id"] = code
    _choice(row, "type", cells.get("type", ""), TYPES, args)
    _choice(row, "status", cells.get("status", ""), STATUSES, args)
    _choice(row, "confidentiality", cells.get("confidentiality", ""), CONFIDENTIALITY, args)
    _choice(row, "legal_dispute", cells.get("legal_dispute", ""), BOOLEANS, args)
    if cells.get("industry"):
        code = industry_codes.get(_header_key(cells["industry"]))
        if code is None:
            row.problem("industry", "unknown_industry", f"no industry named or coded {cells['industry']!r}")
        else:
            args["industry"] = code
            row.line = BusinessLine(next(i for i in industries() if i["code"] == code)["business_line"])
    if cells.get("region"):
        if region_known(cells["region"]):
            args["region"] = cells["region"]
        else:
            row.problem("region", "unknown_region",
                        f"{cells['region']!r} does not start with a province, municipality or region of China")
    lat, lng = cells.get("lat", ""), cells.get("lng", "")
    if lat or lng:
        try:
            args["location"] = {"lat": float(lat), "lng": float(lng)}
        except ValueError:
            row.problem("lat" if not _is_number(lat) else "lng", "invalid_value",
                        "latitude and longitude must both be numbers")
    contact = {k: cells[f"contact_{k}"] for k in ("name", "title", "mobile") if cells.get(f"contact_{k}")}
    if contact:
        if "name" not in contact:
            row.problem("contact_name", "required", "a contact needs a name")
        else:
            args["contacts"] = [contact]
    # The app's own field rules (lengths, post code, mobile, coordinates), so an import accepts
    # exactly what the create form does.
    try:
        loaded = CustomerCreateSchema().load({k: v for k, v in args.items()})
    except ValidationError as exc:
        _schema_problems(row, exc.messages)
    else:
        args = {k: v for k, v in loaded.items() if k in args}
    row.args = args


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _schema_problems(row: Row, messages: dict, prefix: str = "") -> None:
    known = {p["field"] for p in row.problems}
    for key, value in messages.items():
        if key == "contacts":
            for errors in value.values():
                for contact_key, text in errors.items():
                    row.problem(f"contact_{contact_key}", "invalid_value", "; ".join(_flatten(text)))
            continue
        if key == "location":
            key = "lat"
        if key in known:
            continue  # already said (e.g. required)
        row.problem(key, "invalid_value", "; ".join(_flatten(value)))


def _flatten(value) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list):
        return [m for v in value for m in _flatten(v)]
    return [str(value)]


def _check_owner(row: Row, username: str, importer: User, users: dict[str, User | None]) -> None:
    if not username:
        return  # to the pool
    if username not in users:
        users[username] = db.session.scalar(select(User).where(User.username == username))
    owner = users[username]
    if owner is None:
        row.problem("owner", "unknown_owner", f"no user with the username {username!r}")
    elif not owner.active:
        row.problem("owner", "owner_inactive", f"{username} is not active")
    elif owner.role not in (Role.rep, Role.manager):
        row.problem("owner", "owner_not_allowed", f"{username} is not a sales user who may own customers")
    elif not access.manages(importer, owner):
        row.problem("owner", "owner_not_managed", f"{username} is not in your department or below it")
    else:
        row.owner = owner


def _check_duplicates(rows: list[Row]) -> None:
    """R-C1 against the database (every customer, voided and pooled included) and within the file."""
    keyed = [(row, normalize_name(row.args["name"]), row.args.get("tax_id")) for row in rows if row.args.get("name")]
    names = {key for _, key, _ in keyed}
    taxes = {tax for _, _, tax in keyed if tax}
    existing_by_name: dict[str, Customer] = {}
    existing_by_tax: dict[str, Customer] = {}
    names_list, taxes_list = sorted(names), sorted(taxes)
    for start in range(0, max(len(names_list), len(taxes_list)), 500):
        chunk_names, chunk_taxes = names_list[start:start + 500], taxes_list[start:start + 500]
        conditions = []
        if chunk_names:
            conditions.append(Customer.name_key.in_(chunk_names))
        if chunk_taxes:
            conditions.append(Customer.tax_id.in_(chunk_taxes))
        for customer in db.session.scalars(select(Customer).where(or_(*conditions))):
            existing_by_name.setdefault(customer.name_key, customer)
            if customer.tax_id:
                existing_by_tax.setdefault(customer.tax_id, customer)
    first_name: dict[str, int] = {}
    first_tax: dict[str, int] = {}
    for row, key, tax in keyed:
        existing = existing_by_name.get(key) or (existing_by_tax.get(tax) if tax else None)
        if existing is not None:
            # Only what R-C2 lets anyone learn about an existing customer.
            details = customers.duplicate_details(existing)
            holder = f"owner {details['owner_display_name']}" if details["owner_display_name"] else \
                f"pool {details['pool']}"
            row.problem("tax_id" if existing_by_name.get(key) is None else "name", "duplicate_customer",
                        f"already exists as {details['code']} {details['name']} ({holder})")
        elif key in first_name:
            row.problem("name", "duplicate_in_file", f"the same name as row {first_name[key]}")
        elif tax and tax in first_tax:
            row.problem("tax_id", "duplicate_in_file", f"the same tax id as row {first_tax[tax]}")
        first_name.setdefault(key, row.number)
        if tax:
            first_tax.setdefault(tax, row.number)


def _check_quotas(rows: list[Row]) -> None:
    """R-P3 for each owner and line: what they own now plus the clean rows before this one."""
    limits = get_settings().quotas
    taken: dict[tuple[uuid.UUID, BusinessLine], int] = {}
    for row in rows:
        if row.problems or row.owner is None or row.line is None or limits.get(row.line.value) is None:
            continue
        key = (row.owner.id, row.line)
        if key not in taken:
            taken[key] = customers.owned_count(row.owner, row.line)
        limit = limits[row.line.value]
        if taken[key] + 1 > limit:
            row.problem("owner", "quota_exceeded",
                        f"{row.owner.username} would own more than {limit} {row.line.value} customers "
                        f"(owns {customers.owned_count(row.owner, row.line)})")
        else:
            taken[key] += 1


def check(data: bytes, importer: User) -> tuple[list[Row], spreadsheet.Sheet]:
    sheet = spreadsheet.read_sheet(data)
    positions = _columns(sheet.header)
    industry_codes = _industry_lookup()
    users: dict[str, User | None] = {}
    rows = []
    for number, values in sheet.rows:
        cells = {key: (values[index].strip() if index < len(values) else "") for index, key in positions.items()}
        row = Row(number)
        _parse(row, cells, industry_codes)
        _check_owner(row, cells.get("owner", ""), importer, users)
        rows.append(row)
    _check_duplicates(rows)
    _check_quotas(rows)
    return rows, sheet


# ---- importing -------------------------------------------------------------------------------

def _create(row: Row, importer: User) -> Customer:
    if row.owner is not None:
        # Created as its owner would create it: their quota, under their lock; `customer.import`
        # below says who really brought it in.
        customer = customers.create_customer(row.args, row.owner)
        audit.record("customer.import", "customer", customer.id,
                     {"owner_id": [None, row.owner.id], "row": [None, row.number]}, actor_id=importer.id)
        return customer
    from server.pools.service import return_to_pool

    customer = customers.create_customer(row.args, importer)
    # Into its origin pool, as R-P5 sends a customer nobody owns; this audits `customer.import`.
    return_to_pool(customer, "import", f"imported without an owner (row {row.number})", importer)
    # The cooldown return_to_pool gives a former owner makes no sense for the importer, who
    # never owned it in any real sense.
    db.session.execute(delete(ClaimCooldown).where(ClaimCooldown.customer_id == customer.id,
                                                   ClaimCooldown.user_id == importer.id))
    return customer


def run(data: bytes, filename: str | None, mode: str, importer: User) -> dict[str, Any]:
    if importer.role not in (Role.manager, Role.admin):
        raise NotAuthorized("Only managers and administrators import customers")
    rows, sheet = check(data, importer)
    clean = [row for row in rows if not row.problems]
    if mode == "all_or_nothing" and len(clean) != len(rows):
        raise ImportRejected("Nothing was imported: some rows have problems", details=report(mode, rows))
    if mode != "dry_run":
        for row in clean:
            try:
                with db.session.begin_nested():
                    customer = _create(row, importer)
            except AppError as exc:  # lost a race since the checks (a duplicate, the quota)
                if mode == "all_or_nothing":
                    row.problem(None, exc.code, exc.message)
                    raise ImportRejected("Nothing was imported: a row failed", details=report(mode, rows)) from None
                row.problem(None, exc.code, exc.message)
                continue
            row.customer_id, row.imported = customer.id, True
        imported = sum(row.imported for row in rows)
        if imported:
            audit.record("customers.import", "import", uuid.uuid4(),
                         {"file": [None, filename], "sha256": [None, hashlib.sha256(data).hexdigest()],
                          "format": [None, sheet.kind], "mode": [None, mode], "rows": [None, len(rows)],
                          "imported": [None, imported]}, actor_id=importer.id)
    return report(mode, rows)


def report(mode: str, rows: list[Row]) -> dict[str, Any]:
    valid = sum(1 for row in rows if not row.problems)
    return {
        "mode": mode, "total": len(rows), "valid": valid, "invalid": len(rows) - valid,
        "imported": sum(row.imported for row in rows),
        "rows": [{"row": row.number,
                  "status": "imported" if row.imported else ("error" if row.problems else "ok"),
                  "problems": row.problems,
                  **({"customer_id": str(row.customer_id)} if row.customer_id else {})}
                 for row in rows],
    }
