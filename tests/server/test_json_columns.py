"""JSON columns are written by orjson where it writes the same document, by the json module where not."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from server.extensions import db
from server.models.types import json_text

_LEAVES = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text())
_VALUES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


@given(_VALUES)
def test_what_json_text_writes_reads_back_as_what_the_json_module_wrote(value):
    # The engines' serializer: its text may differ from json.dumps's, never the value read back (NaN,
    # infinities, integers past 64 bits and lone surrogates included).
    expected = json.dumps(json.loads(json.dumps(value)))  # NaN-safe comparison: compare re-encoded text
    assert json.dumps(json.loads(json_text(value))) == expected


@pytest.mark.parametrize("value", [dt.datetime(2026, 1, 1, tzinfo=dt.UTC), {"when": dt.date(2026, 1, 1)}])
def test_json_text_refuses_what_the_json_module_refuses(value):
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        json_text(value)


def test_the_apps_engine_writes_json_columns_with_json_text(app):
    from server.models import SyncOp

    with app.app_context():
        assert db.engine.dialect._json_serializer is json_text
        with db.engine.begin() as conn:
            conn.execute(sa.insert(SyncOp.__table__).values(
                op_id="op", device_id="d", payload_hash="h", result={"sub": "ế", "rev": 1}, seq=1,
                received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
            # the stored text itself: PostgreSQL's json keeps it as written, as SQLite does (jsonb would not)
            raw = conn.exec_driver_sql("SELECT CAST(result AS TEXT) FROM sync_ops").scalar()
    assert raw == '{"sub":"ế","rev":1}'  # orjson's text: json.dumps writes '{"sub": "\\u1ebf", "rev": 1}'
