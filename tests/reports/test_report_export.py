"""Exports (SPEC §10): managers, ops and admins get the whole report as XLSX or CSV, reps get 403;
every export is logged; money stays exact integer fen from a phone's push to the file."""
from __future__ import annotations

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook
from report_helpers import REPORTS, build_world, report

from helpers import Phone, error_of, new_id, ops_of


@pytest.fixture
def world(factory, app):
    return build_world(factory, app)


def export(client, world, who, key, fmt, **params):
    return client.get(f"{REPORTS}/{key}/export", query_string={"format": fmt, **params}, headers=world.headers[who])


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _logs(db_ctx, user_id):
    from sqlalchemy import select

    from server.common.audit import AuditEntry
    from server.reports.models import ExportLog

    with db_ctx() as session:
        logs = list(session.scalars(select(ExportLog).where(ExportLog.user_id == user_id).order_by(ExportLog.created_at)))
        audits = list(session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user_id,
                                                               AuditEntry.action == "report.export")))
        return logs, audits


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_reps_may_not_export(client, world, db_ctx, fmt):
    error_of(export(client, world, "rep_a1", "visits", fmt), 403, "not_authorized")
    error_of(export(client, world, "rep_b1", "customer_info", fmt), 403, "not_authorized")
    assert _logs(db_ctx, world.users["rep_a1"].id) == ([], [])


def test_xlsx_has_the_columns_and_rows_of_the_report(client, world, db_ctx):
    shown = report(client, world, "mgr_a", "deals", sort="contract_no")
    sheet = read_xlsx(export(client, world, "mgr_a", "deals", "xlsx", sort="contract_no"))
    assert sheet[0] == [c["title"] for c in shown["columns"]]
    keys = [c["key"] for c in shown["columns"]]
    assert len(sheet) - 1 == shown["total"] == 6
    for line, row in zip(sheet[1:], shown["rows"]):
        assert line == [row[k] for k in keys]
    amount = keys.index("amount")
    assert {line[amount] for line in sheet[1:]} == {123_456_789, 777}
    assert all(isinstance(line[amount], int) for line in sheet[1:])
    assert not any("B1" in str(v) or "B2" in str(v) for line in sheet for v in line)  # scope as in the report


def test_csv_has_the_columns_and_rows_of_the_report(client, world):
    shown = report(client, world, "ops", "visits_this_year")
    lines = read_csv(export(client, world, "ops", "visits_this_year", "csv"))
    assert lines[0] == [c["title"] for c in shown["columns"]]
    keys = [c["key"] for c in shown["columns"]]
    assert len(lines) - 1 == shown["total"]
    for line, row in zip(lines[1:], shown["rows"]):
        assert line == ["" if row[k] is None else str(row[k]) for k in keys]


def test_each_export_is_logged_with_who_what_filters_format_and_rows(client, world, db_ctx):
    admin = world.users["admin"]
    read_csv(export(client, world, "admin", "visits", "csv", status="suspect"))
    read_xlsx(export(client, world, "admin", "customers_by_status", "xlsx"))
    statuses = report(client, world, "admin", "customers_by_status")["total"]
    logs, audits = _logs(db_ctx, admin.id)
    assert [(log.report_key, log.format, log.row_count) for log in logs] == [("visits", "csv", 5),
                                                                             ("customers_by_status", "xlsx", statuses)]
    assert logs[0].filters == {"status": "suspect"}
    assert len(audits) == 2
    assert {tuple(a.changes["report"]) for a in audits} == {(None, "visits"), (None, "customers_by_status")}
    visits_audit = next(a for a in audits if a.changes["report"][1] == "visits")
    assert visits_audit.changes["row_count"] == [None, 5] and visits_audit.changes["format"] == [None, "csv"]
    assert visits_audit.changes["filters"] == [None, {"status": "suspect"}]


def test_a_bad_export_request_logs_nothing(client, world, db_ctx):
    error_of(export(client, world, "admin", "visits", "pdf"), 422, "validation_failed")
    error_of(export(client, world, "admin", "visits", "csv", sort="nope"), 422, "validation_failed")
    error_of(export(client, world, "admin", "nope", "csv"), 404, "not_found")
    assert _logs(db_ctx, world.users["admin"].id) == ([], [])


def test_money_stays_exact_fen_from_sync_push_to_both_exports(client, world, factory):
    """Closes the gap of issue #6: odd fen through push, pull, report rows, XLSX and CSV."""
    rep = world.users["rep_a1"]
    phone = Phone(None, factory, rep, headers=world.headers["rep_a1"])
    customer_id = str(world.customers["A1"][1])
    deal_id = new_id()
    contract = f"HT-FEN-{uuid.uuid4().hex[:6]}"
    for name, args in (("deal.create", {"id": deal_id, "customer_id": customer_id, "contract_no": contract,
                                        "amount": 123_456_789}),
                       ("deal.sign", {"id": deal_id}),
                       ("payment.create", {"id": new_id(), "deal_id": deal_id, "amount": 12_345_677,
                                           "received_date": factory_today()}),
                       ("payment.create", {"id": new_id(), "deal_id": deal_id, "amount": 1,
                                           "received_date": factory_today()})):
        assert phone.push(name, args)["status"] == "applied", name
    pulled = ops_of(phone.pull(), "deal")[deal_id]["data"]
    assert pulled["amount"] == 123_456_789 and pulled["paid_total"] == 12_345_678
    # report rows
    deals = report(client, world, "mgr_a", "deals", sort="contract_no")
    row = next(r for r in deals["rows"] if r["contract_no"] == contract)
    assert (row["amount"], row["paid"], row["outstanding"]) == (123_456_789, 12_345_678, 111_111_111)
    payments = report(client, world, "mgr_a", "payments")
    assert sorted(r["amount"] for r in payments["rows"] if r["contract_no"] == contract) == [1, 12_345_677]
    by_user = {r["user"]: r for r in report(client, world, "mgr_a", "deals_this_month_by_user")["rows"]}
    assert by_user["代表A1"]["amount"] == 2 * 123_456_789 and by_user["代表A1"]["outstanding"] == \
        2 * 123_456_789 - 1_000_001 - 12_345_678
    # both export formats
    keys = [c["key"] for c in deals["columns"]]
    sheet = read_xlsx(export(client, world, "mgr_a", "deals", "xlsx", sort="contract_no"))
    line = next(line for line in sheet[1:] if line[keys.index("contract_no")] == contract)
    assert [line[keys.index(k)] for k in ("amount", "paid", "outstanding")] == [123_456_789, 12_345_678, 111_111_111]
    lines = read_csv(export(client, world, "mgr_a", "deals", "csv", sort="contract_no"))
    line = next(line for line in lines[1:] if line[keys.index("contract_no")] == contract)
    assert [line[keys.index(k)] for k in ("amount", "paid", "outstanding")] == ["123456789", "12345678", "111111111"]
    sheet = read_xlsx(export(client, world, "mgr_a", "deals_this_month_by_user", "xlsx"))
    assert 2 * 123_456_789 in [v for line in sheet for v in line]


def factory_today() -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the default org zone


def test_every_report_exports_all_its_rows_in_both_formats(client, world):
    from test_report_scope import KEYS

    for key in KEYS:
        shown = report(client, world, "mgr_root", key)
        lines = read_csv(export(client, world, "mgr_root", key, "csv"))
        assert lines[0] == [c["title"] for c in shown["columns"]], key
        assert len(lines) - 1 == shown["total"], key
        sheet = read_xlsx(export(client, world, "mgr_root", key, "xlsx"))
        assert len(sheet) - 1 == shown["total"], key
