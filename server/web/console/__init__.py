"""The coordinator's console at ``/console/``: pages for coordinators (their districts) and admins.

The same habits as ``/reports/``: signed session cookie, CSRF on every form post, the same security
headers, no JavaScript needed, Vietnamese by default with the English switch. Views parse the form,
call one service of ``server.console``, render.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import g
from flask import request

from server.api.access import session_principal
from server.cli.console import coordinator_districts_command
from server.console.review import in_language
from server.console.scope import scope_of
from server.extensions import db
from server.web import _check_csrf
from server.web import _finish
from server.web import tables
from server.web.console import text  # noqa: F401 - merges the console's strings into the page text

bp = Blueprint("console", __name__, url_prefix="/console")
bp.after_request(_finish)


@bp.before_request
def _check_csrf_of_signed_in_posts():
    # Anonymous posts change nothing (page_access answers 401 or the sign-in page first, as the
    # API does); a signed-in browser's post must carry its CSRF token.
    if request.method == "POST" and session_principal() is not None:
        _check_csrf()


def current_scope():
    """The signed-in console user's scope (page_access has checked the role)."""
    if "scope" not in g:
        g.scope = scope_of(db.session, g.principal.user)
    return g.scope


def init_app(app: Flask) -> None:
    """Register the console's pages."""
    from server.web.console import app_user_pages  # noqa: F401 - the views register themselves on bp
    from server.web.console import attachment_pages  # noqa: F401 - the views register themselves on bp
    from server.web.console import boundaries  # noqa: F401 - the views register themselves on bp
    from server.web.console import conflict_pages  # noqa: F401 - the views register themselves on bp
    from server.web.console import outreach_pages  # noqa: F401 - the views register themselves on bp
    from server.web.console import pages  # noqa: F401 - the views register themselves on bp
    from server.web.console import plan_pages  # noqa: F401 - the views register themselves on bp

    # Devices not heard from for this many days are flagged on the phones page.
    app.config.setdefault("CONSOLE_STALE_DAYS", 3)
    # Interviews each round aims for ({year: n}); a round without one aims for the sum of its quotas.
    app.config.setdefault("ROUND_TARGETS", {})
    app.jinja_env.globals["in_language"] = in_language
    app.jinja_env.filters["district_label"] = lambda code: tables.district_name(code, "")
    app.register_blueprint(bp)
    app.cli.add_command(coordinator_districts_command)
