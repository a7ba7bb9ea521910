"""Form versions on the server: import XLSForms as drafts, publish, change state, load for validation."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

import forms
from forms import library
from forms import versions
from server.models import Form
from server.models import FormAttachment
from server.models import FormVersion
from server.models import audit
from server.models import utcnow
from server.models.errors import ServerError
from server.sync import buckets

#: Which states of a version each audience may see: devices and enumerators get what they can fill in.
VISIBLE_STATES = {
    "device": ("open", "closing"),
    "enumerator": ("open", "closing"),
    "analyst": ("open", "closing", "closed"),
    "planner": ("open", "closing", "closed"),
    "coordinator": ("draft", "open", "closing", "closed"),
    "admin": ("draft", "open", "closing", "closed"),
}


def _actor(actor) -> dict:
    return {"user_id": actor.id if actor is not None else None, "cli": actor is None}


def form_id_from_filename(filename: str) -> str:
    """The form id a file gives a form whose settings name none: its stem in ASCII letters, digits and _.

    ``Khảo sát hộ.xlsx`` gives ``Khao_sat_ho``; pyxform would name every such form ``data``.
    """
    stem = PurePath(filename.replace("\\", "/")).stem.replace("đ", "d").replace("Đ", "D")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_stem).strip("_")[:100]
    if not slug or not (slug[0].isalpha() or slug[0] == "_"):
        slug = ("form_" + slug)[:100]
    return slug


def import_xlsform(session: Session, source: bytes, filename: str,
                   attachments: dict[str, bytes] | None = None, *, actor=None,
                   replace: bool = False) -> tuple[FormVersion, bool]:
    """Load an XLSForm and store it as a draft version; return the version and whether it is new.

    Importing the same content again is a no-op. A form without ``form_id`` in its settings takes
    its file's name. Different content for a draft that exists replaces it only with ``replace``
    (else ``conflict``, naming the file it came from); a published version is never replaced:
    changed content needs a new version string.
    """
    attachments = attachments or {}
    form = forms.load_xlsform(source, attachments=attachments, file_type=_suffix(filename),
                              filename=form_id_from_filename(filename) + ".xlsx")
    missing = sorted(set(form.attachments) - set(attachments))
    if missing:
        raise ServerError("validation-failed", "The form reads files that were not sent: "
                       + ", ".join(missing) + ".",
                       errors=[{"pointer": "/attachments", "detail": f"missing {name}"} for name in missing])
    row = session.scalar(select(Form).where(Form.form_id == form.form_id))
    if row is None:
        row = Form(form_id=form.form_id, title=form.title)
        session.add(row)
        session.flush()
    version = session.scalar(select(FormVersion).where(
        FormVersion.form_id == row.id, FormVersion.version == form.version))
    if version is not None and version.content_hash == form.content_hash:
        return version, False
    if version is not None and version.state != "draft":
        versions.check_publish(form, version.content_hash)  # raises version-conflict
    if version is not None and not replace:
        shown = form.version or "(none)"
        raise ServerError("conflict", f"Form {form.form_id!r} version {shown} is already a draft, made from "
                          f"{version.source_filename!r} with other content. Replace that draft on purpose, "
                          "or give this form its own form_id or version in its settings sheet.",
                          errors=[{"pointer": "/file", "detail": "would replace another draft"}],
                          form_id=form.form_id, version=form.version)
    if version is None:
        version = FormVersion(form=row, version=form.version)
        session.add(version)
    version.state = "draft"
    version.content_hash = form.content_hash
    version.definition = form.to_json()
    version.source = bytes(source)
    version.source_filename = filename
    for old in list(version.attachments):
        session.delete(old)
    session.flush()
    for name in form.attachments:
        content = bytes(attachments[name])
        version.attachments.append(FormAttachment(
            filename=name, content=content, sha256=hashlib.sha256(content).hexdigest()))
    # A draft's title is its own until it opens: the form's title (lists, exports) follows the versions
    # that collect data, so importing a draft never renames the versions already out.
    if all(v.state == "draft" for v in row.versions):
        row.title = form.title
    session.flush()
    audit(session, "form.import", "form_version", f"{form.form_id}@{form.version}",
          content_hash=form.content_hash, **_actor(actor))
    return version, True


def _suffix(filename: str) -> str | None:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else None


def get_version(session: Session, form_id: str, version: str) -> FormVersion:
    """Return a form version or raise ``not-found``."""
    row = session.scalar(
        select(FormVersion).join(Form).where(Form.form_id == form_id, FormVersion.version == version)
        .options(selectinload(FormVersion.attachments))
    )
    if row is None:
        raise ServerError("not-found", f"No version {version!r} of form {form_id!r}.")
    return row


def set_state(session: Session, form_id: str, version: str, state: str, *, actor=None) -> FormVersion:
    """Move a version to ``state`` along the allowed transitions; the same state again is a no-op."""
    row = get_version(session, form_id, version)
    if row.state == state:
        return row
    versions.check_transition(row.state, state)
    before, row.state = row.state, state
    if state == "open" and row.published_at is None:
        row.published_at = utcnow()
        row.form.title = row.title
    buckets.publish_form_version(session, row)
    audit(session, "form.state", "form_version", f"{form_id}@{version}", before=before, after=state,
          **_actor(actor))
    return row


def publish(session: Session, form_id: str, version: str, *, actor=None) -> FormVersion:
    """Open a draft version for data collection."""
    return set_state(session, form_id, version, "open", actor=actor)


def visible_versions(session: Session, audience: str) -> list[FormVersion]:
    """Return the versions ``audience`` may see, newest first within each form."""
    states = VISIBLE_STATES[audience]
    return list(session.scalars(
        select(FormVersion).join(Form).where(FormVersion.state.in_(states))
        .options(selectinload(FormVersion.form), selectinload(FormVersion.attachments))
        .order_by(Form.form_id, FormVersion.id.desc())
    ))


def can_see(audience: str, version: FormVersion) -> bool:
    """Return whether ``audience`` may read ``version``."""
    return version.state in VISIBLE_STATES[audience]


_COMPILED: OrderedDict[str, forms.Form] = OrderedDict()
_COMPILED_MAX = 64


def compiled_form(content_hash: str) -> forms.Form | None:
    """Return the form model compiled for ``content_hash`` if it is cached (no database read needed)."""
    form = _COMPILED.get(content_hash)
    if form is not None:
        _COMPILED.move_to_end(content_hash)
    return form


def load_form(version: FormVersion) -> forms.Form:
    """Return the form model of a stored version, compiled once per content hash.

    Versions never change once published, so their hash is a safe cache key across requests.
    """
    form = _COMPILED.get(version.content_hash)
    if form is None:
        form = forms.Form.from_json(version.definition)
        _COMPILED[version.content_hash] = form
        if len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(version.content_hash)
    return form


def install_library(session: Session) -> list[FormVersion]:
    """Import and open the built-in forms (awareness, outreach); versions already there are kept.

    Their ``forms`` bucket entries are (re)published, so a database from before the buckets gets them.
    """
    installed = []
    files = {name: path.read_bytes() for name, path in library.attachments().items()}
    for name in library.NAMES:
        path = library.path(name)
        version, _ = import_xlsform(session, path.read_bytes(), path.name, files)
        if version.state == "draft":
            publish(session, version.form.form_id, version.version)
        buckets.publish_form_version(session, version)
        installed.append(version)
    return installed
