"""`/api/v1/photos/{sha256}`: PUT the bytes, HEAD "is it there for me?", GET full or thumb.

Every answer that could tell whether someone else's photo exists is the same 404 as for a hash
nobody uploaded (SPEC §12): a malformed hash, an unknown one and one the caller may not see.
"""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from server.common import blobs
from server.common.auth import login_required, me
from server.photos import service, storage
from server.photos.schemas import PhotoGetArgs, PhotoSchema

blp = Blueprint("photos", __name__, url_prefix="/api/v1/photos", description="Photos")

_RAW_BODY = {"requestBody": {"required": True, "description": "The image bytes (JPEG, PNG or HEIC), at most 15 MB",
                             "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
_IMAGE = {"content": {mime: {"schema": {"type": "string", "format": "binary"}}
                      for mime in ("image/jpeg", "image/png", "image/heic")}}


def _valid_sha(sha256: str) -> str:
    return blobs.valid_sha(sha256, service.photo_not_found)


@blp.route("/<string:sha256>")
class PhotoBySha(MethodView):
    @login_required()
    @blp.doc(**_RAW_BODY)
    @blp.response(201, PhotoSchema, description="Stored")
    @blp.alt_response(200, schema=PhotoSchema, description="These bytes were already there (idempotent)")
    def put(self, sha256: str):
        """Upload a photo under the SHA-256 of its bytes. 413 over 15 MB, 422 `hash_mismatch`,
        415 `unsupported_media_type`, 422 `invalid_image`: nothing is stored then."""
        _valid_sha(sha256)
        data = blobs.read_body(service.MAX_PHOTO_BYTES, service.PayloadTooLarge, "A photo may be at most 15 MB")
        photo, created = service.store_photo(sha256, data, me())
        return service.present(photo), 201 if created else 200

    @login_required()
    @blp.response(200, description="The photo is there and the caller may read it")
    def head(self, sha256: str):
        """200 when the photo is uploaded and the caller may read it, else 404 (the app's
        "already uploaded?" check before it sends the bytes)."""
        photo = service.get_visible_photo(me(), _valid_sha(sha256))
        service.require_file(photo)
        return blobs.head_response(photo.mime, photo.sha256)

    @login_required()
    @blp.arguments(PhotoGetArgs, location="query")
    @blp.response(200, description="The image", content_type="image/jpeg")
    @blp.doc(responses={"200": {"description": "The image: the uploaded bytes, or a JPEG thumbnail", **_IMAGE}})
    def get(self, args, sha256: str):
        """The photo (`size=full`, as uploaded) or its thumbnail (`size=thumb`, JPEG ≤ 320 px,
        upright, no metadata), for its uploaders and for users who may see a customer whose
        visit (or other record) refers to it; 404 for everyone else."""
        photo = service.get_visible_photo(me(), _valid_sha(sha256))
        service.require_file(photo)
        if args["size"] == "thumb":
            response = Response(service.thumbnail(photo), mimetype="image/jpeg")
            response.set_etag(f"{photo.sha256}-thumb")
            response.last_modified = photo.created_at
            return blobs.cache_forever(response.make_conditional(request))
        return blobs.send_stored(storage.original_path(photo.sha256), photo.mime, photo.sha256, photo.created_at)
