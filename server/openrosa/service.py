"""OpenRosa for ODK Collect, KoboCollect and Enketo: who calls, which forms they get, what they submit.

One ingestion path: an instance is read into answers (``forms.instance``), made into the same
operation a sync client would push (``create``, or ``correct`` when it carries a deprecatedID) and
applied by ``sync.engine.push`` as the app user's device, so validation, quarantine, revisions,
conflicts and analysis rows are the sync protocol's own. What OpenRosa adds is kept beside it
(``OpenRosaSubmission``): the XML as sent, Collect's deviceID, attachments by file name.

Semantics (as ODK Central, with Kobo's attachment merge): the same instanceID with byte-identical XML
is the same submission again (a retry, an *isIncomplete* continuation, a resend after a restart):
201, and any new attachments are added; different XML under a known instanceID is 409. An instance
that fails validation is stored in quarantine and answered 201 saying it is held for review.
This module raises ``OpenRosaError``; only ``server.openrosa.http`` knows Flask's request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from dataclasses import field

from defusedxml.ElementTree import fromstring
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.instance import Instance
from forms.instance import InstanceInvalid
from forms.instance import answers_from_instance
from forms.instance import instance_uuid
from forms.instance import read_header
from server.accounts import app_users
from server.forms import registry as form_registry
from server.models import AppUser
from server.models import Blob
from server.models import BlobChunk
from server.models import Form
from server.models import FormVersion
from server.models import OpenRosaAttachment
from server.models import OpenRosaSubmission
from server.models.submissions import insert_missing
from server.sync.blobs import media_type
from sync import engine
from sync.protocol import CREATED
from sync.protocol import DUPLICATE
from sync.protocol import OP_ID_REUSED
from sync.protocol import QUARANTINED
from sync.protocol import REJECTED
from sync.protocol import RETRY
from sync.protocol import Operation
from sync.protocol import PushRequest
from sync.store import DeviceRef
from sync.store import Store

#: What HEAD /submission advertises: Collect splits a submission's files into POSTs of at most this.
ACCEPT_CONTENT_LENGTH = 10_000_000
_OP_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
FILE_TYPES = ("photo", "image", "audio", "video", "file", "background-audio", "background-image")
_SAFE_NAME = re.compile(r"^[^/\\\x00]{1,255}$")


class OpenRosaError(Exception):
    """A failure answered as an OpenRosaResponse with ``status``; Collect shows ``message``."""

    def __init__(self, status: int, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Caller:
    """The app user of a request, as the service needs it (no ORM object crosses a commit)."""

    app_user_id: int
    name: str
    device_id: str
    user_id: int | None
    form_ids: frozenset[str]

    @property
    def device(self) -> DeviceRef:
        """The app user as the sync engine's device."""
        return DeviceRef(id=self.device_id, user_id=self.user_id, revoked=False)


@dataclass(frozen=True)
class Upload:
    """One file part of a submission POST."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Receipt:
    """The answer to a submission: always 201 here (failures raise), and the message Collect shows."""

    message: str
    status: str
    submission_id: str
    attachments_added: list[str] = field(default_factory=list)
    status_code: int = 201


def authenticate(session: Session, token: str, project_id: str, *, now: dt.datetime) -> Caller:
    """The app user of ``token``; 403 for an unknown or revoked token (never 401: Collect would prompt)."""
    app_user = app_users.authenticate(session, token)
    if app_user is None:
        session.rollback()
        raise OpenRosaError(403, "This phone's access to the server was revoked or its link is wrong; "
                                 "ask a coordinator for a new QR code.")
    if project_id != app_users.PROJECT_ID:
        session.rollback()
        raise OpenRosaError(404, f"There is no project {project_id!r} on this server; "
                                 "scan the QR code again.")
    app_user.device.last_seen_at = now
    caller = Caller(app_user_id=app_user.id, name=app_user.name, device_id=str(app_user.device_id),
                    user_id=app_user.device.user_id, form_ids=frozenset(app_user.form_ids))
    session.commit()
    return caller


def listed_versions(session: Session, caller: Caller, form_id: str | None = None) -> list[FormVersion]:
    """The newest open version of each form the app user may fill in (closing ones are not listed)."""
    wanted = caller.form_ids if form_id is None else caller.form_ids & {form_id}
    rows = session.scalars(select(FormVersion).join(Form).where(
        Form.form_id.in_(sorted(wanted)), FormVersion.state == "open").order_by(Form.form_id,
                                                                               FormVersion.id.desc()))
    newest: dict[str, FormVersion] = {}
    for row in rows:
        newest.setdefault(row.form.form_id, row)
    return list(newest.values())


def xform_bytes(version: FormVersion) -> bytes:
    """The XForm exactly as served; its md5 is the form list's hash."""
    return version.definition["xform"].encode("utf-8")


def md5(data: bytes) -> str:
    """Hex md5, as OpenRosa hashes are written (after ``md5:``)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def downloadable(session: Session, caller: Caller, form_id: str, version: str | None) -> FormVersion:
    """A version the app user may download (open, or closing for a phone mid-update), else 404.

    Without a version: the newest open one (what the form list shows).
    """
    row = None
    if version is None:
        listed = listed_versions(session, caller, form_id)
        row = listed[0] if listed else None
    elif form_id in caller.form_ids:
        row = session.scalar(select(FormVersion).join(Form).where(
            Form.form_id == form_id, FormVersion.version == version,
            FormVersion.state.in_(("open", "closing"))))
    if row is None:
        raise OpenRosaError(404, f"Form {form_id!r} version {version!r} is not available to this phone.")
    return row


def media(version: FormVersion, filename: str) -> tuple[bytes, str]:
    """The bytes and content type of a file the version reads, else 404."""
    for attachment in version.attachments:
        if attachment.filename == filename:
            kind = "text/csv" if filename.lower().endswith(".csv") else "application/octet-stream"
            return attachment.content, kind
    raise OpenRosaError(404, f"The form has no file {filename!r}.")


def _submittable(session: Session, caller: Caller, form_id: str, version: str) -> FormVersion:
    if form_id not in caller.form_ids:
        raise OpenRosaError(403, f"This phone may not send form {form_id!r}; ask a coordinator to add it.")
    row = session.scalar(select(FormVersion).join(Form).where(Form.form_id == form_id,
                                                              FormVersion.version == version))
    if row is None or row.state == "draft":
        raise OpenRosaError(404, f"The server has no version {version!r} of form {form_id!r}; "
                                 "update the blank form on the phone and fill it in again.")
    if row.state == "closed":
        raise OpenRosaError(409, f"Form {form_id!r} version {version!r} is closed and no longer accepts "
                                 "submissions; keep the phone's copy and tell a coordinator.")
    return row


def op_id_of(instance_id: str) -> str:
    """The sync operation id of an instance: its instanceID when it fits, else a hash of it."""
    if _OP_ID.match(instance_id):
        return instance_id
    return "odk:" + hashlib.sha256(instance_id.encode("utf-8")).hexdigest()[:56]


def _existing(session: Session, form_id: str, instance_id: str) -> OpenRosaSubmission | None:
    return session.scalar(select(OpenRosaSubmission).where(OpenRosaSubmission.form_id == form_id,
                                                           OpenRosaSubmission.instance_id == instance_id))


def operation(session: Session, instance: Instance) -> dict:
    """The sync operation an instance stands for: a create, or a correction of its deprecatedID."""
    op: dict = {"id": op_id_of(instance.instance_id), "kind": "create", "sub": instance.submission_uuid,
                "form": instance.form_id, "ver": instance.version, "ans": instance.answers}
    if instance.deprecated_id:
        prior = _existing(session, instance.form_id, instance.deprecated_id)
        op["kind"] = "correct"
        # An edit of an instance the server never saw is kept in quarantine (submission-unknown).
        op["sub"] = prior.submission_id if prior else instance_uuid(instance.deprecated_id)
        op["base"] = prior.op_id if prior else op_id_of(instance.deprecated_id)
    at = (instance.answers or {}).get("end") or (instance.answers or {}).get("start")
    if isinstance(at, str) and len(at) <= 40:
        op["at"] = at
    return op


def _referenced_names(xml: bytes) -> set[str]:
    root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    return {text.strip() for element in root.iter() if (text := element.text) and text.strip()}


def submit(session: Session, store: Store, caller: Caller, xml: bytes, uploads: list[Upload], *,
           collect_device_id: str | None, incomplete: bool, now: dt.datetime) -> Receipt:
    """Receive one POST of a submission: store or recognise the instance, add its new files."""
    try:
        header = read_header(xml)
        version = _submittable(session, caller, header.form_id, header.version)
        form = form_registry.load_form(version)
        instance = answers_from_instance(form, xml)
    except InstanceInvalid as err:
        session.rollback()
        raise OpenRosaError(400, f"The submission is not a readable form instance: {err.detail}.") from None
    except OpenRosaError:
        session.rollback()
        raise
    digest = hashlib.sha256(xml).hexdigest()
    row = _existing(session, instance.form_id, instance.instance_id)
    if row is None:
        op = operation(session, instance)
        row = OpenRosaSubmission(
            form_id=instance.form_id, form_version=instance.version, instance_id=instance.instance_id,
            deprecated_id=instance.deprecated_id, op_id=op["id"], submission_id=op["sub"], operation=op,
            app_user_id=caller.app_user_id, device_id=caller.device_id,
            collect_device_id=(collect_device_id or None) and collect_device_id[:255], xml=xml,
            xml_sha256=digest, attachments_expected=len(expected_files(form, instance.answers or {})),
            complete=False, received_at=now, updated_at=now)
        session.add(row)
        try:
            session.commit()  # the XML is kept before anything else can fail
        except IntegrityError:
            session.rollback()  # a twin POST (Collect retrying) stored it first
            row = _existing(session, instance.form_id, instance.instance_id)
    if row.xml_sha256 != digest:
        session.rollback()
        raise OpenRosaError(409, f"The server already has a different submission with the id "
                                 f"{instance.instance_id}; this copy was not stored. Tell a coordinator.")
    row_id, op, result, submission_id = row.id, dict(row.operation), row.result, row.submission_id
    # End this session's transaction before the engine writes on its own connection: on SQLite a
    # request that writes holds the write lock from BEGIN, and the engine would wait for it.
    session.commit()
    if result is None or result.get("status") == RETRY:
        result = _ingest(store, caller, op)
        session.get(OpenRosaSubmission, row_id).result = result
        session.commit()
    status = result["status"]
    if status == RETRY:
        raise OpenRosaError(503, "The server is busy; the phone will send this again.",
                            headers={"Retry-After": str(result.get("retry_after", 5))})
    if status == OP_ID_REUSED:
        raise OpenRosaError(409, f"The server already has a different submission with the id "
                                 f"{instance.instance_id}; this copy is kept for a coordinator.")
    row = session.get(OpenRosaSubmission, row_id)
    added = _add_attachments(session, row, xml, uploads, now=now)
    if not incomplete:
        row.complete = True
    row.updated_at = now
    session.commit()
    return Receipt(message=_message(result), status=status, submission_id=submission_id,
                   attachments_added=added)


def _ingest(store: Store, caller: Caller, op: dict) -> dict:
    """Apply the operation through the sync engine's push path; return its result as on the wire."""
    request = PushRequest(device_id=caller.device_id, ops=(Operation.from_wire(op),))
    answer = engine.push(store, caller.device, request, now=_now())
    result = answer.results[0].to_wire()
    # A twin POST (Collect retrying while the first was in flight) applied it first: keep its result.
    return result["original"] if result["status"] == DUPLICATE and result.get("original") else result


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _message(result: dict) -> str:
    status = result["status"]
    if status == DUPLICATE:
        status = (result.get("original") or {}).get("status", CREATED)
        result = result.get("original") or result
    if status in (QUARANTINED, REJECTED):
        reasons = result.get("reasons") or result.get("errors") or []
        first = reasons[0] if reasons else {}
        why = first.get("message") or first.get("detail") or status
        where = first.get("pointer")
        return (f"Received and held for review: {why}" + (f" ({where})" if where else "")
                + ". A coordinator will check it; there is no need to send it again.")
    return "Thank you: the submission was received."


def _add_attachments(session: Session, row: OpenRosaSubmission, xml: bytes, uploads: list[Upload], *,
                     now: dt.datetime) -> list[str]:
    """Keep the files the XML names that are not stored yet; the first copy of a name stays."""
    referenced = _referenced_names(xml)
    have = {a.filename for a in row.attachments}
    added = []
    for upload in uploads:
        name = upload.filename
        if name in have or name not in referenced or not _SAFE_NAME.match(name) or name in (".", ".."):
            continue
        sha = hashlib.sha256(upload.data).hexdigest()
        try:
            with session.begin_nested():
                _store_blob(session, sha, upload.data, upload.content_type, now=now)
                session.add(OpenRosaAttachment(submission=row, filename=name, sha256=sha,
                                               size=len(upload.data), received_at=now,
                                               content_type=media_type(upload.content_type)[:100]))
        except IntegrityError:
            # A twin POST (Collect retrying while this one was in flight) stored this name first: its
            # copy stays, as with any name already stored, and this request goes on.
            have.add(name)
            continue
        have.add(name)
        added.append(name)
    return added


def expected_files(form, answers: dict) -> set[str]:
    """The file names an instance's media questions (image, audio, video, file) hold."""
    names: set[str] = set()

    def visit(questions, values) -> None:
        if not isinstance(values, dict):
            return
        for q in questions:
            value = values.get(q.name)
            if q.type == "group":
                visit(q.children, value)
            elif q.type == "repeat":
                for entry in value if isinstance(value, list) else []:
                    visit(q.children, entry)
            elif q.type in FILE_TYPES and isinstance(value, str) and value.strip():
                names.add(value.strip())

    visit(form.questions, answers)
    return names


def _store_blob(session: Session, sha: str, data: bytes, content_type: str, *, now: dt.datetime) -> None:
    insert_missing(session, Blob, sha256=sha, size=len(data), content_type=media_type(content_type)[:100],
                   received=0, complete=False, created_at=now)
    blob = session.scalar(select(Blob).where(Blob.sha256 == sha).with_for_update())
    if blob.complete:
        return  # the same bytes are stored already (another submission, or a sync upload)
    # An unfinished resumable upload of the same bytes is replaced by the whole file.
    session.query(BlobChunk).filter(BlobChunk.sha256 == sha).delete()
    session.add(BlobChunk(sha256=sha, offset=0, data=data))
    blob.size, blob.received, blob.complete = len(data), len(data), True


def attachments_of(session: Session, submission_id: str) -> dict[str, str]:
    """File name → sha256 of the files received over OpenRosa for a submission (every revision)."""
    rows = session.scalars(select(OpenRosaAttachment).join(OpenRosaSubmission).where(
        OpenRosaSubmission.submission_id == submission_id))
    return {a.filename: a.sha256 for a in rows}


def caller_of(app_user: AppUser) -> Caller:
    """A ``Caller`` for an app user row (tests and tools)."""
    return Caller(app_user_id=app_user.id, name=app_user.name, device_id=str(app_user.device_id),
                  user_id=app_user.device.user_id, form_ids=frozenset(app_user.form_ids))
