"""gzip on the wire: round trips, and a zip bomb refused without inflating it."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc

import pytest

from sync.errors import EnvelopeInvalid
from sync.errors import PayloadTooLarge
from sync.transport import deflate
from sync.transport import inflate_capped
from sync.transport import parse_json


def test_round_trip_from_bytes_and_streams():
    data = b'{"ops": []}' * 1000
    assert inflate_capped(deflate(data), len(data)) == data
    assert inflate_capped(io.BytesIO(deflate(data)), len(data)) == data
    assert deflate(data) == deflate(data)  # no timestamp inside


def test_concatenated_members_are_one_body():
    assert inflate_capped(deflate(b"ab") + deflate(b"cd"), 10) == b"abcd"


def test_one_byte_over_the_cap_is_refused_with_the_limit():
    with pytest.raises(PayloadTooLarge) as caught:
        inflate_capped(deflate(b"x" * 1001), 1000)
    assert caught.value.fields["max_bytes"] == 1000 and caught.value.code == "payload-too-large"


def test_a_zip_bomb_is_refused_without_exhausting_memory():
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb", compresslevel=9) as out:
        block = b"\0" * (1 << 20)
        for _ in range(1024):  # 1 GiB of zeros, about 1 MB compressed
            out.write(block)
    bomb.seek(0)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge):
            inflate_capped(bomb, 1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_the_compressed_size_can_be_capped_too():
    with pytest.raises(PayloadTooLarge):
        inflate_capped(deflate(bytes(range(256)) * 4000), 10**7, max_input=1000)


@pytest.mark.parametrize("body", [b"", b"not gzip at all", deflate(b"x" * 5000)[:-12]])
def test_garbled_or_cut_bodies_are_refused(body):
    with pytest.raises(EnvelopeInvalid):
        inflate_capped(body, 10**6)


# What the json module makes of each, parse_json must make too (it parses with orjson where it can)
JSON_TEXTS = [
    b'{"a": 1, "b": [true, false, null], "c": "\\u0000", "d": -0.0, "e": 1E2, "f": 0.1}',
    b'{"a": 1, "a": 2}',  # the last of a repeated key
    b"[9223372036854775807, -9223372036854775808, 999999999999999999, -999999999999999999]",
    # integers at and past the edges of 64 bits, each in a text of its own (one long run of digits would send
    # the others to the json module)
    b"[18446744073709551615]", b"[18446744073709551616]", b"[-9223372036854775809]",
    b"[123456789012345678901234567890]",
    b"[12345678901234567890.5, 1.2345678901234567890e5]",  # long runs of digits that are not integers
    b'["\\ud800", "a\\udfffb"]',  # lone surrogates, which orjson refuses
    b"[1e400, -1e400]",  # past a double: infinities, which orjson refuses
    '{"é": "đ\\u2028"}'.encode(),
    '\ufeff{"bom": 1}'.encode(),
    '{"utf16": 1}'.encode("utf-16"),
]


@pytest.mark.parametrize("text", JSON_TEXTS)
def test_json_is_parsed_as_the_json_module_parses_it(text):
    expected = json.loads(text)
    got = parse_json(text)
    assert repr(got) == repr(expected)  # repr: 1 and 1.0, -0.0 and 0.0, and inf are told apart
    assert type(got) is type(expected)


@pytest.mark.parametrize("text", [b"[NaN]", b"[Infinity]", b"{", b"[1,]", b"\xff", b"", b"[" * 100_000])
def test_what_is_not_json_is_refused_with_a_value_error(text):
    with pytest.raises(ValueError):
        parse_json(text)
