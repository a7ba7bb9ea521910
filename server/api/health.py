"""Liveness and schema status, and the description of each problem code."""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from server.api.access import PUBLIC
from server.api.access import access
from server.models.database import MIGRATIONS_DIR
from server.models.database import schema_status
from server.problems import SERVER_PROBLEMS
from server.problems import ApiError
from server.problems import all_codes

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@access(PUBLIC)
def healthz():
    """Report whether the database answers and its schema is at the migration head."""
    try:
        status = schema_status(MIGRATIONS_DIR)
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: database unreachable: %s", exc)
        raise ApiError("database-unavailable", headers={"Retry-After": "30"}) from exc
    if not status["at_head"]:
        raise ApiError("schema-outdated",
                       f"The schema is at {status['current']}, the code expects {status['head']}: "
                       "run `flask --app server init`.", headers={"Retry-After": "60"})
    return {"status": "ok", "database": "ok", "schema": status["current"]}


@bp.get("/problems/<code>")
@access(PUBLIC)
def describe_problem(code: str):
    """Describe a problem code (the ``type`` URI of every problem response points here)."""
    codes = all_codes()
    if code not in codes:
        raise ApiError("not-found", f"No problem code {code!r}.")
    status, title = codes[code]
    return {"code": code, "status": status, "title": title,
            "documentation": "docs/problems.md#" + code,
            "server": code in SERVER_PROBLEMS}
