"""gzip on the wire: round trips, and a zip bomb refused without inflating it."""

from __future__ import annotations

import gzip
import io
import tracemalloc

import pytest

from sync.errors import EnvelopeInvalid
from sync.errors import PayloadTooLarge
from sync.transport import deflate
from sync.transport import inflate_capped


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
