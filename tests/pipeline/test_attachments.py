"""The attachment channel of contracts and payment proofs (SPEC R-S3, R-S4): content-addressed,
PDF or image, at most 20 MB, readable by uploaders and by whoever may see a linked customer."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pipeline_fixtures import customer, phones, team  # noqa: F401 — fixtures
from pipeline_helpers import deal_args, opportunity_args, ops_of, payment_args, signed_deal
from sqlalchemy import func, select

from conftest import FIXTURES
from server.pipeline.attachments import MAX_ATTACHMENT_BYTES
from server.pipeline.models import Attachment, AttachmentLink

URL = "/api/v1/pipeline/attachments/"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(client, headers, data: bytes, digest: str | None = None):
    return client.put(URL + (digest or sha(data)), data=data, headers=headers,
                      content_type="application/octet-stream")


def _stored(db_ctx, digest: str) -> bool:
    with db_ctx() as session:
        return session.scalar(select(func.count()).select_from(Attachment).where(Attachment.sha256 == digest)) == 1


def _files(app, digest: str) -> list[Path]:
    return sorted(Path(app.config["PHOTO_DIR"]).rglob(f"*{digest}*"))


def test_a_pdf_contract_is_stored_once_and_read_back_by_its_uploader(client, phones, db_ctx, app):
    owner = phones("owner")
    data = PDF + b"unique-1"
    first = put(client, owner.headers, data)
    assert first.status_code == 201 and first.json == {"sha256": sha(data), "size": len(data),
                                                       "mime": "application/pdf"}
    again = put(client, owner.headers, data)
    assert again.status_code == 200
    assert client.head(URL + sha(data), headers=owner.headers).status_code == 200
    got = client.get(URL + sha(data), headers=owner.headers)
    assert got.status_code == 200 and got.data == data and got.mimetype == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in got.headers["Content-Security-Policy"]
    assert _stored(db_ctx, sha(data)) and len(_files(app, sha(data))) == 1


def test_images_are_accepted_with_the_photo_checks(client, phones):
    owner = phones("owner")
    jpeg = (FIXTURES / "mobile_HMD_Nokia_8.3_5G.jpg").read_bytes()
    r = put(client, owner.headers, jpeg)
    assert r.status_code in (200, 201) and r.json["mime"] == "image/jpeg"
    heic = (FIXTURES / "heic_mobile_HMD_Nokia_8.3_5G.heif").read_bytes()
    r = put(client, owner.headers, heic)
    assert r.status_code in (200, 201) and r.json["mime"] == "image/heic"


@pytest.mark.parametrize("data,status,code", [
    (b"hello, not a document", 415, "unsupported_media_type"),
    (b"", 415, "unsupported_media_type"),
    (b"PK\x03\x04 a zip or docx", 415, "unsupported_media_type"),
    ((FIXTURES / "corrupted.jpg").read_bytes(), 422, "invalid_image"),
])
def test_anything_else_is_refused_and_nothing_is_kept(client, phones, db_ctx, app, data, status, code):
    r = put(client, phones("owner").headers, data)
    assert r.status_code == status and r.json["error"]["code"] == code
    assert not _stored(db_ctx, sha(data)) and _files(app, sha(data)) == []


def test_hash_mismatch_and_malformed_addresses(client, phones, db_ctx):
    headers = phones("owner").headers
    r = put(client, headers, PDF, digest="0" * 64)
    assert r.status_code == 422 and r.json["error"]["code"] == "hash_mismatch"
    assert not _stored(db_ctx, "0" * 64)
    assert put(client, headers, PDF, digest="NOT-A-HASH").status_code == 404
    assert client.get(URL + "f" * 64, headers=headers).status_code == 404


def test_up_to_20_mb_is_taken_and_more_is_413(client, phones, db_ctx):
    headers = phones("owner").headers
    big = PDF + b"0" * (MAX_ATTACHMENT_BYTES - len(PDF))  # exactly 20 MB, above the app-wide 16 MB cap
    r = put(client, headers, big)
    assert r.status_code == 201, r.json
    too_big = big + b"1"
    r = put(client, headers, too_big)
    assert r.status_code == 413 and r.json["error"]["code"] == "payload_too_large"
    assert not _stored(db_ctx, sha(too_big))


def test_who_may_read_a_contract_attachment(client, factory, customer, phones, team):
    owner = phones("owner")
    data = PDF + b"contract-of-chunyi"
    digest = sha(data)
    assert put(client, owner.headers, data).status_code == 201
    for name in ("writer", "reader", "other", "outsider", "manager"):
        assert client.get(URL + digest, headers=phones(name).headers).status_code == 404, name
    deal = deal_args(customer, "HT-ATT-1", 10_000_00, attachment=digest)
    owner.applied("deal.create", deal)
    for name, status in (("writer", 200), ("reader", 200), ("manager", 200), ("other", 404), ("outsider", 404)):
        assert client.get(URL + digest, headers=phones(name).headers).status_code == status, name
        assert client.head(URL + digest, headers=phones(name).headers).status_code == status, name
    pulled = ops_of(phones("reader").pull(), "deal")[deal["id"]]["data"]
    assert pulled["attachment"] == digest and pulled["attachment_uploaded"] is True


def test_a_document_named_before_its_bytes_arrive(client, customer, phones, db_ctx):
    """Offline: the phone pushes the opportunity with its draft first and uploads later."""
    owner = phones("owner")
    data = PDF + b"draft-later"
    digest = sha(data)
    args = opportunity_args(customer, contract_draft=digest,
                            products=[{"product": "x", "quantity": 1, "unit_price": 100}])
    owner.applied("opportunity.create", args)
    owner.applied("opportunity.set_stage", {"id": args["id"], "stage": "contracting"})
    assert ops_of(owner.pull(), "opportunity")[args["id"]]["data"]["contract_draft_uploaded"] is False
    with db_ctx() as session:
        assert session.scalar(select(AttachmentLink.entity).where(AttachmentLink.sha256 == digest)) == "opportunity"
    assert put(client, phones("writer").headers, data).status_code == 201  # a co-follower uploads it
    assert client.get(URL + digest, headers=owner.headers).status_code == 200
    assert ops_of(owner.pull(), "opportunity")[args["id"]]["data"]["contract_draft_uploaded"] is True


def test_a_payment_proof_photo_is_readable_through_either_channel(client, customer, phones):
    owner, reader = phones("owner"), phones("reader")
    proof = (FIXTURES / "gps_DSCN0010.jpg").read_bytes()
    digest = sha(proof)
    r = client.put("/api/v1/photos/" + digest, data=proof, headers=owner.headers,
                   content_type="application/octet-stream")
    assert r.status_code in (200, 201)
    deal_id = signed_deal(owner, customer, 1_000_00)
    owner.applied("payment.create", payment_args(deal_id, 500, proof=digest))
    assert client.get("/api/v1/photos/" + digest, headers=reader.headers).status_code == 200
    pulled = [p["data"] for p in ops_of(reader.pull(), "payment").values()]
    assert pulled[0]["proof"] == digest and pulled[0]["proof_uploaded"] is True


def test_a_pdf_is_not_a_payment_proof(client, customer, phones):
    owner = phones("owner")
    data = PDF + b"not-a-receipt"
    put(client, owner.headers, data)
    deal_id = signed_deal(owner, customer, 1_000_00)
    error = owner.rejected("payment.create", payment_args(deal_id, 100, proof=sha(data)), "validation_failed")
    assert "proof" in error["details"]["fields"]
