"""Operations that carry an ODK instance (``xml``) get their answers read by ``forms.instance``.

The web form sends what ODK Web Forms produced, untouched; the answers come from the same function
OpenRosa submissions go through, so one interview gives the same answers whichever way it arrives.
An instance that cannot be read, or that names another form, version or submission than its operation,
makes the operation ``rejected`` (stored raw, like any malformed operation). An instance of a form
version the server does not have is left for the engine, which quarantines it (``form-unknown``); when
a coordinator revalidates it after the version is published, the engine reads it here then.
"""

from __future__ import annotations

import dataclasses

from forms.errors import FormError
from forms.instance import answers_from_instance
from sync.protocol import Operation
from sync.protocol import PushRequest
from sync.store import Store


def _problem(op: Operation, pointer: str, detail: str) -> Operation:
    return dataclasses.replace(op, problems=(*op.problems, {"pointer": pointer, "detail": detail}))


def read_instance(op: Operation, store: Store) -> Operation:
    """Return ``op`` with the answers of its instance XML, or with a problem; unchanged without XML."""
    if op.instance_xml is None or op.problems:
        return op
    with store.snapshot():
        version = store.form_version(op.form_id, op.form_version)
    form = getattr(version, "form", None)
    if form is None:
        return op  # unknown version: the engine quarantines the op whole, with its reason
    try:
        instance = answers_from_instance(form, op.instance_xml.encode("utf-8"))
    except FormError as exc:
        return _problem(op, "/xml", f"{exc.code}: {exc.detail}")
    if instance.submission_uuid != op.submission_id:
        return _problem(op, "/sub", "must be the UUID of the instance's meta/instanceID")
    return dataclasses.replace(op, answers=instance.answers)


def read_instances(request: PushRequest, store: Store) -> PushRequest:
    """Return ``request`` with the answers of its instance-carrying operations read from their XML."""
    if not any(op.instance_xml is not None for op in request.ops):
        return request
    return dataclasses.replace(request, ops=tuple(read_instance(op, store) for op in request.ops))
