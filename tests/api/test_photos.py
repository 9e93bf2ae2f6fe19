"""The photo channel (SPEC §12 "Photos") with real camera photos from shared/fixtures/photos."""
from __future__ import annotations

import hashlib
import io
import struct
import threading
import time
import zlib
from pathlib import Path

import imagehash
import pytest
from PIL import Image, features
from sqlalchemy import func, select

from conftest import FIXTURES

URL = "/api/v1/photos/"
NOKIA = "mobile_HMD_Nokia_8.3_5G.jpg"
MB15 = 15 * 1024 * 1024


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(client, headers, data: bytes, digest: str | None = None, content_type="application/octet-stream"):
    return client.put(URL + (digest or sha(data)), data=data, headers=headers, content_type=content_type)


def files_for(app, digest: str) -> list[Path]:
    """Every file of the photo store whose name holds the hash: originals, thumbnails, leftover
    temporaries. The contract-attachment store under `attachments/` is a separate channel (other
    tests may keep the same bytes there: files outlive the per-test rollback)."""
    root = Path(app.config["PHOTO_DIR"])
    return sorted(p for p in root.rglob(f"*{digest}*") if p.relative_to(root).parts[0] != "attachments")


def rows(db_ctx, model, **where) -> int:
    with db_ctx() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def assert_nothing_stored(app, db_ctx, digest: str) -> None:
    from server.common.audit import AuditEntry
    from server.photos.models import Photo, PhotoUpload

    assert rows(db_ctx, Photo, sha256=digest) == 0
    assert rows(db_ctx, PhotoUpload, photo_sha256=digest) == 0
    assert rows(db_ctx, AuditEntry, entity="photo", entity_id=digest) == 0
    assert files_for(app, digest) == []


def png_of(name: str) -> bytes:
    """A real photo re-encoded as PNG."""
    with Image.open(FIXTURES / name) as image:
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height, all black: what
    `Image.new("1", (width, height)).save(..., "PNG")` writes, made row by row so the test
    does not itself need the hundreds of MB Pillow would."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def error_code(response) -> str:
    return response.json["error"]["code"]


@pytest.fixture
def rep(factory):
    return factory.user("rep")


@pytest.fixture
def rep_h(factory, rep):
    return factory.headers(rep)


# --------------------------------------------------------------------------- upload


def test_phone_jpeg_201_then_200_one_row_one_file(app, client, db_ctx, rep, rep_h):
    from server.common.audit import AuditEntry
    from server.photos.models import Photo, PhotoUpload

    data = fixture_bytes(NOKIA)
    digest = sha(data)
    first = put(client, rep_h, data, content_type="image/jpeg")
    assert first.status_code == 201, first.json
    assert first.json == {"sha256": digest, "size": len(data), "mime": "image/jpeg", "width": 4608, "height": 1976}

    again = put(client, rep_h, data, content_type="image/jpeg")
    assert again.status_code == 200, again.json
    assert again.json == first.json

    assert rows(db_ctx, Photo) == 1
    assert rows(db_ctx, PhotoUpload, photo_sha256=digest) == 1
    assert rows(db_ctx, AuditEntry, action="photo.upload", entity_id=digest) == 1
    path = Path(app.config["PHOTO_DIR"]) / digest[:2] / digest[2:4] / digest
    assert files_for(app, digest) == [path]
    assert path.read_bytes() == data
    with db_ctx() as session:
        photo = session.get(Photo, digest)
        assert photo.uploader_id == rep.id
        assert len(photo.phash) == 16 and int(photo.phash, 16) >= 0
        # what visit verification reads from the EXIF (server.verification.exif)
        assert photo.exif["gps"] == {"lat": 60.1467056, "lng": 24.9067722}
        assert photo.exif["gps_time"] == "2022-08-14T11:12:32Z"
        assert photo.exif["offset_time_original"] == "+03:00"


def test_get_full_is_the_bytes_with_cache_headers(client, rep_h):
    data = fixture_bytes("hdr_iphone_hdr_YES.jpg")
    digest = sha(data)
    assert put(client, rep_h, data).status_code == 201

    full = client.get(URL + digest, headers=rep_h)
    assert full.status_code == 200
    assert full.data == data
    assert full.mimetype == "image/jpeg"
    assert full.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert full.headers["ETag"] == f'"{digest}"'
    assert client.get(URL + digest + "?size=full", headers=rep_h).data == data

    cached = client.get(URL + digest, headers={**rep_h, "If-None-Match": f'"{digest}"'})
    assert cached.status_code == 304 and cached.data == b""


def test_heif_from_a_phone_is_accepted(client, rep_h):
    data = fixture_bytes("heic_mobile_HMD_Nokia_8.3_5G.heif")
    r = put(client, rep_h, data, content_type="image/heic")
    assert r.status_code == 201, r.json
    assert r.json["mime"] == "image/heic"
    assert (r.json["width"], r.json["height"]) == (3456, 4608)

    full = client.get(URL + sha(data), headers=rep_h)
    assert full.mimetype == "image/heic" and full.data == data
    thumb = client.get(URL + sha(data) + "?size=thumb", headers=rep_h)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.format == "JPEG" and max(image.size) == 320 and image.height > image.width


def test_png_of_a_real_photo_is_accepted_and_hashes_like_the_jpeg(client, db_ctx, rep_h):
    from server.photos.models import Photo

    jpeg = fixture_bytes("gps_DSCN0010.jpg")
    png = png_of("gps_DSCN0010.jpg")
    r = put(client, rep_h, png, content_type="image/png")
    assert r.status_code == 201, r.json
    assert r.json["mime"] == "image/png" and (r.json["width"], r.json["height"]) == (640, 480)
    assert put(client, rep_h, jpeg).status_code == 201

    full = client.get(URL + sha(png), headers=rep_h)
    assert full.mimetype == "image/png" and full.data == png
    with db_ctx() as session:
        a, b = session.get(Photo, sha(png)).phash, session.get(Photo, sha(jpeg)).phash
    # the same picture re-encoded stays within photo_similar's 6 bits
    assert imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b) <= 6


def test_hash_mismatch_422_nothing_stored(app, client, db_ctx, rep_h):
    data = fixture_bytes("mobile_jolla.jpg")
    wrong = sha(data + b"x")
    r = put(client, rep_h, data, digest=wrong)
    assert r.status_code == 422
    assert error_code(r) == "hash_mismatch"
    assert r.json["error"]["details"] == {"expected": wrong, "actual": sha(data)}
    assert_nothing_stored(app, db_ctx, wrong)
    assert_nothing_stored(app, db_ctx, sha(data))


def test_over_15_mb_413_nothing_stored(app, client, db_ctx, rep_h):
    photo = fixture_bytes(NOKIA)
    big = photo + b"\x00" * (MB15 + 1 - len(photo))
    r = put(client, rep_h, big)
    assert r.status_code == 413
    assert error_code(r) == "payload_too_large"
    assert_nothing_stored(app, db_ctx, sha(big))


def test_over_15_mb_without_content_length_413(app, client, db_ctx, rep_h):
    """A streamed body (no Content-Length) is cut off after 15 MB + 1 byte, never read whole."""
    photo = fixture_bytes(NOKIA)
    big = photo + b"\x00" * (MB15 + 4096 - len(photo))
    stream = io.BytesIO(big)
    r = client.put(URL + sha(big), input_stream=stream, headers=rep_h,
                   environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413, r.json
    assert error_code(r) == "payload_too_large"
    assert stream.tell() <= MB15 + 1
    assert_nothing_stored(app, db_ctx, sha(big))


def test_exactly_15_mb_is_taken(client, rep_h):
    photo = fixture_bytes("gps_DSCN0021.jpg")
    exact = photo + b"\x00" * (MB15 - len(photo))  # bytes after the JPEG's end are allowed
    r = put(client, rep_h, exact)
    assert r.status_code == 201, r.json
    assert r.json["size"] == MB15


def test_corrupted_jpeg_is_refused(app, client, db_ctx, rep_h):
    """corrupted.jpg: its scan stops early and an EOI follows; libjpeg fills the rest with grey."""
    data = fixture_bytes("corrupted.jpg")
    r = put(client, rep_h, data)
    assert r.status_code == 422, r.json
    assert error_code(r) == "invalid_image"
    assert r.json["error"]["details"]["reason"] == "truncated"
    assert_nothing_stored(app, db_ctx, sha(data))


def test_upload_cut_short_is_refused(app, client, db_ctx, rep_h):
    data = fixture_bytes(NOKIA)[: 1_300_000]
    r = put(client, rep_h, data)
    assert r.status_code == 422, r.json
    assert error_code(r) == "invalid_image"
    assert_nothing_stored(app, db_ctx, sha(data))


def test_web_graphic_without_exif_is_still_a_jpeg(client, rep_h):
    """invalid_image01088.jpg is a sound JPEG (a web banner, no EXIF). Being no evidence for a
    visit is for visit verification to say (`no_capture_time`): it is never refused here."""
    data = fixture_bytes("invalid_image01088.jpg")
    r = put(client, rep_h, data)
    assert r.status_code == 201, r.json
    assert (r.json["mime"], r.json["width"], r.json["height"]) == ("image/jpeg", 425, 120)


@pytest.mark.parametrize("name", ["tests_36-memory_error.jpg", "tests_87_OSError.jpg", "Canon_40D.jpg",
                                  "Canon_40D_photoshop_import.jpg"])
def test_files_that_crashed_exif_readers_never_crash_the_server(client, rep_h, name):
    data = fixture_bytes(name)
    started = time.monotonic()
    r = put(client, rep_h, data)
    assert r.status_code == 201 or 400 <= r.status_code < 500, r.json
    if r.status_code == 201:
        thumb = client.get(URL + sha(data) + "?size=thumb", headers=rep_h)
        assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("size", [(20000, 20000), (10000, 10000)], ids=["over-2x-limit", "between-1x-and-2x"])
def test_decompression_bomb_422_nothing_stored(app, client, db_ctx, rep_h, size):
    """20000² is past 2 x MAX_IMAGE_PIXELS (Pillow raises); 10000² is between 1x and 2x, where
    Pillow only warns: both are refused."""
    assert size[0] * size[1] > Image.MAX_IMAGE_PIXELS == 89478485
    data = bomb_png(*size)
    assert len(data) < 1_000_000
    r = put(client, rep_h, data)
    assert r.status_code == 422, r.json
    assert error_code(r) == "invalid_image"
    assert r.json["error"]["details"]["reason"] == "decompression_bomb"
    assert_nothing_stored(app, db_ctx, sha(data))


def test_text_file_415_nothing_stored(app, client, db_ctx, rep_h):
    data = (FIXTURES / "README.md").read_bytes()
    r = put(client, rep_h, data, content_type="image/jpeg")
    assert r.status_code == 415
    assert error_code(r) == "unsupported_media_type"
    assert_nothing_stored(app, db_ctx, sha(data))


@pytest.mark.skipif(not features.check("webp"), reason="Pillow without WebP")
def test_other_image_types_415(app, client, db_ctx, rep_h):
    with Image.open(FIXTURES / "gps_DSCN0010.jpg") as image:
        out = io.BytesIO()
        image.save(out, "WEBP")
        webp = out.getvalue()
        out = io.BytesIO()
        image.convert("P").save(out, "GIF")
        gif = out.getvalue()
    for data in (webp, gif):
        r = put(client, rep_h, data, content_type="image/jpeg")
        assert r.status_code == 415, r.json
        assert_nothing_stored(app, db_ctx, sha(data))


def test_png_magic_with_broken_body_422(app, client, db_ctx, rep_h):
    png = png_of("Canon_40D.jpg")
    broken = png[:200] + bytes(b ^ 0x5A for b in png[200:400]) + png[400:]
    r = put(client, rep_h, broken)
    assert r.status_code == 422, r.json
    assert error_code(r) == "invalid_image"
    assert_nothing_stored(app, db_ctx, sha(broken))


# --------------------------------------------------------------------------- thumbnails


def test_thumbnail_is_upright_small_and_without_exif(app, client, rep_h):
    data = fixture_bytes("orientation_portrait_6.jpg")
    digest = sha(data)
    r = put(client, rep_h, data)
    assert r.status_code == 201
    assert (r.json["width"], r.json["height"]) == (450, 600)  # as shown: orientation 6 turns it

    thumb = client.get(URL + digest + "?size=thumb", headers=rep_h)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.format == "JPEG"
        assert image.height > image.width
        assert max(image.size) <= 320
        assert "exif" not in image.info and len(image.getexif()) == 0

    cache = Path(app.config["PHOTO_DIR"]) / "thumbs" / digest[:2] / digest[2:4] / f"{digest}.jpg"
    assert cache.read_bytes() == thumb.data
    assert client.get(URL + digest + "?size=thumb", headers=rep_h).data == thumb.data
    etag = thumb.headers["ETag"]
    assert client.get(URL + digest + "?size=thumb", headers={**rep_h, "If-None-Match": etag}).status_code == 304


def test_phone_jpeg_thumbnail(client, rep_h):
    data = fixture_bytes(NOKIA)
    assert put(client, rep_h, data).status_code == 201
    thumb = client.get(URL + sha(data) + "?size=thumb", headers=rep_h)
    with Image.open(io.BytesIO(thumb.data)) as image:
        assert image.size == (320, 137)


def test_bad_size_argument_422(client, rep_h):
    data = fixture_bytes("Canon_40D.jpg")
    assert put(client, rep_h, data).status_code == 201
    r = client.get(URL + sha(data) + "?size=huge", headers=rep_h)
    assert r.status_code == 422 and error_code(r) == "validation_failed"


# --------------------------------------------------------------------------- who may read


def test_another_rep_gets_the_same_404_as_for_an_unknown_hash(client, factory, rep_h):
    data = fixture_bytes("gps_DSCN0021.jpg")
    digest = sha(data)
    assert put(client, rep_h, data).status_code == 201
    other_h = factory.headers(factory.user("rep"))

    unknown = client.get(URL + sha(b"nobody uploaded this"), headers=other_h)
    assert unknown.status_code == 404
    for url in (URL + digest, URL + digest + "?size=thumb", URL + digest + "?size=full"):
        r = client.get(url, headers=other_h)
        assert (r.status_code, r.json) == (404, unknown.json)
    assert client.head(URL + digest, headers=other_h).status_code == 404
    assert client.head(URL + sha(b"nobody uploaded this"), headers=other_h).status_code == 404
    assert unknown.json == {"error": {"code": "not_found", "message": "Photo not found", "details": {}}}


def test_head_for_the_uploader(client, rep_h):
    data = fixture_bytes("Canon_40D.jpg")
    digest = sha(data)
    assert client.head(URL + digest, headers=rep_h).status_code == 404
    assert put(client, rep_h, data).status_code == 201
    r = client.head(URL + digest, headers=rep_h)
    assert r.status_code == 200 and r.data == b""
    assert r.headers["ETag"] == f'"{digest}"' and r.mimetype == "image/jpeg"


@pytest.mark.parametrize("bad", ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "..", "not-a-hash"])
def test_malformed_hash_404(client, rep_h, bad):
    assert client.get(URL + bad, headers=rep_h).status_code == 404
    assert client.head(URL + bad, headers=rep_h).status_code == 404
    r = client.put(URL + bad, data=fixture_bytes("Canon_40D.jpg"), headers=rep_h)
    assert r.status_code == 404 and error_code(r) == "not_found"


def test_login_required(client):
    data = fixture_bytes("Canon_40D.jpg")
    for r in (client.put(URL + sha(data), data=data), client.get(URL + sha(data)),
              client.get(URL + sha(data) + "?size=thumb")):
        assert r.status_code == 401
        assert error_code(r) == "unauthenticated"
    assert client.head(URL + sha(data)).status_code == 401


def link(db_ctx, digest, customer, entity="visit"):
    from server.common.db import uuid7
    from server.photos.models import PhotoLink

    with db_ctx() as session:
        session.add(PhotoLink(photo_sha256=digest, entity=entity, entity_id=str(uuid7()), customer_id=customer.id))
        session.commit()


def test_who_sees_the_linked_customer_reads_the_photo(client, factory, db_ctx, rep, rep_h):
    data = fixture_bytes("gps_DSCN0010.jpg")
    digest = sha(data)
    assert put(client, rep_h, data).status_code == 201
    owner = factory.user("rep")
    customer = factory.customer(owner)
    owner_h = factory.headers(owner)
    stranger_h = factory.headers(factory.user("rep"))
    assert client.get(URL + digest, headers=owner_h).status_code == 404

    link(db_ctx, digest, customer)
    r = client.get(URL + digest, headers=owner_h)
    assert r.status_code == 200 and r.data == data
    assert client.head(URL + digest, headers=owner_h).status_code == 200
    assert client.get(URL + digest + "?size=thumb", headers=owner_h).status_code == 200
    assert client.get(URL + digest, headers=stranger_h).status_code == 404


def test_a_link_made_before_the_upload_counts(client, factory, db_ctx, rep, rep_h):
    """A visit may name a photo before its bytes arrive (no foreign key)."""
    data = fixture_bytes("mobile_jolla.jpg")
    digest = sha(data)
    customer = factory.customer(rep)
    link(db_ctx, digest, customer)
    assert client.head(URL + digest, headers=rep_h).status_code == 404
    uploader_h = factory.headers(factory.user("rep"))
    assert put(client, uploader_h, data).status_code == 201
    assert client.head(URL + digest, headers=rep_h).status_code == 200


def test_manager_of_the_owners_department_reads_through_the_link(client, factory, db_ctx):
    parent = factory.department()
    dept = factory.department(parent=parent)
    rep = factory.user("rep", department=dept)
    rep_h = factory.headers(rep)
    data = fixture_bytes("Canon_40D_photoshop_import.jpg")
    digest = sha(data)
    assert put(client, rep_h, data).status_code == 201
    customer = factory.customer(rep)

    manager_h = factory.headers(factory.user("manager", department=dept))
    above_h = factory.headers(factory.user("manager", department=parent))
    elsewhere_h = factory.headers(factory.user("manager"))
    for h in (manager_h, above_h, elsewhere_h):
        assert client.get(URL + digest, headers=h).status_code == 404  # no link yet

    link(db_ctx, digest, customer)
    assert client.get(URL + digest, headers=manager_h).status_code == 200
    assert client.get(URL + digest, headers=above_h).status_code == 200
    assert client.get(URL + digest, headers=elsewhere_h).status_code == 404


def test_second_uploader_of_the_same_bytes_may_read_them(client, factory, db_ctx, rep, rep_h):
    from server.common.audit import AuditEntry
    from server.photos.models import Photo, PhotoUpload

    data = fixture_bytes("tests_87_OSError.jpg")
    digest = sha(data)
    assert put(client, rep_h, data).status_code == 201
    other = factory.user("rep")
    other_h = factory.headers(other)
    assert client.head(URL + digest, headers=other_h).status_code == 404

    r = put(client, other_h, data)
    assert r.status_code == 200, r.json
    assert client.head(URL + digest, headers=other_h).status_code == 200
    assert client.get(URL + digest, headers=other_h).data == data
    assert put(client, other_h, data).status_code == 200

    with db_ctx() as session:
        assert session.get(Photo, digest).uploader_id == rep.id  # the first uploader stays
    assert rows(db_ctx, Photo, sha256=digest) == 1
    assert rows(db_ctx, PhotoUpload, photo_sha256=digest) == 2
    assert rows(db_ctx, AuditEntry, action="photo.upload", entity_id=digest) == 1
    assert rows(db_ctx, AuditEntry, action="photo.uploader_added", entity_id=digest) == 1


# --------------------------------------------------------------------------- storage


def test_lost_file_answers_404_and_a_new_upload_puts_it_back(app, client, rep_h):
    data = fixture_bytes("gps_DSCN0021.jpg")
    digest = sha(data)
    assert put(client, rep_h, data).status_code == 201
    path = Path(app.config["PHOTO_DIR"]) / digest[:2] / digest[2:4] / digest
    path.unlink()
    r = client.head(URL + digest, headers=rep_h)
    assert r.status_code == 404
    assert error_code(client.get(URL + digest, headers=rep_h)) == "photo_file_missing"
    assert put(client, rep_h, data).status_code == 200
    assert path.read_bytes() == data
    assert client.head(URL + digest, headers=rep_h).status_code == 200


def test_a_crash_while_writing_leaves_no_file(app, monkeypatch):
    from server.photos import storage

    data = fixture_bytes("Canon_40D.jpg") + b"crash-test"
    digest = sha(data)

    def power_cut(src, dst):
        raise OSError("power cut")

    with app.app_context():
        monkeypatch.setattr(storage.os, "replace", power_cut)
        with pytest.raises(OSError):
            storage.save_original(digest, data)
        monkeypatch.undo()
        assert files_for(app, digest) == []
        storage.save_original(digest, data)
        assert files_for(app, digest) == [storage.original_path(digest)]
        assert storage.original_path(digest).relative_to(app.config["PHOTO_DIR"]).parts == (
            digest[:2], digest[2:4], digest)
        storage.original_path(digest).unlink()


def test_store_photo_refuses_oversized_bytes_directly(app, rep):
    from server.photos import service

    with app.app_context():
        data = b"\xff\xd8\xff" + b"\x00" * MB15
        with pytest.raises(service.PayloadTooLarge):
            service.store_photo(sha(data), data, rep)


def test_concurrent_uploads_of_the_same_bytes_make_one_photo(fresh_app, monkeypatch):
    """Two phones send the same photo at once: one 201, one 200, one row, one file. A slow
    check makes both pass "not there yet" before either inserts (on PostgreSQL; SQLite's
    immediate transactions queue them whole)."""
    from server.common.audit import AuditEntry
    from server.extensions import db
    from server.org.models import BusinessLine, Role
    from server.org.service import create_department, create_user
    from server.photos import service
    from server.photos.models import Photo, PhotoUpload

    inspect = service.inspect_image

    def slow_inspect(data):
        facts = inspect(data)
        time.sleep(0.3)
        return facts

    monkeypatch.setattr(service, "inspect_image", slow_inspect)

    app = fresh_app()
    with app.app_context():
        dept = create_department("外勤一部", None, BusinessLine.KA)
        users = [create_user(f"racer{i}", "correct-horse-9", f"Racer {i}", Role.rep, dept.id) for i in range(2)]
        db.session.commit()
    data = fixture_bytes("hdr_iphone_hdr_YES.jpg")
    digest = sha(data)
    tokens = [app.test_client().post("/api/v1/auth/login", json={"username": u.username, "password": "correct-horse-9"}
                                     ).json["access_token"] for u in users]
    barrier = threading.Barrier(2)
    statuses = []

    def upload(token):
        client = app.test_client()
        barrier.wait()
        statuses.append(put(client, {"Authorization": f"Bearer {token}"}, data).status_code)

    threads = [threading.Thread(target=upload, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200, 201]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
        assert db.session.scalar(select(func.count()).select_from(PhotoUpload)) == 2
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == digest)).all()
        assert sorted(actions) == ["photo.upload", "photo.uploader_added"]
    assert files_for(app, digest) == [Path(app.config["PHOTO_DIR"]) / digest[:2] / digest[2:4] / digest]


def test_migrations_create_the_photo_tables_as_the_models_say(app):
    """Alembic's comparison of the migrated database with the models finds nothing to do for
    the photo tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from server.extensions import db

    photo_tables = {"photos", "photo_uploads", "photo_links"}

    def touches(diff) -> bool:
        if isinstance(diff, list):
            return any(touches(d) for d in diff)
        for part in diff[1:]:
            table = getattr(part, "table", None)
            name = getattr(table, "name", None) or getattr(part, "name", None) or part
            if isinstance(name, str) and name in photo_tables:
                return True
        return False

    with app.app_context():
        context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)
    assert [d for d in diffs if touches(d)] == []
    assert photo_tables <= set(db.metadata.tables)
