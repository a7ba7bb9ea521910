"""The quick bound check of pushed operations: it never passes what the full check would refuse."""

from __future__ import annotations

import json
import math

import orjson
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sync.protocol import _FAST_OPTIONS
from sync.protocol import Operation
from sync.transport import OP_BOUNDS
from sync.transport import SURE_OPTIONS
from sync.transport import Bounds
from sync.transport import surely_within
from sync.transport import value_problems

SMALL = Bounds(max_depth=3, max_string=40, max_items=5)

_LEAVES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**66), max_value=2**66)
    | st.sampled_from([2**53 - 1, 2**63 - 1, 2**63, 2**64 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["\ud800", "a\x00b", "x" * 45, "\\u0000", "đ" * 15]))
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=7)
                       | st.dictionaries(st.text(max_size=6) | st.just("k\x00"), inner, max_size=7),
                       max_leaves=25)


def _encoded(value):
    try:
        return orjson.dumps(value, option=_FAST_OPTIONS | SURE_OPTIONS)
    except orjson.JSONEncodeError:
        return None


@settings(max_examples=1500, deadline=None)
@given(_VALUES, st.sampled_from([SMALL, Bounds(max_depth=2, max_string=200, max_items=100), OP_BOUNDS]))
def test_a_value_passed_quickly_has_no_problem_the_full_check_finds(value, bounds):
    encoded = _encoded(value)
    if encoded is not None and surely_within(value, encoded, bounds):
        assert value_problems(value, bounds) == []


def test_the_quick_check_passes_interviews_and_stops_each_kind_of_problem():
    from analysis.simulation import generate

    ops = [{"id": f"op{i}", "kind": "create", "sub": "7b0f6f0e-9a9e-4c59-9a43-9f1f0e7e1c11",
            "form": "awareness", "ver": it.version, "ans": it.answers, "n": i}
           for i, it in enumerate(generate(seed=2, interviews=200, rounds=(2017,)).interviews)
           if it.form_id == "awareness"]
    passed = [op for op in ops if surely_within(op, _encoded(op), OP_BOUNDS)]
    assert len(passed) == len(ops) > 100  # the usual operation takes the quick path
    for op in passed:
        assert value_problems(op, OP_BOUNDS) == []
    deep = {"a": {"b": {"c": {"d": 1}}}}
    problems = {"deep": deep, "long": {"a": "x" * 41}, "many": {"a": list(range(6))}, "nul": {"a\x00": 1},
                "wide": {"n": 2**63}, "wider": {"n": 2**53}, "nan": {"x": math.nan}, "null": {"x": None}}
    for name, value in problems.items():
        encoded = _encoded(value)  # None: orjson refused it (integers past 53 bits)
        assert encoded is None or not surely_within(value, encoded, SMALL), name
    roomy = Bounds(max_depth=3, max_string=40, max_items=100)  # SMALL's 5 items bound 9 bytes in all: unsure
    assert surely_within({"a": {"b": [1, "đ"]}}, _encoded({"a": {"b": [1, "đ"]}}), roomy)
    assert not surely_within({"a": {"b": [1, "đ"]}}, _encoded({"a": {"b": [1, "đ"]}}), SMALL)


def test_an_operation_hashes_the_same_whichever_check_it_took():
    raw = {"id": "op1", "kind": "create", "sub": "7b0f6f0e-9a9e-4c59-9a43-9f1f0e7e1c11", "form": "f",
           "ver": "1", "ans": {"a": 1.5e-7, "b": "Tiếng Việt", "c": [1, 2]}}
    op = Operation.from_wire(raw)
    assert op.encoded is not None and not op.problems  # parsed on the quick path
    reference = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert op.payload == reference  # 1.5e-7: orjson's bytes differ, the reference encoder's are kept
    nulls = Operation.from_wire({**raw, "ans": {"b": None}})  # null: the full check, which finds nothing
    assert not nulls.problems and nulls.encoded is not None
    assert nulls.payload == json.dumps({**raw, "ans": {"b": None}}, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False).encode()
    plain = Operation.from_wire({**raw, "ans": {"b": "x"}})
    assert plain.payload == json.dumps({**raw, "ans": {"b": "x"}}, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False).encode()
