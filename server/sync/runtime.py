"""The app's sync store and limits: one store per app, the limits from its settings, the request gate."""

from __future__ import annotations

import threading

from flask import Flask
from flask import current_app

from server.extensions import db
from server.sync.store import SqlStore
from sync.engine import DEFAULT_LIMITS
from sync.protocol import Limits


def limits() -> Limits:
    """Return the sync limits of this app (``SYNC_MAX_PUSH_BYTES``, ``SYNC_MAX_PUSH_OPS``, ...)."""
    config = current_app.config
    return Limits(max_push_bytes=config["SYNC_MAX_PUSH_BYTES"], max_push_ops=config["SYNC_MAX_PUSH_OPS"],
                  max_page_bytes=config["SYNC_MAX_PAGE_BYTES"])


def store() -> SqlStore:
    """Return the app's sync store (one per app; it keeps a session per thread)."""
    extension = current_app.extensions.setdefault("ferry_sync", {})
    if "store" not in extension:
        extension["store"] = SqlStore(db.engine)
    return extension["store"]


def init_app(app: Flask) -> None:
    """Set up the sync gate: at most ``SYNC_MAX_CONCURRENT`` sync requests at once per process."""
    app.extensions.setdefault("ferry_sync", {})["gate"] = threading.BoundedSemaphore(
        app.config["SYNC_MAX_CONCURRENT"])


DEFAULTS = {
    "SYNC_MAX_PUSH_BYTES": DEFAULT_LIMITS.max_push_bytes,
    "SYNC_MAX_PUSH_OPS": DEFAULT_LIMITS.max_push_ops,
    "SYNC_MAX_PAGE_BYTES": DEFAULT_LIMITS.max_page_bytes,
    "SYNC_MAX_CONCURRENT": 8,
    "SYNC_RETRY_AFTER_S": 5,
    "SYNC_PAUSED": False,
}
