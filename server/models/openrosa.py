"""ODK Collect over OpenRosa: app users (a token in the URL path, per-form access) and what they submit.

An app user is a device in Ferry's sense: it has a ``devices`` row, its submissions go through the
sync engine as that device, and its last contact shows in the device list. What OpenRosa adds to a
submission (the instance XML as sent, Collect's deviceID, the attachments by file name) is kept here,
beside the engine's own tables, keyed by the instanceID.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from server.extensions import db
from server.models.people import Device
from server.models.types import JsonDocument
from server.models.types import UTCDateTime
from server.models.types import utcnow


class AppUser(db.Model):
    """A phone running ODK Collect: a revocable token in its server URL, allowed some forms."""

    __tablename__ = "app_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), unique=True)
    # sha256 of the token with an "app-user:" prefix: never usable as a bearer token, never stored plain.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    device: Mapped[Device] = relationship()
    forms: Mapped[list[AppUserForm]] = relationship(back_populates="app_user", order_by="AppUserForm.form_id",
                                                    cascade="all, delete-orphan")

    @property
    def form_ids(self) -> list[str]:
        """The forms (by XLSForm form_id) this app user may download and submit to."""
        return [f.form_id for f in self.forms]


class AppUserForm(db.Model):
    """One form an app user may download and submit to (every version of it)."""

    __tablename__ = "app_user_forms"

    app_user_id: Mapped[int] = mapped_column(ForeignKey("app_users.id"), primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100), primary_key=True)

    app_user: Mapped[AppUser] = relationship(back_populates="forms")


class OpenRosaSubmission(db.Model):
    """An instance received over OpenRosa: its XML as sent, who sent it, what the engine made of it."""

    __tablename__ = "openrosa_submissions"
    __table_args__ = (UniqueConstraint("form_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str] = mapped_column(String(100))
    instance_id: Mapped[str] = mapped_column(String(255))
    deprecated_id: Mapped[str | None] = mapped_column(String(255))
    # The sync engine's ids: the operation made from this instance and the submission it belongs to.
    op_id: Mapped[str] = mapped_column(String(64), index=True)
    submission_id: Mapped[str] = mapped_column(String(64), index=True)
    # The operation as given to the engine, kept so that a retry sends exactly the same one.
    operation: Mapped[dict] = mapped_column(JsonDocument)
    app_user_id: Mapped[int] = mapped_column(ForeignKey("app_users.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    # Collect's own id of the phone (the deviceID query parameter), e.g. "collect:Xy12…".
    collect_device_id: Mapped[str | None] = mapped_column(String(255))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    # The engine's result for the operation ({"id", "status", ...}); null until it answered.
    result: Mapped[dict | None] = mapped_column(JsonDocument, nullable=True)
    attachments_expected: Mapped[int] = mapped_column(default=0)
    # False while Collect still has parts to send (its last POST said *isIncomplete*).
    complete: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    attachments: Mapped[list[OpenRosaAttachment]] = relationship(
        back_populates="submission", order_by="OpenRosaAttachment.filename")


class OpenRosaAttachment(db.Model):
    """A file of an OpenRosa submission, by the name the XML gives it; the bytes are a blob (sha256)."""

    __tablename__ = "openrosa_attachments"

    submission_row_id: Mapped[int] = mapped_column(ForeignKey("openrosa_submissions.id"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[OpenRosaSubmission] = relationship(back_populates="attachments")
