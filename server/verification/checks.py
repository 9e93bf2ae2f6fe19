"""`verify(evidence, settings)`: the SPEC §7 verification of one visit, as a pure function.

Evidence (a dict; times are aware datetimes or ISO 8601 strings with an offset):

    visited_at         when the rep says the visit happened
    client_time        the phone's clock when it saved the visit (kept; no check reads it)
    received_at        when the server received the visit
    position           the phone's fix {lat, lng, accuracy_m, fixed_at} or None
    customer_location  {lat, lng} or None
    photos             [{sha256, present, exif (facts of `exif.py`) or None, phash (16 hex) or None}]
    earlier            photos of OTHER visits received before this one:
                       [{sha256, phash or None, visit_id, visited_at}]

Settings: the `verification` settings (thresholds, `editor_software`) and `timezone`, either
flat or as the whole settings document (`{"timezone": …, "verification": {…}}`).

Result (SPEC §7): {status, capture_time, time_source, location_source, distance_m, checks}.
Every check is always listed, in a fixed order, as {code, passed, value, threshold} (plus
`detail` for a few): `passed` is True, False, or None when the check cannot be judged (no
capture time to compare, or its evidence is in a photo not uploaded yet). Values are seconds,
metres or bits; times are UTC with a `Z`.

Evidence still to come: while a photo is missing (`photo_missing`, status `pending`), a failure
that more evidence could undo is not concluded: `no_capture_time`, `no_location`, and
`far_from_customer` judged on the phone's fix (a photo's GPS, more trusted, may arrive). The
other failures can only be joined by more, never undone, so they count at once.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from server.verification.exif import iso_utc

PENDING, VERIFIED, UNVERIFIED, SUSPECT = "pending", "verified", "unverified", "suspect"
STATUS_RANK = {VERIFIED: 0, PENDING: 1, UNVERIFIED: 2, SUSPECT: 3}

# code -> the status a failure gives (None: a note only)
EFFECTS: dict[str, str | None] = {
    "photo_missing": PENDING,
    "no_capture_time": UNVERIFIED,
    "no_location": UNVERIFIED,
    "customer_location_unknown": UNVERIFIED,
    "time_mismatch": SUSPECT,
    "future_capture": SUSPECT,
    "far_from_customer": SUSPECT,
    "location_inconsistent": SUSPECT,
    "photo_reused": SUSPECT,
    "photo_similar": SUSPECT,
    "edited": SUSPECT,
    "clock_disagreement": None,
}
CODES = tuple(EFFECTS)

TIME_SOURCES = ("gps", "exif_offset", "exif_local")  # in order of trust
EARTH_RADIUS_M = 6_371_008.8
QUARTER_HOUR_S = 900
# Real UTC offsets run from -12:00 to +14:00, in quarter hours.
MIN_OFFSET_S, MAX_OFFSET_S = -12 * 3600, 14 * 3600

DEFAULTS: dict[str, Any] = {
    "time_mismatch_s": 900, "future_capture_s": 300, "far_from_customer_min_m": 200,
    "far_from_customer_max_m": 1000, "location_inconsistent_m": 1000, "photo_similar_bits": 6,
    "photo_similar_days": 180, "edited_gap_s": 60, "clock_disagreement_s": 300, "editor_software": [],
    "timezone": "Asia/Shanghai",
}

# Phone camera software tags that are not editors: iOS writes its version ("16.1.1", "8.3"),
# Android phones their firmware build ("00WW_3_380_SP02", "G950FXXU1AQL5", "QKQ1.200114.002").
_IOS_VERSION = re.compile(r"\d+(\.\d+){0,3}")
_FIRMWARE = re.compile(r"(?=.*\d)[a-z0-9]+([_.\-][a-z0-9]+)*")


# ---------------------------------------------------------------------------------- helpers

def _config(settings: dict | None) -> dict[str, Any]:
    settings = dict(settings or {})
    nested = settings.pop("verification", None)
    merged = {**DEFAULTS, **(nested or {}), **settings}
    return merged


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    return value.astimezone(timezone.utc)


def _naive(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return None


def _offset_seconds(text: Any) -> int | None:
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes >= 60:
        return None
    seconds = hours * 3600 + minutes * 60
    return -seconds if text[0] == "-" else seconds


def _point(value: Any) -> tuple[float, float] | None:
    """(lat, lng) of a {lat, lng} dict; None when missing, out of range or exactly 0/0."""
    if not isinstance(value, dict):
        return None
    lat, lng = value.get("lat"), value.get("lng")
    if isinstance(lat, bool) or isinstance(lng, bool) or not isinstance(lat, (int, float)) \
            or not isinstance(lng, (int, float)):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    if lat == 0 and lng == 0:
        return None
    return float(lat), float(lng)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _accuracy(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _hamming(a: str | None, b: str | None) -> int | None:
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except (TypeError, ValueError):
        return None


def _seconds(delta: timedelta) -> int:
    return int(round(delta.total_seconds()))


def is_editor(software: str | None, editors: list[str]) -> bool:
    """Whether a Software tag names a photo editor (case-insensitive, a name from `editors`
    anywhere in it), phone camera software excepted: an iOS version number, or an Android
    firmware build that only happens to contain a name (it does not start with it)."""
    text = " ".join(software.split()).casefold() if isinstance(software, str) else ""
    if not text or _IOS_VERSION.fullmatch(text):
        return False
    firmware = _FIRMWARE.fullmatch(text) is not None
    for name in editors or []:
        name = " ".join(str(name).split()).casefold()
        if name and name in text and not (firmware and not text.startswith(name)):
            return True
    return False


def capture_of(facts: dict | None, zone: ZoneInfo) -> tuple[datetime | None, str | None]:
    """A photo's capture time (UTC) and its source, by trust: GPS, DateTimeOriginal with its
    offset, DateTimeOriginal read in the organisation's time zone."""
    if not facts:
        return None, None
    gps_time = _aware(facts.get("gps_time"))
    if gps_time is not None:
        return gps_time, "gps"
    local = _naive(facts.get("datetime_original"))
    if local is None:
        return None, None
    offset = _offset_seconds(facts.get("offset_time_original"))
    if offset is not None:
        return (local - timedelta(seconds=offset)).replace(tzinfo=timezone.utc), "exif_offset"
    return local.replace(tzinfo=zone).astimezone(timezone.utc), "exif_local"


def clock_residual(facts: dict | None) -> tuple[int, str] | None:
    """How far the camera's local time (DateTimeOriginal) is from GPS UTC, in seconds, after
    its UTC offset: the OffsetTimeOriginal tag, or else the real UTC offset (a quarter hour
    between -12:00 and +14:00) that fits best — derived from GPS time. With the offset used."""
    if not facts:
        return None
    gps_time = _aware(facts.get("gps_time"))
    local = _naive(facts.get("datetime_original"))
    if gps_time is None or local is None:
        return None
    raw = (local.replace(tzinfo=timezone.utc) - gps_time).total_seconds()
    offset = _offset_seconds(facts.get("offset_time_original"))
    if offset is None:
        offset = min(MAX_OFFSET_S, max(MIN_OFFSET_S, round(raw / QUARTER_HOUR_S) * QUARTER_HOUR_S))
    sign = "-" if offset < 0 else "+"
    text = f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"
    return int(round(abs(raw - offset))), text


def _photo(raw: dict) -> dict[str, Any]:
    exif = raw.get("exif")
    sha256, phash = raw.get("sha256"), raw.get("phash")
    return {"sha256": sha256 if isinstance(sha256, str) else None, "present": bool(raw.get("present")),
            "exif": exif if isinstance(exif, dict) else {}, "phash": phash if isinstance(phash, str) else None}


def _check(code: str, passed: bool | None, value: Any = None, threshold: Any = None,
           detail: dict | None = None) -> dict[str, Any]:
    check = {"code": code, "passed": passed, "value": value, "threshold": threshold}
    if detail:
        check["detail"] = detail
    return check


# ---------------------------------------------------------------------------------- verify

def verify(evidence: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg = _config(settings)
    zone = ZoneInfo(cfg["timezone"])
    visited_at = _aware(evidence.get("visited_at"))
    received_at = _aware(evidence.get("received_at"))
    photos = [_photo(p) for p in evidence.get("photos") or [] if isinstance(p, dict)]
    present = [p for p in photos if p.get("present")]
    missing = [p.get("sha256") for p in photos if not p.get("present")]
    waiting = bool(missing)
    checks: dict[str, dict[str, Any]] = {}

    checks["photo_missing"] = _check("photo_missing", not waiting, len(missing), 0,
                                     {"sha256": missing} if missing else None)

    # ---- time
    captures = []  # (utc, source) per present photo that has one
    for photo in present:
        at, source = capture_of(photo.get("exif"), zone)
        if at is not None:
            captures.append((at, source))
    capture_time = time_source = None
    if captures:
        capture_time, time_source = min(captures, key=lambda c: TIME_SOURCES.index(c[1]))
    checks["no_capture_time"] = _check("no_capture_time", True if captures else (None if waiting else False))

    if captures and visited_at is not None:
        gap = max(abs(_seconds(at - visited_at)) for at, _ in captures)
        checks["time_mismatch"] = _check("time_mismatch", gap <= cfg["time_mismatch_s"], gap, cfg["time_mismatch_s"])
    else:
        checks["time_mismatch"] = _check("time_mismatch", None, None, cfg["time_mismatch_s"])

    if captures and received_at is not None:
        ahead = max(_seconds(at - received_at) for at, _ in captures)
        checks["future_capture"] = _check("future_capture", ahead <= cfg["future_capture_s"], ahead,
                                          cfg["future_capture_s"])
    else:
        checks["future_capture"] = _check("future_capture", None, None, cfg["future_capture_s"])

    # ---- place
    fix = evidence.get("position") if isinstance(evidence.get("position"), dict) else None
    fix_point = _point(fix)
    fix_accuracy = _accuracy(fix.get("accuracy_m")) if fix else None
    exif_points = []  # (point, accuracy) per present photo with EXIF GPS
    for photo in present:
        facts = photo.get("exif") or {}
        point = _point(facts.get("gps"))
        if point is not None:
            exif_points.append((point, _accuracy(facts.get("gps_accuracy_m"))))
    location_source = "exif_gps" if exif_points else ("phone_fix" if fix_point else None)
    checks["no_location"] = _check("no_location", True if location_source else (None if waiting else False))

    customer = _point(evidence.get("customer_location"))
    checks["customer_location_unknown"] = _check("customer_location_unknown", customer is not None)

    def allowed(accuracy: float | None) -> int:
        wanted = max(cfg["far_from_customer_min_m"], 2 * (accuracy or 0))
        return int(round(min(wanted, cfg["far_from_customer_max_m"])))

    distance_m = None
    far_min = int(cfg["far_from_customer_min_m"])
    if customer is None or location_source is None:
        checks["far_from_customer"] = _check("far_from_customer", None, None, far_min)
    elif exif_points:
        # every photo's GPS is judged; a photo's own accuracy, else the phone fix's
        judged = [(haversine_m(point, customer), allowed(acc if acc is not None else fix_accuracy))
                  for point, acc in exif_points]
        failing = [j for j in judged if j[0] > j[1]]
        distance, threshold = max(failing or judged, key=lambda j: j[0])
        distance_m = int(round(distance))
        checks["far_from_customer"] = _check("far_from_customer", not failing, distance_m, threshold)
    else:
        distance_m = int(round(haversine_m(fix_point, customer)))
        threshold = allowed(fix_accuracy)
        passed = distance_m <= threshold
        # a photo still to come may bring GPS, which is trusted over the phone's fix
        checks["far_from_customer"] = _check("far_from_customer", None if waiting and not passed else passed,
                                             distance_m, threshold)

    if exif_points and fix_point is not None:
        apart = int(round(max(haversine_m(point, fix_point) for point, _ in exif_points)))
        checks["location_inconsistent"] = _check("location_inconsistent", apart <= cfg["location_inconsistent_m"],
                                                 apart, cfg["location_inconsistent_m"])
    else:
        checks["location_inconsistent"] = _check("location_inconsistent", None, None, cfg["location_inconsistent_m"])

    # ---- the photos themselves
    earlier = [e for e in evidence.get("earlier") or [] if isinstance(e, dict)]
    mine = {p["sha256"] for p in photos if p["sha256"]}
    reused_by: dict[str, set[str]] = {}
    for entry in earlier:
        if isinstance(entry.get("sha256"), str) and entry["sha256"] in mine:
            reused_by.setdefault(entry["sha256"], set()).add(str(entry.get("visit_id")))
    reused_visits = sorted(set().union(*reused_by.values())) if reused_by else []
    checks["photo_reused"] = _check("photo_reused", not reused_by, len(reused_by), 0,
                                    {"visit_ids": reused_visits} if reused_visits else None)

    bits, days = int(cfg["photo_similar_bits"]), int(cfg["photo_similar_days"])
    nearest = None
    similar_visits: set[str] = set()
    for photo in present:
        if not photo.get("phash"):
            continue
        for entry in earlier:
            if not entry.get("phash") or entry.get("sha256") == photo.get("sha256"):
                continue  # the same bytes are photo_reused
            other_at = _aware(entry.get("visited_at"))
            if visited_at is not None and other_at is not None and abs(other_at - visited_at) > timedelta(days=days):
                continue
            distance = _hamming(photo["phash"], entry["phash"])
            if distance is None:
                continue
            nearest = distance if nearest is None else min(nearest, distance)
            if distance <= bits:
                similar_visits.add(str(entry.get("visit_id")))
    checks["photo_similar"] = _check("photo_similar", not similar_visits, nearest, bits,
                                     {"visit_ids": sorted(similar_visits)} if similar_visits else None)

    editors_named = []
    widest_gap = None
    for photo in present:
        facts = photo.get("exif") or {}
        if is_editor(facts.get("software"), cfg["editor_software"]):
            editors_named.append(facts.get("software"))
        original, changed = _naive(facts.get("datetime_original")), _naive(facts.get("datetime"))
        if original is not None and changed is not None:
            gap = _seconds(changed - original)
            widest_gap = gap if widest_gap is None else max(widest_gap, gap)
    edited = bool(editors_named) or (widest_gap is not None and widest_gap > cfg["edited_gap_s"])
    checks["edited"] = _check("edited", not edited, widest_gap, cfg["edited_gap_s"],
                              {"software": editors_named} if editors_named else None)

    residuals = [r for r in (clock_residual(p.get("exif")) for p in present) if r is not None]
    if residuals:
        worst, offset = max(residuals, key=lambda r: r[0])
        checks["clock_disagreement"] = _check("clock_disagreement", worst <= cfg["clock_disagreement_s"], worst,
                                              cfg["clock_disagreement_s"], {"offset": offset})
    else:
        checks["clock_disagreement"] = _check("clock_disagreement", None, None, cfg["clock_disagreement_s"])

    ordered = [checks[code] for code in CODES]
    return {
        "status": status_of(ordered),
        "capture_time": iso_utc(capture_time) if capture_time else None,
        "time_source": time_source,
        "location_source": location_source,
        "distance_m": distance_m,
        "checks": ordered,
    }


def status_of(checks: list[dict[str, Any]]) -> str:
    """The worst effect of the failed checks: suspect > unverified > pending > verified."""
    status = VERIFIED
    for check in checks:
        effect = EFFECTS.get(check["code"])
        if check["passed"] is False and effect and STATUS_RANK[effect] > STATUS_RANK[status]:
            status = effect
    return status


def failed(verification: dict[str, Any] | None) -> list[str]:
    """The codes of the failed checks that count (notes left out)."""
    return [c["code"] for c in (verification or {}).get("checks") or []
            if c.get("passed") is False and EFFECTS.get(c.get("code"))]
