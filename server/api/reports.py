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

from analysis.report_html import render_html
from analysis.report_tables import write_csv_zip
from analysis.report_tables import write_xlsx
from analysis.report_text import note
from analysis.yearly_report import render_markdown
from server.api.access import access
from server.api.access import current_principal
from server.api.body import attachment
from server.extensions import db
from server.problems import ApiError
from server.reports import service as reports

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports")

READERS = ("analyst", "planner")


def _min_n() -> int:
    principal = current_principal()
    role = principal.user.role if principal.user is not None else None
    return 1 if role == "analyst" else int(current_app.config["REPORT_MIN_CELL"])


def _data() -> reports.Data:
    data = reports.load(db.session, current_app.config["ROUNDS"])
    db.session.commit()
    return data


def _arg(name: str, *, required: bool = True):
    value = request.args.get(name)
    if value is None and required:
        raise ApiError("validation-failed", f"The query parameter {name!r} is required.",
                       errors=[{"pointer": f"/{name}", "detail": "missing"}])
    return value


def _table(frame, **meta):
    return {**meta, "min_cell": _min_n(), "rows": reports.records(frame)}


@bp.get("/indicators")
@access(*READERS)
def indicators():
    """Knowledge, signs and hotline indicators per round × district with 95% CIs (``?round=`` optional)."""
    frame = reports.indicators(_data(), round_=_arg("round", required=False), min_n=_min_n())
    return _table(frame)


@bp.get("/groups")
@access(*READERS)
def groups():
    """Headline indicators per target group in one round (``?round=``, ``?language=en|vi``)."""
    language = request.args.get("language", "en")
    if language not in ("en", "vi"):
        raise ApiError("validation-failed", "language must be en or vi.",
                       errors=[{"pointer": "/language", "detail": f"unknown: {language}"}])
    frame = reports.groups(_data(), round_=_arg("round"), min_n=_min_n(), language=language)
    return _table(frame)


@bp.get("/change")
@access(*READERS)
def change():
    """Change of the headline indicators between two rounds (``?from=&to=``), per district."""
    frame = reports.changes(_data(), a=_arg("from"), b=_arg("to"), min_n=_min_n())
    return _table(frame)


@bp.get("/priorities")
@access(*READERS)
def priorities():
    """Places ranked by need with reasons (``?round=``, ``?level=commune|district``)."""
    level = request.args.get("level", "commune")
    frame = reports.priorities(_data(), round_=_arg("round"), level=level, min_n=_min_n())
    return _table(frame, level=level)


@bp.get("/small-areas")
@access(*READERS)
def small_areas():
    """Benchmarked small-area estimates of every commune (``?round=``, ``?indicator=`` default knowledge)."""
    indicator = request.args.get("indicator", "knowledge")
    frame = reports.small_areas(_data(), round_=_arg("round"), indicator=indicator, min_n=_min_n())
    fit = frame.attrs
    return _table(frame, indicator=indicator, round=fit["year"], method=fit["method"],
                  covariates=list(fit["covariates"]), sigma2_u=fit["sigma2_u"],
                  coefficients=reports.records(pd.DataFrame(fit["coefficients"])))


@bp.get("/channels")
@access(*READERS)
def channels():
    """Share of each target group reached by each channel in one round (``?round=``)."""
    return _table(reports.channels(_data(), round_=_arg("round"), min_n=_min_n()))


@bp.get("/yearly")
@access(*READERS)
def yearly():
    """The 12 November report (``?round=``, ``?previous=``); ``?format=markdown&language=vi|en|both``."""
    report = reports.yearly(_data(), round_=_arg("round"), previous=request.args.get("previous"),
                            min_n=_min_n())
    if request.args.get("format") == "markdown":
        language = request.args.get("language", "vi")
        if language not in ("vi", "en", "both"):
            raise ApiError("validation-failed", "language must be vi, en or both.",
                           errors=[{"pointer": "/language", "detail": f"unknown: {language}"}])
        return Response(render_markdown(report, language=language), mimetype="text/markdown")
    return {"year": report.year, "previous": report.previous, "min_cell": report.min_n,
            "outreach": reports.records(report.outreach),
            "outreach_totals": reports.records(report.outreach_totals),
            "awareness": reports.records(report.awareness)}


# ----------------------------------------------------------------------------- the awareness-gap report
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _language() -> str:
    language = request.args.get("language", "vi")
    if language not in ("vi", "en"):
        raise ApiError("validation-failed", "language must be vi or en.",
                       errors=[{"pointer": "/language", "detail": f"unknown: {language}"}])
    return language


def _gap_report():
    return reports.gap_report(_data(), round_=_arg("round"), previous=request.args.get("previous"),
                              min_n=_min_n())


def _attachment(report, language: str, suffix: str) -> dict:
    return {"Content-Disposition": attachment(f"gap-report-{report.year}-{language}.{suffix}")}


@bp.get("/report.html")
@access(*READERS)
def gap_report_html():
    """The awareness-gap report as one self-contained HTML page (``?round=&language=vi|en&previous=``)."""
    language = _language()
    report = _gap_report()
    return Response(render_html(report, language=language), mimetype="text/html")


@bp.get("/report.json")
@access(*READERS)
def gap_report_json():
    """The awareness-gap report's tables as JSON, with its caveats and build notes (same parameters)."""
    language = _language()
    report = _gap_report()
    return {"year": report.year, "previous": report.previous, "min_cell": report.min_n, "k": report.k,
            "caveats": list(report.caveats),
            "notes": [{**entry, "text": note(entry, language)} for entry in report.notes],
            "tables": {name: reports.records(table) for name, table in report.tables().items()}}


@bp.get("/report.xlsx")
@access(*READERS)
def gap_report_xlsx():
    """The awareness-gap report's tables, one sheet each (same parameters as the HTML)."""
    language = _language()
    report = _gap_report()
    buffer = io.BytesIO()
    write_xlsx(report, buffer, language=language)
    return Response(buffer.getvalue(), mimetype=XLSX, headers=_attachment(report, language, "xlsx"))


@bp.get("/report.zip")
@access(*READERS)
def gap_report_csv():
    """The awareness-gap report's tables as a zip of CSV files (same parameters as the HTML)."""
    language = _language()
    report = _gap_report()
    buffer = io.BytesIO()
    write_csv_zip(report, buffer, language=language)
    headers = _attachment(report, language, "zip")
    return Response(buffer.getvalue(), mimetype="application/zip", headers=headers)
