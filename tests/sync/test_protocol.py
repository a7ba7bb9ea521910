"""Parsing the wire: envelope faults raise, a malformed operation is only that operation's problem."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.errors import CursorInvalid
from sync.errors import EnvelopeInvalid
from sync.errors import ProtocolUnsupported
from sync.errors import SyncError
from sync.protocol import Cursor
from sync.protocol import Operation
from sync.protocol import PullPage
from sync.protocol import PullRequest
from sync.protocol import PushRequest
from sync.protocol import canonical_json
from sync.protocol import change_item
from sync.protocol import change_size
from sync.protocol import parse_time

SUB = str(uuid.uuid4())


def test_a_push_parses_and_round_trips():
    body = {"protocol": 1, "device_id": "d1", "epoch": "e1", "sent_at": "2025-06-03T10:14:07+07:00",
            "ops": [{"id": "op-1", "n": 1, "kind": "create", "sub": SUB, "form": "awareness", "ver": "1",
                     "ans": {"age": 30}, "at": "2025-06-01T08:02:11+07:00"}]}
    request = PushRequest.from_wire(body)
    assert request.ops[0].problems == () and request.ops[0].answers == {"age": 30}
    assert PushRequest.from_wire(request.to_wire()) == request


@pytest.mark.parametrize("body, error", [
    ([], EnvelopeInvalid),
    ({"device_id": "d", "ops": []}, EnvelopeInvalid),
    ({"protocol": 2, "device_id": "d", "ops": []}, ProtocolUnsupported),
    ({"protocol": 1, "ops": []}, EnvelopeInvalid),
    ({"protocol": 1, "device_id": "d", "ops": {}}, EnvelopeInvalid),
    ({"protocol": 1, "device_id": "d", "ops": [{"kind": "create"}]}, EnvelopeInvalid),
    ({"protocol": 1, "device_id": "d", "ops": [{"id": "a b"}]}, EnvelopeInvalid),
    ({"protocol": True, "device_id": "d", "ops": []}, EnvelopeInvalid),
])
def test_envelope_faults_raise(body, error):
    with pytest.raises(error) as caught:
        PushRequest.from_wire(body)
    assert caught.value.code in ("envelope-invalid", "protocol-unsupported")


def test_protocol_unsupported_names_the_supported_range():
    with pytest.raises(ProtocolUnsupported) as caught:
        PushRequest.from_wire({"protocol": 9, "device_id": "d", "ops": []})
    assert caught.value.fields == {"min_protocol": 1, "max_protocol": 1}


@pytest.mark.parametrize("op, pointers", [
    ({"id": "x", "kind": "create", "sub": SUB, "form": "f", "ver": "1"}, ["/ans"]),
    ({"id": "x", "kind": "correct", "sub": SUB, "form": "f", "ver": "1", "ans": {}}, ["/base"]),
    ({"id": "x", "kind": "delete", "sub": "nope", "base": "y"}, ["/sub"]),
    # 32 digits and four hyphens make 36 characters that ``uuid.UUID`` reads as a UUID: not its written form
    ({"id": "x", "kind": "delete", "sub": SUB.replace("-", "") + "----", "base": "y"}, ["/sub"]),
    ({"id": "x", "kind": "delete", "sub": "{" + SUB[1:-1] + "}", "base": "y"}, ["/sub"]),
    ({"id": "x", "kind": "create", "sub": SUB, "form": "", "ver": "1", "ans": {}, "blobs": ["AB"]},
     ["/form", "/blobs"]),
    ({"id": "x", "kind": "create", "sub": SUB, "form": "f", "ver": "1", "ans": {}, "n": -1, "at": 5},
     ["/n", "/at"]),
])
def test_a_malformed_operation_carries_its_problems(op, pointers):
    parsed = Operation.from_wire(op)
    assert [p["pointer"] for p in parsed.problems] == pointers


def test_a_submission_uuid_in_capitals_names_the_submission_in_lowercase():
    upper = Operation.from_wire({"id": "x", "kind": "delete", "sub": SUB.upper(), "base": "y"})
    lower = Operation.from_wire({"id": "x", "kind": "delete", "sub": SUB, "base": "y"})
    assert upper.problems == () and upper.submission_id == lower.submission_id == SUB.lower()
    assert upper.to_wire()["sub"] == SUB.upper()  # as sent: its hash is over what the device sent


def test_the_payload_hash_ignores_key_order_but_not_content():
    a = Operation.from_wire({"id": "x", "kind": "delete", "sub": SUB, "base": "y"})
    b = Operation.from_wire({"base": "y", "sub": SUB, "kind": "delete", "id": "x"})
    c = Operation.from_wire({"base": "z", "sub": SUB, "kind": "delete", "id": "x"})
    assert a.payload_hash == b.payload_hash != c.payload_hash


# cursor text as the server makes it: no NUL and no lone surrogates (bounded at the edge, sync.transport)
_CURSOR_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


@given(st.dictionaries(st.text(_CURSOR_TEXT, min_size=1, max_size=20), st.integers(0, 2**62), max_size=6),
       st.text(_CURSOR_TEXT, max_size=40))
def test_cursors_round_trip(positions, epoch):
    cursor = Cursor(epoch, positions)
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("text", [None, 5, "", "c2.abc", "c1.!!!", "c1." + "e30", "c1.eyJlIjoxfQ"])
def test_foreign_cursors_are_refused(text):
    with pytest.raises(CursorInvalid):
        Cursor.decode(text)


def test_a_pull_request_validates_its_cursor_and_budget():
    assert PullRequest.from_wire({"protocol": 1, "device_id": "d", "cursor": None}).cursor is None
    with pytest.raises(CursorInvalid):
        PullRequest.from_wire({"protocol": 1, "device_id": "d", "cursor": "garbage"})
    with pytest.raises(EnvelopeInvalid):
        PullRequest.from_wire({"protocol": 1, "device_id": "d", "max_bytes": 0})


def test_change_sizes_never_undercount_the_wire():
    for key, data in [("k", None), ("awareness@1", {"state": "open", "title": "Nhận thức"})]:
        assert change_size(key, data) >= len(canonical_json(change_item(key, 123456789, data)))


def test_a_page_round_trips():
    page = PullPage.from_wire({"epoch": "e", "cursor": "c1.x", "has_more": True, "server_time": "t",
                               "buckets": {"forms": {"reset": True, "changes": [change_item("a", 1, {})]}},
                               "removed": ["assignments:1"]})
    assert PullPage.from_wire(page.to_wire()) == page


def test_times_parse_only_with_a_zone():
    assert parse_time("2025-06-03T03:14:09Z").utcoffset().total_seconds() == 0
    assert parse_time("2025-06-03T03:14:09") is None and parse_time("soon") is None and parse_time(3) is None


def test_every_error_has_a_kebab_code_and_a_one_line_title():
    import re

    def all_subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from all_subclasses(sub)

    classes = [SyncError, *all_subclasses(SyncError)]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)) and len(codes) >= 12
    for cls in classes:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", cls.code), cls
        assert cls.__doc__ and cls.__doc__.strip().splitlines()[0].endswith(".")


def test_one_round_trip_pushes_then_pulls():
    from sync import engine
    from sync.memory import MemoryStore
    from sync.store import DeviceRef
    from sync.testing.fakes import T0
    from sync.testing.fakes import FakeForms
    from sync.testing.fakes import create_op

    store = MemoryStore(forms=FakeForms.standard())
    device = DeviceRef("d1", 7)
    with store.transaction():
        store.record_change("forms", "awareness@1", {"state": "open"})
    pushed, page = engine.sync(
        store, device, PushRequest.from_wire({"protocol": 1, "device_id": "d1", "ops": [create_op()]}),
        PullRequest.from_wire({"protocol": 1, "device_id": "d1", "cursor": None}), now=T0)
    assert [r.status for r in pushed.results] == ["created"]
    assert [c["key"] for c in page.buckets["forms"].changes] == ["awareness@1"]


def _reference_json(obj) -> bytes:
    # The canonical form as first defined (and as every stored payload hash was made): Python's encoder.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_JSON_LEAVES = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=-1e-3, max_value=1e-3)
                | st.sampled_from([1e16, 9999999999999998.0, 1e-4, 9.9e-5, 1e-7, 5e-324, -0.0, 1e308])
                | st.text() | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000)))
_JSON_VALUES = st.recursive(_JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                            | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


@given(_JSON_VALUES)
def test_canonical_json_is_the_reference_encoders_bytes_whatever_the_value(value):
    # The fast encoder must never change a payload hash: floats of every magnitude (Python writes 1e-07
    # where orjson writes 1e-7), NaN and infinities (orjson writes null), integers past 64 bits and lone
    # surrogates (orjson refuses them) must all come out as the reference encoder's bytes, or fail as it does.
    try:
        expected = _reference_json(value)
    except (UnicodeEncodeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [
    {"x": 1e-07}, [5e-05], 1e16, 1e-07, -3e-09, {"a": float("nan")}, [float("-inf")], {"n": None}, 2**64,
    {"s": "\ud800"},
    {1: "int key"}, {"z": 1, "a": [0.5, -2.25e-3]}, "null:0.00001", {"deep": [[[{"v": 1.5e300}]]]},
])
def test_canonical_json_matches_the_reference_at_each_difference_between_the_encoders(value):
    try:
        expected = _reference_json(value)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
