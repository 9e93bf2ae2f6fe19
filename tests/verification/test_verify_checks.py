"""`verify(evidence, settings)` on hand-built evidence: every row of the SPEC §7 table, the
time and location precedence, the status order, thresholds as settings. Pure: no app, no DB."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from server.settings.defaults import default_settings
from server.verification.checks import CODES, EFFECTS, haversine_m, is_editor, verify

UTC = timezone.utc
VISITED = datetime(2026, 11, 23, 1, 14, 0, tzinfo=UTC)  # 09:14 in Shanghai
CUSTOMER = {"lat": 31.2304, "lng": 121.4737}
SETTINGS = default_settings()
PHASH = "c3c3a4a4b5b5d6d6"


def flip(hexhash: str, bits: int) -> str:
    value = int(hexhash, 16)
    for bit in range(bits):
        value ^= 1 << (bit * 7 % 64)
    return f"{value:016x}"


def north(metres: float, of: dict = CUSTOMER) -> dict:
    """A point `metres` due north."""
    return {"lat": of["lat"] + metres / 111_195.0, "lng": of["lng"]}


def facts(**overrides) -> dict:
    """EXIF facts of a phone photo taken at the customer at VISITED + 30 s."""
    at = VISITED + timedelta(seconds=30)
    base = {"gps": dict(CUSTOMER), "gps_status": "ok", "gps_accuracy_m": None,
            "gps_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "datetime_original": (at + timedelta(hours=8)).replace(tzinfo=None).isoformat(),
            "offset_time_original": "+08:00",
            "datetime": (at + timedelta(hours=8)).replace(tzinfo=None).isoformat(),
            "software": "00WW_3_380_SP02", "make": "HMD Global", "model": "Nokia 8.3 5G", "orientation": 1,
            "error": None}
    base.update(overrides)
    return base


def photo(sha="a" * 64, present=True, phash=PHASH, **fact_overrides) -> dict:
    return {"sha256": sha, "present": present, "exif": facts(**fact_overrides) if present else None,
            "phash": phash if present else None}


def evidence(**overrides) -> dict:
    base = {
        "visited_at": VISITED,
        "client_time": VISITED + timedelta(minutes=2),
        "received_at": VISITED + timedelta(minutes=5),
        "position": {"lat": CUSTOMER["lat"] + 0.0002, "lng": CUSTOMER["lng"], "accuracy_m": 25,
                     "fixed_at": (VISITED - timedelta(seconds=10)).isoformat()},
        "customer_location": dict(CUSTOMER),
        "photos": [photo()],
        "earlier": [],
    }
    base.update(overrides)
    return base


def check(result: dict, code: str) -> dict:
    return next(c for c in result["checks"] if c["code"] == code)


def failing(result: dict) -> list[str]:
    """The failed checks that count (clock_disagreement is a note only)."""
    return [c["code"] for c in result["checks"] if c["passed"] is False and EFFECTS[c["code"]]]


# ---------------------------------------------------------------------------------- shape


def test_a_genuine_visit_is_verified_in_the_spec_shape():
    result = verify(evidence(), SETTINGS)
    assert set(result) == {"status", "capture_time", "time_source", "location_source", "distance_m", "checks"}
    assert result["status"] == "verified"
    assert result["capture_time"] == "2026-11-23T01:14:30Z"
    assert result["time_source"] == "gps"
    assert result["location_source"] == "exif_gps"
    assert result["distance_m"] == 0
    assert [c["code"] for c in result["checks"]] == list(CODES) == list(EFFECTS)
    for c in result["checks"]:
        assert {"code", "passed", "value", "threshold"} <= set(c)
        assert c["passed"] is True, c
    assert check(result, "time_mismatch") == {"code": "time_mismatch", "passed": True, "value": 30, "threshold": 900}
    assert check(result, "far_from_customer")["threshold"] == 200
    assert check(result, "location_inconsistent")["value"] == 22


def test_times_may_be_iso_strings():
    as_text = evidence(visited_at="2026-11-23T09:14:00+08:00", received_at="2026-11-23T01:19:00Z")
    assert verify(as_text, SETTINGS) == verify(evidence(), SETTINGS)


def test_flat_and_nested_settings_agree():
    flat = {**SETTINGS["verification"], "timezone": SETTINGS["timezone"]}
    assert verify(evidence(), flat) == verify(evidence(), SETTINGS)


# ---------------------------------------------------------------------------------- pending


def test_photo_missing_is_pending_and_defers_what_the_photo_may_bring():
    result = verify(evidence(photos=[photo(present=False)]), SETTINGS)
    assert result["status"] == "pending"
    missing = check(result, "photo_missing")
    assert (missing["passed"], missing["value"], missing["detail"]) == (False, 1, {"sha256": ["a" * 64]})
    assert check(result, "no_capture_time")["passed"] is None
    assert result["capture_time"] is None and result["time_source"] is None
    # the phone fix is a location already; the customer distance waits for the photo's GPS
    assert result["location_source"] == "phone_fix"
    assert check(result, "no_location")["passed"] is True
    assert check(result, "far_from_customer")["passed"] is True  # near by the fix: no failure to defer


def test_photo_missing_without_fix_defers_no_location_and_far_fix():
    far_fix = {**north(5000), "accuracy_m": 20, "fixed_at": None}
    result = verify(evidence(photos=[photo(present=False)], position=far_fix), SETTINGS)
    assert result["status"] == "pending"
    assert check(result, "far_from_customer")["passed"] is None  # a photo's GPS may still come
    assert check(result, "far_from_customer")["value"] == 5000
    result = verify(evidence(photos=[photo(present=False)], position=None), SETTINGS)
    assert result["status"] == "pending"
    assert check(result, "no_location")["passed"] is None


def test_a_missing_photo_does_not_hide_final_failures():
    """More evidence cannot undo a reused photo or a present photo's time: suspect now."""
    reused = evidence(photos=[photo(sha="b" * 64, present=False)],
                      earlier=[{"sha256": "b" * 64, "phash": None, "visit_id": "v-1", "visited_at": VISITED}])
    assert verify(reused, SETTINGS)["status"] == "suspect"
    late = evidence(photos=[photo(gps_time="2026-11-23T03:00:00Z"), photo(sha="c" * 64, present=False)])
    result = verify(late, SETTINGS)
    assert result["status"] == "suspect" and "time_mismatch" in failing(result)
    assert "photo_missing" in failing(result)


# ---------------------------------------------------------------------------------- unverified


def test_no_capture_time_is_unverified():
    result = verify(evidence(photos=[photo(gps_time=None, datetime_original=None)]), SETTINGS)
    assert result["status"] == "unverified"
    assert failing(result) == ["no_capture_time"]
    assert check(result, "time_mismatch")["passed"] is None
    assert check(result, "future_capture")["passed"] is None


def test_no_location_is_unverified():
    result = verify(evidence(photos=[photo(gps=None, gps_status="absent")], position=None), SETTINGS)
    assert result["status"] == "unverified"
    assert failing(result) == ["no_location"]
    assert result["location_source"] is None and result["distance_m"] is None


def test_customer_location_unknown_is_unverified():
    result = verify(evidence(customer_location=None), SETTINGS)
    assert result["status"] == "unverified"
    assert failing(result) == ["customer_location_unknown"]
    assert check(result, "far_from_customer")["passed"] is None and result["distance_m"] is None


def test_zero_zero_positions_are_no_positions():
    result = verify(evidence(photos=[photo(gps={"lat": 0, "lng": 0})],
                             position={"lat": 0.0, "lng": 0.0, "accuracy_m": 5}), SETTINGS)
    assert failing(result) == ["no_location"]


# ---------------------------------------------------------------------------------- suspect


def test_time_mismatch_over_15_minutes_is_suspect():
    at_limit = VISITED + timedelta(seconds=900)
    result = verify(evidence(photos=[photo(gps_time=at_limit.isoformat())]), SETTINGS)
    assert check(result, "time_mismatch") == {"code": "time_mismatch", "passed": True, "value": 900,
                                              "threshold": 900}
    result = verify(evidence(photos=[photo(gps_time=(VISITED - timedelta(seconds=901)).isoformat())]), SETTINGS)
    assert result["status"] == "suspect"
    assert check(result, "time_mismatch")["value"] == 901 and failing(result) == ["time_mismatch"]


def test_future_capture_is_suspect():
    received = VISITED + timedelta(minutes=5)
    ok = verify(evidence(visited_at=received + timedelta(minutes=5),
                         photos=[photo(gps_time=(received + timedelta(seconds=300)).isoformat())]), SETTINGS)
    assert check(ok, "future_capture") == {"code": "future_capture", "passed": True, "value": 300, "threshold": 300}
    bad = verify(evidence(visited_at=received + timedelta(minutes=6),
                          photos=[photo(gps_time=(received + timedelta(seconds=360)).isoformat())]), SETTINGS)
    assert bad["status"] == "suspect" and failing(bad) == ["future_capture"]
    assert check(bad, "future_capture")["value"] == 360


def test_far_from_customer_is_suspect():
    result = verify(evidence(photos=[photo(gps=north(4810))], position={**north(4800), "accuracy_m": 30}),
                    SETTINGS)
    assert result["status"] == "suspect"
    assert failing(result) == ["far_from_customer"]
    assert check(result, "far_from_customer") == {"code": "far_from_customer", "passed": False, "value": 4810,
                                                  "threshold": 200}
    assert result["distance_m"] == 4810 and result["location_source"] == "exif_gps"


@pytest.mark.parametrize("accuracy,distance,threshold,passed", [
    (25, 200, 200, True), (25, 201, 200, False),       # max(200, 2 x 25)
    (150, 300, 300, True), (150, 301, 300, False),     # 2 x accuracy
    (800, 1000, 1000, True), (800, 1001, 1000, False),  # capped at 1,000
    (None, 199, 200, True),
])
def test_far_from_customer_threshold_follows_the_fix_accuracy(accuracy, distance, threshold, passed):
    fix = {**north(distance), "accuracy_m": accuracy, "fixed_at": None}
    result = verify(evidence(photos=[photo(gps=None, gps_status="redacted")], position=fix), SETTINGS)
    assert result["location_source"] == "phone_fix"
    far = check(result, "far_from_customer")
    assert (far["passed"], far["threshold"]) == (passed, threshold)
    assert abs(far["value"] - distance) <= 1


def test_photo_gps_accuracy_widens_its_own_threshold():
    result = verify(evidence(photos=[photo(gps=north(350), gps_accuracy_m=180)],
                             position={**north(340), "accuracy_m": 10}), SETTINGS)
    assert check(result, "far_from_customer")["threshold"] == 360 and result["status"] == "verified"


def test_location_inconsistent_over_1_km_is_suspect():
    result = verify(evidence(position={**north(1200), "accuracy_m": 15, "fixed_at": None}), SETTINGS)
    assert result["status"] == "suspect"
    assert failing(result) == ["location_inconsistent"]
    assert check(result, "location_inconsistent")["value"] == 1200
    assert check(result, "far_from_customer")["passed"] is True  # the photo's GPS is trusted


def test_photo_reused_is_suspect():
    earlier = [{"sha256": "a" * 64, "phash": PHASH, "visit_id": "visit-1", "visited_at": VISITED - timedelta(days=400)}]
    result = verify(evidence(earlier=earlier), SETTINGS)
    assert result["status"] == "suspect"
    assert failing(result) == ["photo_reused"]
    assert check(result, "photo_reused") == {"code": "photo_reused", "passed": False, "value": 1, "threshold": 0,
                                             "detail": {"visit_ids": ["visit-1"]}}
    assert check(result, "photo_similar")["passed"] is True  # the same bytes are not "similar"


@pytest.mark.parametrize("bits,days,passed", [(6, 10, False), (0, 179, False), (7, 10, True), (3, 181, True)])
def test_photo_similar_within_6_bits_and_180_days(bits, days, passed):
    earlier = [{"sha256": "d" * 64, "phash": flip(PHASH, bits), "visit_id": "visit-2",
                "visited_at": (VISITED - timedelta(days=days)).isoformat()}]
    result = verify(evidence(earlier=earlier), SETTINGS)
    similar = check(result, "photo_similar")
    assert similar["passed"] is passed
    assert similar["threshold"] == 6
    if days <= 180:
        assert similar["value"] == bits
    assert result["status"] == ("verified" if passed else "suspect")


@pytest.mark.parametrize("software", ["GIMP 2.4.5", "Adobe Photoshop CC 2019 (Windows)", "Adobe Photoshop Lightroom",
                                      "Snapseed", "PicsArt", "美图秀秀", "MTXX 美图", "醒图", "Meitu 9.1", "gimp2.10"])
def test_editor_software_is_edited(software):
    result = verify(evidence(photos=[photo(software=software)]), SETTINGS)
    assert result["status"] == "suspect"
    assert failing(result) == ["edited"]
    assert check(result, "edited")["detail"] == {"software": [software]}


@pytest.mark.parametrize("software", ["16.1.1", "8.3", "17.0", "00WW_3_380_SP02", "G950FXXU1AQL5",
                                      "QKQ1.200114.002", "SM-B612XXU1ATA1", "MMB29K.G930FXXU1DQB3",
                                      "Nikon Transfer 1.1 W", "Ver.1.00", None, ""])
def test_phone_camera_software_is_not_an_editor(software):
    result = verify(evidence(photos=[photo(software=software)]), SETTINGS)
    assert check(result, "edited")["passed"] is True, software
    assert result["status"] == "verified"


def test_datetime_more_than_60_s_after_datetime_original_is_edited():
    original = datetime(2026, 11, 23, 9, 14, 30)
    ok = verify(evidence(photos=[photo(datetime=(original + timedelta(seconds=60)).isoformat())]), SETTINGS)
    assert check(ok, "edited") == {"code": "edited", "passed": True, "value": 60, "threshold": 60}
    bad = verify(evidence(photos=[photo(datetime=(original + timedelta(seconds=61)).isoformat())]), SETTINGS)
    assert bad["status"] == "suspect" and failing(bad) == ["edited"]
    assert check(bad, "edited")["value"] == 61


def test_is_editor_is_case_insensitive_and_reads_the_settings_list():
    assert is_editor("PHOTOSHOP", ["photoshop"]) and is_editor("photoshop", ["PhotoShop"])
    assert not is_editor("PhotoDirector", ["photoshop"])
    assert is_editor("PhotoDirector 365", ["photodirector"])


# ---------------------------------------------------------------------------------- notes and time


def test_clock_disagreement_is_a_note_and_gps_time_wins():
    """The camera's clock is 22 hours off (like the Nikon fixture): GPS time is used."""
    camera = (VISITED - timedelta(hours=22)).replace(tzinfo=None)
    result = verify(evidence(photos=[photo(datetime_original=camera.isoformat(), offset_time_original=None,
                                           datetime=camera.isoformat())]), SETTINGS)
    assert result["status"] == "verified"
    assert result["time_source"] == "gps" and result["capture_time"] == "2026-11-23T01:14:30Z"
    clock = check(result, "clock_disagreement")
    assert clock["passed"] is False and clock["threshold"] == 300
    assert clock["value"] > 300
    assert failing(result) == []


def test_clock_offset_is_derived_from_gps_without_an_offset_tag():
    """An iPhone writes no OffsetTimeOriginal: local 20:12 against GPS 18:12 is +02:00, agreeing."""
    result = verify(evidence(photos=[photo(datetime_original="2026-11-23T03:14:31", offset_time_original=None,
                                           datetime="2026-11-23T03:14:31")]), SETTINGS)
    clock = check(result, "clock_disagreement")
    assert clock["passed"] is True and clock["value"] == 1 and clock["detail"] == {"offset": "+02:00"}
    assert result["status"] == "verified"


def test_clock_disagreement_with_a_wrong_offset_tag():
    result = verify(evidence(photos=[photo(offset_time_original="+09:00")]), SETTINGS)
    assert check(result, "clock_disagreement")["value"] == 3600
    assert result["status"] == "verified"


def test_capture_time_precedence():
    # DateTimeOriginal with its offset when there is no GPS time
    result = verify(evidence(photos=[photo(gps_time=None)]), SETTINGS)
    assert (result["time_source"], result["capture_time"]) == ("exif_offset", "2026-11-23T01:14:30Z")
    # DateTimeOriginal read in the organisation's time zone (Asia/Shanghai) last
    result = verify(evidence(photos=[photo(gps_time=None, offset_time_original=None)]), SETTINGS)
    assert (result["time_source"], result["capture_time"]) == ("exif_local", "2026-11-23T01:14:30Z")
    elsewhere = {**SETTINGS, "timezone": "Europe/Helsinki"}
    result = verify(evidence(photos=[photo(gps_time=None, offset_time_original=None)]), elsewhere)
    assert result["capture_time"] == "2026-11-23T07:14:30Z" and result["status"] == "suspect"
    # the best source among several photos
    result = verify(evidence(photos=[photo(gps_time=None), photo(sha="e" * 64)]), SETTINGS)
    assert result["time_source"] == "gps"


def test_location_precedence_exif_gps_then_phone_fix():
    assert verify(evidence(), SETTINGS)["location_source"] == "exif_gps"
    result = verify(evidence(photos=[photo(gps=None, gps_status="redacted")]), SETTINGS)
    assert result["location_source"] == "phone_fix" and result["distance_m"] == 22
    assert check(result, "location_inconsistent")["passed"] is None


# ---------------------------------------------------------------------------------- status


def test_status_is_the_worst_check():
    missing = photo(sha="f" * 64, present=False)
    assert verify(evidence(photos=[photo(), missing]), SETTINGS)["status"] == "pending"
    assert verify(evidence(photos=[photo(), missing], customer_location=None), SETTINGS)["status"] == "unverified"
    both = verify(evidence(photos=[photo(software="GIMP 2.10"), missing], customer_location=None), SETTINGS)
    assert both["status"] == "suspect"
    assert set(failing(both)) == {"photo_missing", "customer_location_unknown", "edited"}


def test_thresholds_are_settings():
    custom = copy.deepcopy(SETTINGS)
    custom["verification"].update(time_mismatch_s=20, far_from_customer_min_m=10, photo_similar_bits=0,
                                  editor_software=["nokia"])
    result = verify(evidence(photos=[photo(software="Nokia Camera 3")]), custom)
    assert {"time_mismatch", "edited"} <= set(failing(result))
    assert check(result, "time_mismatch")["threshold"] == 20


def test_garbage_evidence_never_raises():
    odd = [
        {},
        {"photos": None, "earlier": None, "position": "here"},
        evidence(photos=[{"sha256": None, "present": True, "exif": {"gps": "x", "gps_time": "yesterday",
                                                                    "datetime_original": "0000:00:00",
                                                                    "offset_time_original": "+99:99",
                                                                    "datetime": 5, "software": 7}, "phash": "zz"}],
                 earlier=[{"sha256": None, "phash": "not-hex", "visit_id": None, "visited_at": "soon"}],
                 position={"lat": "north", "lng": None, "accuracy_m": -3}),
        evidence(visited_at=datetime(2026, 11, 23, 9, 0)),  # naive: unusable
    ]
    for item in odd:
        result = verify(item, SETTINGS)
        assert result["status"] in ("verified", "pending", "unverified", "suspect")


def test_haversine():
    assert round(haversine_m((31.2304, 121.4737), (31.2304, 121.4737))) == 0
    assert abs(haversine_m((0, 0), (0, 1)) - 111_195) < 5
