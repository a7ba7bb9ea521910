"""Pages for people with a browser: sign-in, and the reports at ``/reports/`` (Vietnamese and English).

Server-rendered HTML that works without JavaScript and loads nothing from other sites. The pages
authenticate with a signed session cookie (``server.api.access.page_access``); their form posts carry a
CSRF token (Flask-WTF), checked here and nowhere else, so the bearer-token API is unaffected.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import Flask
from flask import g
from flask import make_response
from flask import render_template
from flask import request
from flask_wtf.csrf import CSRFError

from server.api.access import session_principal
from server.extensions import csrf
from server.problems import HTML_RENDERER
from server.problems import ApiError
from server.problems import prefers_html
from server.reports import service as reports
from server.reports.request import NO_RESPONDENTS
from server.web import i18n
from server.web import tables
from server.web.views import bp

#: Paths whose errors a browser sees as an HTML page (the pages, and mistyped URLs under them).
PAGE_PATHS = ("/reports", "/console", "/login", "/logout")
_ONE_YEAR = 365 * 24 * 3600
# Nothing but this server: styles and images from here, forms posted here, never framed.
_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'")


def _lookup(rows: list[dict], *keys: str) -> dict:
    """Rows by the tuple of their ``keys`` (templates read a cell as ``cells[(a, b)]``)."""
    return {tuple(row[k] for k in keys): row for row in rows}


def _unique(rows: list[dict], key: str) -> list:
    """The values of ``key`` in the order they first appear."""
    return list(dict.fromkeys(row[key] for row in rows))


def _switch_language(code: str) -> str:
    """This page in language ``code``, its other choices kept."""
    args = request.args.to_dict()
    args["lang"] = code
    return request.path + "?" + urlencode(args)


def _district_name(code) -> str:
    return tables.district_name(code, i18n.text("city"))


def _is_page_request() -> bool:
    path = request.path
    if request.blueprint != bp.name and not (path == "/" or path.startswith(PAGE_PATHS)):
        return False
    return prefers_html()


#: Which choice each problem pointer names, worded on the error page (the detail is for API clients).
_FIELDS = {"/round": "round", "/previous": "previous_round", "/from": "from_round", "/to": "to_round",
           "/level": "level", "/part": "download", "/language": "language"}


def render_problem(code, status, title, detail, *, headers=None, errors=()):
    """An error page for a browser on a page (same code and status as the problem); else None.

    The page says what went wrong in the reader's language, by code and by the choices the problem
    points at; the English ``detail`` and ``title`` stay in the problem document for API clients.
    """
    if not _is_page_request():
        return None
    if "principal" not in g and status < 500:
        # Say who is signed in on errors no page view saw (a mistyped URL), so the page offers the way back.
        g.principal = session_principal()
    key = f"problem_{code}" if f"problem_{code}" in i18n.TEXT else "problem_other"
    if code == "not-found" and any(e.get("detail") == NO_RESPONDENTS for e in errors):
        key = "problem_no-respondents"
    fields = list(dict.fromkeys(_FIELDS[e["pointer"]] for e in errors if e.get("pointer") in _FIELDS))
    html = render_template("error.html", code=code, status=status, message=key, fields=fields)
    response = _secure(make_response(html, status))
    response.headers["Ferry-Problem"] = code
    for name, value in (headers or {}).items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response


def _secure(response):
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # Reports hold sensitive figures: not kept in caches, not shown again by Back after signing out.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = i18n.current_language()
    response.vary.add("Cookie")
    return response


@bp.before_request
def _check_csrf():
    if request.method == "POST":
        try:
            csrf.protect()
        except CSRFError as exc:
            raise ApiError("csrf-failed", exc.description) from exc


@bp.after_request
def _finish(response):
    asked = request.args.get("lang")
    if asked in i18n.LANGUAGES and request.cookies.get(i18n.COOKIE) != asked:
        response.set_cookie(i18n.COOKIE, asked, max_age=_ONE_YEAR, httponly=True, samesite="Lax",
                            secure=bool(request.environ.get("wsgi.url_scheme") == "https"))
    return _secure(response)


def init_app(app: Flask) -> None:
    """Register the pages, their template helpers, session lifetime and HTML error pages."""
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=float(app.config["SESSION_HOURS"]))
    app.register_blueprint(bp)
    app.jinja_env.globals.update(i18n.helpers(), rows=reports.records, lookup=_lookup, unique=_unique,
                                 switch_language=_switch_language, district_name=_district_name)
    app.extensions[HTML_RENDERER] = render_problem

    @app.context_processor
    def _language():
        principal = g.get("principal")
        return {"lang": i18n.current_language(), "user": principal.user if principal is not None else None}
