"""EXIF facts from the real camera photos (exifread, details=False), and the time limit."""
from __future__ import annotations

import threading
import time

import pytest

from exif_photos import (CANON_GIMP, FIXTURES, HEIF, IPHONE, JOLLA, NIKON, NOKIA, ODD_FILES, fixture_bytes,
                         rewrite)
from server.verification import exif


def test_android_phone_jpeg():
    facts = exif.extract(fixture_bytes(NOKIA))
    assert facts == {
        "gps": {"lat": 60.1467056, "lng": 24.9067722}, "gps_status": "ok", "gps_accuracy_m": None,
        "gps_time": "2022-08-14T11:12:32Z", "datetime_original": "2022-08-14T14:12:31",
        "offset_time_original": "+03:00", "datetime": None, "software": "00WW_3_380_SP02",
        "make": "HMD Global", "model": "Nokia 8.3 5G", "orientation": 1, "error": None,
    }


def test_iphone_has_no_offset_tag():
    facts = exif.extract(fixture_bytes(IPHONE))
    assert facts["gps_time"] == "2015-04-10T18:12:23.060000Z"
    assert facts["datetime_original"] == "2015-04-10T20:12:23"
    assert facts["offset_time_original"] is None
    assert facts["software"] == "8.3" and facts["gps"] == {"lat": 40.4469722, "lng": -3.7247528}


def test_nikon_camera_clock_is_a_day_off_gps():
    facts = exif.extract(fixture_bytes(NIKON))
    assert facts["gps_time"] == "2008-10-23T14:27:07.240000Z"
    assert facts["datetime_original"] == "2008-10-22T16:28:39"
    assert facts["gps"] == {"lat": 43.4674483, "lng": 11.8851267}


def test_heif_from_a_phone():
    facts = exif.extract(fixture_bytes(HEIF))
    assert facts["gps"] == {"lat": 40.7886852, "lng": -4.0051409}
    assert facts["gps_time"] == "2022-02-03T14:44:09Z"
    assert facts["software"] == "00WW_2_270_SP04" and facts["error"] is None


def test_photos_without_gps():
    jolla = exif.extract(fixture_bytes(JOLLA))
    assert (jolla["gps"], jolla["gps_status"], jolla["gps_time"]) == (None, "absent", None)
    assert jolla["datetime_original"] == "2014-09-21T16:00:56"
    canon = exif.extract(fixture_bytes(CANON_GIMP))
    assert canon["software"] == "GIMP 2.4.5" and canon["datetime"] == "2008-07-31T10:38:11"


def test_android_redacted_gps_is_no_position():
    """0/1 rationals and empty refs: what Android leaves without media-location permission."""
    facts = exif.extract(rewrite(NOKIA, redacted=True))
    assert facts["gps"] is None and facts["gps_status"] == "redacted"
    # its GPS time was not redacted: still the best time
    assert facts["gps_time"] == "2022-08-14T11:12:32Z"
    zeroed = exif.extract(rewrite(NOKIA, redacted=True, gps_time=None))
    assert zeroed["gps_time"] is None


def test_zero_zero_is_redacted():
    facts = exif.extract(rewrite(NOKIA, lat=0.0, lng=0.0))
    assert facts["gps"] is None and facts["gps_status"] == "redacted"


def test_gps_accuracy_is_read():
    facts = exif.extract(rewrite(NOKIA, accuracy_m=12.5))
    assert facts["gps_accuracy_m"] == 12.5


@pytest.mark.parametrize("name", ODD_FILES + ("Canon_40D_photoshop_import.jpg", "orientation_portrait_6.jpg"))
def test_odd_files_never_crash_or_hang(name):
    started = time.monotonic()
    facts = exif.extract(fixture_bytes(name))
    assert time.monotonic() - started < exif.EXIF_TIMEOUT_S + 0.5
    assert set(facts) == set(exif.FACT_KEYS)


def test_garbage_bytes():
    for data in (b"", b"\xff\xd8\xff", b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00" + b"\xff" * 64, b"x" * 1000):
        facts = exif.extract(data)
        assert set(facts) == set(exif.FACT_KEYS) and facts["gps"] is None


def test_a_parse_that_never_ends_times_out(monkeypatch):
    release = threading.Event()

    def stuck(data):
        release.wait(10)
        return {}

    monkeypatch.setattr(exif, "read_tags", stuck)
    try:
        started = time.monotonic()
        facts = exif.extract(fixture_bytes(NOKIA), timeout=0.3)
        assert facts["error"] == "timeout" and facts["gps"] is None
        assert time.monotonic() - started < 1.5
    finally:
        release.set()


def test_when_every_parser_is_stuck_photos_go_without_exif(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(exif, "read_tags", lambda data: release.wait(10) and {})
    monkeypatch.setattr(exif, "EXIF_TIMEOUT_S", 0.4)
    try:
        stuck = [exif.start(b"x") for _ in range(exif.MAX_THREADS)]
        time.sleep(0.05)
        started = time.monotonic()
        reading = exif.start(fixture_bytes(NOKIA))
        time.sleep(0.6)  # it waited for a parser as long as it may, then gave up
        assert reading.result(5)["error"] == "busy"
        assert time.monotonic() - started < 2
    finally:
        release.set()
    for reading in stuck:
        reading.result(5)
    monkeypatch.undo()
    assert exif.extract(fixture_bytes(NOKIA))["error"] is None  # the threads came back


def test_only_the_start_of_a_jpeg_is_given_to_exifread(monkeypatch):
    seen = []
    real = exif.exifread.process_file

    def spy(handle, **kwargs):
        seen.append((len(handle.getvalue()), kwargs))
        return real(handle, **kwargs)

    monkeypatch.setattr(exif.exifread, "process_file", spy)
    exif.read_tags(fixture_bytes(NOKIA))
    assert seen[0][0] == exif.JPEG_EXIF_WINDOW
    assert seen[0][1]["details"] is False and seen[0][1]["extract_thumbnail"] is False
    exif.read_tags(fixture_bytes(HEIF))
    assert seen[1][0] == (FIXTURES / HEIF).stat().st_size  # HEIF: its EXIF item may be anywhere


def test_a_read_waits_for_a_parser_that_frees_up(monkeypatch):
    """Under ordinary load all parsers may be taken for a moment: the read waits, not fails."""
    release = threading.Event()
    real = exif.read_tags

    def slow(data):
        if data == b"x":
            release.wait(10)
            return {}
        return real(data)

    monkeypatch.setattr(exif, "read_tags", slow)
    try:
        busy = [exif.start(b"x") for _ in range(exif.MAX_THREADS)]
        reading = exif.start(fixture_bytes(NOKIA))
        time.sleep(0.1)
        release.set()
        assert reading.result()["gps_time"] == "2022-08-14T11:12:32Z"
    finally:
        release.set()
    for other in busy:
        other.result(5)
