"""The audit log for admins: who did what, when, to what; filterable by action, user and date."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEntry
from server.models import User

PAGE_SIZE = 100
#: Families of actions, as the filter offers them.
FAMILIES = {
    "sign_in": ("user.login", "user.logout", "user.login-failed"),
    "exports": ("export.",),
    "attachments": ("attachment.", "blob."),
    "reports": ("report.",),
    "roles": ("user.create", "role."),
    "devices": ("device.", "app-user."),
    "tokens": ("token.",),
    "forms": ("form.",),
    "review": ("quarantine.", "conflict."),
    "assignments": ("assignment.",),
    "plans": ("plan.", "outreach_plan."),
    "places": ("boundaries.",),
}


@dataclass
class AuditPage:
    rows: list[tuple[AuditEntry, str | None]]
    total: int
    page: int
    pages: int
    actions: list[str]
    users: list[str]


def entries(session: Session, *, family: str = "", action: str = "", username: str = "",
            since: dt.date | None = None, until: dt.date | None = None, page: int = 1,
            size: int = PAGE_SIZE) -> AuditPage:
    """The audit entries matching the filters, newest first, one page of ``size``."""
    query = select(AuditEntry, User.username).outerjoin(User, AuditEntry.actor_user_id == User.id)
    if family in FAMILIES:
        clauses = [AuditEntry.action.startswith(p) if p.endswith(".") else AuditEntry.action == p
                   for p in FAMILIES[family]]

        query = query.where(or_(*clauses))
    if action:
        query = query.where(AuditEntry.action == action)
    if username:
        query = query.where(User.username == username)
    if since:
        query = query.where(AuditEntry.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(AuditEntry.at < end)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    rows = list(session.execute(query.order_by(AuditEntry.id.desc()).offset((page - 1) * size).limit(size)))
    actions = list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
    users = list(session.scalars(select(User.username).order_by(User.username)))
    return AuditPage([(e, u) for e, u in rows], total, page, pages, actions, users)
