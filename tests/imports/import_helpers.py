"""Real template files for the import tests: xlsx written by openpyxl, csv as Excel saves it."""
from __future__ import annotations

import csv
import io

import openpyxl

URL = "/api/v1/imports/customers"
TEMPLATE_URL = "/api/v1/imports/customers/template"
HEADER = ["客户名称*", "简称", "统一社会信用代码", "客户类型*", "行业*", "区域*", "地址*", "纬度", "经度", "来源",
          "网站", "规模", "邮编", "简介", "客户状态", "保密级别", "法律纠纷", "备注", "负责人账号", "联系人姓名",
          "联系人职务", "联系人手机"]
KEYS = ["name", "short_name", "tax_id", "type", "industry", "region", "address", "lat", "lng", "source", "website",
        "scale", "postcode", "introduction", "status", "confidentiality", "legal_dispute", "notes", "owner",
        "contact_name", "contact_title", "contact_mobile"]


def row(**cells) -> list:
    """One line of the sheet from column keys; a good KA row unless told otherwise."""
    values = {"type": "直客", "industry": "金融", "region": "上海市黄浦区", "address": "南京东路100号"} | cells
    return [values.get(key, "") for key in KEYS]


def xlsx(rows: list[list], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for line in rows:
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for line in rows:
        writer.writerow(line)
    return out.getvalue().encode(encoding)


def upload(client, headers, data: bytes, mode: str = "dry_run", filename: str = "客户.xlsx"):
    return client.post(URL, headers=headers, content_type="multipart/form-data",
                       data={"mode": mode, "file": (io.BytesIO(data), filename)})


def by_row(report: dict) -> dict[int, dict]:
    return {line["row"]: line for line in report["rows"]}


def codes(line: dict) -> set[tuple[str | None, str]]:
    return {(p["field"], p["code"]) for p in line["problems"]}
