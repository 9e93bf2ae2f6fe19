"""The EXIF facts of a photo that visit verification reads (SPEC §7), as plain JSON.

EXIF is read with exifread `process_file(details=False)`: never the MakerNote (vendor blobs are
where EXIF readers have crashed and looped), no thumbnail. A hostile file must not hang a
worker, so reading is bounded twice:

- **bytes**: a JPEG's EXIF lives in its APP1 segment near the start (an APPn segment is at most
  64 KB), so exifread only ever sees the first `JPEG_EXIF_WINDOW` bytes of a JPEG. HEIF keeps its
  EXIF item wherever its `iloc` box says, and a PNG its `eXIf` chunk anywhere: those get the
  whole (already size-limited, at most 15 MB) upload.
- **time**: the parse runs in a daemon thread and the caller waits at most `EXIF_TIMEOUT_S`
  (2 s). A thread cannot be killed, so a parse that never ends keeps its thread; at most
  `MAX_THREADS` parses run at once (a read finding them all taken waits for one, within the
  same limit, then the photo is taken without EXIF facts: `error: "busy"`), so hostile files
  can pin at most that many threads. Daemon threads never block the process's exit.

A photo whose EXIF cannot be read is still a photo: its facts say `error` (`timeout`, `busy`,
`unreadable`) and verification then finds no capture time or location in it.

Facts (every key always present; times in ISO 8601):

    gps              {"lat", "lng"} or None (None also when redacted)
    gps_status       "ok" | "absent" | "redacted" (0/0, all-zero rationals, empty refs) | "invalid"
    gps_accuracy_m   GPSHPositioningError in metres, or None
    gps_time         GPSDateStamp + GPSTimeStamp as UTC "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", or None
    datetime_original      DateTimeOriginal, local wall time without offset "YYYY-MM-DDTHH:MM:SS"
    offset_time_original   OffsetTimeOriginal "+HH:MM", or None
    datetime         DateTime (the file's last change, camera-local), like datetime_original
    software, make, model  stripped strings or None
    orientation      1-8 or None
    error            None, or why there are no facts
"""
from __future__ import annotations

import io
import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import exifread

log = logging.getLogger("fieldcrm.verification.exif")
# exifread warns about every odd tag it skips; hostile files would flood the log.
logging.getLogger("exifread").setLevel(logging.ERROR)

EXIF_TIMEOUT_S = 2.0
JPEG_EXIF_WINDOW = 512 * 1024
MAX_THREADS = 8
TEXT_LIMIT = 200
# A GPS date before this is a zeroed or broken stamp (1970-01-01, 0000:00:00), not a capture.
EARLIEST_YEAR = 1995

FACT_KEYS = ("gps", "gps_status", "gps_accuracy_m", "gps_time", "datetime_original", "offset_time_original",
             "datetime", "software", "make", "model", "orientation", "error")

_DATETIME_RE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_DATE_RE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})\s*$")
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")


def empty_facts(error: str | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = dict.fromkeys(FACT_KEYS)
    facts["gps_status"] = "absent"
    facts["error"] = error
    return facts


# ---------------------------------------------------------------------------------- reading

def _window(data: bytes) -> bytes:
    return data[:JPEG_EXIF_WINDOW] if data[:3] == b"\xff\xd8\xff" else data


def read_tags(data: bytes) -> dict[str, Any]:
    """exifread's tags (no MakerNote, no thumbnail), in this thread, without a time limit."""
    return exifread.process_file(io.BytesIO(_window(data)), details=False, extract_thumbnail=False,
                                 strict=False)


class Extraction:
    """An EXIF read running in its own daemon thread; `result()` waits for it, bounded.

    At most MAX_THREADS parses run at once; a read that finds them all taken waits for one up
    to the time limit (ordinary parses take a few ms), then gives up (`busy`)."""

    def __init__(self, data: bytes):
        self.started = time.monotonic()
        self._done = threading.Event()
        self._facts: dict[str, Any] | None = None
        threading.Thread(target=self._run, args=(data,), name="exif", daemon=True).start()

    def _finish(self, facts: dict[str, Any]) -> None:
        self._facts = facts
        self._done.set()

    def _run(self, data: bytes) -> None:
        if not _slots.acquire(timeout=EXIF_TIMEOUT_S):
            log.warning("every EXIF parser is busy (stuck on hostile files?): photo taken without EXIF facts")
            self._finish(empty_facts("busy"))
            return
        try:
            facts = facts_from_tags(read_tags(data))
        except Exception as exc:  # whatever a hostile file makes exifread do
            log.info("EXIF unreadable: %s: %s", type(exc).__name__, exc)
            facts = empty_facts("unreadable")
        finally:
            _slots.release()
        self._finish(facts)

    def result(self, timeout: float = EXIF_TIMEOUT_S) -> dict[str, Any]:
        """The facts, or empty facts with `error: "timeout"` once `timeout` seconds have passed
        since the read started."""
        left = max(0.0, timeout - (time.monotonic() - self.started))
        if not self._done.wait(left):
            log.warning("EXIF read took over %.1f s: photo taken without EXIF facts", timeout)
            return empty_facts("timeout")
        return dict(self._facts)


_slots = threading.BoundedSemaphore(MAX_THREADS)


def start(data: bytes) -> Extraction:
    """Start reading in the background (the caller decodes the image meanwhile)."""
    return Extraction(data)


def extract(data: bytes, timeout: float = EXIF_TIMEOUT_S) -> dict[str, Any]:
    """The facts of these bytes, within `timeout` seconds."""
    return start(data).result(timeout)


# ---------------------------------------------------------------------------------- facts

def _values(tags: dict, key: str) -> Any:
    tag = tags.get(key)
    return getattr(tag, "values", None) if tag is not None else None


def _text(tags: dict, key: str) -> str | None:
    value = _values(tags, key)
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, list):
        value = "".join(chr(v) if isinstance(v, int) and 0 < v < 0x110000 else str(v) for v in value)
    text = str(value).replace("\x00", " ").strip()
    return text[:TEXT_LIMIT] or None


def _number(value: Any) -> float | None:
    """A rational (or int) as a float; None for x/0 and anything that is not a number."""
    try:
        if isinstance(value, Fraction) or hasattr(value, "den"):
            den = getattr(value, "den", None)
            num = getattr(value, "num", None)
            if den is None or num is None:
                num, den = value.numerator, value.denominator
            if not den:
                return 0.0 if num == 0 else None  # 0/0 is how some phones zero a value
            return num / den
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    except (ZeroDivisionError, TypeError, ValueError, AttributeError):
        return None
    return None


def _numbers(tags: dict, key: str) -> list[float | None] | None:
    values = _values(tags, key)
    if values is None:
        return None
    if not isinstance(values, (list, tuple)):
        values = [values]
    return [_number(v) for v in values]


def _dms(parts: list[float | None] | None) -> float | None:
    if not parts or len(parts) > 3 or any(p is None or p < 0 for p in parts):
        return None
    degrees, minutes, seconds = (list(parts) + [0.0, 0.0])[:3]
    if minutes >= 60 or seconds >= 60:
        # some writers put decimal minutes in the seconds slot; anything else is garbage
        return None
    return degrees + minutes / 60 + seconds / 3600


def _gps(tags: dict) -> tuple[dict | None, str]:
    lat_parts = _numbers(tags, "GPS GPSLatitude")
    lng_parts = _numbers(tags, "GPS GPSLongitude")
    lat_ref = (_text(tags, "GPS GPSLatitudeRef") or "").upper()[:1]
    lng_ref = (_text(tags, "GPS GPSLongitudeRef") or "").upper()[:1]
    if lat_parts is None and lng_parts is None:
        return None, "absent"
    # Android without media-location permission writes 0/1 rationals and empty refs.
    if all(p == 0 for p in (lat_parts or []) + (lng_parts or [])) or not lat_ref or not lng_ref:
        return None, "redacted"
    lat, lng = _dms(lat_parts), _dms(lng_parts)
    if lat is None or lng is None or lat_ref not in "NS" or lng_ref not in "EW":
        return None, "invalid"
    lat = -lat if lat_ref == "S" else lat
    lng = -lng if lng_ref == "W" else lng
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None, "invalid"
    if lat == 0 and lng == 0:
        return None, "redacted"
    return {"lat": round(lat, 7), "lng": round(lng, 7)}, "ok"


def _gps_time(tags: dict, redacted: bool) -> str | None:
    date_text = _text(tags, "GPS GPSDate") or _text(tags, "GPS GPSDateStamp")
    parts = _numbers(tags, "GPS GPSTimeStamp")
    if not date_text or not parts or len(parts) != 3 or any(p is None for p in parts):
        return None
    match = _DATE_RE.match(date_text)
    if not match:
        return None
    hours, minutes, seconds = parts
    if redacted and hours == minutes == seconds == 0:
        return None  # zeroed with the position
    if not (0 <= hours < 24 and hours == int(hours) and 0 <= minutes < 60 and minutes == int(minutes)
            and 0 <= seconds < 61):
        return None
    try:
        day = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=timezone.utc)
    except ValueError:
        return None
    if day.year < EARLIEST_YEAR:
        return None
    at = day + timedelta(hours=int(hours), minutes=int(minutes), microseconds=round(seconds * 1_000_000))
    return iso_utc(at)


def _local(tags: dict, key: str) -> str | None:
    text = _text(tags, key)
    match = _DATETIME_RE.match(text or "")
    if not match:
        return None
    try:
        value = datetime(*(int(g) for g in match.groups()))
    except ValueError:
        return None
    if value.year < EARLIEST_YEAR:
        return None
    return value.isoformat()


def _offset(tags: dict) -> str | None:
    match = _OFFSET_RE.match(_text(tags, "EXIF OffsetTimeOriginal") or "")
    if not match or int(match[3]) >= 60 or int(match[2]) > 14:
        return None
    return f"{match[1]}{match[2]}:{match[3]}"


def _orientation(tags: dict) -> int | None:
    values = _values(tags, "Image Orientation")
    if isinstance(values, (list, tuple)) and values:
        values = values[0]
    return values if isinstance(values, int) and 1 <= values <= 8 else None


def facts_from_tags(tags: dict[str, Any]) -> dict[str, Any]:
    facts = empty_facts()
    gps, status = _gps(tags)
    facts["gps"], facts["gps_status"] = gps, status
    if gps is not None:
        # (exifread names this tag only in newer versions)
        accuracy = (_numbers(tags, "GPS GPSHPositioningError") or _numbers(tags, "GPS Tag 0x001F") or [None])[0]
        facts["gps_accuracy_m"] = round(accuracy, 1) if accuracy is not None and 0 <= accuracy < 100_000 else None
    facts["gps_time"] = _gps_time(tags, redacted=status == "redacted")
    facts["datetime_original"] = _local(tags, "EXIF DateTimeOriginal")
    facts["offset_time_original"] = _offset(tags)
    facts["datetime"] = _local(tags, "Image DateTime")
    facts["software"] = _text(tags, "Image Software")
    facts["make"] = _text(tags, "Image Make")
    facts["model"] = _text(tags, "Image Model")
    facts["orientation"] = _orientation(tags)
    return facts


def iso_utc(value: datetime) -> str:
    """2026-11-23T01:14:05Z (microseconds only when there are some)."""
    value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat() + "Z"
