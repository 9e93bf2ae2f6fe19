"""Running and exporting reports (SPEC §10). Nothing here commits.

Exports are for managers, ops and admins (reps may not export anything, R-C11). Each export is
logged before its file is streamed — an `export_log` row and an audit entry naming who, which
report, the filters, the format and the row count — so the log is committed with the request
even though the body is produced afterwards. The body is streamed: CSV a chunk of rows at a
time; XLSX through openpyxl's write-only workbook (rows go to a temporary file as they come,
never a whole sheet in memory), then the finished file in pieces.
"""
from __future__ import annotations

import csv
import io
import tempfile
from typing import Any, Iterator

from openpyxl import Workbook

from server.common import audit
from server.common.audit import jsonable
from server.common.errors import NotAuthorized
from server.extensions import db
from server.org.models import Role, User
from server.reports import core
from server.reports.models import ExportLog

EXPORTERS = (Role.manager, Role.ops, Role.admin)
CHUNK_BYTES = 64 * 1024
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def run_report(user: User, key: str, args: dict, lang: str) -> dict:
    return core.run(user, key, args, lang)


def list_reports(lang: str) -> list[dict]:
    return core.listing(lang)


def start_export(user: User, key: str, args: dict, lang: str, fmt: str) -> tuple[Iterator[bytes], str, str]:
    """Check, log, and hand back (body chunks, file name, mimetype)."""
    if user.role not in EXPORTERS:
        raise NotAuthorized("Reps may not export reports", details={"role": user.role.value})
    report = core.get_report(key)
    ctx = core.make_ctx(user, report, args, lang)
    sort, order = args.get("sort"), args.get("order")
    core.check_sort(report, sort)
    rows = core.count_all(ctx)
    filters = {k: jsonable(v) for k, v in ctx.filters.items()}
    if ctx.start or ctx.end:
        filters.setdefault("from", ctx.start.isoformat() if ctx.start else None)
        filters.setdefault("to", ctx.end.isoformat() if ctx.end else None)
    db.session.add(ExportLog(user_id=user.id, report_key=key, format=fmt, filters=filters, row_count=rows))
    audit.record("report.export", "report", key,
                 {"report": [None, key], "format": [None, fmt], "filters": [None, filters], "row_count": [None, rows]},
                 actor_id=user.id)
    db.session.flush()
    body = _csv(ctx, sort, order) if fmt == "csv" else _xlsx(ctx, sort, order)
    stamp = ctx.today.isoformat()
    return body, f"{key}-{stamp}.{fmt}", MIMETYPES[fmt]


def _header(ctx: core.Ctx) -> list[str]:
    return [c.title(ctx.lang) for c in ctx.report.columns]


def _values(ctx: core.Ctx, chunk: list[dict]) -> Iterator[list[Any]]:
    keys = [c.key for c in ctx.report.columns]
    for row in core.present_rows(ctx, chunk):
        yield [row[k] for k in keys]


def _csv(ctx: core.Ctx, sort, order) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # a BOM so that Excel opens the UTF-8 file with its Chinese intact
    buffer.write("\ufeff")
    writer.writerow(_header(ctx))
    for chunk in core.stream_all(ctx, sort, order):
        for values in _values(ctx, chunk):
            writer.writerow(["" if v is None else v for v in values])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    rest = buffer.getvalue()
    if rest:
        yield rest.encode("utf-8")


def _xlsx(ctx: core.Ctx, sort, order) -> Iterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=ctx.report.title(ctx.lang)[:31])
    sheet.append(_header(ctx))
    for chunk in core.stream_all(ctx, sort, order):
        for values in _values(ctx, chunk):
            sheet.append(values)
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while True:
            piece = handle.read(CHUNK_BYTES)
            if not piece:
                break
            yield piece
