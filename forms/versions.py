"""Form version rules the server applies: life-cycle states and immutable publishing.

A version is keyed by (form_id, version) and never changes once published: publishing the
same key with a different ``content_hash`` is refused (``version-conflict``); with the same
hash it is a no-op. States move forward only: draft → open → closing → closed (a draft may
also be discarded by the server, which is outside this module).
"""

from __future__ import annotations

from forms.errors import StateInvalid
from forms.errors import VersionConflict

STATES = ("draft", "open", "closing", "closed")
_NEXT = {"draft": {"open"}, "open": {"closing", "closed"}, "closing": {"closed"}, "closed": set()}

__all__ = ["STATES", "StateInvalid", "VersionConflict", "accepts_submissions", "check_publish",
           "check_transition"]


def check_publish(form, published_hash: str | None) -> bool:
    """True if ``form`` must be stored; False if this exact version is already published."""
    if published_hash is None:
        return True
    if published_hash == form.content_hash:
        return False
    raise VersionConflict(
        f"form {form.form_id!r} version {form.version!r} is already published with other "
        "content; give the changed form a new version",
        form_id=form.form_id, version=form.version,
    )


def check_transition(current: str, target: str) -> None:
    """Raise StateInvalid unless ``current`` → ``target`` is allowed."""
    if current not in STATES or target not in STATES:
        raise StateInvalid(f"unknown state {current if current not in STATES else target!r}",
                           current=current, target=target)
    if target not in _NEXT[current]:
        raise StateInvalid(f"a form version cannot go from {current} to {target}",
                           current=current, target=target)


def accepts_submissions(state: str) -> bool:
    """Open and closing versions accept submissions (closing: from devices still holding it)."""
    return state in ("open", "closing")
