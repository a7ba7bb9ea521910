"""Tidy frames from submissions: respondents of the awareness form, outreach activities, exposure.

Conventions
-----------
* A respondent is a submission whose ``consent`` is ``"yes"``. Refusals are not respondents
  but are counted per round and commune (:func:`response_counts`): the weights' nonresponse
  adjustment needs them.
* Item scores come from the form's scoring keys (``form.score``). An item whose question has
  its own ``relevant`` and was skipped (``None``) scores 0: the form's logic skipped it
  because it does not apply (no plan to migrate → no informal broker; heard nothing → no
  channel). An unanswered item without its own relevance stays missing (NaN).
* Free-text answers are never copied into the tidy frame (they may identify people).
* The place of a respondent is the submission's ``commune_key``/``district_code`` (the
  server's record), checked against the census list.
* Outreach exposure of survey round ``r`` counts the activities dated in calendar year ``r``
  (the surveys run once a year; a round's field work follows that year's campaign).
  ``last_outreach_year`` is the latest year ≤ ``r`` with any activity. Activities at city or
  district level reach every commune of their scope; their ``people_reached`` is shared
  out in proportion to commune population (the log has no finer information).
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from analysis._taylor import require_columns
from analysis.errors import PlaceUnknown
from analysis.errors import VariableInvalid
from analysis.population import communes as census_communes

__all__ = ["respondents", "respondent_record", "respondent_layout", "respondent_frame",
           "RespondentLayout", "response_counts", "activities", "exposure", "PLACE_COLUMNS",
           "answers_dict", "consented"]

#: Columns that locate a respondent in the design.
PLACE_COLUMNS = ["submission_id", "round", "district_code", "commune_key", "stratum", "psu",
                 "district_kind", "commune_kind", "area"]

#: Questions that are the design or the consent, not profile.
_NOT_PROFILE = {"round", "consent", "district", "commune"}
_PROFILE_TYPES = {"select_one", "integer", "decimal"}


def answers_dict(value) -> dict:
    """One answer document as a dict (JSON text is parsed); ``VariableInvalid`` for anything else."""
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise VariableInvalid("each answers value must be a dict (or its JSON text)")
    return value


def _census_rows(frame: pd.DataFrame, places: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Check every respondent's commune and district against the census; return the census
    communes by key and, per row of ``frame``, the position of its commune in them.

    The keys are matched once per distinct commune (a million respondents live in ~80 communes).
    """
    known = places.set_index("commune_key")
    codes, keys = pd.factorize(frame["commune_key"].astype(str).to_numpy(dtype=object))
    found = known.index.get_indexer(keys)
    unknown = sorted(set(keys[found < 0]))
    if unknown:
        raise PlaceUnknown(f"commune key(s) not in the census list: {unknown[:5]}", communes=unknown)
    rows = found[codes]
    expected = known["district_code"].to_numpy()[rows]
    wrong = frame["district_code"].astype(str).to_numpy() != expected
    if wrong.any():
        bad = frame.loc[wrong, ["commune_key", "district_code"]].drop_duplicates()
        raise PlaceUnknown(f"commune(s) filed under the wrong district: {bad.to_dict('records')[:5]}")
    return known, rows


def _check_places(frame: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    return _census_rows(frame, places)[0]


def consented(answers: dict) -> bool:
    """Whether the document's top-level ``consent`` is yes: a respondent, not a refusal."""
    return answers.get("consent") == "yes"


def _submissions(submissions) -> pd.DataFrame:
    if not isinstance(submissions, pd.DataFrame):
        raise VariableInvalid("submissions must be a pandas DataFrame")
    require_columns(submissions, ["submission_id", "round", "commune_key", "district_code", "answers"])
    frame = submissions.reset_index(drop=True).copy()
    frame["commune_key"] = frame["commune_key"].astype(str)
    frame["district_code"] = frame["district_code"].astype(str)
    frame["round"] = pd.to_numeric(frame["round"], errors="raise").astype("int64")
    frame["answers"] = [answers_dict(a) for a in frame["answers"]]
    return frame


def response_counts(submissions, *, places=None) -> pd.DataFrame:
    """Respondents and refusals per round and commune.

    Returns
    -------
    pandas.DataFrame
        ``round, district_code, commune_key, respondents, refusals, attempted``.
    """
    frame = _submissions(submissions)
    _check_places(frame, census_communes() if places is None else places)
    frame["respondents"] = [int(consented(a)) for a in frame["answers"]]
    frame["refusals"] = 1 - frame["respondents"]
    out = frame.groupby(["round", "district_code", "commune_key"], as_index=False)[
        ["respondents", "refusals"]].sum()
    out["attempted"] = out["respondents"] + out["refusals"]
    return out


@dataclass(frozen=True)
class RespondentLayout:
    """The analysis columns of a scored form version, in a fixed order.

    ``profile``: (question, numeric) pairs; ``items``: scoring item names in scoring order;
    ``multiple``: (question, choice names) of select-multiple questions; ``skippable``: questions
    with their own ``relevant`` (skipped means "does not apply", see the module docstring).
    """

    profile: tuple
    items: tuple
    multiple: tuple
    skippable: frozenset

    @cached_property  # every ingested submission reads it: built once per layout
    def choice_columns(self) -> tuple[str, ...]:
        """``<question>_<choice>`` column names, in layout order."""
        return tuple(f"{q}_{c}" for q, choices in self.multiple for c in choices)


_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def respondent_layout(form) -> RespondentLayout:
    """Profile questions, scored items, and select-multiple questions of a form (cached per form)."""
    try:
        return _LAYOUTS[form]
    except (KeyError, TypeError):
        pass
    items = [item.name for item in form.scoring]
    scored = set(items)
    profile, multiple, skippable = [], [], set()
    for q in form.walk():
        if q.relevant and q.type not in ("group", "repeat"):
            skippable.add(q.name)
        if q.name in _NOT_PROFILE or q.name in scored:
            if q.type == "select_multiple":
                multiple.append(q)
            continue
        if q.type in _PROFILE_TYPES:
            profile.append(q)
        elif q.type == "select_multiple":
            multiple.append(q)
    layout = RespondentLayout(
        profile=tuple((q.name, q.type in ("integer", "decimal")) for q in profile),
        items=tuple(items),
        multiple=tuple((q.name, tuple(c.name for c in form.choices.get(q.choices, []))) for q in multiple),
        skippable=frozenset(skippable))
    try:
        _LAYOUTS[form] = layout
    except TypeError:
        pass
    return layout


def respondent_record(form, answers) -> dict:
    """One answer document as analysis values: design fields, consent, profile, points, choices.

    Returns ``round`` (int or None), ``district_code``, ``commune_key`` (the ``district`` and
    ``commune`` answers), ``consented``, then the layout's profile answers, item points (0 for a
    skipped item with its own relevance, None when missing) and ``<question>_<choice>`` booleans.
    Free text is never read. This is the one extraction both the bulk path (:func:`respondents`)
    and the server's ingestion use.
    """
    answers = answers_dict(answers)
    layout = respondent_layout(form)
    flat = form.flatten(answers)
    points = form.score(answers, flat)  # one walk of the document, not two (every push computes this)
    round_ = flat.get("round")
    try:
        round_ = int(round_) if round_ is not None else None
    except (TypeError, ValueError):
        raise VariableInvalid(f"round must be a year, got {round_!r}") from None
    district, commune = flat.get("district"), flat.get("commune")
    row = {"round": round_, "district_code": None if district is None else str(district),
           "commune_key": None if commune is None else str(commune), "consented": consented(answers)}
    for name, _numeric in layout.profile:
        row[name] = flat.get(name)
    for name in layout.items:
        value = points.get(name)
        row[name] = 0.0 if value is None and name in layout.skippable else value
    for name, choices in layout.multiple:
        chosen = flat.get(name)
        for choice in choices:
            if chosen is None:
                row[f"{name}_{choice}"] = False if name in layout.skippable else None
            else:
                row[f"{name}_{choice}"] = choice in chosen
    return row


def respondent_frame(design, body, form, *, places=None, signs_at_least=3) -> pd.DataFrame:
    """Assemble the tidy respondent frame from its design columns and its extracted body.

    ``design`` has ``submission_id, round, district_code, commune_key`` (and optionally
    ``weight``) of consenting respondents; ``body`` (same index) has the layout's columns as
    :func:`respondent_record` gives them, or as arrays (points NaN when missing, choices as
    0/1/NaN). Column types and order are fixed here, for both paths.
    """
    from analysis.scores import add_scores

    places = census_communes() if places is None else places
    known, rows = _census_rows(design, places)
    layout = respondent_layout(form)
    index = design.index
    out = pd.DataFrame({
        "submission_id": design["submission_id"].astype(str),
        "round": design["round"].astype("int64"),
        "district_code": design["district_code"].astype(str),
        "commune_key": design["commune_key"].astype(str),
    })
    out["stratum"] = out["district_code"]
    out["psu"] = out["commune_key"]
    for column in ("district_kind", "commune_kind", "area"):
        out[column] = known[column].to_numpy()[rows]
    if "weight" in design.columns:
        out["weight"] = pd.to_numeric(design["weight"]).astype("float64")
    for name, numeric in layout.profile:
        values = body[name] if name in body.columns else pd.Series(np.nan, index=index)
        if numeric:
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[name] = values.astype("object").where(values.notna(), None)
    for name in layout.items:
        values = body[name] if name in body.columns else pd.Series(np.nan, index=index)
        out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
    for column in layout.choice_columns:
        values = body[column] if column in body.columns else pd.Series(np.nan, index=index)
        out[column] = values.astype("float64").astype("boolean")
    return add_scores(out, form, signs_at_least=signs_at_least)


def respondents(submissions, form, *, places=None, signs_at_least=3) -> pd.DataFrame:
    """One row per consenting respondent: place, design columns, profile, item scores, scores.

    Parameters
    ----------
    submissions : pandas.DataFrame
        ``submission_id, round, commune_key, district_code, answers`` (a dict per row, the
        form's JSON answer shape) and optionally ``weight``.
    form : forms.model.Form
        The awareness form version the answers were given to.
    places : pandas.DataFrame, optional
        Census communes (:func:`analysis.population.communes`); the default is the 2019 list.
    signs_at_least : int
        X of the headline "aware of at least X of the N warning signs".

    Returns
    -------
    pandas.DataFrame
        :data:`PLACE_COLUMNS` (``stratum`` = district code, ``psu`` = commune key), ``weight``
        if given, profile answers (e.g. ``sex, age, marital, education, occupation,
        plan_away, plan_abroad, heard_any, channel_main``), one column per scoring item
        (points), ``<question>_<choice>`` booleans for select-multiple questions (e.g.
        ``channels_mobile_team``), then the scores of :func:`analysis.scores.add_scores`.
    """
    frame = _submissions(submissions)
    places = census_communes() if places is None else places
    _check_places(frame, places)
    frame = frame[[consented(a) for a in frame["answers"]]].reset_index(drop=True)
    records = [respondent_record(form, answers) for answers in frame["answers"]]
    body = pd.DataFrame.from_records(records, index=frame.index) if records else pd.DataFrame(
        index=frame.index)
    return respondent_frame(frame, body, form, places=places, signs_at_least=signs_at_least)


# ---------------------------------------------------------------------------- outreach
_ACTIVITY_FIELDS = ("activity_type", "level", "people_reached", "organiser", "reach_basis")


def activities(submissions, form=None, *, places=None) -> pd.DataFrame:
    """One row per outreach activity × commune it covered.

    Parameters
    ----------
    submissions : pandas.DataFrame
        ``submission_id`` and ``answers`` of the outreach form (``activity_date``, ``level``,
        ``district``, ``communes``, ``activity_type``, ``target_groups``, ``people_reached``,
        ``organiser``, ...).
    form : forms.model.Form, optional
        The outreach form (used to flatten nested answers; plain dicts work without it).
    places : pandas.DataFrame, optional
        Census communes; default the 2019 list.

    Returns
    -------
    pandas.DataFrame
        ``activity_id, date, year, level, district_code, commune_key, activity_type,
        target_groups`` (tuple), ``organiser, reach_basis, people_reached_total, share,
        people_reached`` (the commune's population share of the activity's reach).
    """
    if not isinstance(submissions, pd.DataFrame):
        raise VariableInvalid("submissions must be a pandas DataFrame")
    require_columns(submissions, ["submission_id", "answers"])
    places = census_communes() if places is None else places
    by_key = places.set_index("commune_key")
    rows = []
    for sid, raw in zip(submissions["submission_id"], submissions["answers"], strict=True):
        answers = answers_dict(raw)
        flat = form.flatten(answers) if form is not None else answers
        level = flat.get("level")
        if level == "city":
            scope = places
        elif level == "district":
            scope = places[places["district_code"] == str(flat.get("district"))]
        elif level == "commune":
            keys = [str(k) for k in (flat.get("communes") or [])]
            unknown = sorted(set(keys) - set(by_key.index))
            if unknown:
                raise PlaceUnknown(f"activity {sid}: unknown commune(s) {unknown}", communes=unknown)
            scope = by_key.loc[keys].reset_index()
        else:
            raise VariableInvalid(f"activity {sid}: level must be city, district or commune, got {level!r}")
        if scope.empty:
            raise PlaceUnknown(f"activity {sid}: no commune in its scope (district {flat.get('district')!r})")
        date = pd.Timestamp(flat.get("activity_date"))
        reached = float(flat.get("people_reached") or 0)
        share = scope["population"] / scope["population"].sum()
        for (_, place), part in zip(scope.iterrows(), share, strict=True):
            rows.append({
                "activity_id": str(sid),
                "date": date,
                "year": date.year,
                "level": level,
                "district_code": place["district_code"],
                "commune_key": place["commune_key"],
                "activity_type": flat.get("activity_type"),
                "target_groups": tuple(flat.get("target_groups") or ()),
                "organiser": flat.get("organiser"),
                "reach_basis": flat.get("reach_basis"),
                "people_reached_total": reached,
                "share": float(part),
                "people_reached": reached * float(part),
            })
    columns = ["activity_id", "date", "year", "level", "district_code", "commune_key", "activity_type",
               "target_groups", "organiser", "reach_basis", "people_reached_total", "share",
               "people_reached"]
    return pd.DataFrame(rows, columns=columns)


def exposure(activities, *, rounds, places=None) -> pd.DataFrame:
    """Outreach per commune and survey round (all communes, zeros where nothing happened).

    Parameters
    ----------
    activities : pandas.DataFrame
        Output of :func:`activities`.
    rounds : iterable of int
        Survey rounds (years).
    places : pandas.DataFrame, optional
        Census communes; default the 2019 list.

    Returns
    -------
    pandas.DataFrame
        ``round, district_code, commune_key, population, activities, people_reached,
        reach_per_1000, reached`` (bool), ``channels`` (activity types that year, ``;``-joined,
        sorted), ``last_outreach_year`` (nullable Int64: latest year ≤ round with any
        activity).
    """
    require_columns(activities, ["year", "commune_key", "activity_type", "people_reached"])
    places = census_communes() if places is None else places
    rounds = sorted({int(r) for r in rounds})
    parts = []
    for r in rounds:
        this = activities[activities["year"] == r]
        agg = this.groupby("commune_key").agg(
            activities=("activity_id", "nunique"),
            people_reached=("people_reached", "sum"),
            channels=("activity_type", lambda s: ";".join(sorted(set(map(str, s))))),
        )
        last = activities[activities["year"] <= r].groupby("commune_key")["year"].max()
        part = places[["district_code", "commune_key", "population"]].copy()
        part.insert(0, "round", r)
        part = part.join(agg, on="commune_key")
        part["activities"] = part["activities"].fillna(0).astype("int64")
        part["people_reached"] = part["people_reached"].fillna(0.0)
        part["channels"] = part["channels"].fillna("")
        part["reach_per_1000"] = 1000 * part["people_reached"] / part["population"]
        part["reached"] = part["activities"] > 0
        part["last_outreach_year"] = part["commune_key"].map(last).astype("Int64")
        parts.append(part)
    columns = ["round", "district_code", "commune_key", "population", "activities", "people_reached",
               "reach_per_1000", "reached", "channels", "last_outreach_year"]
    return pd.concat(parts, ignore_index=True)[columns]
