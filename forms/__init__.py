"""Form definitions: XLSForm in, the form model, answer validation, scoring keys, built-in forms.

Public API::

    forms.load_xlsform(path_or_bytes, *, attachments=None, file_type=None) -> Form
    forms.library.load(name) -> Form            # "awareness", "outreach"
    Form.validate(answers) -> list[Issue]       # Issue(code, pointer, message: {language: text})
    Form.relevance(answers) -> {pointer: bool}  # each question's relevance, as validation sees it
    Form.check(answers) -> (issues, relevance)  # both from one walk
    Form.to_json() -> dict / Form.from_json(dict | str | bytes) -> Form
    Form.flatten(answers) -> {name: value}      # Form.score(answers) -> {item: points}
    Form.content_hash, Form.xform, Form.scoring, Form.questions, Form.choices
    forms.instance.answers_from_instance(form, xml) -> Instance   # ODK instance XML -> answers

Answer documents are JSON objects that mirror the form: groups are nested objects, repeats are
arrays of objects, select_multiple is an array of choice names, dates are ``YYYY-MM-DD``,
geopoints the ODK string ``"lat lon [alt [acc]]"``; see ``forms.validate`` for the issue codes
and ``forms.errors`` for the error codes.
"""

from forms.errors import FormError
from forms.model import Choice
from forms.model import Form
from forms.model import Question
from forms.scoring import ScoringItem
from forms.validate import Issue
from forms.xlsform import load_xlsform

__all__ = ["Choice", "Form", "FormError", "Issue", "Question", "ScoringItem", "load_xlsform"]
