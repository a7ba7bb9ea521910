"""Fakes and helpers for sync tests: form versions, a fault-injecting store wrapper, op builders."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sync import engine
from sync.protocol import PROTOCOL
from sync.protocol import PushRequest
from sync.protocol import PushResponse
from sync.store import DeviceRef
from sync.store import Store

T0 = dt.datetime(2025, 6, 3, 3, 0, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class FakeIssue:
    """An answer problem, shaped like ``forms``' issues."""

    code: str
    pointer: str
    message: str


@dataclass
class FakeFormVersion:
    """A form version with a state and required answers; ``age`` must be an integer 15-120."""

    state: str = "open"
    required: tuple[str, ...] = ("age",)

    def validate(self, answers: dict) -> list[FakeIssue]:
        """Return the problems of ``answers``."""
        issues = [FakeIssue("required", f"/{name}", f"{name} is required")
                  for name in self.required if name not in answers]
        age = answers.get("age")
        if age is not None and (not isinstance(age, int) or not 15 <= age <= 120):
            issues.append(FakeIssue("out-of-range", "/age", "age must be 15-120"))
        return issues


class FakeForms:
    """A catalogue of fake form versions, callable as the Store's form lookup."""

    def __init__(self):
        self.versions: dict[tuple[str, str], FakeFormVersion] = {}

    def publish(self, form_id: str, version: str, state: str = "open", required: tuple[str, ...] = ("age",)):
        """Add or replace a version."""
        self.versions[(form_id, version)] = FakeFormVersion(state, required)

    def __call__(self, form_id: str, version: str) -> FakeFormVersion | None:
        return self.versions.get((form_id, version))

    @classmethod
    def standard(cls) -> FakeForms:
        """Return the catalogue the contract uses: awareness 1 open, 0 closing, old closed, 2 draft."""
        forms = cls()
        forms.publish("awareness", "1", "open")
        forms.publish("awareness", "0", "closing")
        forms.publish("awareness", "old", "closed")
        forms.publish("awareness", "2", "draft")
        return forms


class Crash(BaseException):
    """A simulated process kill: not an Exception, so nothing on the way up may swallow it."""


class FaultyStore:
    """Wraps a store and raises ``error`` on the ``nth`` call (1-based) of method ``name``."""

    def __init__(self, inner: Store, name: str, nth: int, error: BaseException):
        self._inner, self._name, self._nth, self._error = inner, name, nth, error
        self.calls = 0

    def __getattr__(self, attr):
        target = getattr(self._inner, attr)
        if attr != self._name:
            return target

        def wrapped(*args, **kwargs):
            self.calls += 1
            if self.calls == self._nth:
                raise self._error
            return target(*args, **kwargs)

        return wrapped


def create_op(sub: str | None = None, *, ver: str = "1", answers: dict | None = None, n: int | None = None,
              at: str | None = "2025-06-01T08:02:11+07:00", op_id: str | None = None, **extra) -> dict:
    """Return the wire form of a create operation."""
    op = {"id": op_id or str(uuid.uuid4()), "kind": "create", "sub": sub or str(uuid.uuid4()),
          "form": "awareness", "ver": ver, "ans": {"age": 30} if answers is None else answers, "at": at}
    if n is not None:
        op["n"] = n
    op.update(extra)
    return op


def correct_op(sub: str, base: str, *, answers: dict | None = None, ver: str = "1", **extra) -> dict:
    """Return the wire form of a correction of revision ``base``."""
    op = {"id": str(uuid.uuid4()), "kind": "correct", "sub": sub, "base": base, "form": "awareness",
          "ver": ver, "ans": {"age": 31} if answers is None else answers, "at": "2025-06-02T09:00:00+07:00"}
    op.update(extra)
    return op


def delete_op(sub: str, base: str, **extra) -> dict:
    """Return the wire form of a delete (tombstone) of a submission whose head is ``base``."""
    return {"id": str(uuid.uuid4()), "kind": "delete", "sub": sub, "base": base, **extra}


def push_ops(store: Store, device: DeviceRef, ops: list[dict], *, epoch: str | None = None,
             sent_at: str | None = None, now: dt.datetime = T0, **kwargs) -> PushResponse:
    """Push wire operations for ``device`` and return the parsed response."""
    request = PushRequest.from_wire({"protocol": PROTOCOL, "device_id": str(device.id), "epoch": epoch,
                                     "sent_at": sent_at, "ops": ops})
    return engine.push(store, device, request, now=now, **kwargs)
