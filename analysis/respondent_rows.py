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
import weakref
from functools import lru_cache

import numpy as np

from analysis import tidy
from analysis.errors import VariableInvalid
from forms.scoring import item_points

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

    Every ingested submission has one, so a form's row is built by its ``RowPlan`` (the few answers the
    row needs, found by their groups' path) where the form allows one, with the same values as
    :func:`row_from_record`, the reference.
    """
    if not form.scoring:
        return None
    plan = row_plan(form)
    return plan.row(answers) if plan is not None else row_from_record(form, answers)


def row_from_record(form, answers: dict) -> dict | None:
    """:func:`respondent_row` from the bulk path's extraction (``tidy.respondent_record``): the reference."""
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
    points = [_NAN if (p := record[name]) is None else p for name in layout.items]
    choices = [MISSING_CHOICE if (c := record[column]) is None else (1 if c else 0)
               for column in layout.choice_columns]
    return _packed(values, points, choices)


def _packed(values: dict, points: list, choices: list) -> dict:
    """Check the row's round and codes, and pack its points and choices (``values`` gets both)."""
    if values["round"] is not None and not 0 < values["round"] < 10000:
        raise ValueError(f"round {values['round']} is not a year")
    for key in ("district_code", "commune_key", *PROFILE_COLUMNS):
        value = values.get(key)
        if isinstance(value, str) and len(value) > CODE_LENGTH:
            raise ValueError(f"{key} is longer than {CODE_LENGTH} characters")
    try:  # struct packs a row's few dozen floats in half numpy's time (every ingested submission has one)
        values["points"] = _float32s(len(points)).pack(*points)
    except (OverflowError, TypeError, struct.error):  # beyond float32 (numpy makes it inf), or not a number
        values["points"] = np.array(points, dtype="<f4").tobytes()
    values["choices"] = bytes(choices)
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


class RowPlan:
    """One form's analysis row, built from only the answers it needs, found by their groups' path.

    The reference (:func:`row_from_record`) flattens the whole document (every question, free text and
    notes included), scores it into a dict, copies that into a record and packs the record: about a
    seventh of a pushed submission's CPU (issue 13). Here the same values are computed from the row's own
    answers (design, profile, scored items, select-multiples), looked up where ``forms`` flattening would
    find them. Only forms where that lookup is exact get a plan (``row_plan``); ``tests/analysis/
    test_respondent_rows.py`` checks plan against reference on simulated and mangled documents.
    """

    def __init__(self, form, containers: tuple, leaves: dict[str, tuple[int, str]]):
        layout = tidy.respondent_layout(form)

        def where(name: str) -> tuple[int, str]:
            # no such question: flattening leaves it out, so it reads as None (container 0 is always empty)
            return leaves.get(name, (0, name))

        # (parent container's index, group name), parents first; container 1 is the document itself
        self._containers = containers
        self._design = tuple(where(name) for name in ("round", "district", "commune"))
        self._profile = tuple((*where(name), name in PROFILE_COLUMNS) for name, _numeric in layout.profile)
        # the usual item (one choice, right or wrong) is scored inline; the rest by forms' item_points
        self._items = tuple(
            (*where(item.name), frozenset(item.keys) if item.method == "correct" else None, item,
             0.0 if item.name in layout.skippable else _NAN)
            for item in form.scoring)
        # (where, choices, the codes of the question unanswered)
        self._multiple = tuple(
            (*where(name), choices, [0 if name in layout.skippable else MISSING_CHOICE] * len(choices))
            for name, choices in layout.multiple)

    def row(self, answers) -> dict:
        """The values of ``respondent_row`` for ``answers``."""
        answers = tidy.answers_dict(answers)
        found = [_EMPTY, answers]  # each group's answers (a group that is no object: none)
        for parent, name in self._containers:
            inner = found[parent].get(name)
            found.append(inner if isinstance(inner, dict) else _EMPTY)
        # first, as respondent_record scores first; comprehensions, as every ingested submission has a row
        points = [  # the usual item (one choice, right or wrong) inline; tidy's rule after score()'s for the
            # rest: a skipped item of its own relevance scores 0
            (1.0 if value in right else 0.0) if right is not None and value.__class__ is str and value
            else (unanswered if (p := item_points(item, value)) is None else p)
            for index, name, right, item, unanswered in self._items
            for value in (found[index].get(name),)]
        round_, district, commune = [found[index].get(name) for index, name in self._design]
        try:
            round_ = int(round_) if round_ is not None else None
        except (TypeError, ValueError):
            raise VariableInvalid(f"round must be a year, got {round_!r}") from None
        values = {"round": round_, "district_code": None if district is None else str(district),
                  "commune_key": None if commune is None else str(commune),
                  "consented": tidy.consented(answers), **_NO_PROFILE}
        extra = {}
        for index, name, typed in self._profile:
            answer = found[index].get(name)
            if typed:
                values[name] = _typed(name, answer)
            elif answer is not None:
                extra[name] = answer
        values["extra"] = extra or None
        choices = []
        for index, name, names, unanswered in self._multiple:
            chosen = found[index].get(name)
            choices += unanswered if chosen is None else [1 if choice in chosen else 0 for choice in names]
        return _packed(values, points, choices)


_NO_PROFILE = dict.fromkeys(PROFILE_COLUMNS)
_EMPTY: dict = {}
_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def row_plan(form) -> RowPlan | None:
    """The form's ``RowPlan`` (cached per form), or None where only the reference is exact.

    None for a form with repeats (flattening lists their answers) or with a question name used twice, and
    where two of the record's columns share a name (the record keeps the last, the plan would not).
    """
    try:
        return _PLANS[form]
    except KeyError:
        pass
    except TypeError:  # a form that cannot be a weak key (not hashable): planned each time
        return _new_plan(form)
    plan = _new_plan(form)
    _PLANS[form] = plan
    return plan


def _new_plan(form) -> RowPlan | None:
    containers: list[tuple[int, str]] = []
    leaves: dict[str, tuple[int, str]] = {}
    plannable = True

    def visit(questions, index: int) -> None:
        nonlocal plannable
        for q in questions:
            if q.type == "group":
                containers.append((index, q.name))
                visit(q.children, len(containers) + 1)
            elif q.type == "repeat" or q.name in leaves:
                plannable = False
            else:
                leaves[q.name] = (index, q.name)

    visit(form.questions, 1)
    layout = tidy.respondent_layout(form)
    columns = ["round", "district_code", "commune_key", "consented", *(n for n, _ in layout.profile),
               *layout.items, *layout.choice_columns]
    if not plannable or len(set(columns)) != len(columns):
        return None
    return RowPlan(form, tuple(containers), leaves)
