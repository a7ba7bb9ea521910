"""The device-side sync client: enrol, push the outbox with backoff, pull pages into SQLite."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sync.client.outbox import Outbox
from sync.client.transports import ENROL_PATH
from sync.client.transports import PULL_PATH
from sync.client.transports import PUSH_PATH
from sync.client.transports import Response
from sync.client.transports import Transport
from sync.errors import ServerRefused
from sync.errors import TransportFailed
from sync.protocol import PROTOCOL
from sync.protocol import RETRY
from sync.protocol import Enrolment
from sync.protocol import EnrolRequest
from sync.protocol import PullPage
from sync.protocol import PushResponse
from sync.protocol import format_time


@dataclass
class Backoff:
    """Exponential backoff with jitter; a server's ``Retry-After`` is a floor, never shortened."""

    base_s: float = 2.0
    cap_s: float = 600.0
    attempts: int = 8

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Return how long to wait before retry number ``attempt`` (0-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** attempt)
        jittered = ceiling * (0.5 + rng.random() / 2)  # spreads a crowd of phones that failed together
        return max(jittered, float(retry_after or 0))


class _Retry(Exception):
    def __init__(self, retry_after: float | None, reason: str):
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class SyncClient:
    """Push and pull for one device over a ``Transport``; all state lives in the ``Outbox``."""

    def __init__(self, outbox: Outbox, transport: Transport, *, backoff: Backoff | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 clock: Callable[[], dt.datetime] | None = None, batch_size: int = 100,
                 page_bytes: int = 64 << 10):
        self.outbox, self.transport = outbox, transport
        self.backoff = backoff or Backoff()
        self.sleep, self.rng = sleep, rng or random.Random()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.batch_size, self.page_bytes = batch_size, page_bytes

    # -- enrolment and queueing ---------------------------------------------------------------------
    def enrol(self, code: str, label: str = "") -> Enrolment:
        """Exchange a one-time code for this device's id and token; keep them in the outbox."""
        if self.outbox.get("token"):
            # Re-enrolling must never cost the queue: keep it and its old device id for the record.
            self.outbox.set(previous_device_id=self.outbox.get("device_id"))
        installation = self.outbox.get("installation_id")
        if installation is None:  # made once, kept for the life of the outbox: retries must send the same
            installation = str(uuid.uuid4())
            self.outbox.set(installation_id=installation)
        request = EnrolRequest(code=code, label=label, installation_id=installation)
        answered: list[Response] = []

        def step() -> bool:
            # Safe to retry: the same code and installation id get the same answer for a while.
            try:
                response = self.transport.send(ENROL_PATH, request.to_wire(), None)
            except TransportFailed as exc:
                raise _Retry(None, exc.detail) from exc
            if response.status in (429, 502, 503, 504) or response.status >= 500:
                raise _Retry(_retry_after(response), f"server answered {response.status}")
            answered.append(response)
            return False

        self._with_backoff(step)
        response = answered[-1]
        if response.status != 200:
            raise _refused(response)
        enrolment = Enrolment.from_wire(response.body)
        known = self.outbox.get("epoch")
        self.outbox.set(device_id=enrolment.device_id, token=enrolment.token, limits=enrolment.limits,
                        epoch=known or enrolment.epoch)
        if enrolment.limits.get("max_push_ops"):
            self.batch_size = min(self.batch_size, enrolment.limits["max_push_ops"])
        return enrolment

    def create(self, form_id: str, version: str, answers: dict, *, at: dt.datetime | None = None,
               blobs: tuple[str, ...] = (), sub: str | None = None) -> str:
        """Queue a new submission (``sub``: its UUID, made here if absent, as the app does); return its id."""
        sub = sub or str(uuid.uuid4())
        self.outbox.enqueue({"kind": "create", "sub": sub, "form": form_id, "ver": version, "ans": answers,
                             "at": format_time(at or self.clock()), "blobs": list(blobs)})
        return sub

    def correct(self, sub: str, form_id: str, version: str, answers: dict, *,
                at: dt.datetime | None = None) -> dict:
        """Queue a correction of the latest revision this device made or saw of ``sub``."""
        return self.outbox.enqueue({"kind": "correct", "sub": sub, "base": self._base(sub), "form": form_id,
                                    "ver": version, "ans": answers, "at": format_time(at or self.clock())})

    def delete(self, sub: str, note: str = "") -> dict:
        """Queue a delete (a tombstone) of ``sub``."""
        return self.outbox.enqueue({"kind": "delete", "sub": sub, "base": self._base(sub), "note": note,
                                    "at": format_time(self.clock())})

    def _base(self, sub: str) -> str:
        base = self.outbox.head_of(sub)
        if base is None:
            raise ValueError(f"submission {sub} was not made on this device")
        return base

    # -- the exchange -----------------------------------------------------------------------------------
    def _send(self, path: str, body: dict) -> Response:
        try:
            response = self.transport.send(path, body, self.outbox.get("token"))
        except TransportFailed as exc:
            raise _Retry(None, exc.detail) from exc
        if response.status in (429, 502, 503, 504) or response.status >= 500:
            raise _Retry(_retry_after(response), f"server answered {response.status}")
        return response

    def _with_backoff(self, step: Callable[[], bool]) -> None:
        """Run ``step`` until it returns False (done), backing off on transient failures."""
        attempt = 0
        while True:
            try:
                if not step():
                    return
                attempt = 0
            except _Retry as exc:
                if attempt + 1 >= self.backoff.attempts:
                    raise TransportFailed(f"Gave up after {attempt + 1} attempts: {exc}; the outbox is kept.",
                                          attempts=attempt + 1) from exc
                self.sleep(self.backoff.delay(attempt, exc.retry_after, self.rng))
                attempt += 1

    def push(self) -> dict:
        """Send the whole outbox in batches; return counts of the statuses received."""
        self._require_enrolment()
        counts: dict[str, int] = {}
        size = [self.batch_size]
        # With nothing queued, one empty push still asks for the server's ack: a restore is noticed
        # even by a device with nothing new to send.
        probe = [self.outbox.archived() > 0]

        def step() -> bool:
            ops = self.outbox.pending(size[0])
            if not ops and not probe[0]:
                return False
            probe[0] = False
            body = {"protocol": PROTOCOL, "device_id": self.outbox.get("device_id"),
                    "epoch": self.outbox.get("epoch"), "sent_at": format_time(self.clock()), "ops": ops}
            try:
                response = self._send(PUSH_PATH, body)
            except _Retry:
                if not ops:
                    return False  # the probe is best effort: offline with nothing to send is not a failure
                raise
            if not ops and response.status != 200 and (response.body or {}).get("code") != "epoch-changed":
                return False
            if response.status == 413:
                if size[0] == 1:
                    raise _refused(response)  # one op over the limit: it stays queued, a person must look
                size[0] = max(1, size[0] // 2)
                return True
            if response.status == 409 and (response.body or {}).get("code") == "epoch-changed":
                self.outbox.requeue_archive(response.body["epoch"])
                return True
            if response.status != 200:
                raise _refused(response)
            answer = PushResponse.from_wire(response.body)
            self.outbox.settle(list(answer.results), answer.epoch)
            lost = self.outbox.requeue_lost((answer.ack or {}).get("n"), answer.epoch)
            if lost:
                counts["requeued"] = counts.get("requeued", 0) + lost
            self.outbox.set(clock_skew_s=answer.skew_s, last_push_at=answer.server_time)
            for result in answer.results:
                counts[result.status] = counts.get(result.status, 0) + 1
            retry = next((r for r in answer.results if r.status == RETRY), None)
            if retry is not None:
                raise _Retry(retry.details.get("retry_after"), "the server asked to retry an operation")
            return True

        self._with_backoff(step)
        return counts

    def pull(self) -> int:
        """Pull pages until the device is up to date; return the number of pages applied."""
        self._require_enrolment()
        pages = [0]

        def step() -> bool:
            body = {"protocol": PROTOCOL, "device_id": self.outbox.get("device_id"),
                    "cursor": self.outbox.get("cursor"), "max_bytes": self.page_bytes,
                    "sent_at": format_time(self.clock())}
            response = self._send(PULL_PATH, body)
            if response.status == 400 and (response.body or {}).get("code") == "cursor-invalid":
                self.outbox.set(cursor=None)  # start the buckets over; pages reset them cleanly
                return True
            if response.status != 200:
                raise _refused(response)
            page = PullPage.from_wire(response.body)
            self.outbox.apply_page(page)
            self.outbox.set(last_pull_at=page.server_time)
            pages[0] += 1
            return page.has_more

        self._with_backoff(step)
        return pages[0]

    def sync(self) -> dict:
        """Push, pull, and push again if the pull revealed a new server epoch."""
        counts = self.push()
        self.pull()
        if self.outbox.status()["pending"]:
            for status, n in self.push().items():
                counts[status] = counts.get(status, 0) + n
        return counts

    def _require_enrolment(self) -> None:
        if not self.outbox.get("token"):
            raise ServerRefused("This device is not enrolled; run enrol with a one-time code first.",
                                status=None, problem="not-enrolled")


def _refused(response: Response) -> ServerRefused:
    body = response.body or {}
    return ServerRefused(f"The server refused the request ({response.status} {body.get('code', '')}): "
                         f"{body.get('detail', '')}; the outbox is kept.", status=response.status,
                         problem=body.get("code"),
                         limits={k: body[k] for k in ("max_push_bytes", "max_push_ops") if k in body})
