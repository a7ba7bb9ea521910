"""The audit log: who did what, when, to what."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from server.extensions import db
from server.models.types import JsonDocument
from server.models.types import UTCDateTime
from server.models.types import utcnow


class AuditEntry(db.Model):
    """One recorded action; written in the same transaction as the action itself."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    # Set for actions run from the command line, where no user is logged in.
    actor_cli: Mapped[bool] = mapped_column(default=False)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict] = mapped_column(JsonDocument, default=dict)


def record(
    session: Session,
    action: str,
    target_type: str,
    target_id: object,
    *,
    user_id: int | None = None,
    device_id: uuid.UUID | None = None,
    cli: bool = False,
    **details,
) -> AuditEntry:
    """Add an audit entry to ``session``; the caller's commit makes it durable with the action."""
    entry = AuditEntry(
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        actor_user_id=user_id,
        actor_device_id=device_id,
        actor_cli=cli,
        details=details,
    )
    session.add(entry)
    return entry


def record_read(session: Session, action: str, target_type: str, target_id: object, **kwargs) -> AuditEntry:
    """Audit what a reading request read: end its read transaction, then add the entry; the caller commits.

    On SQLite a read snapshot cannot become a writer once another connection has committed (a phone's
    push beside a download fails at once with "database is locked"); a fresh transaction can, and
    waits its turn for the write lock. Nothing read is lost: the caller already holds it.
    """
    session.commit()
    return record(session, action, target_type, target_id, **kwargs)
