"""Report tables from the stored data: the frames are loaded here, the figures come from ``analysis``.

Every function returns tidy DataFrames; the API and the CLI only choose the format. ``min_n`` is the
small-cell threshold: figures from fewer respondents are withheld (planners get the configured
``REPORT_MIN_CELL``, analysts see every cell).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.change import change
from analysis.commune_estimates import commune_estimates
from analysis.commune_estimates import suppress_communes
from analysis.disclosure import suppress_small
from analysis.errors import DomainEmpty
from analysis.gap_report import build_gap_report
from analysis.groups import add_group_columns
from analysis.groups import group_labels
from analysis.levels import estimate
from analysis.levels import round_levels
from analysis.priority import NeedParameters
from analysis.priority import channel_reach
from analysis.priority import prioritise
from analysis.survey import Design
from analysis.yearly_report import INDICATORS
from analysis.yearly_report import YearlyReport
from analysis.yearly_report import yearly_report
from server.forms import registry as form_registry
from server.models import Form
from server.models import FormVersion
from server.models import Submission
from server.models import SubmissionRevision
from server.models.errors import ServerError
from server.reports.data import load_respondents

SURVEY_FORM = "awareness"
OUTREACH_FORM = "outreach"
#: Indicators of the round × district and group tables (the yearly report's, without the risk share).
HEADLINE = ("knowledge", "aware_signs_3", "hotline_aware")
_DESIGN = {"weight": "weight", "strata": "stratum", "psu": "psu", "lonely_psu": "adjust"}
#: Indicators with commune small-area estimates (a score in [0, 1] or a 0/1 indicator).
SMALL_AREA_INDICATORS = ("knowledge", "aware_signs_3", "hotline_aware", "at_risk")


@dataclasses.dataclass
class Data:
    """What the reports read: weighted respondents, outreach activities, and the rounds asked for."""

    respondents: pd.DataFrame
    activities: pd.DataFrame
    rounds: list[int]


def load(session: Session, rounds) -> Data:
    """Load respondents (all versions of the survey form) and the outreach log."""
    frame = load_respondents(SURVEY_FORM, session=session)
    return Data(frame, load_activities(session), sorted(int(r) for r in rounds))


def load_activities(session: Session) -> pd.DataFrame:
    """Outreach activities (:func:`analysis.tidy.activities`) of every stored outreach head."""
    rows = session.execute(
        select(Submission.id, SubmissionRevision.answers, Submission.form_version)
        .join(SubmissionRevision, SubmissionRevision.op_id == Submission.head)
        .where(Submission.form_id == OUTREACH_FORM, Submission.deleted.is_(False))
        .order_by(Submission.seq)).all()
    versions = {v.version: v for v in session.scalars(
        select(FormVersion).join(Form).where(Form.form_id == OUTREACH_FORM))}
    parts = []
    heads = pd.DataFrame(rows, columns=["submission_id", "answers", "version"])
    for version, group in heads.groupby("version"):
        form = form_registry.load_form(versions[version]) if version in versions else None
        parts.append(tidy.activities(group[["submission_id", "answers"]], form))
    if not parts:
        return tidy.activities(pd.DataFrame({"submission_id": [], "answers": []}))
    return pd.concat(parts, ignore_index=True)


def check_round(data: Data, round_, *, name: str = "round") -> int:
    """The round as an int; 422 if it is not a survey round, 404 if it has no respondents."""
    try:
        value = int(round_)
    except (TypeError, ValueError):
        value = None
    if value not in data.rounds:
        raise ServerError("validation-failed", f"{name} must be one of the survey rounds {data.rounds}.",
                       errors=[{"pointer": f"/{name}", "detail": f"not a survey round: {round_}"}])
    if not (data.respondents["round"] == value).any():
        raise ServerError("not-found", f"No respondents in round {value}.")
    return value


def indicators(data: Data, *, round_=None, min_n: int = 1) -> pd.DataFrame:
    """Headline indicators per round × district (``district_code`` ``all``: the city), with 95% CIs."""
    rounds = [check_round(data, round_)] if round_ is not None else sorted(
        set(data.rounds) & set(data.respondents["round"]))
    table = round_levels(data.respondents, indicators=list(HEADLINE), rounds=rounds,
                         columns=["estimate", "se", "ci_low", "ci_high", "deff", "n", "n_weighted"])
    table = table[["round", "indicator", "district_code", *table.columns[3:]]]
    return suppress_small(table, min_n=min_n)


def groups(data: Data, *, round_, min_n: int = 1, language: str = "en") -> pd.DataFrame:
    """Headline indicators per target group (:mod:`analysis.groups`) in one round."""
    r = check_round(data, round_)
    this = add_group_columns(data.respondents[data.respondents["round"] == r].reset_index(drop=True))
    labels = group_labels(language=language)
    rows = []
    for name, label in labels.items():
        member = this[name].fillna(False).astype(bool)
        if not member.any():
            continue
        domain = this.assign(_in=this[name].astype("object").where(this[name].notna(), None))
        design = Design(domain, **_DESIGN)
        for indicator in HEADLINE:
            table = estimate(design, indicator, "_in")
            table = table[table["_in"].astype(bool)].drop(columns="_in")
            table.insert(0, "indicator", indicator)
            table.insert(0, "label", label)
            table.insert(0, "group", name)
            table.insert(0, "round", r)
            rows.append(table)
    return suppress_small(_concat(rows), min_n=min_n)


def changes(data: Data, *, a, b, min_n: int = 1) -> pd.DataFrame:
    """Change of each headline indicator from round ``a`` to ``b``, per district and for the city."""
    a, b = check_round(data, a, name="from"), check_round(data, b, name="to")
    if a == b:
        raise ServerError("validation-failed", "from and to must be different rounds.",
                       errors=[{"pointer": "/to", "detail": "same as from"}])
    pooled = data.respondents[data.respondents["round"].isin([a, b])].reset_index(drop=True)
    pooled = pooled.assign(_stratum=pooled["stratum"] + "|" + pooled["round"].astype(str),
                           _psu=pooled["psu"] + "|" + pooled["round"].astype(str), _all="all")
    rows = []
    for indicator in HEADLINE:
        kw = {"y": indicator, "round": "round", "a": a, "b": b, "weight": "weight", "strata": "_stratum",
              "psu": "_psu", "lonely_psu": "adjust"}
        for by in ("stratum", "_all"):
            try:
                table = change(pooled, by=by, **kw).rename(columns={by: "district_code"})
            except DomainEmpty:
                continue
            table.insert(0, "indicator", indicator)
            rows.append(table)
    out = _concat(rows)
    out.insert(0, "to", b)
    out.insert(0, "from", a)
    per_round = pooled.groupby(["round", "stratum"]).size().unstack(0).reindex(columns=[a, b])
    counts = per_round.fillna(0).min(axis=1)
    smallest = out["district_code"].map(counts).fillna(min(
        (pooled["round"] == a).sum(), (pooled["round"] == b).sum()))
    out["n"] = smallest.astype("int64")
    figures = [c for c in out.columns if c not in ("from", "to", "indicator", "district_code", "n")
               and out[c].dtype.kind == "f"]
    return suppress_small(out, min_n=min_n, columns=figures)


def priorities(data: Data, *, round_, level: str = "commune", min_n: int = 1) -> pd.DataFrame:
    """Places ranked by need (:func:`analysis.priority.prioritise`), with reasons."""
    if level not in ("commune", "district"):
        raise ServerError("validation-failed", "level must be commune or district.",
                       errors=[{"pointer": "/level", "detail": f"unknown: {level}"}])
    r = check_round(data, round_)
    exposure = tidy.exposure(data.activities, rounds=[x for x in data.rounds if x <= r])
    params = NeedParameters(min_n=max(min_n, 1))
    return prioritise(data.respondents, exposure, year=r, level=level, params=params)


def small_areas(data: Data, *, round_, indicator: str = "knowledge", min_n: int = 1) -> pd.DataFrame:
    """Benchmarked small-area estimates of one indicator for every commune in one round.

    :func:`analysis.commune_estimates.commune_estimates`; sampled communes with fewer than ``min_n``
    respondents have their figures withheld (:func:`analysis.commune_estimates.suppress_communes`). The fit
    (``sigma2_u``, ``coefficients``, ``covariates``) is in ``.attrs``.
    """
    if indicator not in SMALL_AREA_INDICATORS:
        raise ServerError("validation-failed",
                          f"indicator must be one of {', '.join(SMALL_AREA_INDICATORS)}.",
                          errors=[{"pointer": "/indicator", "detail": f"unknown: {indicator}"}])
    r = check_round(data, round_)
    table = commune_estimates(data.respondents, year=r, indicator=indicator, **_DESIGN)
    out = suppress_communes(table, min_n=max(min_n, 1))
    out.attrs = {k: table.attrs[k] for k in ("indicator", "year", "method", "covariates", "sigma2_u",
                                             "coefficients", "sampled")}
    return out


def channels(data: Data, *, round_, min_n: int = 1) -> pd.DataFrame:
    """Share of each target group reached by each channel in one round."""
    r = check_round(data, round_)
    this = data.respondents[data.respondents["round"] == r].reset_index(drop=True)
    return channel_reach(this, min_n=max(min_n, 1))


def yearly(data: Data, *, round_, previous=None, min_n: int = 1) -> YearlyReport:
    """The 12 November report of ``round_`` (change since ``previous``, default the round before)."""
    r = check_round(data, round_)
    previous = _previous_round(data, r, previous)
    indicators_ = [c for c in INDICATORS if c in data.respondents.columns]
    return yearly_report(data.respondents, data.activities, year=r, previous=previous,
                         indicators=indicators_, min_n=max(min_n, 1))


def _previous_round(data: Data, r: int, previous) -> int | None:
    """``previous`` checked, or by default the latest earlier round with respondents (None: none)."""
    if previous is not None:
        value = check_round(data, previous, name="previous")
        if value >= r:  # a change "since" the same or a later round has no meaning (and broke the report)
            raise ServerError("validation-failed", "previous must be an earlier round than round.",
                              errors=[{"pointer": "/previous", "detail": f"not before {r}: {previous}"}])
        return value
    earlier = [x for x in data.rounds if x < r and (data.respondents["round"] == x).any()]
    return earlier[-1] if earlier else None


def _concat(parts):
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: NaN and NA as null, numpy scalars as Python values."""
    out = frame.astype("object").where(frame.notna(), None)
    rows = out.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, np.generic):
                row[key] = value.item()
            elif isinstance(value, tuple):
                row[key] = list(value)
    return rows


# ----------------------------------------------------------------------------- the awareness-gap report
def gap_report(data: Data, *, round_, previous=None, min_n: int = 1):
    """The whole awareness-gap report of ``round_`` (:func:`analysis.gap_report.build_gap_report`).

    ``previous`` defaults to the latest earlier round with respondents (none: no change, no DiD).
    """
    r = check_round(data, round_)
    previous = _previous_round(data, r, previous)
    if previous is not None and previous >= r:  # the default is always earlier
        raise ServerError("validation-failed", "previous must be an earlier round than round.",
                       errors=[{"pointer": "/previous", "detail": f"not before {r}: {previous}"}])
    return build_gap_report(data.respondents, data.activities, year=r, previous=previous, min_n=max(min_n, 1))
