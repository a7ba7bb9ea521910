"""Build small XLSForms in memory for tests: rows as tuples, like pyxform's markdown tables."""

from __future__ import annotations

import io

from openpyxl import Workbook


def xlsform(survey: list[tuple], *, choices: list[tuple] = (), form_id: str = "mini",
            version: str = "1", title: str = "Mini") -> bytes:
    """Return .xlsx bytes; the first tuple of ``survey``/``choices`` is the header row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(list(row))
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([form_id, version, title])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MINI_SURVEY = [
    ("type", "name", "label::English (en)", "required", "constraint"),
    ("integer", "age", "Age", "yes", ". >= 15 and . <= 99"),
    ("select_one yn", "heard", "Heard of trafficking?", "yes", ""),
]
MINI_CHOICES = [
    ("list_name", "name", "label::English (en)"),
    ("yn", "yes", "Yes"),
    ("yn", "no", "No"),
]


def mini(version: str = "1", *, title: str = "Mini") -> bytes:
    """A two-question form; change ``title`` to change its content under the same version."""
    return xlsform(MINI_SURVEY, choices=MINI_CHOICES, version=version, title=title)
