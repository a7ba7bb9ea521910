"""Scoring keys declared in the XLSForm: what each item measures and how it scores.

Survey columns: ``ferry::domain`` (e.g. ``knowledge``, ``risk``, ``exposure``) and
``ferry::score``, one of:

| method  | points                                                                      |
|---------|-----------------------------------------------------------------------------|
| correct | 1 if the answer is a keyed choice (select_one) or exactly the keyed set      |
|         | (select_multiple), else 0                                                   |
| count   | number of keyed choices selected (select_multiple); max = number of keys    |
| value   | the numeric answer itself                                                   |

Keys: ``ferry::correct`` on the survey row (space-separated choice names) or, when absent,
the choices marked with ``ferry::correct`` = 1/yes/true on the choices sheet.

The form model (``forms.model``) imports this module, never the reverse: functions here take
any object shaped like ``Form`` (``questions``, ``choices``, ``flatten``, ``scoring``).
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("correct", "count", "value")


@dataclass
class ScoringItem:
    """What one item measures (``domain``) and how it scores (``method``, keyed ``keys``)."""

    name: str
    pointer: str
    domain: str
    method: str
    keys: list[str]
    max_points: float

    def to_json(self) -> dict:
        """Serialise to a JSON-ready dict."""
        return dict(self.__dict__)


def scoring_items(form) -> list[ScoringItem]:
    """The scoring items of a form, in document order."""
    items = []

    def visit(questions, pointer):
        for q in questions:
            path = f"{pointer}/{q.name}"
            if q.children:
                visit(q.children, path)
            if "domain" not in q.ferry and "score" not in q.ferry:
                continue
            method = q.ferry.get("score", "correct")
            if "correct" in q.ferry:
                keys = q.ferry["correct"].split()
            else:
                keys = [c.name for c in form.choices.get(q.choices, []) if c.correct]
            if method == "count":
                max_points = float(len(keys))
            elif method == "value":
                max_points = float("nan")
            else:
                max_points = 1.0
            items.append(ScoringItem(q.name, path, q.ferry.get("domain", ""), method, keys,
                                     max_points))

    visit(form.questions, "")
    return items


def item_points(item: ScoringItem, value) -> float | None:
    """The points of one item's answer (None when unanswered)."""
    if value is None or value == "" or value == []:
        return None
    if item.method == "value":
        return float(value) if isinstance(value, (int, float)) else None
    if item.method == "count":
        chosen = value if isinstance(value, list) else [value]
        return float(sum(1 for v in chosen if v in item.keys))
    if isinstance(value, list):
        return 1.0 if sorted(value) == sorted(item.keys) else 0.0
    return 1.0 if value in item.keys else 0.0


def score(form, answers: dict, flat: dict | None = None) -> dict:
    """Item name → points (None when unanswered or not relevant) for one answer document."""
    if flat is None:
        flat = form.flatten(answers)
    return {item.name: item_points(item, flat.get(item.name)) for item in form.scoring}
