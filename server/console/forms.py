"""Forms in the console: versions with state, content hash and submission counts; uploads with their
problems and warnings listed once each, by sheet and row."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from forms import versions as form_versions
from forms.errors import FormError
from forms.xlsform import describe
from server.forms import registry
from server.models import Form
from server.models import FormVersion
from server.models import QuarantinedSubmission
from server.models import Submission
from server.models.errors import ServerError

#: The states a version may move to next, in the order the console offers them.
NEXT_STATES = {"draft": ("open",), "open": ("closing", "closed"), "closing": ("open", "closed"),
               "closed": ("open",)}


@dataclass
class VersionRow:
    form_id: str
    title: str
    version: str
    state: str
    content_hash: str
    source_filename: str
    created_at: object
    submissions: int
    quarantined: int
    next_states: tuple[str, ...]


@dataclass
class UploadOutcome:
    """What an upload did: the version stored (or None), and its problems and warnings, once each."""

    version: FormVersion | None = None
    created: bool = False
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    code: str | None = None
    detail: str = ""


def _allowed(current: str) -> tuple[str, ...]:
    allowed = []
    for target in NEXT_STATES[current]:
        try:
            form_versions.check_transition(current, target)
        except FormError:
            continue
        allowed.append(target)
    return tuple(allowed)


def version_rows(session: Session) -> list[VersionRow]:
    """Every version of every form, newest first within each form, with its counts."""
    counts = dict(((f, v), n) for f, v, n in session.execute(
        select(Submission.form_id, Submission.form_version, func.count())
        .where(Submission.deleted.is_(False)).group_by(Submission.form_id, Submission.form_version)))
    held = dict(((f, v), n) for f, v, n in session.execute(
        select(QuarantinedSubmission.form_id, QuarantinedSubmission.form_version, func.count())
        .where(QuarantinedSubmission.resolved_at.is_(None))
        .group_by(QuarantinedSubmission.form_id, QuarantinedSubmission.form_version)))
    rows = []
    for version in session.scalars(select(FormVersion).join(Form).options(selectinload(FormVersion.form))
                                   .order_by(Form.form_id, FormVersion.id.desc())):
        key = (version.form.form_id, version.version)
        rows.append(VersionRow(
            form_id=version.form.form_id, title=version.title, version=version.version,
            state=version.state, content_hash=version.content_hash, source_filename=version.source_filename,
            created_at=version.created_at, submissions=counts.get(key, 0), quarantined=held.get(key, 0),
            next_states=_allowed(version.state)))
    return rows


def _once(problems: list[dict]) -> list[dict]:
    """Each problem once (pyxform repeats some per row or per language), in the order first met."""
    seen: dict[tuple, dict] = {}
    for problem in problems:
        seen.setdefault((problem.get("sheet"), problem.get("row"), problem.get("detail")), problem)
    return list(seen.values())


def _warning(text: str) -> dict:
    return describe(text)


def upload(session: Session, source: bytes, filename: str, attachments: dict[str, bytes], *, actor,
           replace: bool = False) -> UploadOutcome:
    """Import an XLSForm as a draft; problems come back in the outcome instead of raising."""
    try:
        version, created = registry.import_xlsform(session, source, filename, attachments, actor=actor,
                                                   replace=replace)
    except FormError as exc:
        session.rollback()
        errors = exc.errors or [{"pointer": "/", "detail": exc.detail, "sheet": None, "row": None}]
        return UploadOutcome(errors=_once(errors), code=exc.code, detail=exc.detail)
    except ServerError as exc:
        session.rollback()
        return UploadOutcome(errors=_once(exc.errors), code=exc.code, detail=exc.detail or exc.code)
    warnings = _once([_warning(w) for w in version.definition.get("warnings", [])])
    return UploadOutcome(version=version, created=created, warnings=warnings)


def attachments_needed(version: FormVersion) -> list[str]:
    """The files a stored version reads."""
    return list(version.definition.get("attachments", []))
