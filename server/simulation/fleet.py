"""The server side of the fleet simulator: enumerators with devices, and a transport into the real app."""

from __future__ import annotations

import contextvars
import datetime as dt
import secrets
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from server.accounts import users as accounts
from server.extensions import db
from server.models import HEAD_REVISION
from server.models import Submission
from server.models import SubmissionRevision
from server.models import User
from server.sync.assignments import replace_assignments
from sync.client import Response
from sync.simulation.fleet import DeviceSpec
from sync.transport import encode_json


class AppTransport:
    """The whole Flask stack (routing, auth, load shedding, the SQL store) without a socket.

    Bodies go as plain JSON: in-process, gzip costs CPU and saves nothing.
    """

    def __init__(self, app: Flask):
        self.client = app.test_client()

    def _post(self, path: str, body: dict, token: str | None) -> Response:
        headers = {"Content-Type": "application/json", "Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answer = self.client.post(path, data=encode_json(body), headers=headers)
        return Response(answer.status_code, {k.lower(): v for k, v in answer.headers.items()},
                        answer.get_json(silent=True))

    def send(self, path: str, body: dict, token: str | None) -> Response:
        """Handle one request as a device's would be, each in its own app context."""
        # An empty context: a caller's app context (the CLI's) must not leak its session into requests.
        return contextvars.Context().run(self._post, path, body, token)


class Enumerators:
    """Makes the enumerator behind each simulated device, with its assignments and enrolment codes."""

    def __init__(self, app: Flask, prefix: str = "fleet"):
        self.app, self.prefix = app, prefix
        self.passwords: dict[str, str] = {}  # of the users this object created

    def username(self, spec: DeviceSpec) -> str:
        """Return the user name of a device's enumerator."""
        return f"{self.prefix}-{spec.index + 1:03d}"

    def __call__(self, spec: DeviceSpec) -> str:
        """Return a new one-time enrolment code for the device's enumerator (created on first use)."""
        username = self.username(spec)
        return contextvars.Context().run(self._code, spec, username)

    def _code(self, spec: DeviceSpec, username: str) -> str:
        with self.app.app_context():
            if db.session.scalar(select(User.id).where(User.username == username)) is None:
                password = secrets.token_urlsafe(12)
                accounts.create_user(db.session, username, password, "enumerator", cli=True)
                self.passwords[username] = password
                for year in sorted({r for r, _ in spec.quotas}):
                    entries = [{"commune": c, "quota": q} for (r, c), q in sorted(spec.quotas.items())
                               if r == year]
                    replace_assignments(db.session, username, year, entries)
            hours = self.app.config["ENROLMENT_CODE_HOURS"]
            _, code = accounts.enroll_device(db.session, username, spec.label, dt.timedelta(hours=hours),
                                             cli=True)
            db.session.commit()
            return code


@dataclass(frozen=True)
class Stored:
    """A submission as the server holds it: its form, revision count and head answers."""

    form_id: str
    revisions: int
    answers: dict | None


def stored_submissions(app: Flask, ids: list[str] | None = None) -> dict[str, Stored]:
    """Return the server's submissions (all, or those of ``ids``) by id."""

    def read() -> dict[str, Stored]:
        with app.app_context():
            columns = (Submission.id, Submission.form_id, Submission.revisions, SubmissionRevision.answers)
            query = (select(*columns)
                     .join(SubmissionRevision, HEAD_REVISION))
            found: dict[str, Stored] = {}
            chunks = [None] if ids is None else [ids[i:i + 500] for i in range(0, len(ids), 500)]
            for chunk in chunks:
                limited = query if chunk is None else query.where(Submission.id.in_(chunk))
                for sub_id, form_id, revisions, answers in db.session.execute(limited):
                    found[sub_id] = Stored(form_id, revisions, answers)
            return found

    return contextvars.Context().run(read)
