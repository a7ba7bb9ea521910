"""Answer values: JSON type checks per question type and their XPath string form.

Each checker takes the JSON value and returns the string ODK would store in the XForm
instance (what expressions see), or None when the value has the wrong type.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _integer(v):
    if isinstance(v, int) and not isinstance(v, bool) and INT_MIN <= v <= INT_MAX:
        return str(v)
    return None


def _decimal(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return repr(v) if isinstance(v, float) else str(v)


def _text(v):
    return v if isinstance(v, str) else None


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int, float)):
        return _decimal(v) if not isinstance(v, str) else v
    return None


def _select_one(v):
    return v if isinstance(v, str) and v and " " not in v else None


def _select_multiple(v):
    if not isinstance(v, list) or not all(isinstance(x, str) and x and " " not in x for x in v):
        return None
    if len(set(v)) != len(v):
        return None
    return " ".join(v)


def _date(v):
    if not isinstance(v, str) or not _DATE.match(v):
        return None
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        return None
    return v


def _time(v):
    return v if isinstance(v, str) and _TIME.match(v) else None


def _datetime(v):
    if not isinstance(v, str) or len(v) < 16 or "T" not in v:
        return None
    try:
        _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return v


def _geopoint(v):
    if not isinstance(v, str):
        return None
    parts = v.split()
    if not 2 <= len(parts) <= 4:
        return None
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if not all(math.isfinite(n) for n in numbers):
        return None
    if not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
        return None
    if len(numbers) == 4 and numbers[3] < 0:
        return None
    return v


def _acknowledge(v):
    return "OK" if v == "OK" else None


CHECKERS = {
    "integer": _integer,
    "decimal": _decimal,
    "range": _decimal,
    "text": _text,
    "select_one": _select_one,
    "select_one_external": _select_one,
    "select_multiple": _select_multiple,
    "rank": _select_multiple,
    "date": _date,
    "today": _date,
    "time": _time,
    "datetime": _datetime,
    "start": _datetime,
    "end": _datetime,
    "geopoint": _geopoint,
    "acknowledge": _acknowledge,
    "calculate": _scalar,
}
"""Type → checker; types not listed (barcode, image, geotrace, deviceid, ...) take text."""

EXPECTED = {
    "integer": "integer", "decimal": "decimal", "range": "decimal", "text": "text",
    "select_one": "select_one", "select_one_external": "select_one",
    "select_multiple": "select_multiple", "rank": "select_multiple", "date": "date",
    "today": "date", "time": "time", "datetime": "datetime", "start": "datetime",
    "end": "datetime", "geopoint": "geopoint", "acknowledge": "acknowledge",
    "calculate": "scalar",
}


def checker(qtype: str):
    """The checker for a question type (text for types the server treats as opaque)."""
    return CHECKERS.get(qtype, _text)


def expected(qtype: str) -> str:
    """The key of the expected-type phrase for messages."""
    return EXPECTED.get(qtype, "text")


def is_empty(value) -> bool:
    """ODK treats a missing, null, empty-string or empty-list answer as unanswered."""
    return value is None or value == "" or value == []


def xpath_string(value) -> str:
    """Best-effort XPath string for any JSON value (used before type checks run)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _decimal(value) or ""
    if isinstance(value, list):
        return " ".join(x for x in value if isinstance(x, str))
    return ""


# -- values leaving for spreadsheets -------------------------------------------------------------------
#: What a spreadsheet reads as the start of a formula (OWASP "CSV injection"): =, +, -, @, tab, CR.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """Return ``value`` for a CSV cell: a string a spreadsheet would run as a formula gets a leading ``'``.

    Labels and answers come from enumerators and form authors; ``=HYPERLINK(...)`` in an answer must
    reach the analyst's Excel as text. Numbers are left alone (``-3`` is a number, not a formula).
    A carriage return becomes a line feed: CSV writers quote a field with ``\n`` but not one with a
    bare ``\r``, which spreadsheets read as a new row, whose first cell could then be a formula.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def text_cells(sheet, values) -> list:
    """Return ``values`` as cells for an openpyxl write-only ``sheet``, every string typed as text.

    openpyxl writes a string that starts with ``=`` as a live formula; a typed string cell never is.
    """
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells
