"""Resumable, content-addressed attachments: dedupe, resume, offsets, checksums, the whole hash, limits."""

import base64
import hashlib
import os
import threading
import uuid

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import Blob
from server.models import BlobChunk
from server.models import BlobUpload
from server.models import BlobUploadChunk
from server.sync.store import SqlStore
from sync.store import DeviceRef
from sync.testing.fakes import create_op
from sync.testing.fakes import push_ops
from tests.problem_shape import assert_problem
from tests.server.contract_forms import SqlForms

CHUNK = "application/offset+octet-stream"
URL = "/api/v1/blobs"


@pytest.fixture
def device(app, accounts):
    # Small chunks keep the tests fast; the logic is the same at 256 KiB.
    app.config["BLOB_CHUNK_BYTES"] = 1000
    return accounts.device()[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def declare(client, headers, data: bytes, content_type="image/jpeg", **overrides):
    body = {"sha256": sha(data), "size": len(data), "content_type": content_type, **overrides}
    return client.post(URL, json=body, headers=headers)


def send(client, headers, digest: str, offset: int, chunk: bytes, *, checksum: bytes | None = None, **extra):
    """PATCH one chunk, with the Upload-Checksum of ``checksum`` (default: of the chunk itself)."""
    sent = {**headers, "Upload-Offset": str(offset),
            "Upload-Checksum": "sha256 " + base64.b64encode(
                hashlib.sha256(chunk if checksum is None else checksum).digest()).decode(), **extra}
    return client.patch(f"{URL}/{digest}", data=chunk, headers=sent, content_type=CHUNK)


def upload(client, headers, data: bytes, start: int = 0, stop: int | None = None, step: int = 1000):
    """Send ``data[start:stop]`` in chunks; return the last response."""
    response = None
    stop = len(data) if stop is None else stop
    for offset in range(start, stop, step):
        response = send(client, headers, sha(data), offset, data[offset:min(offset + step, stop)])
        assert response.status_code == 204, response.get_data(as_text=True)
        assert response.headers["Upload-Offset"] == str(min(offset + step, stop))
    return response


def stored(app, digest):
    """(bytes received, complete, chunks) of the complete blob, else of its one upload in progress."""
    with app.app_context():
        blob = db.session.get(Blob, digest)
        if blob is not None and blob.complete:
            chunks = db.session.scalar(select(func.count()).select_from(BlobChunk)
                                       .where(BlobChunk.sha256 == digest))
            return blob.received, True, chunks
        uploads = db.session.scalars(select(BlobUpload).where(BlobUpload.sha256 == digest)).all()
        if not uploads:
            return None
        [upload] = uploads
        chunks = db.session.scalar(select(func.count()).select_from(BlobUploadChunk)
                                   .where(BlobUploadChunk.upload_id == upload.id))
        return upload.received, False, chunks


def test_an_interrupted_upload_resumes_where_the_server_stopped(app, client, accounts, device):
    data = os.urandom(10_000)
    digest = sha(data)
    created = declare(client, device, data)
    assert created.status_code == 201
    assert created.headers["Location"] == f"{URL}/{digest}"
    assert created.headers["Upload-Offset"] == "0"
    assert created.get_json() == {"sha256": digest, "size": 10_000, "content_type": "image/jpeg",
                                  "offset": 0, "complete": False}
    upload(client, device, data, stop=6000)  # 60 %, then the connection drops
    head = client.head(f"{URL}/{digest}", headers=device)
    assert head.status_code == 200
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("6000", "10000")
    assert head.headers["Cache-Control"] == "no-store"
    # Declaring it again (a restarted app) also tells where to resume.
    again = declare(client, device, data)
    assert again.status_code == 201 and again.headers["Upload-Offset"] == "6000"
    last = upload(client, device, data, start=6000)
    assert last.headers["Upload-Offset"] == "10000" and last.data == b""
    assert stored(app, digest) == (10_000, True, 10)

    coordinator = accounts.headers("coordinator")
    got = client.get(f"{URL}/{digest}", headers=coordinator)
    assert got.status_code == 200 and got.data == data and got.mimetype == "image/jpeg"
    assert got.headers["ETag"] == f'"{digest}"'
    cached = client.get(f"{URL}/{digest}", headers={**coordinator, "If-None-Match": f'"{digest}"'})
    assert cached.status_code == 304
    part = client.get(f"{URL}/{digest}", headers={**coordinator, "Range": "bytes=9000-"})
    assert part.status_code == 206 and part.data == data[9000:]


def test_the_same_content_is_stored_once(app, client, accounts, device):
    data = os.urandom(1500)
    declare(client, device, data)
    upload(client, device, data)
    other_device = accounts.device()[1]
    for headers in (device, other_device):
        response = declare(client, headers, data, content_type="image/png")
        assert response.status_code == 200
        assert response.get_json() == {"sha256": sha(data), "complete": True}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Blob)) == 1


def test_a_wrong_offset_is_409_with_the_server_offset(app, client, device):
    data = os.urandom(3000)
    digest = sha(data)
    declare(client, device, data)
    response = send(client, device, digest, 1000, data[1000:2000])
    body = assert_problem(response, 409, "upload-offset-mismatch")
    assert body["offset"] == 0 and response.headers["Upload-Offset"] == "0"
    upload(client, device, data, stop=1000)
    # A retry of a chunk that was committed (its answer was lost) is refused, not stored twice.
    replay = send(client, device, digest, 0, data[:1000])
    assert assert_problem(replay, 409, "upload-offset-mismatch")["offset"] == 1000
    assert stored(app, digest) == (1000, False, 1)
    upload(client, device, data, start=1000)
    done = send(client, device, digest, 3000, b"")
    assert assert_problem(done, 409, "upload-offset-mismatch")["offset"] == 3000


def test_a_damaged_chunk_is_discarded_and_resent(app, client, device):
    data = os.urandom(2000)
    digest = sha(data)
    declare(client, device, data)
    damaged = send(client, device, digest, 0, data[:1000], checksum=b"something else")
    assert_problem(damaged, 460, "chunk-checksum-mismatch")
    assert stored(app, digest) == (0, False, 0)
    assert_problem(send(client, device, digest, 0, data[:1000], **{"Upload-Checksum": "md5 AAAA"}),
                   400, "bad-request")
    assert_problem(send(client, device, digest, 0, data[:1000], **{"Upload-Checksum": "sha256 !!"}),
                   400, "bad-request")
    upload(client, device, data)
    assert stored(app, digest) == (2000, True, 2)


def test_a_checksum_is_optional(app, client, device):
    data = os.urandom(500)
    declare(client, device, data)
    response = client.patch(f"{URL}/{sha(data)}", data=data, content_type=CHUNK,
                            headers={**device, "Upload-Offset": "0"})
    assert response.status_code == 204 and stored(app, sha(data)) == (500, True, 1)


def test_bytes_that_do_not_match_the_hash_reset_the_upload(app, client, device):
    data, wrong = os.urandom(2000), os.urandom(2000)
    digest = sha(data)
    declare(client, device, data)
    assert send(client, device, digest, 0, wrong[:1000]).status_code == 204
    response = send(client, device, digest, 1000, wrong[1000:])
    body = assert_problem(response, 422, "blob-hash-mismatch")
    assert body["offset"] == 0 and response.headers["Upload-Offset"] == "0"
    assert stored(app, digest) == (0, False, 0)
    assert client.head(f"{URL}/{digest}", headers=device).headers["Upload-Offset"] == "0"
    upload(client, device, data)
    assert stored(app, digest) == (2000, True, 2)


def test_limits_on_size_type_and_chunks(app, client, device):
    too_big = declare(client, device, b"x", size=20 * 1024 * 1024 + 1)
    body = assert_problem(too_big, 413, "blob-too-large")
    assert body["max_bytes"] == 20 * 1024 * 1024 and body["errors"][0]["pointer"] == "/size"
    app.config["BLOB_MAX_BYTES"] = 100
    assert_problem(declare(client, device, os.urandom(101)), 413, "blob-too-large")
    body = assert_problem(declare(client, device, b"<html>", content_type="text/html"), 422,
                          "blob-type-not-allowed")
    assert body["errors"][0]["pointer"] == "/content_type" and "image/jpeg" in body["allowed"]
    assert declare(client, device, b"voice", content_type="audio/amr").status_code == 201
    assert declare(client, device, b"photo", content_type="image/JPEG; q=1").status_code == 201
    assert declare(client, device, b"report", content_type="application/pdf").status_code == 201
    with app.app_context():
        photo = db.session.scalars(select(BlobUpload).where(BlobUpload.sha256 == sha(b"photo"))).one()
        assert photo.content_type == "image/jpeg"
        assert db.session.scalar(select(func.count()).select_from(BlobUpload)) == 3  # only the allowed

    data = os.urandom(50)
    declare(client, device, data)
    app.config["BLOB_CHUNK_BYTES"] = 20
    body = assert_problem(send(client, device, sha(data), 0, data[:21]), 413, "chunk-too-large")
    assert body["max_chunk_bytes"] == 20
    app.config["BLOB_CHUNK_BYTES"] = 1000
    past_the_end = send(client, device, sha(data), 0, data + b"more")
    assert_problem(past_the_end, 413, "chunk-too-large")
    assert stored(app, sha(data)) == (0, False, 0)


@pytest.mark.parametrize("body, pointer", [
    ({"sha256": "A" * 64, "size": 1, "content_type": "image/jpeg"}, "/sha256"),
    ({"sha256": "a" * 63, "size": 1, "content_type": "image/jpeg"}, "/sha256"),
    ({"sha256": "a" * 64, "size": 0, "content_type": "image/jpeg"}, "/size"),
    ({"sha256": "a" * 64, "size": "1", "content_type": "image/jpeg"}, "/size"),
    ({"sha256": "a" * 64, "size": 1}, "/content_type"),
])
def test_bad_declarations_point_at_the_field(client, device, body, pointer):
    response = assert_problem(client.post(URL, json=body, headers=device), 422, "validation-failed")
    assert pointer in {e["pointer"] for e in response["errors"]}


def test_malformed_chunks_and_unknown_blobs(app, client, accounts, device):
    data = os.urandom(100)
    digest = sha(data)
    unknown = "0" * 64
    assert_problem(send(client, device, unknown, 0, data), 404, "not-found")
    assert client.head(f"{URL}/{unknown}", headers=device).status_code == 404
    assert_problem(client.get(f"{URL}/{unknown}", headers=accounts.headers("admin")), 404, "not-found")
    declare(client, device, data)
    assert_problem(client.patch(f"{URL}/{digest}", data=data, content_type="application/octet-stream",
                                headers={**device, "Upload-Offset": "0"}), 415, "unsupported-media-type")
    assert_problem(client.patch(f"{URL}/{digest}", data=data, content_type=CHUNK, headers=device),
                   400, "bad-request")
    assert_problem(send(client, device, digest, 0, data, **{"Upload-Offset": "-1"}), 400, "bad-request")
    body = assert_problem(client.get(f"{URL}/{digest}", headers=accounts.headers("admin")), 409,
                          "blob-incomplete")
    assert body["offset"] == 0


def test_who_may_upload_and_read(client, accounts, device):
    data = os.urandom(100)
    digest = sha(data)
    for call in (lambda h: declare(client, h, data), lambda h: send(client, h, digest, 0, data),
                 lambda h: client.get(f"{URL}/{digest}", headers=h)):
        assert_problem(call({}), 401, "unauthenticated")
    assert client.head(f"{URL}/{digest}").status_code == 401
    coordinator = accounts.headers("coordinator")
    assert_problem(declare(client, coordinator, data), 403, "forbidden")
    declare(client, device, data)
    assert_problem(send(client, coordinator, digest, 0, data), 403, "forbidden")
    upload(client, device, data)
    assert_problem(client.get(f"{URL}/{digest}", headers=device), 403, "forbidden")
    for role in ("enumerator", "planner"):
        assert_problem(client.get(f"{URL}/{digest}", headers=accounts.headers(role)), 403, "forbidden")
        assert client.head(f"{URL}/{digest}", headers=accounts.headers(role)).status_code == 403
    for role in ("admin", "coordinator", "analyst"):
        staff = accounts.headers(role)
        assert client.get(f"{URL}/{digest}", headers=staff).data == data
        assert client.head(f"{URL}/{digest}", headers=staff).headers["Upload-Offset"] == "100"


def test_two_copies_of_the_same_chunk_at_once_store_it_once(app, device):
    data = os.urandom(1000)
    digest = sha(data)
    declare(app.test_client(), device, data)
    barrier = threading.Barrier(4)
    statuses = []

    def race():
        client = app.test_client()
        barrier.wait()
        statuses.append(send(client, device, digest, 0, data).status_code)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204, 409, 409, 409]
    assert stored(app, digest) == (1000, True, 1)


def test_a_push_reports_a_blob_missing_until_its_upload_completes(app, client, device):
    with app.app_context():
        SqlForms.standard_in(db.engine)
        store = SqlStore(db.engine)
    phone = DeviceRef(id=str(uuid.uuid4()), user_id=7)
    data = os.urandom(2500)
    digest = sha(data)

    def missing():
        result = push_ops(store, phone, [create_op(blobs=[digest])]).results[0]
        assert result.status == "created"
        return result.details.get("missing_blobs", [])

    assert missing() == [digest]
    declare(client, device, data)
    upload(client, device, data, stop=2000)
    assert missing() == [digest]
    upload(client, device, data, start=2000)
    assert missing() == []


def test_no_device_can_block_or_spoil_anothers_upload_of_the_same_file(app, client, accounts, device):
    data = os.urandom(2500)
    digest = sha(data)
    squatter = accounts.device()[1]
    # Another device declares the hash first with a wrong size, sends a byte, and stops there ...
    assert declare(client, squatter, data, size=10).status_code == 201
    assert send(client, squatter, digest, 0, b"x").status_code == 204
    # ... and a third sends the right size but wrong bytes, and keeps at it.
    liar = accounts.device()[1]
    declare(client, liar, data)
    wrong = os.urandom(len(data))
    for offset in range(0, 2000, 1000):
        assert send(client, liar, digest, offset, wrong[offset:offset + 1000]).status_code == 204
    # The phone that has the photo uploads it from its own offset 0, unhindered, interleaved with the liar.
    answer = declare(client, device, data)
    assert answer.status_code == 201 and answer.get_json()["offset"] == 0
    upload(client, device, data, stop=1000)
    assert_problem(send(client, liar, digest, 2000, wrong[2000:]), 422, "blob-hash-mismatch")
    upload(client, device, data, start=1000)
    assert stored(app, digest) == (2500, True, 3)
    assert client.get(f"{URL}/{digest}", headers=accounts.headers("admin")).data == data
    # Now that the server has it, every device is done: a declaration answers complete, a chunk is refused.
    assert declare(client, liar, data).get_json() == {"sha256": digest, "complete": True}
    late = send(client, squatter, digest, 1, b"y")
    assert assert_problem(late, 409, "upload-offset-mismatch")["offset"] == 2500
    assert client.head(f"{URL}/{digest}", headers=squatter).headers["Upload-Offset"] == "2500"


def test_a_device_that_redeclares_its_own_upload_with_another_size_starts_again(app, client, device):
    data = os.urandom(1500)
    digest = sha(data)
    declare(client, device, data, size=1200)
    upload(client, device, data, stop=1000)
    assert declare(client, device, data).get_json()["offset"] == 0
    assert stored(app, digest) == (0, False, 0)
    upload(client, device, data)
    assert stored(app, digest) == (1500, True, 2)
