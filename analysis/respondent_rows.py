"""The analysis row of one answer document: what ingestion stores so reports never re-parse JSON.

Pure: from a scored form version (its ``forms`` scoring keys) and the answers, the values of one
row of the server's ``respondents`` table. The extraction is :func:`analysis.tidy.respondent_record`,
the same the bulk path uses; here it is packed: a few profile answers as typed columns
(``PROFILE_COLUMNS``), any other profile answer in ``extra``, item points as a float32 vector in
scoring order (NaN when missing) and select-multiple choices as a uint8 vector in layout order
(0, 1, or ``MISSING_CHOICE``).
"""

from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np

from analysis import tidy

#: Profile questions of the built-in awareness form kept as typed columns; any other profile
#: answer of a scored form goes to ``extra``.
PROFILE_COLUMNS = ("sex", "age", "marital", "education", "occupation", "plan_away", "plan_abroad",
                   "heard_any", "channel_main")
#: Longest code kept in a typed column: longer answers are not codes.
CODE_LENGTH = 100
#: Choice vector codes: not chosen, chosen, missing.
MISSING_CHOICE = 2


def respondent_row(form, answers: dict) -> dict | None:
    """The row values of one answer document, or None when the form has no scoring keys.

    Keys: ``round``, ``district_code``, ``commune_key``, ``consented``, every ``PROFILE_COLUMNS``
    name, ``extra``, ``points``, ``choices``. Raises ``AnalysisError``, ``ValueError`` or
    ``TypeError`` for answers that cannot be placed (a round that is no year, an over-long code).
    """
    if not form.scoring:
        return None
    record = tidy.respondent_record(form, answers)
    layout = tidy.respondent_layout(form)
    values = {key: record[key] for key in ("round", "district_code", "commune_key", "consented")}
    values.update(dict.fromkeys(PROFILE_COLUMNS))
    extra = {}
    for name, _numeric in layout.profile:
        value = record[name]
        if name in PROFILE_COLUMNS:
            values[name] = _typed(name, value)
        elif value is not None:
            extra[name] = value
    values["extra"] = extra or None
    if values["round"] is not None and not 0 < values["round"] < 10000:
        raise ValueError(f"round {values['round']} is not a year")
    for key in ("district_code", "commune_key", *PROFILE_COLUMNS):
        value = values.get(key)
        if isinstance(value, str) and len(value) > CODE_LENGTH:
            raise ValueError(f"{key} is longer than {CODE_LENGTH} characters")
    points = [_NAN if (p := record[name]) is None else p for name in layout.items]
    try:  # struct packs a row's few dozen floats in half numpy's time (every ingested submission has one)
        values["points"] = _float32s(len(points)).pack(*points)
    except (OverflowError, TypeError, struct.error):  # beyond float32 (numpy makes it inf), or not a number
        values["points"] = np.array(points, dtype="<f4").tobytes()
    values["choices"] = bytes([MISSING_CHOICE if (c := record[column]) is None else (1 if c else 0)
                               for column in layout.choice_columns])
    return values


_NAN = float("nan")


@lru_cache(maxsize=64)
def _float32s(count: int) -> struct.Struct:
    """Little-endian float32 × ``count``: the ``points`` column's layout (numpy's ``<f4``)."""
    return struct.Struct(f"<{count}f")


def _typed(name, value):
    if value is None:
        return None
    if name == "age":
        try:
            age = int(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return age if 0 <= age < 1000 else None  # an INTEGER column; no one is older
    return str(value)
