"""The one root exception of the analysis package and its stable codes."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base for every error the analysis package raises; carries a stable ``code``."""

    code = "analysis-error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **fields):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.fields = fields
