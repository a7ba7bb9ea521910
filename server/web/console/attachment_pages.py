"""A submission's attachments from the console: downloaded, or drawn inline as thumbnails (images)."""

from __future__ import annotations

from flask import Response

from server.api.access import page_access
from server.api.body import attachment as content_disposition
from server.console import attachments as console_attachments
from server.console import records as console_records
from server.console.scope import CONSOLE_ROLES
from server.extensions import db
from server.problems import ApiError
from server.web.console import bp
from server.web.console import current_scope


def _record(submission_id: str):
    found = console_records.records(db.session, current_scope(), submission_id=submission_id)
    if not found:
        raise ApiError("not-found", f"No submission {submission_id!r} in your districts.")
    return found[0]


def _send(submission_id: str, sha256: str, *, inline: bool) -> Response:
    scope = current_scope()
    item, data = console_attachments.read(db.session, _record(submission_id), sha256, actor=scope.user,
                                          inline=inline)
    db.session.commit()
    response = Response(data, mimetype=item.content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = content_disposition(item.name, inline=inline)
    # whatever its bytes say, the file is never run as a page of this origin
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/submissions/<submission_id>/attachments/<sha256>")
@page_access(*CONSOLE_ROLES)
def download_attachment(submission_id: str, sha256: str):
    """Download one attachment of a submission in the caller's districts (audited)."""
    return _send(submission_id, sha256, inline=False)


@bp.get("/submissions/<submission_id>/attachments/<sha256>/thumbnail")
@page_access(*CONSOLE_ROLES)
def attachment_thumbnail(submission_id: str, sha256: str):
    """A JPEG or PNG attachment drawn inline on the submission's page (audited as a view)."""
    return _send(submission_id, sha256, inline=True)
