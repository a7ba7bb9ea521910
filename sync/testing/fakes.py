"""Fakes and helpers for sync tests: form versions, a fault-injecting store wrapper, op builders."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from forms.model import Choice
from forms.model import Form
from forms.model import Question
from sync import engine
from sync.errors import StoreUnavailable
from sync.protocol import PROTOCOL
from sync.protocol import PushRequest
from sync.protocol import PushResponse
from sync.store import DeviceRef
from sync.store import Store

T0 = dt.datetime(2025, 6, 3, 3, 0, 0, tzinfo=dt.UTC)


def contract_form(form_id: str, version: str) -> Form:
    """Return the small real form the contract pushes to: ``age``, ``heard``, ``note``.

    ``age`` is a required integer 15-120; ``heard`` (yes/no, optional) carries a scoring key, so
    the form has analysis rows; ``note`` is optional free text.
    """
    yes_no = [Choice("yes", {"en": "Yes"}), Choice("no", {"en": "No"})]
    return Form(
        form_id=form_id, version=version, title="Contract form", languages=["en"], default_language="en",
        questions=[
            Question("age", "integer", label={"en": "Age"}, required="true()",
                     constraint=". >= 15 and . <= 120", constraint_message={"en": "age must be 15-120"}),
            Question("heard", "select_one", label={"en": "Heard?"}, choices="yes_no",
                     ferry={"domain": "knowledge", "correct": "yes"}),
            Question("note", "text", label={"en": "Notes"}),
        ],
        choices={"yes_no": yes_no}, xform="")


def points_of(form: Form, answers: dict) -> dict | None:
    """A stand-in analysis row for stores without an analysis package: the item points."""
    return {"points": form.score(answers)} if form.scoring else None


@dataclass
class FakeFormVersion:
    """A published version of a real form, with its state and how its analysis values are computed."""

    state: str
    form: Form
    analyse: Callable[[Form, dict], dict | None] = points_of

    def validate(self, answers: dict) -> list:
        """Return the problems of ``answers``."""
        return self.form.validate(answers)

    def analysis_values(self, answers: dict) -> dict | None:
        """Return the analysis values of valid ``answers``."""
        return self.analyse(self.form, answers)


class FakeForms:
    """A catalogue of form versions, callable as the Store's form lookup.

    Stores that read forms from their own database subclass it and override ``publish`` to write
    the version there too (``self.versions[key].form`` is the form to store).
    """

    def __init__(self):
        self.versions: dict[tuple[str, str], FakeFormVersion] = {}

    def publish(self, form_id: str, version: str, state: str = "open") -> None:
        """Add a version, or change its state."""
        known = self.versions.get((form_id, version))
        form = known.form if known is not None else contract_form(form_id, version)
        self.versions[(form_id, version)] = FakeFormVersion(state, form)

    def __call__(self, form_id: str, version: str) -> FakeFormVersion | None:
        return self.versions.get((form_id, version))

    def publish_standard(self) -> None:
        """Publish what the contract uses: awareness 1 open, 0 closing, old closed, 2 draft."""
        self.publish("awareness", "1", "open")
        self.publish("awareness", "0", "closing")
        self.publish("awareness", "old", "closed")
        self.publish("awareness", "2", "draft")

    @classmethod
    def standard(cls) -> FakeForms:
        """Return a catalogue with the versions the contract uses (``publish_standard``)."""
        forms = cls()
        forms.publish_standard()
        return forms


class Crash(BaseException):
    """A simulated process kill: not an Exception, so nothing on the way up may swallow it."""


class FaultyStore:
    """Wraps a store and raises ``error`` on the ``nth`` call (1-based) of method ``name``.

    ``faults`` adds more: method name -> (nth call, error). The engine writes a push batch with
    ``write_batch`` and falls back to one operation per transaction when that fails transiently, so
    a fault in a one-by-one method (``insert_op``...) needs a transient fault of ``write_batch`` first.
    """

    def __init__(self, inner: Store, name: str | None = None, nth: int = 1,
                 error: BaseException | None = None, *,
                 faults: dict[str, tuple[int, BaseException]] | None = None):
        self._inner = inner
        self._faults = dict(faults or {})
        if name is not None:
            self._faults[name] = (nth, error)
        self._calls: dict[str, int] = {}

    def __getattr__(self, attr):
        target = getattr(self._inner, attr)
        if attr not in self._faults:
            return target
        nth, error = self._faults[attr]

        def wrapped(*args, **kwargs):
            self._calls[attr] = self._calls.get(attr, 0) + 1
            if self._calls[attr] == nth:
                raise error
            return target(*args, **kwargs)

        return wrapped


class WritesFirst:
    """Wraps a store and runs ``write`` once, just before a push batch's write lock: a concurrent request's
    commit landing between the batch's decision and its write.

    Where a write transaction holds the lock from its start, ``write`` runs as the first one is about to open
    (the batch was decided in a read snapshot before it). Where the lock is the counter step
    (``locks_at_begin`` false), the batch is decided inside its write transaction: ``write`` runs as the
    first counter step is about to be taken, on a thread of its own, since this one's transaction is open.
    """

    def __init__(self, inner: Store, write: Callable[[], object]):
        self._inner = inner
        self._write: Callable[[], object] | None = write

    def __getattr__(self, attr):
        return getattr(self._inner, attr)

    def _run_write(self) -> None:
        write, self._write = self._write, None
        if write is None:
            return
        if self._inner.locks_at_begin:
            write()
            return
        failed: list[BaseException] = []

        def run() -> None:
            try:
                write()
            except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
                failed.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        if failed:
            raise failed[0]

    def transaction(self):
        if self._inner.locks_at_begin:
            self._run_write()
        return self._inner.transaction()

    def reserve_seqs(self, count: int) -> range:
        self._run_write()
        return self._inner.reserve_seqs(count)


def one_by_one(name: str, nth: int, error: BaseException) -> dict[str, tuple[int, BaseException]]:
    """Faults that make a push fall back to one operation per transaction, then fail ``name``'s nth call."""
    return {"write_batch": (1, StoreUnavailable("the batch hit a lock timeout")), name: (nth, error)}


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
