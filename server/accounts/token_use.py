"""Bearer-token use in the audit log: one ``token.use`` entry per token per hour, not one per request.

A device syncing every minute would otherwise write thousands of rows a day; the first use in each
hour says the token is alive and who used it. A conditional UPDATE claims the hour, so two
concurrent requests never both write the entry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NamedTuple

from sqlalchemy import or_
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.models import ApiToken
from server.models import audit

#: A token's use is written again once this long has passed since the last entry.
INTERVAL = dt.timedelta(hours=1)


class Use(NamedTuple):
    """A token's use found due: which token, whose, and when."""

    token_id: int
    user_id: int | None
    device_id: uuid.UUID | None
    at: dt.datetime


def due(token: ApiToken, now: dt.datetime) -> bool:
    """Whether this token's use should be written now (never written, or not within the interval)."""
    return token.use_logged_at is None or token.use_logged_at <= now - INTERVAL


def record_use(session: Session, use: Use, *, method: str, path: str) -> bool:
    """Write a ``token.use`` entry if this token's hour is not yet claimed; return whether it did.

    The caller commits ``session``.
    """
    claim = (update(ApiToken).where(ApiToken.id == use.token_id,
                                    or_(ApiToken.use_logged_at.is_(None),
                                        ApiToken.use_logged_at <= use.at - INTERVAL))
             .values(use_logged_at=use.at).execution_options(synchronize_session=False))
    if session.execute(claim).rowcount != 1:
        return False
    audit(session, "token.use", "api_token", use.token_id, user_id=use.user_id, device_id=use.device_id,
          request=f"{method} {path}"[:200], via="device" if use.device_id else "user")
    return True
