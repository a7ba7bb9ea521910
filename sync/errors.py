"""The one root exception of the sync package and its stable codes."""

from __future__ import annotations


class SyncError(Exception):
    """Base for every error the sync package raises; carries a stable ``code``."""

    code = "sync-error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **fields):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.fields = fields
