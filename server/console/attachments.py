"""A submission's attachments as the console shows them: by file name, with content type and size.

Devices send attachments as blobs named by their sha256 (``docs/protocol.md``); the name shown is
the file name Collect sent over OpenRosa, else the question whose answer holds the file's hash or
name, else the start of the hash. Bytes are read only for the submission's district coordinators
and admins (the caller checks the submission is in scope), and every read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.records import Record
from server.console.records import revisions_of
from server.models import Blob
from server.models import User
from server.models import audit_read
from server.models.errors import ServerError
from server.openrosa.service import attachments_of
from server.sync import blobs

#: Types shown inline as thumbnails: images browsers draw without running anything.
INLINE = frozenset({"image/jpeg", "image/png"})
_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf", "audio/mpeg": ".mp3"}


@dataclass
class Attachment:
    name: str
    sha256: str
    content_type: str | None
    size: int | None
    complete: bool

    @property
    def inline(self) -> bool:
        return self.complete and self.content_type in INLINE


def names_in_answers(answers, sha: str, found: dict[str, str]) -> None:
    """Question name -> sha for answers that hold the hash (or a file name ending in it)."""
    if isinstance(answers, dict):
        for name, value in answers.items():
            if isinstance(value, (dict, list)):
                names_in_answers(value, sha, found)
            elif isinstance(value, str) and sha in value:
                found.setdefault(sha, value if value != sha else name)
    elif isinstance(answers, list):
        for value in answers:
            names_in_answers(value, sha, found)


def of_record(session: Session, record: Record) -> list[Attachment]:
    """The attachments of every revision of a submission, first seen first, with what the server has."""
    hashes: list[str] = []
    for revision in revisions_of(session, record.id):
        hashes += [sha for sha in revision.blobs or [] if sha not in hashes]
    if not hashes:
        return []
    by_hash = {sha: name for name, sha in attachments_of(session, record.id).items()}
    for sha in hashes:
        if sha not in by_hash:
            names_in_answers(record.answers, sha, by_hash)
    stored = {b.sha256: b for b in session.scalars(select(Blob).where(Blob.sha256.in_(hashes)))}
    found = []
    for sha in hashes:
        blob = stored.get(sha)
        content_type = blobs.media_type(blob.content_type) if blob else None
        name = by_hash.get(sha) or sha[:12] + _SUFFIXES.get(content_type or "", "")
        found.append(Attachment(name, sha, content_type, blob.size if blob else None,
                                bool(blob and blob.complete)))
    return found


def read(session: Session, record: Record, sha256: str, *, actor: User, inline: bool = False,
         ) -> tuple[Attachment, bytes]:
    """One attachment of a submission the caller may see, and its bytes; audited as
    ``attachment.download`` (or ``attachment.view`` for a thumbnail). The caller commits."""
    wanted = next((a for a in of_record(session, record) if a.sha256 == sha256), None)
    if wanted is None:
        raise ServerError("not-found", f"Submission {record.id} has no attachment {sha256[:12]}.")
    if inline and not wanted.inline:
        raise ServerError("not-found", "Only complete JPEG and PNG images are shown inline.")
    _, data = blobs.read_blob(session, sha256)
    audit_read(session, "attachment.view" if inline else "attachment.download", "submission", record.id,
               user_id=actor.id, sha256=sha256, name=wanted.name)
    return wanted, data
