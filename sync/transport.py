"""Bodies on the wire: gzip both ways, and inflating with a hard cap so a zip bomb costs nothing."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from typing import BinaryIO

from sync.errors import EnvelopeInvalid
from sync.errors import PayloadTooLarge

CHUNK = 64 << 10


def deflate(data: bytes, level: int = 6) -> bytes:
    """Return ``data`` gzip-compressed (``mtime`` 0, so equal input gives equal bytes)."""
    return gzip.compress(data, compresslevel=level, mtime=0)


def inflate_capped(source: bytes | BinaryIO, max_bytes: int, *, max_input: int | None = None) -> bytes:
    """Return the gunzipped bytes of ``source``, refusing output beyond ``max_bytes``.

    Decompresses incrementally and never holds more than ``max_bytes`` + one chunk, so a small body
    that would inflate to gigabytes is refused after reading only what it takes to pass the cap.
    Raises ``PayloadTooLarge`` (with ``max_bytes``) or ``EnvelopeInvalid`` for a corrupt or cut stream.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    out = bytearray()
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    consumed = 0
    started = False

    def take(data: bytes) -> None:
        nonlocal decoder
        while data:
            # max_length bounds each step's output: the cap holds inside one call too.
            piece = decoder.decompress(data, max_bytes + 1 - len(out))
            out.extend(piece)
            if len(out) > max_bytes:
                raise PayloadTooLarge(f"The body inflates to more than {max_bytes} bytes; split it.",
                                      max_bytes=max_bytes)
            if decoder.eof:
                data = decoder.unused_data  # another gzip member may follow
                if data:
                    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            else:
                data = decoder.unconsumed_tail

    try:
        while chunk := stream.read(CHUNK):
            started = True
            consumed += len(chunk)
            if max_input is not None and consumed > max_input:
                raise PayloadTooLarge(f"The compressed body exceeds {max_input} bytes.", max_bytes=max_bytes,
                                      max_input=max_input)
            take(chunk)
    except zlib.error as exc:
        raise EnvelopeInvalid(f"The gzip body is corrupt: {exc}") from exc
    if not started or not decoder.eof:
        raise EnvelopeInvalid("The gzip body is empty or cut short; nothing was applied.")
    return bytes(out)


def encode_json(obj) -> bytes:
    """Return compact UTF-8 JSON."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_json(data: bytes):
    """Parse a JSON body; ``EnvelopeInvalid`` when it is not JSON."""
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EnvelopeInvalid(f"The body is not valid JSON: {exc}") from exc
