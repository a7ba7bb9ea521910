"""Report tables from the stored data: the frames are loaded here, the figures come from ``analysis``.

The API, the pages and the CLI load :class:`Data` once, parse their arguments into a
:class:`server.reports.request.ReportRequest` (rounds checked there) and call one function here; each
returns tidy DataFrames (or the report object) and the caller only chooses the format. ``req.min_cell``
is the small-cell threshold: figures from fewer respondents are withheld (planners get the configured
``REPORT_MIN_CELL``, analysts see every cell).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.commune_estimates import commune_estimates
from analysis.commune_estimates import suppress_communes
from analysis.disclosure import suppress_small
from analysis.gap_report import GapReport
from analysis.gap_report import build_gap_report
from analysis.groups import group_labels
from analysis.levels import round_levels
from analysis.priority import NeedParameters
from analysis.priority import channel_reach
from analysis.priority import prioritise
from analysis.report_estimates import DESIGN
from analysis.report_estimates import HEADLINE
from analysis.report_estimates import group_levels
from analysis.report_estimates import round_changes
from analysis.yearly_report import YearlyReport
from analysis.yearly_report import yearly_report
from server.forms import registry as form_registry
from server.models import HEAD_REVISION
from server.models import Form
from server.models import FormVersion
from server.models import Submission
from server.models import SubmissionRevision
from server.models.errors import ServerError
from server.plans.frames import approved_round_plans
from server.reports import plans
from server.reports.data import load_respondents
from server.reports.request import ReportRequest

SURVEY_FORM = "awareness"
OUTREACH_FORM = "outreach"


@dataclasses.dataclass
class Data:
    """What the reports read: weighted respondents, outreach activities, and the rounds asked for."""

    respondents: pd.DataFrame
    activities: pd.DataFrame
    rounds: list[int]
    #: approved sample plans and outreach plans by year (:mod:`server.reports.plans`), for the full report
    round_plans: dict = dataclasses.field(default_factory=dict)
    outreach_plans: dict = dataclasses.field(default_factory=dict)


def load(session: Session, rounds, *, missing_ok: bool = False) -> Data:
    """Load respondents (all versions of the survey form) and the outreach log.

    With no survey form installed: ``not-found``, or no data at all when ``missing_ok`` (the pages say so).
    """
    rounds = sorted(int(r) for r in rounds)
    try:
        frame = load_respondents(SURVEY_FORM, session=session)
    except ServerError as exc:
        if exc.code != "not-found" or not missing_ok:
            raise
        return Data(pd.DataFrame({"round": []}), pd.DataFrame(), rounds)
    return Data(frame, load_activities(session), rounds, round_plans=approved_round_plans(session),
                outreach_plans=plans.approved_outreach(session))


def load_activities(session: Session) -> pd.DataFrame:
    """Outreach activities (:func:`analysis.tidy.activities`) of every stored outreach head."""
    rows = session.execute(
        select(Submission.id, SubmissionRevision.answers, Submission.form_version)
        .join(SubmissionRevision, HEAD_REVISION)
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


def indicators(data: Data, req: ReportRequest) -> pd.DataFrame:
    """Headline indicators per round × district (``district_code`` ``all``: the city), with 95% CIs.

    Of ``req.round``, or of every round with respondents when it is None.
    """
    rounds = [req.round] if req.round is not None else list(req.rounds)
    table = round_levels(data.respondents, indicators=list(HEADLINE), rounds=rounds,
                         columns=["estimate", "se", "ci_low", "ci_high", "deff", "n", "n_weighted"])
    table = table[["round", "indicator", "district_code", *table.columns[3:]]]
    return suppress_small(table, min_n=req.min_cell)


def groups(data: Data, req: ReportRequest) -> pd.DataFrame:
    """Headline indicators per target group (:mod:`analysis.groups`) in one round, labelled in
    ``req.language``."""
    table = group_levels(data.respondents, round_=req.round)
    if len(table):
        table.insert(2, "label", table["group"].map(group_labels(language=req.language)))
    return suppress_small(table, min_n=req.min_cell)


def changes(data: Data, req: ReportRequest) -> pd.DataFrame:
    """Change of each headline indicator from round ``req.a`` to ``req.b``, per district and for the city."""
    return round_changes(data.respondents, a=req.a, b=req.b, min_n=req.min_cell)


def priorities(data: Data, req: ReportRequest) -> pd.DataFrame:
    """Places (``req.level``) ranked by need (:func:`analysis.priority.prioritise`), with reasons."""
    exposure = tidy.exposure(data.activities, rounds=[x for x in data.rounds if x <= req.round])
    params = NeedParameters(min_n=req.min_cell)
    return prioritise(data.respondents, exposure, year=req.round, level=req.level, params=params)


def small_areas(data: Data, req: ReportRequest) -> pd.DataFrame:
    """Benchmarked small-area estimates of ``req.indicator`` for every commune in one round.

    :func:`analysis.commune_estimates.commune_estimates`; sampled communes with fewer than ``min_cell``
    respondents have their figures withheld (:func:`analysis.commune_estimates.suppress_communes`). The fit
    (``sigma2_u``, ``coefficients``, ``covariates``) is in ``.attrs``.
    """
    table = commune_estimates(data.respondents, year=req.round, indicator=req.indicator, **DESIGN)
    out = suppress_communes(table, min_n=req.min_cell)
    out.attrs = {k: table.attrs[k] for k in ("indicator", "year", "method", "covariates", "sigma2_u",
                                             "coefficients", "sampled")}
    return out


def channels(data: Data, req: ReportRequest) -> pd.DataFrame:
    """Share of each target group reached by each channel in one round."""
    this = data.respondents[data.respondents["round"] == req.round].reset_index(drop=True)
    return channel_reach(this, min_n=req.min_cell)


def yearly(data: Data, req: ReportRequest) -> YearlyReport:
    """The 12 November report of ``req.round`` (change since ``req.previous``; None: no change), with the
    year's approved outreach plan beside its activities (``outreach_review``; its table:
    :func:`server.reports.plans.review_frame`)."""
    report = yearly_report(data.respondents, data.activities, year=req.round, previous=req.previous,
                           min_n=req.min_cell)
    report.outreach_review = plans.outreach_review(data.outreach_plans, data.activities, req.round)
    return report


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
def gap_report(data: Data, req: ReportRequest) -> GapReport:
    """The whole awareness-gap report of ``req.round`` (:func:`analysis.gap_report.build_gap_report`);
    changes and the DiD since ``req.previous`` (None: none)."""
    report = build_gap_report(data.respondents, data.activities, year=req.round, previous=req.previous,
                              min_n=req.min_cell)
    shown = data.respondents[data.respondents["round"] <= req.round]
    report.designs = plans.round_designs({r: p for r, p in data.round_plans.items() if r <= req.round}, shown)
    report.outreach_review = plans.outreach_review(data.outreach_plans, data.activities, req.round)
    return report
