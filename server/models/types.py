"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import orjson
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import DateTime
from sqlalchemy.types import TypeDecorator

from sync.transport import ORJSON_AS_JSON

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# For columns where None means "nothing" (a tombstone): SQL NULL, not the JSON literal null.
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# JSON text on both (PostgreSQL's json: kept as written, its syntax checked), for what every push writes and
# no query looks inside: a submission's answers, a ledger row's result. PostgreSQL turning each into jsonb
# took about 10 µs of its CPU a submission (issue 13). None is SQL NULL, as in NullableJson.
WrittenJson = JSON()
NullableWrittenJson = JSON(none_as_null=True)


def json_text(value) -> str:
    """The JSON text a JSON column stores (the engines' ``json_serializer``): orjson where it writes the same
    document, json.dumps where it might not.

    Every push stores each submission's answers as JSON; orjson writes them several times faster. Its text
    may differ (no ASCII escapes or spaces, 1e-7 for 1e-07) but reads back equal. Where it would not read
    back equal, the json module writes it, as before: orjson writes NaN and infinities as null (so any null
    sends the value to json.dumps, whose NaN SQLite keeps), and refuses integers past 64 bits and lone
    surrogates.
    """
    try:
        fast = orjson.dumps(value, option=ORJSON_AS_JSON)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    return json.dumps(value) if b"null" in fast else fast.decode()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Ferry stores only timezone-aware UTC times")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Return the server's current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)
