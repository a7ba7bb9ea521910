"""The console's pages: forms, phones, assignments, progress, submissions, review, exports, audit log."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from markupsafe import Markup

from server.api.access import page_access
from server.api.body import attachment
from server.collect.enrolment import enrolment_link
from server.console import app_users as console_app_users
from server.console import attachments as console_attachments
from server.console import audit_log
from server.console import conflicts as console_conflicts
from server.console import exports
from server.console import forms as console_forms
from server.console import phones as console_phones
from server.console import progress as console_progress
from server.console import records as console_records
from server.console import review as console_review
from server.console.scope import CONSOLE_ROLES
from server.console.scope import visible_enumerators
from server.extensions import db
from server.forms import registry
from server.models import utcnow
from server.models.errors import ServerError
from server.plans.progress import plan_progress
from server.problems import ApiError
from server.sync.runtime import store
from server.web.console import bp
from server.web.console import current_scope
from server.web.i18n import current_language


def _user():
    return current_scope().user


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _render(template: str, page: str, status: int = 200, **context):
    return render_template(f"console/{template}", page=page, scope=current_scope(), **context), status


@bp.get("/")
@page_access(*CONSOLE_ROLES)
def home():
    """The console starts at the forms."""
    return redirect(url_for("console.forms"))


# --- forms ---------------------------------------------------------------------------------------

@bp.get("/forms")
@page_access(*CONSOLE_ROLES)
def forms():
    """Every form version with its state, content hash and submission counts; the upload form."""
    return _render("forms.html", "forms", rows=console_forms.version_rows(db.session), outcome=None)


@bp.post("/forms")
@page_access(*CONSOLE_ROLES)
def upload():
    """Upload an XLSForm with its attachments: stored as a draft, or its problems shown once each."""
    upload_ = request.files.get("file")
    if upload_ is None or not upload_.filename:
        outcome = console_forms.UploadOutcome(code="validation-failed", detail="no file",
                                              errors=[{"detail": "Choose an XLSForm file."}])
    else:
        files = {f.filename: f.read() for f in request.files.getlist("attachments") if f.filename}
        source = upload_.read()
        for sent in request.files.values():
            sent.close()
        outcome = console_forms.upload(db.session, source, upload_.filename, files, actor=_user(),
                                       replace=request.form.get("replace") == "1")
        db.session.commit()
    conflict = outcome.code in ("conflict", "version-conflict")
    status = 200 if outcome.code is None else (409 if conflict else 422)
    rows = console_forms.version_rows(db.session)
    return _render("forms.html", "forms", status, rows=rows, outcome=outcome)


@bp.post("/forms/state")
@page_access(*CONSOLE_ROLES)
def form_state():
    """Move a version along draft → open → closing → closed."""
    registry.set_state(db.session, request.form.get("form_id", ""), request.form.get("version", ""),
                       request.form.get("state", ""), actor=_user())
    db.session.commit()
    return redirect(url_for("console.forms"), code=303)


# --- phones --------------------------------------------------------------------------------------

def phones_page(status: int = 200, **context):
    """The phones page: devices, ODK Collect app users, and the forms to add either."""
    days = float(current_app.config["CONSOLE_STALE_DAYS"])
    scope = current_scope()
    rows = console_phones.phones(db.session, scope, now=utcnow(), stale_days=days)
    form_ids = list(dict.fromkeys(row.form_id for row in console_forms.version_rows(db.session)))
    return _render("phones.html", "phones", status, rows=rows, stale_days=days,
                   enumerators=visible_enumerators(db.session, scope), form_ids=form_ids,
                   app_users=console_app_users.listing(db.session, scope), **context)


@bp.get("/phones")
@page_access(*CONSOLE_ROLES)
def phones():
    """Devices of the scope's enumerators: last contact, clock skew, app, what waits; unseen ones flagged."""
    return phones_page()


@bp.post("/phones")
@page_access(*CONSOLE_ROLES)
def create_phone():
    """Create a web-form device: its one-time code and enrolment QR code are shown on this answer only."""
    username = request.form.get("enumerator", "")
    hours = current_app.config["ENROLMENT_CODE_HOURS"]
    device_id, code = console_phones.create(db.session, current_scope(), username,
                                            request.form.get("label", "")[:120],
                                            lifetime=dt.timedelta(hours=hours), actor=_user())
    db.session.commit()
    link = enrolment_link(request.host_url, code)
    return phones_page(201, created={"user": username, "device_id": device_id, "code": code, "link": link,
                                      "hours": hours, "qr": Markup(console_phones.qr_svg(link))})


@bp.post("/phones/<device_id>/revoke")
@page_access(*CONSOLE_ROLES)
def revoke_phone(device_id: str):
    """Revoke a device; what it sent stays stored."""
    console_phones.revoke(db.session, current_scope(), device_id, now=utcnow(), actor=_user())
    db.session.commit()
    return redirect(url_for("console.phones"), code=303)


# --- assignments and progress --------------------------------------------------------------------

def _round_choice() -> int | None:
    years = console_progress.rounds(db.session)
    wanted = _int(request.values.get("round"), years[-1] if years else 0)
    return wanted if wanted in years else (years[-1] if years else None)


@bp.get("/assignments")
@page_access(*CONSOLE_ROLES)
def assignments():
    """An enumerator's communes and quotas in a round, editable."""
    return _assignments_page()


def _assignments_page(status: int = 200, **context):
    scope = current_scope()
    enumerators = visible_enumerators(db.session, scope)
    chosen = request.values.get("enumerator") or (enumerators[0].username if enumerators else None)
    year = _round_choice()
    rows = console_progress.assignments(db.session, scope, chosen, year) if chosen and year else []
    return _render("assignments.html", "assignments", status, enumerators=enumerators, chosen=chosen,
                   year=year, years=console_progress.rounds(db.session), rows=rows,
                   communes=console_progress.communes_in_scope(db.session, scope), **context)


@bp.post("/assignments")
@page_access(*CONSOLE_ROLES)
def save_assignments():
    """Save the quotas (0 withdraws a commune); devices receive them at their next sync."""
    quotas = {}
    for name, value in request.form.items():
        if name.startswith("quota-"):
            quotas[name[6:]] = _int(value, -1)
    added = request.form.get("add_commune")
    if added:
        quotas[added] = _int(request.form.get("add_quota"), -1)
    year = _round_choice()
    console_progress.set_quotas(db.session, current_scope(), request.form.get("enumerator", ""), year, quotas,
                                actor=_user())
    db.session.commit()
    return redirect(url_for("console.assignments", enumerator=request.form.get("enumerator"), round=year,
                            saved=1), code=303)


@bp.get("/progress")
@page_access(*CONSOLE_ROLES)
def progress():
    """Interviews received against quota per district, commune and enumerator, per day, with a chart."""
    year = _round_choice()
    report = None
    chart = None
    if year:
        targets = current_app.config.get("ROUND_TARGETS") or {}
        report = console_progress.progress(db.session, current_scope(), year,
                                           target=targets.get(year) or targets.get(str(year)))
        from server.web.i18n import text

        chart = Markup(console_progress.chart_svg(report, title=text("c_chart")))
    planned = plan_progress(db.session, current_scope(), year) if year else []
    return _render("progress.html", "progress", report=report, chart=chart, year=year, planned=planned,
                   years=console_progress.rounds(db.session))


# --- submissions ---------------------------------------------------------------------------------

@bp.get("/submissions")
@page_access(*CONSOLE_ROLES)
def submissions():
    """Any form's submissions, filtered and paged on the server."""
    choices = {name: request.args.get(name, "") for name in console_records.FILTERS}
    number = _int(request.args.get("page"), 1)
    page = console_records.page_of(db.session, current_scope(), choices, page=number)
    form_ids = [row.form_id for row in console_forms.version_rows(db.session)]
    return _render("submissions.html", "submissions", result=page, choices=choices,
                   form_ids=list(dict.fromkeys(form_ids)), states=console_records.STATES)


def _form_of(form_id: str, version: str):
    try:
        return registry.load_form(registry.get_version(db.session, form_id, version))
    except ServerError:
        return None


@bp.get("/submissions/<submission_id>")
@page_access(*CONSOLE_ROLES)
def submission(submission_id: str):
    """One submission: its answers with the form's labels, its attachments and its revision history."""
    found = console_records.records(db.session, current_scope(), submission_id=submission_id)
    if not found:
        raise ApiError("not-found", f"No submission {submission_id!r} in your districts.")
    record = found[0]
    form = _form_of(record.form_id, record.form_version)
    history = console_records.revisions_of(db.session, submission_id)
    lines = _labelled(form, record.answers)
    return _render("submission.html", "submissions", record=record, lines=lines, history=history,
                   attachments=console_attachments.of_record(db.session, record))


def _labelled(form, answers, issues=()) -> list[dict]:
    """Answer rows with the question's label in the page's language (its name when the form has none),
    and the reasons (``issues``) beside the answers they concern."""
    language = current_language()
    lines = console_review.answer_lines(answers, list(issues), language=language)
    if form is None:
        return lines
    for line in lines:
        name = next((part for part in reversed(line["pointer"].split("/")) if not part.isdigit()), "")
        try:
            question = form.question(name)
        except KeyError:
            continue
        line["label"] = exports.label_of(question, form, language)
        if question.choices and line["value"] is not None:
            names = {c.name: exports.label_of(c, form, language)
                     for c in form.choices.get(question.choices, [])}
            values = line["value"] if isinstance(line["value"], list) else [line["value"]]
            line["shown"] = ", ".join(names.get(str(v), str(v)) for v in values)
    return lines


# --- review --------------------------------------------------------------------------------------

@bp.get("/review")
@page_access(*CONSOLE_ROLES)
def review():
    """Held submissions with their reasons, and conflicts."""
    held = console_review.items(db.session, store(), current_scope())
    return _render("review.html", "review", items=held,
                   conflicts=console_conflicts.visible_conflicts(db.session, store(), current_scope()))


@bp.get("/review/<key>")
@page_access(*CONSOLE_ROLES)
def review_item(key: str):
    """One held submission: each reason next to the answer it concerns, and the actions."""
    return _review_item_page(key)


def _review_item_page(key: str, status: int = 200, **context):
    item = console_review.item(db.session, store(), current_scope(), key)
    form = _form_of(item.form_id or "", item.form_version or "")
    lines = _labelled(form, item.answers, item.issues)
    context.setdefault("corrected", json.dumps(item.answers or {}, ensure_ascii=False, indent=1))
    return _render("review_item.html", "review", status, item=item, lines=lines, **context)


@bp.post("/review/<key>")
@page_access(*CONSOLE_ROLES)
def act(key: str):
    """Revalidate, accept or reject with a note, or correct the answers (a new revision)."""
    action = request.form.get("action", "")
    answers = None
    if action == "correct":
        try:
            answers = json.loads(request.form.get("answers", ""))
        except ValueError:
            answers = None
    try:
        outcome = console_review.act(db.session, store(), current_scope(), key, action, actor=_user(),
                                     now=utcnow(), note=request.form.get("note", ""), answers=answers)
    except ServerError as exc:
        db.session.rollback()
        if exc.code not in ("validation-failed", "conflict"):
            raise
        return _review_item_page(key, 422 if exc.code == "validation-failed" else 409, error=exc,
                                 corrected=request.form.get("answers") or None)
    db.session.commit()
    return _review_item_page(key, outcome=outcome)


# --- exports -------------------------------------------------------------------------------------

@bp.get("/exports")
@page_access(*CONSOLE_ROLES)
def exports_page():
    """Every form's raw data as CSV or XLSX."""
    newest = {}
    for row in console_forms.version_rows(db.session):
        newest.setdefault(row.form_id, row)
    return _render("exports.html", "exports", rows=list(newest.values()), labels=exports.LABELS)


@bp.get("/exports/<form_id>.<fmt>")
@page_access(*CONSOLE_ROLES)
def export(form_id: str, fmt: str):
    """A form's submissions (every version, the scope's districts) as CSV (a zip with repeats) or XLSX."""
    include_private = request.args.get("private") == "1"
    body, mimetype, name = exports.export(db.session, current_scope(), form_id, fmt,
                                          labels=request.args.get("labels", "codes"),
                                          include_private=include_private, actor=_user())
    db.session.commit()
    response = Response(stream_with_context(body), mimetype=mimetype)  # read while sent
    response.headers["Content-Disposition"] = attachment(name)
    response.headers["Ferry-Removed"] = "" if include_private else "free_text, attachments"
    return response


# --- audit log -----------------------------------------------------------------------------------

def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/audit")
@page_access("admin")
def audit_page():
    """The audit log, newest first, filterable by kind, action, user and dates."""
    args = request.args
    result = audit_log.entries(db.session, family=args.get("family", ""), action=args.get("action", ""),
                               username=args.get("user", ""), since=_date(args.get("since")),
                               until=_date(args.get("until")), page=_int(args.get("page"), 1))
    return _render("audit.html", "audit", result=result, args=args, families=list(audit_log.FAMILIES))
