"""The wire format of the sync API: requests and responses, parsed and validated.

Parsing raises ``EnvelopeInvalid`` (and friends) only for faults of the whole request. A single
operation that is malformed is *not* an envelope fault: it is parsed into an ``Operation`` whose
``problems`` are non-empty, so the engine can store it raw and answer ``rejected`` for it alone
(one poison item must never block a device's queue).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property

import orjson

from sync.errors import CursorInvalid
from sync.errors import EnvelopeInvalid
from sync.errors import ProtocolUnsupported
from sync.transport import INT64_MAX
from sync.transport import OP_BOUNDS
from sync.transport import ORJSON_AS_JSON
from sync.transport import SURE_OPTIONS
from sync.transport import parse_json
from sync.transport import printable
from sync.transport import surely_within
from sync.transport import value_problems

PROTOCOL = 1
SUPPORTED_PROTOCOLS = (1,)
KINDS = ("create", "correct", "delete")
#: The kinds that change a stored submission: they name a base revision, and only the submission's own
#: device or its enumerator's other devices may send them.
CHANGING_KINDS = ("correct", "delete")

# Per-operation statuses. FINAL ones are acknowledged: the client moves the op to its sent archive.
CREATED = "created"
DUPLICATE = "duplicate"
QUARANTINED = "quarantined"
REJECTED = "rejected"
OP_ID_REUSED = "op-id-reused"
RETRY = "retry"
NOT_PROCESSED = "not-processed"
FINAL_STATUSES = frozenset({CREATED, DUPLICATE, QUARANTINED, REJECTED, OP_ID_REUSED})
STATUSES = FINAL_STATUSES | {RETRY, NOT_PROCESSED}

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME_MAX = 100
#: Largest ODK instance document an operation may carry as ``xml`` (the push limit applies as well).
MAX_INSTANCE_CHARS = 5 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits a server enforces; sent to clients at enrolment and in every 413."""

    max_push_bytes: int = 1 << 20  # inflated body of one push
    max_push_ops: int = 500
    max_page_bytes: int = 256 << 10  # changes in one pull page (the client may ask for less)
    min_page_bytes: int = 4 << 10

    def to_wire(self) -> dict:
        """Return the limits as sent on the wire."""
        return {"max_push_bytes": self.max_push_bytes, "max_push_ops": self.max_push_ops,
                "max_page_bytes": self.max_page_bytes}


# Where orjson's bytes differ from the canonical form (Python's json.dumps, which the ledger's hashes were
# made with): floats below 1e-4, which Python writes with a two-digit exponent (5e-05, 1e-07) and orjson as
# 0.00005 and 1e-7, and "null", which orjson also writes for NaN and infinities. (Both write 1e+16 alike, and
# exponents of two digits or more.) A hit inside a string is a false alarm that only costs the slower path.
# Bytes searches and a regex anchored on "e-" keep the check at ~2.7 µs an operation; a regex trying every
# ':' and ',' cost 7-24 µs, more than the json module's 12.7.
_SHORT_NEGATIVE_EXPONENT = re.compile(rb"e-\d(?:[,}\]]|\Z)")
_FAST_OPTIONS = orjson.OPT_SORT_KEYS | ORJSON_AS_JSON


def _may_differ(fast: bytes) -> bool:
    return (b"null" in fast or b"0.0000" in fast
            or (b"e-" in fast and _SHORT_NEGATIVE_EXPONENT.search(fast) is not None))


def canonical_json(obj, *, encoded: bytes | None = None) -> bytes:
    """Return the canonical UTF-8 JSON of ``obj`` (sorted keys, no spaces): hashed and stored raw.

    ``encoded``: ``orjson.dumps(obj, option=_FAST_OPTIONS)`` when the caller made it already (options that
    only refuse more, such as ``SURE_OPTIONS``, write the same bytes).
    """
    # orjson is faster (4.5 against 12.7 µs an awareness operation, its check included): every pushed
    # operation is hashed. Where its bytes could differ (_may_differ) or it refuses the value (integers
    # beyond 64 bits, lone surrogates), the reference encoder decides: the bytes never depend on the path.
    fast = encoded
    if fast is None:
        try:
            fast = orjson.dumps(obj, option=_FAST_OPTIONS)
        except orjson.JSONEncodeError:
            fast = None
    if fast is not None and not _may_differ(fast):
        return fast
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def format_time(moment: dt.datetime) -> str:
    """Return an aware datetime as RFC 3339 UTC, second precision (``2025-06-03T03:14:09Z``)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text) -> dt.datetime | None:
    """Return an RFC 3339 string as an aware datetime, or None when it is absent or unreadable."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


#: A UUID in its 8-4-4-4-12 form, either case. ``uuid.UUID`` also takes hyphens anywhere (36 characters may
#: be 32 digits and four hyphens at the end), so one UUID could be written in many ways.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _canonical_uuid(text) -> str | None:
    """``text`` as the one way a UUID is stored (lowercase, as OpenRosa's instanceIDs are keyed), or None.

    One submission, one key: a device whose platform writes UUIDs in capitals (iOS does) must not make a
    second submission of an interview that reaches the server in lowercase too (from ODK Collect, say)."""
    return text.lower() if isinstance(text, str) and _UUID.fullmatch(text) else None


def _require_protocol(obj: dict) -> int:
    version = obj.get("protocol")
    if not isinstance(version, int) or isinstance(version, bool):
        raise EnvelopeInvalid("The request lacks an integer 'protocol'.",
                              errors=[{"pointer": "/protocol", "detail": "required integer"}])
    if version not in SUPPORTED_PROTOCOLS:
        raise ProtocolUnsupported(f"Protocol {version} is not supported.",
                                  min_protocol=min(SUPPORTED_PROTOCOLS),
                                  max_protocol=max(SUPPORTED_PROTOCOLS))
    return version


def _require_object(obj, what: str) -> dict:
    if not isinstance(obj, dict):
        raise EnvelopeInvalid(f"The {what} must be a JSON object.",
                              errors=[{"pointer": "", "detail": "object"}])
    return obj


def _envelope(obj, kind: str) -> tuple[dict, int, str]:
    """Check what every push and pull body starts with: an object, a protocol, the device id."""
    obj = _require_object(obj, f"{kind} body")
    protocol = _require_protocol(obj)
    device_id = obj.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise EnvelopeInvalid(f"The {kind} lacks 'device_id'.",
                              errors=[{"pointer": "/device_id", "detail": "required"}])
    return obj, protocol, device_id


def _optional_str(obj: dict, key: str, pointer: str, limit: int = 100) -> str | None:
    value = obj.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        raise EnvelopeInvalid(f"'{key}' must be a string of at most {limit} characters.",
                              errors=[{"pointer": pointer, "detail": "string"}])
    return value


# Not frozen, nor are the other values made once per pushed operation (OpResult, sync.batch.Prepared,
# sync.submissions.Written): a frozen dataclass's __init__ sets each field through object.__setattr__, and an
# operation's 15 took 1.7 µs that way against 0.45 (with the other per-operation values, ~4% of a push's CPU,
# in-process). Nothing changes an operation once parsed.
@dataclass
class Operation:
    """One operation of a push: create, correct or delete a submission, with a client-made id."""

    id: str
    raw: dict
    kind: str | None = None
    submission_id: str | None = None
    base: str | None = None
    form_id: str | None = None
    form_version: str | None = None
    answers: dict | None = None
    device_time: str | None = None
    n: int | None = None
    blobs: tuple[str, ...] = ()
    note: str | None = None
    problems: tuple[dict, ...] = ()
    #: The ODK instance XML sent instead of ``ans``; the server reads the answers from it with
    #: ``forms.instance.answers_from_instance`` (the mapping OpenRosa uses), so clients need none.
    instance_xml: str | None = None
    #: orjson's sorted bytes of ``raw``, when ``from_wire`` made them (``canonical_json`` checks them)
    encoded: bytes | None = field(default=None, repr=False, compare=False)

    @cached_property
    def payload(self) -> bytes:
        """Return the operation as received, in canonical JSON: what is hashed and quarantined."""
        # Cached: the raw operation is never changed once parsed, and a push reads it several times.
        return canonical_json(self.raw, encoded=self.encoded)

    @cached_property
    def payload_hash(self) -> str:
        """Return the sha256 of the canonical payload: a retry must match it exactly."""
        return hashlib.sha256(self.payload).hexdigest()

    @classmethod
    def from_wire(cls, obj, pointer: str = "") -> Operation:
        """Parse one operation; raise only when it has no usable ``id`` (it could not be acknowledged)."""
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not _ID.match(obj["id"]):
            raise EnvelopeInvalid("Every operation needs an 'id' of 1-64 characters [A-Za-z0-9_.:-].",
                                  errors=[{"pointer": f"{pointer}/id", "detail": "required id"}])
        try:  # the canonical bytes, made once: they rule out most bound problems, and are hashed later
            encoded = orjson.dumps(obj, option=_FAST_OPTIONS | SURE_OPTIONS)
        except orjson.JSONEncodeError:
            encoded = None
        within = encoded is not None and surely_within(obj, encoded, OP_BOUNDS)
        problems: list[dict] = [] if within else value_problems(obj, OP_BOUNDS)
        if problems:
            # Stored and hashed as a printable copy: the raw one may not even encode as UTF-8.
            obj = printable(obj)

        def bad(key: str, detail: str) -> None:
            problems.append({"pointer": f"/{key}", "detail": detail})

        kind = obj.get("kind")
        if kind not in KINDS:
            bad("kind", f"must be one of {', '.join(KINDS)}")
        sub = obj.get("sub")
        if (canonical := _canonical_uuid(sub)) is None:
            bad("sub", "must be the submission's UUID (8-4-4-4-12 hex digits)")
        else:
            sub = canonical
        base = obj.get("base")
        if kind in CHANGING_KINDS and (not isinstance(base, str) or not _ID.match(base)):
            bad("base", "must be the id of the operation that made the revision being replaced")
        form_id, version, answers, xml = obj.get("form"), obj.get("ver"), obj.get("ans"), obj.get("xml")
        if kind in ("create", "correct"):
            if not isinstance(form_id, str) or not 0 < len(form_id) <= _NAME_MAX:
                bad("form", f"must be a string of 1-{_NAME_MAX} characters")
            # XLSForms may leave the version out (ODK Collect and Central accept them): "" names that version
            if not isinstance(version, str) or len(version) > _NAME_MAX:
                bad("ver", f"must be at most {_NAME_MAX} characters ('' names a form without one)")
            if xml is not None and answers is not None:
                bad("xml", "send the answers either as 'ans' or as the ODK instance 'xml', not both")
            elif xml is not None and (not isinstance(xml, str) or not 0 < len(xml) <= MAX_INSTANCE_CHARS):
                bad("xml", f"must be the ODK instance XML, 1-{MAX_INSTANCE_CHARS} characters")
            elif xml is None and not isinstance(answers, dict):
                bad("ans", "must be an object of answers (or send the ODK instance as 'xml')")
        n = obj.get("n")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= INT64_MAX):
            bad("n", "must be a non-negative integer")
        blobs = obj.get("blobs", [])
        if not isinstance(blobs, list) or not all(isinstance(b, str) and _SHA256.match(b) for b in blobs):
            bad("blobs", "must be a list of lowercase hex sha256 digests")
            blobs = []
        at = obj.get("at")
        if at is not None and (not isinstance(at, str) or len(at) > 40):
            bad("at", "must be the device's RFC 3339 time")
        note = obj.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > 1000):
            bad("note", "must be a string of at most 1000 characters")
        return cls(
            id=obj["id"], raw=obj, kind=kind if kind in KINDS else None,
            submission_id=sub if isinstance(sub, str) else None,
            base=base if isinstance(base, str) else None,
            # names past their bound are not kept as names (the raw operation keeps them for review): a
            # quarantine row stores the form's name in a column of that size
            form_id=form_id if isinstance(form_id, str) and len(form_id) <= _NAME_MAX else None,
            form_version=version if isinstance(version, str) and len(version) <= _NAME_MAX else None,
            answers=answers if isinstance(answers, dict) else None,
            device_time=at if isinstance(at, str) else None,
            n=n if isinstance(n, int) and not isinstance(n, bool) else None,
            blobs=tuple(blobs), note=note if isinstance(note, str) else None, problems=tuple(problems),
            instance_xml=xml if kind in ("create", "correct") and isinstance(xml, str) else None,
            encoded=None if problems else encoded,  # without problems ``obj`` is the raw operation
        )

    def to_wire(self) -> dict:
        """Return the operation as sent."""
        return self.raw


@dataclass(frozen=True)
class PushRequest:
    """A batch of operations from one device."""

    device_id: str
    ops: tuple[Operation, ...]
    epoch: str | None = None
    sent_at: str | None = None
    protocol: int = PROTOCOL

    @classmethod
    def from_wire(cls, obj) -> PushRequest:
        """Parse and validate a push body."""
        obj, protocol, device_id = _envelope(obj, "push")
        ops = obj.get("ops")
        if not isinstance(ops, list):
            raise EnvelopeInvalid("'ops' must be a list.", errors=[{"pointer": "/ops", "detail": "list"}])
        parsed = tuple(Operation.from_wire(op, f"/ops/{i}") for i, op in enumerate(ops))
        return cls(device_id=device_id, ops=parsed, epoch=_optional_str(obj, "epoch", "/epoch"),
                   sent_at=_optional_str(obj, "sent_at", "/sent_at", 40), protocol=protocol)

    def to_wire(self) -> dict:
        """Return the push body."""
        return {"protocol": self.protocol, "device_id": self.device_id, "epoch": self.epoch,
                "sent_at": self.sent_at, "ops": [op.to_wire() for op in self.ops]}


@dataclass  # not frozen: made once per operation (see Operation)
class OpResult:
    """The result of one operation: a status and its details (``sub``, ``rev``, ``reasons``...)."""

    id: str
    status: str
    details: dict = field(default_factory=dict)

    @property
    def final(self) -> bool:
        """True when the server has durably settled the operation (the client may archive it)."""
        return self.status in FINAL_STATUSES

    def to_wire(self) -> dict:
        """Return the result as sent."""
        return {"id": self.id, "status": self.status, **self.details}

    @classmethod
    def from_wire(cls, obj: dict) -> OpResult:
        """Parse a result (client side)."""
        if (not isinstance(obj, dict) or obj.get("status") not in STATUSES
                or not isinstance(obj.get("id"), str)):
            raise EnvelopeInvalid("A result lacks a known 'status' or an 'id'.")
        details = {k: v for k, v in obj.items() if k not in ("id", "status")}
        return cls(id=obj["id"], status=obj["status"], details=details)


@dataclass(frozen=True)
class PushResponse:
    """The answer to a push: one result per operation, in order."""

    epoch: str
    server_time: str
    results: tuple[OpResult, ...]
    skew_s: int | None = None
    ack: dict | None = None

    def to_wire(self) -> dict:
        """Return the push answer."""
        return {"epoch": self.epoch, "server_time": self.server_time, "skew_s": self.skew_s,
                "ack": self.ack, "results": [r.to_wire() for r in self.results]}

    @classmethod
    def from_wire(cls, obj) -> PushResponse:
        """Parse a push answer (client side)."""
        obj = _require_object(obj, "push answer")
        if not isinstance(obj.get("epoch"), str) or not isinstance(obj.get("results"), list):
            raise EnvelopeInvalid("The push answer lacks 'epoch' or 'results'.")
        return cls(epoch=obj["epoch"], server_time=obj.get("server_time", ""), skew_s=obj.get("skew_s"),
                   ack=obj.get("ack"), results=tuple(OpResult.from_wire(r) for r in obj["results"]))


@dataclass(frozen=True)
class Cursor:
    """Where a device is in each bucket: the server epoch and the last commit-ordered seq per bucket."""

    epoch: str
    positions: dict[str, int]

    def encode(self) -> str:
        """Return the opaque cursor string (``c1.`` + base64url JSON)."""
        body = canonical_json({"e": self.epoch, "b": self.positions})
        return "c1." + base64.urlsafe_b64encode(body).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text) -> Cursor:
        """Parse a cursor string; raise ``CursorInvalid`` when it is not one of ours."""
        if not isinstance(text, str) or not text.startswith("c1.") or len(text) > 8192:
            raise CursorInvalid("The cursor is not a Ferry cursor; pull with cursor null.")
        body = text[3:]
        try:
            obj = parse_json(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error) as exc:
            raise CursorInvalid("The cursor cannot be decoded; pull with cursor null.") from exc
        positions = obj.get("b") if isinstance(obj, dict) else None
        if (not isinstance(obj, dict) or not isinstance(obj.get("e"), str) or not isinstance(positions, dict)
                or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                           and 0 <= v <= INT64_MAX for k, v in positions.items())
                or value_problems(obj)):
            raise CursorInvalid("The cursor is malformed; pull with cursor null.")
        return cls(epoch=obj["e"], positions=dict(positions))


@dataclass(frozen=True)
class PullRequest:
    """A request for the changes of the device's buckets after its cursor."""

    device_id: str
    cursor: Cursor | None = None
    max_bytes: int | None = None
    sent_at: str | None = None
    protocol: int = PROTOCOL

    @classmethod
    def from_wire(cls, obj) -> PullRequest:
        """Parse and validate a pull body."""
        obj, protocol, device_id = _envelope(obj, "pull")
        raw_cursor = obj.get("cursor")
        cursor = None if raw_cursor is None else Cursor.decode(raw_cursor)
        max_bytes = obj.get("max_bytes")
        if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool)
                                      or max_bytes <= 0):
            raise EnvelopeInvalid("'max_bytes' must be a positive integer.",
                                  errors=[{"pointer": "/max_bytes", "detail": "positive integer"}])
        return cls(device_id=device_id, cursor=cursor, max_bytes=max_bytes,
                   sent_at=_optional_str(obj, "sent_at", "/sent_at", 40), protocol=protocol)

    def to_wire(self) -> dict:
        """Return the pull body."""
        return {"protocol": self.protocol, "device_id": self.device_id,
                "cursor": self.cursor.encode() if self.cursor else None,
                "max_bytes": self.max_bytes, "sent_at": self.sent_at}


def change_item(key: str, seq: int, data: dict | None) -> dict:
    """Return one change as sent: ``{"op": "put", "key", "v", "d"}`` or ``{"op": "del", "key", "v"}``."""
    if data is None:
        return {"op": "del", "key": key, "v": seq}
    return {"op": "put", "key": key, "v": seq, "d": data}


def change_size(key: str, data: dict | None) -> int:
    """Return the bytes a change takes on the wire (before gzip); the page budget counts these."""
    # 20 digits leave room for any seq; the estimate must never be below the real size.
    return len(canonical_json(change_item(key, 10**19, data)))


@dataclass(frozen=True)
class BucketChanges:
    """The changes of one bucket in a pull page; ``reset`` means drop the bucket's rows first."""

    changes: tuple[dict, ...] = ()
    reset: bool = False

    def to_wire(self) -> dict:
        """Return the bucket's part of a page."""
        wire: dict = {"reset": True} if self.reset else {}
        wire["changes"] = list(self.changes)
        return wire


@dataclass(frozen=True)
class PullPage:
    """One page of changes and the cursor to resume from."""

    epoch: str
    cursor: str
    has_more: bool
    buckets: dict[str, BucketChanges]
    server_time: str
    removed: tuple[str, ...] = ()
    epoch_changed: bool = False
    skew_s: int | None = None

    def to_wire(self) -> dict:
        """Return the page as sent."""
        return {"epoch": self.epoch, "epoch_changed": self.epoch_changed, "cursor": self.cursor,
                "has_more": self.has_more, "server_time": self.server_time, "skew_s": self.skew_s,
                "buckets": {name: b.to_wire() for name, b in self.buckets.items()},
                "removed": list(self.removed)}

    @classmethod
    def from_wire(cls, obj) -> PullPage:
        """Parse a page (client side)."""
        obj = _require_object(obj, "pull page")
        buckets = obj.get("buckets")
        if not isinstance(obj.get("cursor"), str) or not isinstance(buckets, dict):
            raise EnvelopeInvalid("The page lacks 'cursor' or 'buckets'.")
        return cls(
            epoch=obj.get("epoch", ""), cursor=obj["cursor"], has_more=bool(obj.get("has_more")),
            server_time=obj.get("server_time", ""), skew_s=obj.get("skew_s"),
            epoch_changed=bool(obj.get("epoch_changed")), removed=tuple(obj.get("removed", ())),
            buckets={name: BucketChanges(changes=tuple(b.get("changes", ())), reset=bool(b.get("reset")))
                     for name, b in buckets.items()},
        )


@dataclass(frozen=True)
class EnrolRequest:
    """``POST /api/v1/devices/enroll``: a one-time code in, a device token out."""

    code: str
    label: str = ""
    protocol: int = PROTOCOL
    #: Made once by the client (a UUID) and kept: a retry with the same code and id gets the same answer.
    installation_id: str | None = None

    @classmethod
    def from_wire(cls, obj) -> EnrolRequest:
        """Parse and validate an enrolment body."""
        obj = _require_object(obj, "enrolment body")
        protocol = _require_protocol(obj)
        code = obj.get("code")
        if not isinstance(code, str) or not 0 < len(code) <= 40:
            raise EnvelopeInvalid("The enrolment lacks its one-time 'code'.",
                                  errors=[{"pointer": "/code", "detail": "required"}])
        installation = obj.get("installation_id")
        if installation is not None and (not isinstance(installation, str) or not _ID.match(installation)):
            raise EnvelopeInvalid("'installation_id' must be 1-64 characters [A-Za-z0-9_.:-].",
                                  errors=[{"pointer": "/installation_id", "detail": "id"}])
        return cls(code=code, label=_optional_str(obj, "label", "/label", 120) or "", protocol=protocol,
                   installation_id=installation)

    def to_wire(self) -> dict:
        """Return the enrolment body."""
        wire = {"protocol": self.protocol, "code": self.code, "label": self.label}
        if self.installation_id is not None:
            wire["installation_id"] = self.installation_id
        return wire


@dataclass(frozen=True)
class Enrolment:
    """The answer to an enrolment: the device's id and token, the server epoch, the limits."""

    device_id: str
    token: str
    epoch: str
    server_time: str
    limits: dict = field(default_factory=dict)

    def to_wire(self) -> dict:
        """Return the enrolment answer."""
        return {"device_id": self.device_id, "token": self.token, "epoch": self.epoch,
                "server_time": self.server_time, "limits": self.limits}

    @classmethod
    def from_wire(cls, obj) -> Enrolment:
        """Parse an enrolment answer (client side)."""
        obj = _require_object(obj, "enrolment answer")
        if not all(isinstance(obj.get(k), str) for k in ("device_id", "token", "epoch")):
            raise EnvelopeInvalid("The enrolment answer lacks 'device_id', 'token' or 'epoch'.")
        return cls(device_id=obj["device_id"], token=obj["token"], epoch=obj["epoch"],
                   server_time=obj.get("server_time", ""), limits=obj.get("limits") or {})
