"""The console's outreach-plan pages: propose a year's plan from a survey round, edit its rows, approve it,
and see the approved plan beside what was done (``server.console.outreach_plans``: who may do what)."""

from __future__ import annotations

from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from analysis import labels
from analysis.errors import AnalysisError
from analysis.groups import load_groups
from analysis.outreach_plan import CHANNEL_ACTIVITIES
from analysis.population import communes as census_communes
from analysis.report_plans import ROLES as ROLE_WORDS
from analysis.report_plans import TEXT as PLAN_TEXT
from server.api.access import page_access
from server.console import outreach_plans as service
from server.console.outreach_plans import number
from server.extensions import db
from server.models.errors import ServerError
from server.problems import status_of
from server.reports import plans as report_plans
from server.reports import service as reports
from server.web import i18n
from server.web.console import bp
from server.web.i18n import current_language

i18n.add_text({
    "c_outreach": ("Kế hoạch truyền thông", "Outreach plans"),
    "c_o_lead": ("Mỗi năm một kế hoạch: ở mỗi quận/huyện, kênh nào tiếp cận nhóm đối tượng nào, tại các "
                 "xã/phường còn khoảng trống. Đề xuất từ số liệu một vòng khảo sát, sửa, rồi duyệt.",
                 "One plan a year: in each district, which channels reach which target groups in the "
                 "communes where the gaps are. Proposed from a survey round's figures, edited, approved."),
    "c_o_year": ("Năm kế hoạch", "Plan year"),
    "c_o_round": ("Từ vòng khảo sát", "From survey round"),
    "c_o_propose": ("Đề xuất kế hoạch", "Propose a plan"),
    "c_o_status_draft": ("bản nháp", "draft"),
    "c_o_status_approved": ("đã duyệt", "approved"),
    "c_o_approved": ("Đã được {role} duyệt ngày {date}.", "Approved on {date} by {role}."),
    "c_o_group": ("Nhóm đối tượng", "Target group"),
    "c_o_communes": ("Xã/phường (mã, cách nhau bởi dấu phẩy)", "Communes (codes, comma-separated)"),
    "c_o_reason": ("Lý do", "Reason"),
    "c_o_note": ("Ghi chú (thay lý do)", "Note (replaces the reason)"),
    "c_o_save": ("Lưu", "Save"),
    "c_o_delete": ("Xóa", "Delete"),
    "c_o_add": ("Thêm dòng", "Add a row"),
    "c_o_approve": ("Duyệt kế hoạch", "Approve the plan"),
    "c_o_compare": ("Kế hoạch và thực hiện", "Planned and done"),
    "c_o_refused": ("Không thực hiện được ({code}):", "Not done ({code}):"),
    "c_o_rows": ("{n} dòng", "{n} rows"),
    # the words the report's plan-versus-done table uses, said once (analysis.report_plans)
    **{f"c_op_{key}": PLAN_TEXT[key] for key in ("channel", "planned_col", "activities", "people_reached",
                                                 "communes")},
})


def _scope():
    if "plan_scope" not in g:
        g.plan_scope = service.plan_scope(db.session, g.principal.user)
    return g.plan_scope


def _choices(lang: str) -> dict:
    places = census_communes()
    groups = [d["name"] for d in load_groups() if "any_of" not in d]
    return {"groups": [(name, labels.group(name, lang)) for name in groups],
            "channels": [(c, labels.channel(c, lang)) for c in CHANNEL_ACTIVITIES],
            "districts": sorted(c for c in set(places["district_code"]) if _scope().sees_district(c)),
            "commune_names": dict(zip(places["commune_key"], places["commune_name"], strict=True))}


def _render(template: str, status: int = 200, **context):
    lang = current_language()
    return render_template(f"console/{template}", page="outreach", scope=_scope(), lang=lang,
                           role_words={k: v[0 if lang == "vi" else 1] for k, v in ROLE_WORDS.items()},
                           **_choices(lang), **context), status


def _list_page(problem=None, status=200):
    rounds = reports.load(db.session, current_app.config["ROUNDS"], missing_ok=True).rounds
    return _render("outreach_plans.html", status, plans=service.plans(db.session), rounds=rounds,
                   problem=problem)


def _refused(exc) -> dict:
    return {"code": exc.code, "detail": exc.detail or "", "errors": getattr(exc, "errors", [])}


@bp.get("/outreach-plans")
@page_access(*service.PLAN_ROLES)
def outreach_plans():
    """Every year's outreach plan, and the form to propose one (planners and admins)."""
    return _list_page()


@bp.post("/outreach-plans")
@page_access(*service.PLAN_ROLES)
def propose_outreach_plan():
    """Propose the draft plan of a year from a survey round; open it."""
    try:
        year, round_ = int(request.form.get("year", "")), int(request.form.get("round", ""))
        data = reports.load(db.session, current_app.config["ROUNDS"])
        service.propose(db.session, _scope(), data, year=year, round_=round_, actor=g.principal.user,
                        min_cell=int(current_app.config["REPORT_MIN_CELL"]))
    except ValueError:
        return _list_page({"code": "validation-failed", "detail": "year and round are numbers", "errors": []},
                          422)
    except (ServerError, AnalysisError) as exc:
        db.session.rollback()
        return _list_page(_refused(exc), status_of(exc))
    db.session.commit()
    return redirect(url_for("console.outreach_plan", year=year), code=303)


def _plan_page(year: int, problem=None, status=200):
    found = service.view(db.session, _scope(), year)
    comparison = None
    if found.plan.status == "approved":
        review = report_plans.outreach_review(report_plans.approved_outreach(db.session),
                                              reports.load_activities(db.session), year)
        table = review.comparison
        comparison = table[table["district_code"].map(_scope().sees_district)].to_dict("records")
    return _render("outreach_plan.html", status, plan=found.plan, rows=found.rows, comparison=comparison,
                   problem=problem)


@bp.get("/outreach-plans/<year>")
@page_access(*service.PLAN_ROLES)
def outreach_plan(year: str):
    """A year's plan: its rows in the caller's districts, editable while a draft; planned and done once
    approved."""
    year = number(year)
    return _plan_page(year)


def _row_fields() -> dict:
    form = request.form
    fields = {"district_code": form.get("district", ""), "group": form.get("group", ""),
              "channel": form.get("channel", ""),
              "communes": [c.strip() for c in form.get("communes", "").split(",") if c.strip()]}
    if form.get("note", "").strip():
        fields["note"] = form["note"].strip()[:2000]
    return fields


def _act(year: int, action):
    try:
        action()
    except ServerError as exc:
        db.session.rollback()
        if exc.code == "not-found":
            raise
        return _plan_page(year, _refused(exc), status_of(exc))
    db.session.commit()
    return redirect(url_for("console.outreach_plan", year=year), code=303)


@bp.post("/outreach-plans/<year>/rows")
@page_access(*service.PLAN_ROLES)
def add_outreach_row(year: str):
    """Add a row to a draft plan."""
    year = number(year)
    return _act(year, lambda: service.save_row(db.session, _scope(), year, _row_fields(),
                                               actor=g.principal.user))


@bp.post("/outreach-plans/<year>/rows/<row_id>")
@page_access(*service.PLAN_ROLES)
def change_outreach_row(year: str, row_id: str):
    """Change a row of a draft plan."""
    year, row_id = number(year), number(row_id)
    return _act(year, lambda: service.save_row(db.session, _scope(), year, _row_fields(),
                                               actor=g.principal.user, row_id=row_id))


@bp.post("/outreach-plans/<year>/rows/<row_id>/delete")
@page_access(*service.PLAN_ROLES)
def delete_outreach_row(year: str, row_id: str):
    """Remove a row from a draft plan."""
    year, row_id = number(year), number(row_id)
    return _act(year, lambda: service.delete_row(db.session, _scope(), year, row_id, actor=g.principal.user))


@bp.post("/outreach-plans/<year>/approve")
@page_access(*service.PLAN_ROLES)
def approve_outreach_plan(year: str):
    """Approve a draft plan: it is frozen, and the report of its year compares it with what was done."""
    year = number(year)
    return _act(year, lambda: service.approve(db.session, _scope(), year, actor=g.principal.user))
