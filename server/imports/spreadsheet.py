"""Reading an uploaded sheet (xlsx or csv) into rows of text, and writing the template.

What the user sees in Excel is what we report: row numbers count every line of the sheet,
the header being row 1, blank lines included. Cells become text the way Excel shows them
(13800001234 stays 13800001234, not 13800001234.0), so numeric-looking mobiles and post codes
survive a round trip through Excel.
"""
from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from server.common.errors import AppError, ValidationFailed

log = logging.getLogger("fieldcrm.imports")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
# One request creates every row through the customer service (~10-20 ms a row with its audit,
# code counter and locks): 2,000 rows stay well inside the 60 s worker timeout; split bigger files.
MAX_ROWS = 2000
# An xlsx is a zip: refuse one that would inflate to more than this (a zip bomb) before
# openpyxl reads a byte of it.
MAX_XLSX_INFLATED = 64 * 1024 * 1024
MAX_XLSX_MEMBERS = 2000

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
# Files people pick by mistake: say 415 at once rather than "no header".
OTHER_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")


class UnsupportedFile(AppError):
    status, code = 415, "unsupported_media_type"


class InvalidFile(AppError):
    status, code = 422, "invalid_file"


class FileTooLarge(AppError):
    status, code = 413, "payload_too_large"


class TooManyRows(AppError):
    status, code = 422, "too_many_rows"


@dataclass(frozen=True)
class Sheet:
    kind: str  # "xlsx" | "csv"
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as Excel shows it, cells)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _unsupported() -> UnsupportedFile:
    return UnsupportedFile("Upload the template as .xlsx or .csv (UTF-8)",
                           details={"accepted": [XLSX_MIME, CSV_MIME]})


def read_sheet(data: bytes) -> Sheet:
    """The sheet in `data`, told by its content (not its name): xlsx, else csv text; 415 for
    anything else (an old .xls, a PDF, an image, a zip that is not a workbook)."""
    if not data.strip():
        raise InvalidFile("The file is empty", details={"reason": "empty"})
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(OLE_MAGIC):
        raise UnsupportedFile("Old .xls workbooks are not read: save it as .xlsx or .csv",
                              details={"accepted": [XLSX_MIME, CSV_MIME]})
    if data.startswith(OTHER_MAGIC) or b"\x00" in data[:65536]:
        raise _unsupported()
    return _read_csv(data)


def _read_xlsx(data: bytes) -> Sheet:
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # without defusedxml openpyxl expands XML entity bombs ("billion laughs")
        log.error("defusedxml is not installed: uploaded workbooks are refused")
        raise UnsupportedFile("This server reads no .xlsx uploads now: upload the template as .csv",
                              details={"accepted": [CSV_MIME]})

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidFile("The workbook is damaged", details={"reason": "bad_zip"}) from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _unsupported()  # a .docx, a zip of photos…
    if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > MAX_XLSX_INFLATED:
        raise InvalidFile("The workbook is too large once unpacked", details={"reason": "too_large"})
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on hostile files: all are the file's fault
        raise InvalidFile("The workbook cannot be read", details={"reason": _root_cause(exc)}) from None
    try:
        sheet = workbook.worksheets[0]
        lines = _collect(sheet.iter_rows(values_only=True), lambda values: [_text(v) for v in values])
    except Exception as exc:
        raise InvalidFile("The workbook cannot be read", details={"reason": _root_cause(exc)}) from None
    finally:
        workbook.close()
    return _sheet("xlsx", lines)


def _root_cause(exc: BaseException) -> str:
    """The name of the first error in the chain (openpyxl wraps defusedxml's EntitiesForbidden)."""
    while exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__):
        exc = exc.__cause__ or exc.__context__
    return type(exc).__name__


def _read_csv(data: bytes) -> Sheet:
    # Excel saves "CSV UTF-8" with a BOM; a plain "CSV" saved by Chinese Excel is GB18030.
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise _unsupported() from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    try:
        lines = _collect(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter),
                         lambda values: [v.strip() for v in values])
    except csv.Error as exc:
        raise InvalidFile("The CSV cannot be read", details={"reason": str(exc)}) from None
    return _sheet("csv", lines)


_BLANK: list[str] = []  # one shared object for every blank line (never changed)


def _collect(records, convert) -> list[list[str]]:
    """The sheet's lines as text cells; blank lines kept as [] so that row numbers stay right
    without holding the thousands of formatted empty rows Excel often leaves in a sheet, and
    which do not count toward MAX_ROWS."""
    lines: list[list[str]] = []
    filled = 0
    for values in records:
        cells = convert(values)
        if not any(cells):
            lines.append(_BLANK)
            continue
        lines.append(cells)
        filled += 1
        if filled > MAX_ROWS + 1:  # the header and one row too many: enough to say so
            break
    return lines


def _sheet(kind: str, lines: list[list[str]]) -> Sheet:
    if not lines or not any(lines[0]):
        raise ValidationFailed("The first row must hold the column headers", details={"reason": "no_header"})
    header = lines[0]
    rows = [(number, cells) for number, cells in enumerate(lines[1:], start=2) if any(cells)]
    if len(rows) > MAX_ROWS:
        raise TooManyRows(f"At most {MAX_ROWS} rows per file", details={"limit": MAX_ROWS})
    return Sheet(kind, header, rows)


# ---- the template ----------------------------------------------------------------------------

def write_xlsx(header: list[str], notes: list[list[str]], industries: list[list[str]]) -> bytes:
    """The template workbook: the header row to fill in, then a sheet of notes on each column
    and one of the industry list."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "客户"
    sheet.append(header)
    for index, title in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        if title.endswith("*"):
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(title) * 2 + 4)
        # Text cells: Excel must not turn mobiles and tax ids into numbers (1.38E+10).
        sheet.column_dimensions[get_column_letter(index)].number_format = "@"
    sheet.freeze_panes = "A2"
    for title, rows in (("填写说明", notes), ("行业", industries)):
        extra = workbook.create_sheet(title)
        for row in rows:
            extra.append(row)
        for cell in extra[1]:
            cell.font = Font(bold=True)
        for index in range(1, len(rows[0]) + 1):
            extra.column_dimensions[get_column_letter(index)].width = 28
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(header: list[str]) -> bytes:
    """The header line, UTF-8 with a BOM (without it Excel reads Chinese as GBK mojibake)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(header)
    return out.getvalue().encode("utf-8-sig")
