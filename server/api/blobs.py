"""Attachments: resumable, content-addressed uploads from devices (tus-style) and downloads for staff."""

from __future__ import annotations

import re

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request

from server.api.access import DEVICE
from server.api.access import access
from server.api.access import current_principal
from server.api.body import attachment
from server.api.body import json_body
from server.api.schemas import BlobCreateSchema
from server.api.schemas import BlobSchema
from server.extensions import db
from server.models import audit_read
from server.problems import ApiError
from server.sync import blobs

bp = Blueprint("blobs", __name__, url_prefix="/api/v1/blobs")

CHUNK_TYPE = "application/offset+octet-stream"
STAFF_READERS = ("admin", "coordinator", "analyst")
_OFFSET = re.compile(r"[0-9]{1,18}")
_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "audio/mpeg": ".mp3",
             "audio/mp4": ".m4a", "audio/ogg": ".ogg", "audio/amr": ".amr", "video/mp4": ".mp4"}


def _offsets(blob, **headers) -> dict:
    return {"Upload-Offset": str(blob.received), "Upload-Length": str(blob.size), "Cache-Control": "no-store",
            **headers}


def _upload_offset() -> int:
    raw = request.headers.get("Upload-Offset", "")
    # ASCII digits only ("²".isdigit() is true) and within a 64-bit column.
    if not _OFFSET.fullmatch(raw):
        raise ApiError("bad-request", "Send the chunk's position as the header 'Upload-Offset: <bytes>'.")
    return int(raw)


def _chunk(limit: int) -> bytes:
    """Read at most ``limit`` bytes of the body; refuse more without reading it all."""
    if request.mimetype != CHUNK_TYPE:
        raise ApiError("unsupported-media-type", f"Send chunks as {CHUNK_TYPE}.")
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("chunk-too-large", f"Send chunks of at most {limit} bytes.", max_chunk_bytes=limit)
    return request.stream.read(limit + 1)


@bp.post("")
@access(DEVICE)
def create_blob():
    """Declare an attachment by sha256, size and type: 200 if the server has it, else 201 and the offset."""
    args = BlobCreateSchema().load(json_body())
    blob = blobs.start_upload(db.engine, args["sha256"], args["size"], args["content_type"],
                              device_id=current_principal().device.id,
                              max_bytes=current_app.config["BLOB_MAX_BYTES"],
                              allowed_types=current_app.config["BLOB_CONTENT_TYPES"])
    if blob.complete:
        return {"sha256": blob.sha256, "complete": True}, 200
    return BlobSchema().dump(blob), 201, _offsets(blob, Location=f"{bp.url_prefix}/{blob.sha256}")


# Registered before the GET route so that HEAD is not answered by the download view.
@bp.route("/<sha256>", methods=["HEAD"])
@access(DEVICE, *STAFF_READERS)
def upload_offset(sha256: str):
    """Tell how many bytes of an attachment the server has committed (where to resume): a device hears of
    its own upload, staff of the complete attachment."""
    device = current_principal().device
    blob = blobs.upload_state(db.session, sha256, device_id=device.id if device else None)
    return Response(status=200, headers=_offsets(blob))


@bp.patch("/<sha256>")
@access(DEVICE)
def upload_chunk(sha256: str):
    """Append one chunk at ``Upload-Offset``; answer 204 with the new offset once it is committed."""
    limit = current_app.config["BLOB_CHUNK_BYTES"]
    offset = _upload_offset()
    blob = blobs.append_chunk(db.engine, sha256, offset, _chunk(limit),
                              device_id=current_principal().device.id,
                              checksum=request.headers.get("Upload-Checksum"), max_chunk=limit)
    return Response(status=204, headers=_offsets(blob))


@bp.get("/<sha256>")
@access(*STAFF_READERS)
def download_blob(sha256: str):
    """Return a complete attachment's bytes; ETag is its sha256 and Range requests resume."""
    blob, data = blobs.read_blob(db.session, sha256)
    audit_read(db.session, "blob.download", "blob", sha256, user_id=current_principal().user.id,
               range=request.headers.get("Range"))
    db.session.commit()
    response = Response(data, mimetype=blob.content_type)
    # a photo is saved, never rendered as a page of this origin, whatever its bytes say
    name = sha256[:16] + _SUFFIXES.get(blob.content_type, "")
    response.headers["Content-Disposition"] = attachment(name)
    response.set_etag(blob.sha256)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response.make_conditional(request, accept_ranges=True, complete_length=blob.size)
