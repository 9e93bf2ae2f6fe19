"""`verify` on evidence read from real camera photos whose EXIF was rewritten by piexif (the
facts by `exif.extract`, the perceptual hash as the photo service computes it)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from exif_photos import (CANON_GIMP, HEIF, IPHONE, JOLLA, NIKON, NOKIA, ODD_FILES, fixture_bytes, phash_of,
                         resized_copy, rewrite, sha, taken)
from server.settings.defaults import default_settings
from server.verification import exif
from server.verification.checks import EFFECTS, verify

UTC = timezone.utc
SETTINGS = default_settings()
SHOP = {"lat": 31.2304, "lng": 121.4737}  # the customer, in Shanghai
VISITED = datetime(2026, 11, 23, 1, 14, 0, tzinfo=UTC)


def photo_evidence(data: bytes, present: bool = True) -> dict:
    return {"sha256": sha(data), "present": present, "exif": exif.extract(data) if present else None,
            "phash": phash_of(data) if present else None}


def evidence(*photos: bytes, visited_at=VISITED, position="near", customer=SHOP, earlier=(),
             received_at=None) -> dict:
    if position == "near":
        position = {"lat": SHOP["lat"] + 0.0003, "lng": SHOP["lng"], "accuracy_m": 20,
                    "fixed_at": (visited_at - timedelta(seconds=20)).isoformat()}
    return {"visited_at": visited_at, "client_time": visited_at + timedelta(minutes=3),
            "received_at": received_at or visited_at + timedelta(minutes=10), "position": position,
            "customer_location": customer, "photos": [photo_evidence(p) for p in photos], "earlier": list(earlier)}


def earlier_of(data: bytes, visit_id="visit-0", visited_at=VISITED - timedelta(days=3)) -> dict:
    return {"sha256": sha(data), "phash": phash_of(data), "visit_id": visit_id, "visited_at": visited_at}


def check(result: dict, code: str) -> dict:
    return next(c for c in result["checks"] if c["code"] == code)


def failing(result: dict) -> list[str]:
    return [c["code"] for c in result["checks"] if c["passed"] is False and EFFECTS[c["code"]]]


def at_shop(name: str, **more) -> bytes:
    return taken(name, SHOP["lat"], SHOP["lng"], VISITED + timedelta(seconds=40), **more)


@pytest.mark.parametrize("name", [NOKIA, IPHONE, NIKON, JOLLA])
def test_a_real_photo_taken_at_the_shop_is_verified(name):
    result = verify(evidence(at_shop(name)), SETTINGS)
    assert result["status"] == "verified", result
    assert result["time_source"] == "gps" and result["location_source"] == "exif_gps"
    assert result["capture_time"] == "2026-11-23T01:14:40Z" and result["distance_m"] == 0


def test_nikon_camera_clock_22_hours_off_gps_time_wins():
    """The Nikon's own clock ran ~22 h away from GPS time: GPS time is the capture time and the
    disagreement is only noted."""
    original = exif.extract(fixture_bytes(NIKON))
    gps_time = VISITED + timedelta(seconds=40)
    camera_local = datetime.fromisoformat(original["datetime_original"])
    # move the whole scene to the shop and today, keeping the camera's clock error as it was
    error = camera_local - datetime.fromisoformat(original["gps_time"][:-1])
    data = rewrite(NIKON, lat=SHOP["lat"], lng=SHOP["lng"], gps_time=gps_time,
                   local=(gps_time.replace(tzinfo=None) + error), offset=None)
    result = verify(evidence(data), SETTINGS)
    assert result["status"] == "verified"
    assert (result["time_source"], result["capture_time"]) == ("gps", "2026-11-23T01:14:40Z")
    clock = check(result, "clock_disagreement")
    assert clock["passed"] is False and clock["value"] > 9 * 3600
    # without its GPS time the wrong clock is all there is, read in the org's zone: suspect
    no_gps_time = rewrite(NIKON, lat=SHOP["lat"], lng=SHOP["lng"], gps_time=None,
                          local=(gps_time.replace(tzinfo=None) + error), offset=None)
    result = verify(evidence(no_gps_time), SETTINGS)
    assert result["time_source"] == "exif_local" and result["status"] == "suspect"
    assert "time_mismatch" in failing(result)


def test_nikon_fixture_as_it_is_is_far_edited_and_off_in_time():
    result = verify(evidence(fixture_bytes(NIKON)), SETTINGS)
    assert result["status"] == "suspect"
    # Nikon Transfer rewrote DateTime ten days later; the photo is in Italy, taken in 2008
    assert {"far_from_customer", "time_mismatch", "edited", "location_inconsistent"} <= set(failing(result))
    assert check(result, "clock_disagreement")["passed"] is False


def test_iphone_without_offset_tag_offset_derived_from_gps():
    """The iPhone writes no OffsetTimeOriginal: its local 20:12:23 against GPS 18:12:23 UTC
    says +02:00 (Madrid in April) and the clocks agree."""
    result = verify(evidence(fixture_bytes(IPHONE), visited_at=datetime(2015, 4, 10, 18, 12, tzinfo=UTC),
                             customer={"lat": 40.4469722, "lng": -3.7247528},
                             position={"lat": 40.447, "lng": -3.7248, "accuracy_m": 10, "fixed_at": None}),
                    SETTINGS)
    assert result["status"] == "verified", failing(result)
    clock = check(result, "clock_disagreement")
    assert clock["passed"] is True and clock["detail"] == {"offset": "+02:00"} and clock["value"] == 0
    assert result["capture_time"] == "2015-04-10T18:12:23.060000Z"
    # the same photo taken at the shop in Shanghai now (+08:00, still no offset tag)
    result = verify(evidence(at_shop(IPHONE, offset_tag=False)), SETTINGS)
    assert result["status"] == "verified"
    assert check(result, "clock_disagreement")["detail"] == {"offset": "+08:00"}


def test_android_redacted_gps_uses_the_phone_fix():
    data = at_shop(NOKIA, redacted=True)
    assert exif.extract(data)["gps_status"] == "redacted"
    result = verify(evidence(data), SETTINGS)
    assert result["status"] == "verified"
    assert result["location_source"] == "phone_fix" and result["distance_m"] == 33
    assert check(result, "location_inconsistent")["passed"] is None
    far_fix = {"lat": SHOP["lat"] + 0.03, "lng": SHOP["lng"], "accuracy_m": 20, "fixed_at": None}
    result = verify(evidence(data, position=far_fix), SETTINGS)
    assert result["status"] == "suspect" and failing(result) == ["far_from_customer"]


def test_gimp_software_is_edited():
    result = verify(evidence(at_shop(NOKIA, software="GIMP 2.10.34")), SETTINGS)
    assert result["status"] == "suspect" and failing(result) == ["edited"]
    # the Canon fixture as it is: GIMP, and DateTime two months after DateTimeOriginal
    canon = verify(evidence(fixture_bytes(CANON_GIMP)), SETTINGS)
    assert "edited" in failing(canon)
    assert check(canon, "edited")["detail"] == {"software": ["GIMP 2.4.5"]}
    assert check(canon, "edited")["value"] > 60 * 86400


def test_the_same_bytes_on_a_second_visit_are_reused():
    data = at_shop(NOKIA)
    result = verify(evidence(data, earlier=[earlier_of(data, "visit-1")]), SETTINGS)
    assert result["status"] == "suspect" and failing(result) == ["photo_reused"]
    assert check(result, "photo_reused")["detail"] == {"visit_ids": ["visit-1"]}


def test_a_resized_re_encoded_copy_is_similar():
    first = at_shop(NIKON)
    copy = resized_copy(first, 0.6, 70, gps_time=VISITED + timedelta(seconds=50))
    assert sha(copy) != sha(first)
    result = verify(evidence(copy, earlier=[earlier_of(first, "visit-1")]), SETTINGS)
    assert result["status"] == "suspect" and failing(result) == ["photo_similar"]
    assert check(result, "photo_similar")["value"] <= 6
    # another real picture is not similar
    other = verify(evidence(at_shop(NIKON_2 := "gps_DSCN0021.jpg"), earlier=[earlier_of(at_shop(JOLLA))]), SETTINGS)
    assert check(other, "photo_similar")["passed"] is True, NIKON_2


def test_heif_from_a_phone_is_verified_at_its_place_and_time():
    facts = exif.extract(fixture_bytes(HEIF))
    result = verify(evidence(fixture_bytes(HEIF), visited_at=datetime(2022, 2, 3, 14, 40, tzinfo=UTC),
                             customer=facts["gps"], position=None), SETTINGS)
    assert result["status"] == "verified"
    assert result["time_source"] == "gps" and result["location_source"] == "exif_gps"


def test_photo_not_uploaded_yet_is_pending():
    data = at_shop(NOKIA)
    ev = evidence()
    ev["photos"] = [photo_evidence(data, present=False)]
    assert verify(ev, SETTINGS)["status"] == "pending"
    ev["photos"] = [photo_evidence(data)]
    assert verify(ev, SETTINGS)["status"] == "verified"


def test_jolla_without_gps_or_fix_has_no_location():
    result = verify(evidence(rewrite(JOLLA, local=datetime(2026, 11, 23, 9, 14, 30)), position=None), SETTINGS)
    assert result["status"] == "unverified" and failing(result) == ["no_location"]
    assert result["time_source"] == "exif_local"


@pytest.mark.parametrize("name", ODD_FILES)
def test_odd_files_never_crash_verification(name):
    data = fixture_bytes(name)
    try:
        phash = phash_of(data)
    except Exception:  # refused by the photo service: no phash
        phash = None
    ev = evidence()
    ev["photos"] = [{"sha256": sha(data), "present": True, "exif": exif.extract(data), "phash": phash}]
    assert verify(ev, SETTINGS)["status"] in ("unverified", "suspect")


def _far(metres: float) -> dict:
    return {"lat": SHOP["lat"] + metres / 111_195.0, "lng": SHOP["lng"]}


# code -> (photo bytes, evidence overrides): each failure made from a real phone photo
EACH_CODE = {
    "photo_missing": (lambda: at_shop(NOKIA), {"present": False}),
    "no_capture_time": (lambda: rewrite(NOKIA, lat=SHOP["lat"], lng=SHOP["lng"], gps_time=None, local=None), {}),
    "no_location": (lambda: rewrite(NOKIA, lat=None, lng=None, gps_time=VISITED,
                                    local=VISITED.replace(tzinfo=None) + timedelta(hours=8), offset="+08:00"),
                    {"position": None}),
    "customer_location_unknown": (lambda: at_shop(NOKIA), {"customer": None}),
    "time_mismatch": (lambda: taken(NOKIA, SHOP["lat"], SHOP["lng"], VISITED - timedelta(minutes=16)), {}),
    "future_capture": (lambda: taken(NOKIA, SHOP["lat"], SHOP["lng"], VISITED + timedelta(minutes=12)),
                       {"received_at": VISITED + timedelta(minutes=5)}),
    "far_from_customer": (lambda: taken(NOKIA, _far(1500)["lat"], SHOP["lng"], VISITED),
                          {"position": {**_far(1450), "accuracy_m": 30, "fixed_at": None}}),
    "location_inconsistent": (lambda: at_shop(NOKIA), {"position": {**_far(1200), "accuracy_m": 30, "fixed_at": None}}),
    "photo_reused": (lambda: at_shop(NOKIA), {"earlier": "same"}),
    "photo_similar": (lambda: at_shop(NOKIA), {"earlier": "copy"}),
    "edited": (lambda: at_shop(NOKIA, software="Snapseed 2.19"), {}),
    "clock_disagreement": (lambda: at_shop(NOKIA, offset="+05:00"), {}),
}
STATUS_OF = {"photo_missing": "pending", "no_capture_time": "unverified", "no_location": "unverified",
             "customer_location_unknown": "unverified", "clock_disagreement": "verified"}


@pytest.mark.parametrize("code", list(EACH_CODE))
def test_each_check_code_from_a_real_photo(code):
    make, overrides = EACH_CODE[code]
    data = make()
    overrides = dict(overrides)
    present = overrides.pop("present", True)
    earlier = overrides.pop("earlier", ())
    if earlier == "same":
        earlier = [earlier_of(data)]
    elif earlier == "copy":
        earlier = [earlier_of(resized_copy(data, 0.5, 80))]
    ev = evidence(data, earlier=earlier, **overrides)
    if not present:
        ev["photos"] = [photo_evidence(data, present=False)]
    result = verify(ev, SETTINGS)
    assert check(result, code)["passed"] is False, result
    failed = [c["code"] for c in result["checks"] if c["passed"] is False]
    assert failed == [code], failed
    assert result["status"] == STATUS_OF.get(code, "suspect")
