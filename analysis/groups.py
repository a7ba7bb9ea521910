"""Target groups declared as data: analysts add groups by editing JSON, not code.

A groups document (``analysis/groups.json`` is the default)::

    {"format": "ferry-groups/1",
     "groups": [
       {"name": "women_marriage_age",
        "label": {"vi": "...", "en": "..."},
        "where": {"sex": ["female"], "age": {"min": 18, "max": 34}}},
       {"name": "rural_women_marriage_age", "label": {...},
        "all_of": ["rural", "women_marriage_age"]}]}

A group has a ``name`` (letters, digits, ``_``; it becomes a column), bilingual ``label``
and exactly one of:

* ``where``: column → condition, all of which must hold. A condition is a list of values
  (membership), a scalar (equality) or a range ``{"min", "max", "lt", "gt"}`` (``min``/``max``
  inclusive) on a numeric column;
* ``all_of`` / ``any_of``: names of groups declared before or after it (combinations).

Evaluation uses three-valued logic: a respondent whose answer a condition needs is missing
is in neither the group nor its complement (``<NA>``) unless the other conditions already
decide (a man is not in "women 18–34" whatever his age). Domain estimates therefore leave
such respondents out, through the full design (``Design.mean(y, by=name)``). Nothing is
``eval``-ed.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import GroupInvalid

__all__ = ["load_groups", "validate_groups", "add_group_columns", "group_labels"]

FORMAT = "ferry-groups/1"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RANGE_KEYS = {"min", "max", "lt", "gt"}
_GROUP_KEYS = {"name", "label", "where", "all_of", "any_of", "description"}


def load_groups(source=None) -> list[dict]:
    """Read and validate a groups document: a path, JSON text, a dict, or None (the default)."""
    if source is None:
        text = resources.files("analysis").joinpath("groups.json").read_text(encoding="utf-8")
        data = json.loads(text)
    elif isinstance(source, dict):
        data = source
    elif isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("{")):
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise GroupInvalid(f"cannot read groups file {source}: {err}") from None
    else:
        try:
            data = json.loads(source)
        except ValueError as err:
            raise GroupInvalid(f"groups document is not JSON: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("groups"), list):
        raise GroupInvalid(f'a groups document is {{"format": "{FORMAT}", "groups": [...]}}')
    return validate_groups(data["groups"])


def _invalid(name, detail):
    return GroupInvalid(f"group {name!r}: {detail}", errors=[{"pointer": f"/{name}", "detail": detail}],
                        group=name)


def _check_condition(name, column, condition):
    if isinstance(condition, dict):
        unknown = set(condition) - _RANGE_KEYS
        if unknown or not condition:
            raise _invalid(name, f"range on {column!r} takes min, max, lt, gt; got {sorted(condition)}")
        for key, bound in condition.items():
            if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                raise _invalid(name, f"{column}.{key} must be a number")
    elif isinstance(condition, list):
        if not condition or not all(isinstance(v, (str, int, float, bool)) for v in condition):
            raise _invalid(name, f"values of {column!r} must be a non-empty list of scalars")
    elif not isinstance(condition, (str, int, float, bool)):
        raise _invalid(name, f"condition on {column!r} must be a list, a scalar or a range")


def validate_groups(groups) -> list[dict]:
    """Check group definitions (names, labels, conditions, references, no cycles); return them."""
    if not isinstance(groups, list) or not groups:
        raise GroupInvalid("groups must be a non-empty list")
    names = []
    for group in groups:
        if not isinstance(group, dict):
            raise GroupInvalid("each group must be an object")
        name = group.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise GroupInvalid(f"group name {name!r} must start with a letter and use letters, digits, _")
        if name in names:
            raise _invalid(name, "declared twice")
        names.append(name)
        unknown = set(group) - _GROUP_KEYS
        if unknown:
            raise _invalid(name, f"unknown keys {sorted(unknown)}")
        label = group.get("label")
        if not isinstance(label, dict) or not {"vi", "en"} <= set(label):
            raise _invalid(name, "label needs both 'vi' and 'en'")
        kinds = [k for k in ("where", "all_of", "any_of") if k in group]
        if len(kinds) != 1:
            raise _invalid(name, "needs exactly one of where, all_of, any_of")
        body = group[kinds[0]]
        if kinds[0] == "where":
            if not isinstance(body, dict) or not body:
                raise _invalid(name, "where must be a non-empty object of column conditions")
            for column, condition in body.items():
                _check_condition(name, column, condition)
        elif not isinstance(body, list) or not body or not all(isinstance(n, str) for n in body):
            raise _invalid(name, f"{kinds[0]} must be a non-empty list of group names")
    known = set(names)
    for group in groups:
        for ref in group.get("all_of", []) + group.get("any_of", []):
            if ref not in known:
                raise _invalid(group["name"], f"refers to unknown group {ref!r}")
    _order(groups)  # raises on cycles
    return groups


def _order(groups) -> list[dict]:
    """Groups in an order where every combination follows its parts."""
    by_name = {g["name"]: g for g in groups}
    done, visiting, out = set(), set(), []

    def visit(name):
        if name in done:
            return
        if name in visiting:
            raise _invalid(name, "combinations refer to each other in a cycle")
        visiting.add(name)
        for ref in by_name[name].get("all_of", []) + by_name[name].get("any_of", []):
            visit(ref)
        visiting.discard(name)
        done.add(name)
        out.append(by_name[name])

    for g in groups:
        visit(g["name"])
    return out


def _condition(frame, name, column, condition) -> pd.Series:
    if column not in frame.columns:
        raise _invalid(name, f"column {column!r} is not in the frame")
    values = frame[column]
    missing = values.isna().to_numpy()
    if isinstance(condition, dict):
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            raise _invalid(name, f"range on non-numeric column {column!r}")
        x = values.astype("float64").to_numpy(na_value=np.nan)
        ok = np.ones(len(x), dtype=bool)
        with np.errstate(invalid="ignore"):
            if "min" in condition:
                ok &= x >= condition["min"]
            if "max" in condition:
                ok &= x <= condition["max"]
            if "lt" in condition:
                ok &= x < condition["lt"]
            if "gt" in condition:
                ok &= x > condition["gt"]
    else:
        wanted = condition if isinstance(condition, list) else [condition]
        ok = values.isin(wanted).to_numpy(dtype=bool, na_value=False)
    result = pd.array(ok, dtype="boolean")
    result[missing] = pd.NA
    return pd.Series(result, index=frame.index)


def add_group_columns(frame, groups=None) -> pd.DataFrame:
    """A copy of ``frame`` with one nullable-boolean column per group (see module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        Tidy respondents (``analysis.tidy.respondents``).
    groups : list of dict, dict, str or path, optional
        Group definitions or a groups document; default ``analysis/groups.json``.
    """
    if groups is None or not isinstance(groups, list):
        groups = load_groups(groups)
    else:
        groups = validate_groups(groups)
    out = frame.copy()
    for group in _order(groups):
        name = group["name"]
        if "where" in group:
            parts = [_condition(out, name, c, cond) for c, cond in group["where"].items()]
            value = parts[0]
            for part in parts[1:]:
                value = value & part
        else:
            refs = group.get("all_of") or group.get("any_of")
            value = out[refs[0]].astype("boolean")
            for ref in refs[1:]:
                value = (value & out[ref]) if "all_of" in group else (value | out[ref])
        out[name] = value.astype("boolean")
    return out


def group_labels(groups=None, *, language="en") -> dict[str, str]:
    """Group name → label in ``language`` (``"vi"`` or ``"en"``)."""
    if groups is None or not isinstance(groups, list):
        groups = load_groups(groups)
    return {g["name"]: g["label"][language] for g in groups}
