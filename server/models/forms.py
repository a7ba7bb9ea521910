"""Forms and their immutable, published versions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from forms import versions
from server.extensions import db
from server.models.types import JsonDocument
from server.models.types import UTCDateTime
from server.models.types import utcnow

#: Devices receive open versions; closing ones no longer go to devices but still accept late uploads.
FORM_STATES = versions.STATES

_STATE_CHECK = "state IN (" + ", ".join(f"'{s}'" for s in FORM_STATES) + ")"


class Form(db.Model):
    """A form identified by its XLSForm ``form_id`` (for example ``awareness``)."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[FormVersion]] = relationship(
        back_populates="form", order_by="FormVersion.id"
    )


class FormVersion(db.Model):
    """One version of a form; immutable once published, keyed by (form, version)."""

    __tablename__ = "form_versions"
    __table_args__ = (
        UniqueConstraint("form_id", "version"),
        CheckConstraint(_STATE_CHECK, name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10), default="draft")
    # sha256 of the canonical definition: a second publish of a version must match it exactly.
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict] = mapped_column(JsonDocument)
    source: Mapped[bytes] = mapped_column(LargeBinary)
    source_filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    form: Mapped[Form] = relationship(back_populates="versions")
    attachments: Mapped[list[FormAttachment]] = relationship(
        back_populates="form_version", order_by="FormAttachment.filename"
    )

    @property
    def title(self) -> str:
        """This version's own title (its settings sheet's), else the form's."""
        return (self.definition or {}).get("title") or self.form.title


class FormAttachment(db.Model):
    """A file a form version needs (a choices CSV such as the commune list), kept with the version."""

    __tablename__ = "form_attachments"
    __table_args__ = (UniqueConstraint("form_version_id", "filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # ODK clients compare hashes to decide what to download again (the OpenRosa manifest).
    sha256: Mapped[str] = mapped_column(String(64))

    form_version: Mapped[FormVersion] = relationship(back_populates="attachments")
