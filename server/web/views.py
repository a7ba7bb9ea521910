"""The pages: sign-in and sign-out, and the reports at ``/reports/`` for analysts and planners.

Views are thin: read the choices, call :func:`tables.build` (which calls ``server.reports.service``), render.
Planners get cells of fewer than ``REPORT_MIN_CELL`` respondents withheld; analysts see every cell.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup

from analysis.report_html import render_html
from analysis.report_tables import write_csv_zip
from analysis.report_tables import write_xlsx
from server.accounts import users as accounts
from server.api.access import PUBLIC
from server.api.access import current_principal
from server.api.access import end_session
from server.api.access import page_access
from server.api.access import session_principal
from server.api.access import start_session
from server.api.body import attachment
from server.api.sign_in_limits import limit_sign_in
from server.extensions import db
from server.models import audit_read
from server.models.errors import ServerError
from server.problems import ApiError
from server.problems import status_of
from server.reports import boundaries
from server.reports import service as reports
from server.reports.request import ReportRequest
from server.reports.request import document_date
from server.reports.request import wants_codes
from server.web import documents
from server.web import tables
from server.web.i18n import current_language
from server.web.i18n import text
from server.web.shown import shown

bp = Blueprint("web", __name__)

READERS = ("analyst", "planner")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target: str | None) -> str:
    """The local path to go to after signing in; anything else (``//host``, a URL) gives /reports/."""
    default = url_for("web.overview")
    if not target or not target.startswith("/") or target.startswith("//") or _UNSAFE.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _min_cell() -> int:
    return 1 if current_principal().user.role == "analyst" else int(current_app.config["REPORT_MIN_CELL"])


def _choices() -> tuple[reports.Data, ReportRequest]:
    """The stored data (none yet: no survey form installed) and this page's choices, parsed once."""
    data = reports.load(db.session, current_app.config["ROUNDS"], missing_ok=True)
    db.session.commit()
    return data, tables.choose(data, request.args, min_cell=_min_cell(), language=current_language())


def _page(page: str):
    data, choices = _choices()
    frames = tables.build(page, data, choices, city=text("city"))
    # the map is our own SVG, built from escaped text: safe to put in the page as it is
    loaded = boundaries.current(db.session) if page in ("priorities", "districts") else None
    page_map = Markup(tables.map_svg(page, frames, choices, text=text, loaded=loaded)) if frames else ""
    attribution = loaded.attribution if page_map and tables.draws_boundaries(page, choices, loaded) else None
    # who read which figures is part of the audit log (admins read it in the console)
    audit_read(db.session, "report.view", "report", page, user_id=current_principal().user.id,
          **tables.query(choices, page))
    db.session.commit()
    return render_template(f"reports/{page}.html", page=page, choices=choices, frames=frames,
                           min_n=choices.min_cell, query=tables.query(choices, page), page_map=page_map,
                           attribution=attribution)


@bp.get("/")
@page_access(PUBLIC)
def home():
    """Send a browser at the server's root to the reports, or coordinators and admins to the console."""
    principal = session_principal()
    if principal is not None and principal.user.role in ("admin", "coordinator"):
        return redirect(url_for("console.home"))
    return redirect(url_for("web.overview"))


@bp.get("/login")
@page_access(PUBLIC)
def login():
    """The sign-in form."""
    return render_template("login.html", next=safe_next(request.args.get("next")))


@bp.post("/login")
@page_access(PUBLIC)
@limit_sign_in
def login_post():
    """Check the user name and password; start a session and go back to the page asked for."""
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    if not username or not password:
        return render_template("login.html", next=target, username=username, error="login_missing"), 400
    try:
        user = accounts.authenticate(db.session, username, password)
    except ServerError as exc:
        db.session.commit()
        error = "login_disabled" if exc.code == "forbidden" else "login_failed"
        return render_template("login.html", next=target, username=username, error=error), status_of(exc)
    start_session(user, current_app.permanent_session_lifetime)
    db.session.commit()
    return redirect(target, code=303)


@bp.post("/logout")
@page_access(PUBLIC)
def logout():
    """End the session (its token is revoked on the server) and go to the sign-in page."""
    end_session()
    db.session.commit()
    flash("signed_out")
    return redirect(url_for("web.login"), code=303)


@bp.get("/reports/")
@page_access(*READERS)
def overview():
    """The city's headline indicators in a round, with links to every report."""
    return _page("overview")


@bp.get("/reports/districts")
@page_access(*READERS)
def districts():
    """Headline indicators per round × district with 95% CIs."""
    return _page("districts")


@bp.get("/reports/groups")
@page_access(*READERS)
def groups():
    """Headline indicators per target group in a round."""
    return _page("groups")


@bp.get("/reports/change")
@page_access(*READERS)
def change():
    """Change of the headline indicators between two rounds, per district."""
    return _page("change")


@bp.get("/reports/priorities")
@page_access(*READERS)
def priorities():
    """Communes or districts by tier of need, with P(top k) and reasons."""
    return _page("priorities")


@bp.get("/reports/channels")
@page_access(*READERS)
def channels():
    """Share of each target group reached by each channel in a round."""
    return _page("channels")


@bp.get("/reports/yearly")
@page_access(*READERS)
def yearly():
    """The 12 November report of a round."""
    return _page("yearly")


def _gap_report():
    data, choices = _choices()
    if not choices.rounds:
        raise ServerError("not-found", "No survey data for this report yet.")
    return reports.gap_report(data, choices)


@bp.get("/reports/full")
@page_access(*READERS)
def full_report():
    """The whole awareness-gap report of a round as one self-contained HTML page, to save or send."""
    report = _gap_report()
    html = render_html(report, language=current_language(), **boundaries.report_args(db.session))
    response = Response(html, mimetype="text/html")
    # the page carries its own stylesheet and inline SVG charts, and nothing else
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "frame-ancestors 'none'")
    return response


def _docx(body: bytes, name: str) -> Response:
    response = Response(body, mimetype=documents.DOCX)
    response.headers["Content-Disposition"] = attachment(name)
    return response


@bp.get("/reports/full.docx")
@page_access(*READERS)
def full_report_docx():
    """The full report as a Word document in the administrative format (``?date=`` the day it bears)."""
    date = document_date(request.args.get("date"))
    report = _gap_report()
    return _docx(documents.full_docx(report, date=date),
                 f"ferry-gap-report-{report.year}-{current_language()}.docx")


@bp.get("/reports/full/tables.<fmt>")
@page_access(*READERS)
def full_report_tables(fmt: str):
    """The full report's tables as the page shows them (``?codes=1``: codes and full figures): one XLSX
    sheet each, or a zip of CSV files."""
    if fmt not in ("xlsx", "zip"):
        raise ApiError("not-found", f"No tables.{fmt}: formats xlsx and zip.")
    report = _gap_report()
    buffer = io.BytesIO()
    language = current_language()
    codes = wants_codes(request.args)
    if fmt == "xlsx":
        write_xlsx(report, buffer, language=language, codes=codes)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        write_csv_zip(report, buffer, language=language, codes=codes)
        mimetype = "application/zip"
    response = Response(buffer.getvalue(), mimetype=mimetype)
    name = f"ferry-gap-report-{report.year}-{'codes' if codes else language}.{fmt}"
    response.headers["Content-Disposition"] = attachment(name)
    return response


@bp.get("/reports/<page>.<fmt>")
@page_access(*READERS)
def download(page: str, fmt: str):
    """A page's tables as CSV (one table: ``?part=``, default the first) or XLSX (one sheet each); the yearly
    page also as a Word document (DOCX, ``?date=`` the day it bears).

    As the page shows them (its columns, labels, rounding and language), or with ``?codes=1`` the tidy
    tables behind them (codes, full-precision figures, the ``suppressed`` flag) for analysis.
    """
    if page not in tables.PAGES or fmt not in ("csv", "xlsx", "docx") or (fmt == "docx" and page != "yearly"):
        raise ApiError("not-found", f"No download {page}.{fmt}: pages are {', '.join(tables.PAGES)}; "
                       "formats csv and xlsx, and docx for the yearly report.")
    date = document_date(request.args.get("date")) if fmt == "docx" else None
    data, choices = _choices()
    frames = tables.build(page, data, choices, city=text("city"))
    if not frames:
        raise ApiError("not-found", "No survey data for this report yet.")
    stem = "-".join(["ferry", page, *(str(v) for v in tables.query(choices, page).values())])
    if fmt == "docx":  # the 12 November report as a Word document, with the page's cells
        return _docx(documents.yearly_docx(frames, choices, date=date), f"{stem}-{current_language()}.docx")
    if wants_codes(request.args):  # the analysts' choice: codes and full-precision figures
        stem += "-codes"
    else:  # what the page shows: its columns, labels, rounding and language
        frames = shown(frames, choices)
        stem += f"-{current_language()}"
    if fmt == "xlsx":
        body, mimetype = tables.to_xlsx(frames), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        part = request.args.get("part", tables.PARTS[page][0])
        if part not in frames:
            raise ApiError("validation-failed", f"part must be one of {', '.join(frames)}.",
                           errors=[{"pointer": "/part", "detail": f"unknown: {part}"}])
        if part != tables.PARTS[page][0]:
            stem += f"-{part}"
        body, mimetype = tables.to_csv(frames[part]), "text/csv"
    response = Response(body, mimetype=mimetype)
    if fmt == "csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = attachment(f"{stem}.{fmt}")
    return response
