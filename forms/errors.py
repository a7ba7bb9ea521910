"""The one root exception of the forms package and its stable codes.

| code | raised when |
|---|---|
| form-error | base class; not raised directly |
| xlsform-unreadable | the bytes are not a readable .xlsx, .xls or XLSForm .csv (corrupt, empty) |
| xlsform-too-large | the file, its uncompressed zip content or its row count exceeds the limits |
| xlsform-invalid | pyxform rejects the form; ``errors`` names the sheet and row where known |
| expression-invalid | a relevant/constraint/calculation/choice_filter/required is not valid XPath |
| validation-timeout | a form's expressions on one submission ran past ``forms.expressions.time_budget`` |
| attachment-invalid | a ``select_one_from_file`` CSV is unreadable or lacks a ``name`` column |
| form-json-invalid | ``Form.from_json`` got JSON that is not a serialised Ferry form |
| form-unknown | ``forms.library.load`` was asked for a form that is not built in |
| version-conflict | (form_id, version) is already published with a different content_hash |
| state-invalid | a form version cannot move between those states (``forms.versions``) |
"""

from __future__ import annotations


class FormError(Exception):
    """Base for every error the forms package raises; carries a stable ``code``."""

    code = "form-error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **fields):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.fields = fields


class XLSFormUnreadable(FormError):
    """The file is not a readable spreadsheet or XLSForm CSV."""

    code = "xlsform-unreadable"


class XLSFormTooLarge(FormError):
    """The file exceeds a size limit (bytes, uncompressed zip size, or rows)."""

    code = "xlsform-too-large"


class XLSFormInvalid(FormError):
    """pyxform rejected the form."""

    code = "xlsform-invalid"


class ExpressionInvalid(FormError):
    """An XLSForm expression is not valid XPath."""

    code = "expression-invalid"


class ValidationBudgetExceeded(FormError):
    """Checking the answers took longer than the validation time budget."""

    code = "validation-timeout"


class AttachmentInvalid(FormError):
    """A choices CSV attached to the form is unreadable."""

    code = "attachment-invalid"


class FormJSONInvalid(FormError):
    """The JSON given to Form.from_json is not a serialised form."""

    code = "form-json-invalid"


class FormUnknown(FormError):
    """No built-in form has that name."""

    code = "form-unknown"


class VersionConflict(FormError):
    """The (form_id, version) is already published with different content."""

    code = "version-conflict"


class StateInvalid(FormError):
    """A form version cannot move from its state to the one asked for."""

    code = "state-invalid"
