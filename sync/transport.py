"""Bodies on the wire: gzip both ways, inflating with a hard cap so a zip bomb costs nothing, and the
bounds every JSON value must keep (depth, string length, integer range, valid Unicode, list sizes).

The bounds are checked once, at the edge, by the server for every JSON body and by the reference
client before it queues anything, so that nothing the server would refuse ever enters an outbox.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import orjson

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


#: orjson options under which it refuses what the json module refuses or writes its own way (datetimes,
#: dataclasses, subclasses such as IntEnum or numpy's float64): a caller then falls back to the json module.
ORJSON_AS_JSON = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                  | orjson.OPT_PASSTHROUGH_SUBCLASS)


def encode_json(obj) -> bytes:
    """Return compact UTF-8 JSON."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


@dataclass(frozen=True)
class Bounds:
    """What a JSON value may hold: nesting depth, string length, items per list or object."""

    max_depth: int = 32
    max_string: int = 100_000
    max_items: int = 10_000


#: Every JSON body of the API; a whole request beyond these is refused before anything is stored.
BODY_BOUNDS = Bounds()
#: One sync operation (its answers are flat or one level of repeats): tighter, and checked per op,
#: so one bad operation is rejected alone and never blocks those around it.
OP_BOUNDS = Bounds(max_depth=8, max_string=20_000, max_items=2_000)


def _valid_unicode(text: str) -> bool:
    # PostgreSQL's text and jsonb cannot hold U+0000 (found by fuzzing): refused like a lone surrogate
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _pointer(path: list) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _path_pointer(path) -> str:
    # ``path`` is a linked (parent, key) pair: cheap to extend for every value, joined only for a problem.
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    return _pointer(keys[::-1])


def _fine_text(text: str, max_string: int) -> bool:
    # ASCII (known in O(1)) encodes whatever it holds; only other text needs the full check.
    return len(text) <= max_string and (("\x00" not in text) if text.isascii() else _valid_unicode(text))


def value_problems(value, bounds: Bounds = BODY_BOUNDS, *, limit: int = 20) -> list[dict]:
    """Return ``[{pointer, detail}]`` for every place ``value`` breaks ``bounds`` (at most ``limit``).

    Checks, without recursion (so no input can exhaust the stack): nesting depth, string length
    (keys too), lone UTF-16 surrogates and U+0000 (JSON allows the escapes, the databases do not),
    integers outside 64 bits, non-finite numbers and the number of items in each list or object.
    It runs on every operation of every push: a leaf that is plainly fine (short ASCII text, a 64-bit
    integer) is passed over where it is found, and a value's path is built only when it has a problem.
    """
    problems: list[dict] = []
    max_string, max_items, max_depth = bounds.max_string, bounds.max_items, bounds.max_depth
    stack = [(value, None, 1)]
    while stack and len(problems) < limit:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > max_string:
                problems.append({"pointer": _path_pointer(path),
                                 "detail": f"longer than {max_string} characters"})
            elif not _valid_unicode(item):
                problems.append({"pointer": _path_pointer(path),
                                 "detail": "not storable text (a lone surrogate or U+0000)"})
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                problems.append({"pointer": _path_pointer(path), "detail": "an integer beyond 64 bits"})
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                problems.append({"pointer": _path_pointer(path), "detail": "not a finite number"})
        elif isinstance(item, dict | list):
            if depth > max_depth:
                problems.append({"pointer": _path_pointer(path),
                                 "detail": f"nested deeper than {max_depth}"})
                continue
            if len(item) > max_items:
                problems.append({"pointer": _path_pointer(path), "detail": f"more than {max_items} items"})
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                # keys are question names, short ASCII: passed over inline, without a call per key
                if type(key) is str and not (key.isascii() and len(key) <= max_string and "\x00" not in key) \
                        and not _fine_text(key, max_string):
                    problems.append({"pointer": _path_pointer((path, "<key>")),
                                     "detail": "a key that is too long or not valid Unicode"})
                    continue
                kind = type(child)
                if (kind is str and child.isascii() and len(child) <= max_string and "\x00" not in child) or (
                        kind is int and INT64_MIN <= child <= INT64_MAX) or child is None:
                    continue
                stack.append((child, (path, key), depth + 1))
    problems.reverse()  # the stack pops last-first; report in document order where it matters little
    return problems


#: What ``surely_within``'s bytes are made with (besides any option of the caller's): integers past 53 bits
#: refused, so that every integer it passes lies well inside 64 bits
SURE_OPTIONS = orjson.OPT_STRICT_INTEGER
_CONTAINERS = (dict, list)


def surely_within(value, encoded: bytes, bounds: Bounds) -> bool:
    """True when ``value``, a parsed JSON value, keeps ``bounds`` for certain (``value_problems`` would find
    nothing), judged from ``encoded``, its orjson bytes made with ``SURE_OPTIONS``, and the depth of its
    containers. False only means "not sure": ``value_problems`` then decides, and finds each problem.

    Every pushed operation is checked: on awareness interviews ``value_problems`` took 26 µs and this 18 (the
    bytes are made once, for this and for the operation's hash). Why each test is enough: orjson refused
    lone surrogates, integers past 53 bits and types JSON does not make; it writes U+0000 as the escape
    \\u0000 and NaN and infinities as null (either sends the value to the full check); a string has no more
    characters than the bytes, and a list or object of k items takes 2k-1 bytes or more; and containers
    cannot nest deeper than there are of them, each of which opens with a ``{`` or a ``[`` in the bytes.
    """
    if len(encoded) > bounds.max_string or len(encoded) >= 2 * bounds.max_items - 1:
        return False
    if b"null" in encoded or b"\\u0000" in encoded:
        return False
    if value.__class__ not in _CONTAINERS:
        return True
    # Counted in C: an awareness operation opens 2-8 containers (the operation, its answers, their groups
    # and the lists of multiple choices), within the bound of 8, so its containers need no walk
    if encoded.count(b"{") + encoded.count(b"[") <= bounds.max_depth:
        return True
    return bounds.max_depth >= 1 and _nested_within(value, bounds.max_depth)


def _nested_within(container, levels: int) -> bool:
    """Whether no container inside ``container`` (itself at the ``levels``-th level from the bottom) lies
    deeper than ``levels`` allows: depth first, as the recursion is bounded by the bound (3.6 → 2.1 µs an
    awareness operation, against a walk level by level)."""
    for child in (container.values() if container.__class__ is dict else container):
        if (child.__class__ is dict or child.__class__ is list) and (
                levels <= 1 or not _nested_within(child, levels - 1)):
            return False
    return True


def printable(value):
    """Return ``value`` with every string made valid UTF-8 and every out-of-range number made a string.

    What a rejected operation is stored (and hashed) as: deterministic, so a retry of the same
    operation is recognised as a duplicate, and always storable. Depth is kept only to ``max_depth``
    of ``BODY_BOUNDS`` (deeper parts become the string ``"..."``).
    """
    def fix(item, depth):
        if isinstance(item, str):
            return item.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
        if isinstance(item, bool) or item is None:
            return item
        if isinstance(item, int):
            return item if INT64_MIN <= item <= INT64_MAX else str(item)
        if isinstance(item, float):
            return item if item == item and item not in (float("inf"), float("-inf")) else str(item)
        if depth >= BODY_BOUNDS.max_depth:
            return "..."
        if isinstance(item, dict):
            return {fix(k, depth): fix(v, depth + 1) for k, v in item.items()}
        return [fix(v, depth + 1) for v in item]

    return fix(value, 0)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


# Bytes with every digit made "0" and everything else a space: a run of ``_LONG_DIGITS`` zeros then marks
# digits that could be an integer orjson reads as a float, one below -2**63 or above 2**64 - 1 (18 digits or
# fewer never are; -9,223,372,036,854,775,809 has 19, found by a fuzz against the json module)
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"0" * 19


def parse_json(data: bytes | str):
    """Parse JSON text; ``ValueError`` when it is not JSON or nests deeper than the parser can go.

    orjson parses a push body twice as fast as the json module (a push of 100 awareness interviews, 109 KB:
    221 against 452 µs), and gives the same value wherever it parses at all, but for one thing: an integer
    below -2**63 or above 2**64 - 1 comes back as a float, which the bounds' check would then let through
    (an integer between 2**63 and 2**64 - 1 stays one, and the check refuses it). So orjson parses
    only text without a run of 19 digits (a scan of 56 µs for that push), and the json module parses
    everything else, and everything orjson refuses (NaN, 1e400 and lone surrogates, which the json module
    reads and the bounds' check then names; text in UTF-16 or with a BOM; nesting past orjson's limit):
    what a body is parsed into, or why it is refused, is what the json module says.
    """
    if isinstance(data, bytes) and _LONG_DIGITS not in data.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("the JSON nests too deeply") from None


def decode_json(data: bytes, bounds: Bounds | None = None):
    """Parse a JSON body; ``EnvelopeInvalid`` when it is not JSON or breaks ``bounds`` (when given)."""
    try:
        value = parse_json(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EnvelopeInvalid(f"The body is not valid JSON: {exc}") from exc
    if bounds is not None:
        problems = value_problems(value, bounds)
        if problems:
            raise EnvelopeInvalid("The body holds values beyond the server's bounds; nothing was stored.",
                                  errors=problems)
    return value
