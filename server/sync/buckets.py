"""Pull-bucket feeds: what devices download (forms, places, assignments, settings) as ``BucketChange`` rows.

Every change takes its seq from the same commit-ordered counter the SQL store uses, on the caller's
session, so it commits (or rolls back) with the change that caused it and a pull never skips it.
Bucket names come from ``sync.buckets`` (what ``sync.engine`` pulls).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import BucketChange
from server.models import Device
from server.models import Round
from server.models import next_seq
from sync.buckets import FORMS
from sync.buckets import PLACES
from sync.buckets import assignments_bucket
from sync.buckets import settings_bucket
from sync.protocol import change_size

#: Devices pick the form versions they may fill in from this bucket; the rest are tombstoned.
DEVICE_FORM_STATES = ("open", "closing")


def _normalised(data: dict | None) -> dict | None:
    # Compare what the database gives back (JSON), not tuples or other Python-only shapes.
    return None if data is None else json.loads(json.dumps(data))


def _current(session: Session, bucket: str, key: str) -> BucketChange | None:
    # populate_existing: a row loaded earlier in this session may be older than the committed one.
    return session.execute(
        select(BucketChange).where(BucketChange.bucket == bucket, BucketChange.key == key)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def put(session: Session, bucket: str, key: str, data: dict | None) -> int | None:
    """Record ``data`` as the latest value of ``key``; return its seq, or None if nothing changed.

    ``data`` None is a tombstone. Writing what devices already have costs no seq and no bytes, so
    feeds may republish freely (loading twice does not re-send).
    """
    data = _normalised(data)
    row = _current(session, bucket, key)
    if (row.data if row is not None else None) == data:
        return None  # unchanged, or a tombstone of a key no device ever received
    seq = next_seq(session)
    # The counter row lock is held until commit from here on: re-read under it.
    row = _current(session, bucket, key)
    size = change_size(key, data)
    if row is None:
        session.add(BucketChange(bucket=bucket, key=key, seq=seq, data=data, size=size))
    else:
        row.seq, row.data, row.size = seq, data, size
    session.flush()
    return seq


def remove(session: Session, bucket: str, key: str) -> int | None:
    """Tombstone ``key`` so devices delete it; return the seq, or None if there was nothing to delete."""
    return put(session, bucket, key, None)


# -- forms ---------------------------------------------------------------------------------------
def form_key(form_id: str, version: str) -> str:
    """Return the ``forms`` key of a form version."""
    return f"{form_id}@{version}"


def form_summary(version) -> dict:
    """Return what a device needs to know of a form version to fetch it: state, hash, URLs."""
    form_id = version.form.form_id
    url = f"/api/v1/forms/{quote(form_id, safe='')}/versions/{quote(version.version, safe='')}"
    return {
        "form_id": form_id,
        "version": version.version,
        "title": version.title,
        "state": version.state,
        "content_hash": version.content_hash,
        "url": url,
        "attachments": [{"filename": a.filename, "sha256": a.sha256,
                         "url": f"{url}/attachments/{quote(a.filename, safe='')}"}
                        # Sorted here: a freshly imported version lists them in upload order.
                        for a in sorted(version.attachments, key=lambda a: a.filename)],
    }


def publish_form_version(session: Session, version) -> int | None:
    """Put an open or closing version in ``forms``; tombstone it in any other state."""
    key = form_key(version.form.form_id, version.version)
    if version.state in DEVICE_FORM_STATES:
        return put(session, FORMS, key, form_summary(version))
    return remove(session, FORMS, key)


# -- places --------------------------------------------------------------------------------------
def publish_places(session: Session, unit_list) -> int:
    """Put each district (``d:<code>``) and commune (``c:<key>``); return how many changed."""
    changed = 0
    for district in unit_list.districts:
        communes = list(district.communes)
        changed += put(session, PLACES, f"d:{district.code}", {
            "key": district.code, "code": district.code, "name": district.name, "kind": district.kind,
            "population": sum(c.population_2019 for c in communes)}) is not None
        for commune in communes:
            changed += put(session, PLACES, f"c:{commune.key}", {
                "key": commune.key, "code": commune.code, "name": commune.name, "kind": commune.kind,
                "district": district.code, "population": commune.population_2019}) is not None
    return changed


# -- assignments ---------------------------------------------------------------------------------
def assignment_key(round_year: int, commune_key: str) -> str:
    """Return the key of one assignment in its enumerator's bucket."""
    return f"{round_year}:{commune_key}"


def publish_assignment(session: Session, assignment) -> int | None:
    """Put one assignment (round, commune, quota) in its enumerator's bucket."""
    commune = assignment.commune
    return put(session, assignments_bucket(assignment.user_id),
               assignment_key(assignment.round.year, commune.key), {
                   "round": assignment.round.year, "commune": commune.key, "commune_name": commune.name,
                   "district": commune.district.code, "quota": assignment.quota})


def withdraw_assignment(session: Session, user_id: int, round_year: int, commune_key: str) -> int | None:
    """Tombstone one assignment in its enumerator's bucket."""
    return remove(session, assignments_bucket(user_id), assignment_key(round_year, commune_key))


# -- device settings -----------------------------------------------------------------------------
def publish_device_settings(session: Session, device: Device, *, language: str = "vi") -> list[int]:
    """Put a device's settings: ``language`` and ``round`` (the latest survey round); return new seqs."""
    bucket = settings_bucket(device.id)
    latest = session.scalar(select(Round).order_by(Round.year.desc()).limit(1))
    seqs = [put(session, bucket, "language", {"value": language})]
    if latest is None:
        seqs.append(remove(session, bucket, "round"))
    else:
        seqs.append(put(session, bucket, "round", {"year": latest.year, "kind": latest.kind,
                                                   "name": latest.name}))
    return [s for s in seqs if s is not None]
