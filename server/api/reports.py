"""Reports for analysts and planners: indicators, groups, change, priorities, small areas, channels, yearly.

Planners see small cells (fewer than ``REPORT_MIN_CELL`` respondents) withheld; analysts see all.
"""

from __future__ import annotations

import io

import pandas as pd
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request

from analysis.gap_report import GapReport
from analysis.report_html import render_html
from analysis.report_tables import write_csv_zip
from analysis.report_tables import write_xlsx
from analysis.report_text import note
from analysis.yearly_report import render_markdown
from server.api.access import access
from server.api.access import current_principal
from server.api.body import attachment
from server.extensions import db
from server.reports import boundaries
from server.reports import service as reports
from server.reports.request import ReportRequest
from server.reports.request import document_date
from server.reports.request import parse
from server.reports.request import wants_codes
from server.web import documents
from server.web import tables
from server.web.i18n import in_language
from server.web.i18n import text

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports")

READERS = ("analyst", "planner")


def _min_cell() -> int:
    principal = current_principal()
    role = principal.user.role if principal.user is not None else None
    return 1 if role == "analyst" else int(current_app.config["REPORT_MIN_CELL"])


def _request(*required: str, **options) -> tuple[reports.Data, ReportRequest]:
    """The stored data and this request's arguments, parsed once (:func:`server.reports.request.parse`)."""
    data = reports.load(db.session, current_app.config["ROUNDS"])
    db.session.commit()
    return data, parse(data, request.args, min_cell=_min_cell(), required=required, **options)


def _table(frame, req: ReportRequest, **meta):
    return {**meta, "min_cell": req.min_cell, "rows": reports.records(frame)}


@bp.get("/indicators")
@access(*READERS)
def indicators():
    """Knowledge, signs and hotline indicators per round × district with 95% CIs (``?round=`` optional)."""
    data, req = _request()
    return _table(reports.indicators(data, req), req)


@bp.get("/groups")
@access(*READERS)
def groups():
    """Headline indicators per target group in one round (``?round=``, ``?language=en|vi``)."""
    data, req = _request("round", languages=("en", "vi"), default_language="en")
    return _table(reports.groups(data, req), req)


@bp.get("/change")
@access(*READERS)
def change():
    """Change of the headline indicators between two rounds (``?from=&to=``), per district."""
    data, req = _request("from", "to")
    return _table(reports.changes(data, req), req)


@bp.get("/priorities")
@access(*READERS)
def priorities():
    """Places ranked by need with reasons (``?round=``, ``?level=commune|district``)."""
    data, req = _request("round")
    return _table(reports.priorities(data, req), req, level=req.level)


@bp.get("/small-areas")
@access(*READERS)
def small_areas():
    """Benchmarked small-area estimates of every commune (``?round=``, ``?indicator=`` default knowledge)."""
    data, req = _request("round")
    frame = reports.small_areas(data, req)
    fit = frame.attrs
    return _table(frame, req, indicator=req.indicator, round=fit["year"], method=fit["method"],
                  covariates=list(fit["covariates"]), sigma2_u=fit["sigma2_u"],
                  coefficients=reports.records(pd.DataFrame(fit["coefficients"])))


@bp.get("/channels")
@access(*READERS)
def channels():
    """Share of each target group reached by each channel in one round (``?round=``)."""
    data, req = _request("round")
    return _table(reports.channels(data, req), req)


@bp.get("/yearly")
@access(*READERS)
def yearly():
    """The 12 November report (``?round=``, ``?previous=``); ``?format=markdown&language=vi|en|both``, or
    ``?format=docx&language=vi|en`` (``&date=`` the day it bears): the yearly page's Word document."""
    fmt = request.args.get("format")
    markdown = fmt == "markdown"
    languages = ("vi", "en", "both") if markdown else ("vi", "en") if fmt == "docx" else None
    date = document_date(request.args.get("date")) if fmt == "docx" else None
    data, req = _request("round", languages=languages, default_language="vi")
    if fmt == "docx":
        with in_language(req.language):
            frames = tables.build("yearly", data, req, city=text("city"))
            body = documents.yearly_docx(frames, req, date=date)
        name = f"yearly-report-{req.round}-{req.language}.docx"
        return Response(body, mimetype=documents.DOCX, headers={"Content-Disposition": attachment(name)})
    report = reports.yearly(data, req)
    if markdown:
        return Response(render_markdown(report, language=req.language), mimetype="text/markdown")
    review = report.outreach_review
    plan = None if review.comparison is None else {
        "approved_on": review.approved_on.isoformat() if review.approved_on else None,
        "approved_role": review.approved_by, "rows": reports.records(review.comparison)}
    return {"year": report.year, "previous": report.previous, "min_cell": report.min_n,
            "outreach": reports.records(report.outreach),
            "outreach_totals": reports.records(report.outreach_totals),
            "awareness": reports.records(report.awareness),
            "outreach_plan": plan}


# ----------------------------------------------------------------------------- the awareness-gap report
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _gap_report() -> tuple[GapReport, str]:
    data, req = _request("round", languages=("vi", "en"), default_language="vi")
    return reports.gap_report(data, req), req.language


def _attachment(report, language: str, suffix: str) -> dict:
    return {"Content-Disposition": attachment(f"gap-report-{report.year}-{language}.{suffix}")}


@bp.get("/report.html")
@access(*READERS)
def gap_report_html():
    """The awareness-gap report as one self-contained HTML page (``?round=&language=vi|en&previous=``)."""
    report, language = _gap_report()
    return Response(render_html(report, language=language, **boundaries.report_args(db.session)),
                    mimetype="text/html")


def _docx(report, language: str, date) -> Response:
    with in_language(language):
        body = documents.full_docx(report, date=date)
    return Response(body, mimetype=documents.DOCX, headers=_attachment(report, language, "docx"))


@bp.get("/report.docx")
@access(*READERS)
def gap_report_docx():
    """The awareness-gap report as a Word document in the administrative format (same parameters as the
    HTML, and ``&date=`` the day it bears)."""
    date = document_date(request.args.get("date"))
    report, language = _gap_report()
    return _docx(report, language, date)


@bp.get("/report.json")
@access(*READERS)
def gap_report_json():
    """The awareness-gap report's tables as JSON, with its caveats and build notes (same parameters);
    ``?format=docx`` gives the Word document (as ``report.docx``)."""
    if request.args.get("format") == "docx":
        return gap_report_docx()
    report, language = _gap_report()
    return {"year": report.year, "previous": report.previous, "min_cell": report.min_n, "k": report.k,
            "caveats": list(report.caveats),
            "notes": [{**entry, "text": note(entry, language)} for entry in report.notes],
            "tables": {name: reports.records(table) for name, table in report.tables().items()}}


@bp.get("/report.xlsx")
@access(*READERS)
def gap_report_xlsx():
    """The awareness-gap report's tables as its page shows them, one sheet each (same parameters as the
    HTML); ``&codes=1`` the tidy tables (codes, full-precision figures)."""
    report, language = _gap_report()
    buffer = io.BytesIO()
    write_xlsx(report, buffer, language=language, codes=wants_codes(request.args))
    return Response(buffer.getvalue(), mimetype=XLSX, headers=_attachment(report, language, "xlsx"))


@bp.get("/report.zip")
@access(*READERS)
def gap_report_csv():
    """The awareness-gap report's tables as a zip of CSV files (same parameters and choice as the XLSX)."""
    report, language = _gap_report()
    buffer = io.BytesIO()
    write_csv_zip(report, buffer, language=language, codes=wants_codes(request.args))
    headers = _attachment(report, language, "zip")
    return Response(buffer.getvalue(), mimetype="application/zip", headers=headers)
