"""The one root exception of the forms package and its stable codes."""

from __future__ import annotations


class FormError(Exception):
    """Base for every error the forms package raises; carries a stable ``code``."""

    code = "form-error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **fields):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.fields = fields
