"""Real camera photos from shared/fixtures/photos with their EXIF rewritten by piexif
(imported as `exif_photos`; the visit tests put this folder on sys.path).

A photo "taken at the customer's site now" is a real phone photo whose GPS position and time,
DateTimeOriginal (and offset) are set for the visit: the pixels, the camera's other tags and the
file layout stay those of a real phone.
"""
from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import piexif
from PIL import Image

FIXTURES = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "fixtures" / "photos"

NOKIA = "mobile_HMD_Nokia_8.3_5G.jpg"
IPHONE = "hdr_iphone_hdr_YES.jpg"
NIKON = "gps_DSCN0010.jpg"
NIKON_2 = "gps_DSCN0021.jpg"
JOLLA = "mobile_jolla.jpg"
HEIF = "heic_mobile_HMD_Nokia_8.3_5G.heif"
CANON_GIMP = "Canon_40D.jpg"
ODD_FILES = ("tests_36-memory_error.jpg", "tests_87_OSError.jpg", "corrupted.jpg", "invalid_image01088.jpg")

KEEP = object()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dms(value: float) -> tuple:
    value = abs(value)
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    seconds = round((minutes_f - minutes) * 60 * 10000)
    return ((degrees, 1), (minutes, 1), (seconds, 10000))


def _local_text(value: datetime) -> bytes:
    return value.strftime("%Y:%m:%d %H:%M:%S").encode()


def exif_dict(data: bytes) -> dict:
    exif = piexif.load(data)
    # what piexif cannot always write back, and what verification never reads
    exif["Exif"].pop(piexif.ExifIFD.MakerNote, None)
    exif["thumbnail"] = None
    exif["1st"] = {}
    exif.pop("Interop", None)
    exif["Exif"].pop(piexif.ExifIFD.InteroperabilityTag, None)
    return exif


def set_exif(exif: dict, *, lat=KEEP, lng=KEEP, gps_time=KEEP, redacted: bool = False, local=KEEP,
             offset=KEEP, software=KEEP, changed=KEEP, accuracy_m=None) -> dict:
    """Change the tags verification reads. `gps_time` (aware) sets GPSDateStamp/GPSTimeStamp;
    `local` (naive, camera wall time) sets DateTimeOriginal (and DateTime unless `changed` says
    otherwise); `offset` sets OffsetTimeOriginal ("+08:00") or removes it (None); `redacted`
    writes what Android writes without media-location permission: 0/1 rationals, empty refs."""
    gps = exif.setdefault("GPS", {})
    zero = ((0, 1), (0, 1), (0, 1))
    if lat is None or lng is None:
        for tag in (piexif.GPSIFD.GPSLatitudeRef, piexif.GPSIFD.GPSLatitude, piexif.GPSIFD.GPSLongitudeRef,
                    piexif.GPSIFD.GPSLongitude, piexif.GPSIFD.GPSHPositioningError):
            gps.pop(tag, None)
    elif lat is not KEEP:
        gps.update({piexif.GPSIFD.GPSVersionID: (2, 2, 0, 0),
                    piexif.GPSIFD.GPSLatitudeRef: b"N" if lat >= 0 else b"S", piexif.GPSIFD.GPSLatitude: _dms(lat),
                    piexif.GPSIFD.GPSLongitudeRef: b"E" if lng >= 0 else b"W",
                    piexif.GPSIFD.GPSLongitude: _dms(lng)})
    if redacted:  # (whatever position was asked for)
        gps.update({piexif.GPSIFD.GPSLatitudeRef: b"", piexif.GPSIFD.GPSLatitude: zero,
                    piexif.GPSIFD.GPSLongitudeRef: b"", piexif.GPSIFD.GPSLongitude: zero})
    if accuracy_m is not None:
        gps[piexif.GPSIFD.GPSHPositioningError] = (int(accuracy_m * 10), 10)
    if gps_time is None:
        gps.pop(piexif.GPSIFD.GPSDateStamp, None)
        gps.pop(piexif.GPSIFD.GPSTimeStamp, None)
    elif gps_time is not KEEP:
        utc = gps_time.astimezone(timezone.utc)
        gps[piexif.GPSIFD.GPSDateStamp] = utc.strftime("%Y:%m:%d").encode()
        gps[piexif.GPSIFD.GPSTimeStamp] = ((utc.hour, 1), (utc.minute, 1), (utc.second * 100, 100))
    if local is None:
        exif["Exif"].pop(piexif.ExifIFD.DateTimeOriginal, None)
    elif local is not KEEP:
        exif["Exif"][piexif.ExifIFD.DateTimeOriginal] = _local_text(local)
        if changed is KEEP:
            exif["0th"][piexif.ImageIFD.DateTime] = _local_text(local)
    if changed is None:
        exif["0th"].pop(piexif.ImageIFD.DateTime, None)
    elif changed is not KEEP:
        exif["0th"][piexif.ImageIFD.DateTime] = _local_text(changed)
    if offset is None:
        exif["Exif"].pop(piexif.ExifIFD.OffsetTimeOriginal, None)
        exif["Exif"].pop(piexif.ExifIFD.OffsetTime, None)
    elif offset is not KEEP:
        exif["Exif"][piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    if software is None:
        exif["0th"].pop(piexif.ImageIFD.Software, None)
    elif software is not KEEP:
        exif["0th"][piexif.ImageIFD.Software] = software.encode()
    return exif


def with_exif(data: bytes, exif: dict) -> bytes:
    out = io.BytesIO()
    piexif.insert(piexif.dump(exif), data, out)
    return out.getvalue()


def rewrite(name: str, **changes) -> bytes:
    """The fixture's bytes with its EXIF changed as `set_exif` says."""
    data = fixture_bytes(name)
    return with_exif(data, set_exif(exif_dict(data), **changes))


def taken(name: str, lat: float, lng: float, at: datetime, utc_offset: str = "+08:00",
          offset_tag: bool = True, **more) -> bytes:
    """A photo taken at (lat, lng) at `at` (aware) by a phone whose clock is on `utc_offset`:
    GPS position and UTC time, DateTimeOriginal in local time (with its offset tag)."""
    sign = -1 if utc_offset[0] == "-" else 1
    delta = timedelta(hours=int(utc_offset[1:3]), minutes=int(utc_offset[4:6])) * sign
    local = (at.astimezone(timezone.utc) + delta).replace(tzinfo=None)
    changes = dict(lat=lat, lng=lng, gps_time=at, local=local, offset=utc_offset if offset_tag else None)
    changes.update(more)
    return rewrite(name, **changes)


def resized_copy(data: bytes, factor: float = 0.5, quality: int = 80, **changes) -> bytes:
    """The same picture, resized and re-encoded (another SHA-256, nearly the same phash), its
    EXIF kept (and changed as `set_exif` says)."""
    exif = set_exif(exif_dict(data), **changes)
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))),
                                            Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=quality, exif=piexif.dump(exif))
        return out.getvalue()


def phash_of(data: bytes) -> str | None:
    """The perceptual hash the photo service stores for these bytes."""
    from server.photos.service import inspect_image

    return inspect_image(data).phash
