"""Analysis-ready respondents: written as submissions arrive, read back in bulk as tidy frames.

Ingestion computes each head's row (:func:`analysis.respondent_rows.respondent_row`, through the
form version's ``analysis_values``) and the sync store writes it with ``save_row`` in the head's
transaction, so the ``respondents`` table always matches the heads; a deleted head loses its row.
``load_respondents`` reads the table column by column (one aggregate query per version and round,
see ``_fetch``) and decodes the point vectors with numpy, giving the frame
:func:`analysis.tidy.respondents` gives from the JSON answers (a million rows in a few seconds).
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
from sqlalchemy import Text
from sqlalchemy import bindparam
from sqlalchemy import cast
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.errors import AnalysisError
from analysis.next_round import design_columns
from analysis.respondent_rows import MISSING_CHOICE
from analysis.respondent_rows import PROFILE_COLUMNS
from analysis.respondent_rows import respondent_row
from analysis.weights import design_weights
from server.forms import registry as form_registry
from server.models import HEAD_REVISION
from server.models import Form
from server.models import FormVersion
from server.models import Respondent
from server.models import Submission
from server.models import SubmissionRevision
from server.models.errors import ServerError
from server.plans.frames import approved_frames
from sync.store import AnalysisRow

log = logging.getLogger(__name__)


def row_values(row: AnalysisRow) -> dict:
    """The ``respondents`` columns of an analysis row."""
    return {"submission_id": row.submission_id, "form_id": row.form_id, "form_version": row.form_version,
            "seq": row.seq, **row.values}


_ROWS = Respondent.__table__
_HEADS = Submission.__table__
#: The ``respondents`` rows of the submissions ``ids``: rows are keyed by their head's seq, which the foreign
#: key keeps equal to it whether or not the head has moved on yet in this transaction.
DELETE_ROWS_OF = delete(_ROWS).where(_ROWS.c.seq.in_(
    select(_HEADS.c.seq).where(_HEADS.c.id.in_(bindparam("ids", expanding=True)))))


def save_row(session: Session, submission_id: str, row: AnalysisRow | None) -> None:
    """Write, replace or remove the ``respondents`` row of a submission (inside the caller's transaction).

    Core statements after a flush, not ORM objects: the foreign key moves a row's key with its head, under
    any object the session would hold."""
    session.flush()
    session.execute(DELETE_ROWS_OF, {"ids": [submission_id]})
    if row is not None:
        session.execute(insert(_ROWS), [row_values(row)])


def load_row(session: Session, submission_id: str) -> AnalysisRow | None:
    """Return the analysis row of a submission as the store saved it, or None."""
    session.flush()
    found = session.execute(select(_ROWS).join(_HEADS, _HEADS.c.seq == _ROWS.c.seq)
                            .where(_HEADS.c.id == submission_id)).one_or_none()
    if found is None:
        return None
    values = {name: getattr(found, name) for name in _VALUE_COLUMNS}
    return AnalysisRow(submission_id=found.submission_id, form_id=found.form_id,
                       form_version=found.form_version, seq=found.seq, values=values)


def analysis_values(form, answers: dict) -> dict | None:
    """The analysis values of accepted answers of ``form``, or None (not scored, or not placeable).

    The submission is stored whatever happens here; it only stays out of the analysis (``report
    reindex`` retries) rather than failing the device's sync.
    """
    try:
        return respondent_row(form, answers)
    except (AnalysisError, ValueError, TypeError) as exc:
        log.warning("answers not indexed for analysis: %s", exc)
        return None


def reindex(session: Session, *, batch: int = 1000) -> int:
    """Rebuild the ``respondents`` table from the stored heads; return the rows written."""
    session.execute(delete(Respondent))
    forms: dict[tuple[str, str], object] = {}
    query = (select(Submission, SubmissionRevision.answers)
             .join(SubmissionRevision, HEAD_REVISION)
             .where(Submission.deleted.is_(False)).order_by(Submission.seq))
    rows = []
    for head, answers in session.execute(query.execution_options(yield_per=batch)):
        key = (head.form_id, head.form_version)
        if key not in forms:
            version = session.scalar(select(FormVersion).join(Form).where(
                Form.form_id == head.form_id, FormVersion.version == head.form_version))
            forms[key] = None if version is None else form_registry.load_form(version)
        values = None if forms[key] is None or answers is None else analysis_values(forms[key], answers)
        if values is not None:
            rows.append(row_values(AnalysisRow(head.id, head.form_id, head.form_version, head.seq, values)))
        if len(rows) >= batch:
            session.execute(insert(Respondent), rows)
            rows = []
    if rows:
        session.execute(insert(Respondent), rows)
    session.flush()
    return session.query(Respondent).count()


_VALUE_COLUMNS = ("round", "district_code", "commune_key", "consented", *PROFILE_COLUMNS, "extra", "points",
                  "choices")
_COLUMNS = ["submission_id", "form_version", *_VALUE_COLUMNS]
#: Text columns: read as codes into a few shared strings (a million rows hold a handful of values).
_TEXT = ("district_code", "commune_key", *(c for c in PROFILE_COLUMNS if c != "age"))
_NUMBERS = ("round", "age")
_VECTORS = ("points", "choices")


def load_respondents(form_id: str, version: str | None = None, *, session: Session | None = None,
                     places=None, weights: bool = True, signs_at_least: int = 3, plans=None) -> pd.DataFrame:
    """The tidy respondent frame of a scored form (one version, or all), with design weights.

    Same columns as :func:`analysis.tidy.respondents` (plus ``form_version``); ``weight`` from
    :func:`analysis.weights.design_weights`, its nonresponse adjustment counting the refusals
    whose commune is known. The rounds drawn by an approved plan (``plans``: ``{year: Plan.frame}``,
    default those stored) carry the plan's recorded design (:func:`analysis.next_round.design_columns`),
    so the weights and every estimator use its inclusion probabilities. Raises ``not-found`` for an
    unknown form or version.
    """
    if session is None:
        from server.extensions import db

        session = db.session
    query = select(FormVersion).join(Form).where(Form.form_id == form_id)
    if version is not None:
        query = query.where(FormVersion.version == version)
    stored = {row.version: row for row in session.scalars(query)}
    if not stored:
        what = f"version {version!r} of form {form_id!r}" if version is not None else f"form {form_id!r}"
        raise ServerError("not-found", f"No {what}.")
    parts, counts = [], []
    for name, part in _fetch(session, form_id, version).items():  # versions in order of first seq
        form = form_registry.load_form(stored[name])
        counts.append(_counts(part))
        # a respondent the server cannot place (no round or commune answered) is left out
        placed = part["consented"] & ~np.isnan(part["round"]) & pd.notna(part["commune_key"])
        frame = _decode({key: values[placed] for key, values in part.items()}, form,
                        places=places, signs_at_least=signs_at_least)
        frame.insert(1, "form_version", name)
        parts.append(frame)
    if not parts:
        form = form_registry.load_form(next(iter(stored.values())))
        frame = _decode(_Columns().arrays(), form, places=places, signs_at_least=signs_at_least)
        frame.insert(1, "form_version", pd.Series(dtype="object"))
        return frame.assign(weight=pd.Series(dtype="float64")) if weights else frame
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    plans = approved_frames(session) if plans is None else plans
    if plans and len(frame):
        frame = design_columns(frame, plans)
    if weights and len(frame):
        keys = ["round", "district_code", "commune_key"]
        count_table = pd.concat(counts).groupby(keys, as_index=False).sum()
        count_table["attempted"] = count_table["respondents"] + count_table["refusals"]
        # post-stratified to the census's district adults: a planned round's tilted draw gives each
        # district a random weight total, and the city's figures a random share of each district
        frame = design_weights(frame, population=places, counts=count_table, calibrate=True)
    elif weights:
        frame["weight"] = pd.Series(dtype="float64")
    return frame


def _fetch(session: Session, form_id: str, version: str | None) -> dict[str, dict]:
    """The form's ``respondents`` rows by version (in order of first ``seq``), as arrays by column.

    One aggregate query per version and round (rows in storage order, sorted by ``seq`` here:
    sorting in the query would double its time) returns each column as one text value: JSON
    arrays (SQLite's ``json_group_array``, PostgreSQL's ``json_agg``) parsed by the C ``json``
    decoder, and the point and choice vectors, which have one width per version, as one hex
    string each. Fetching a million rows as driver tuples, let alone SQLAlchemy rows, costs
    several times more than the scan; a round keeps every text far below the databases' size
    limits. Text columns come back as object arrays of a few shared strings (None when
    missing); ``round`` and ``age`` as floats (NaN when missing); ``consented`` as bools;
    ``extra`` as dicts or None; ``points`` and ``choices`` as uint8 arrays, one row per row.
    """
    table = Respondent.__table__
    where = table.c.form_id == form_id
    if version is not None:
        where = where & (table.c.form_version == version)
    groups = session.execute(select(table.c.form_version, table.c.round).where(where).distinct()).all()
    postgres = session.get_bind().dialect.name == "postgresql"
    columns = [c for c in _COLUMNS if c != "form_version"] + ["seq"]

    def aggregate(column):
        if column.name in _VECTORS:  # JSON has no bytes; one width per version: no separator
            hexed = func.encode(column, "hex") if postgres else func.hex(column)
            return func.string_agg(hexed, "") if postgres else func.group_concat(hexed, "")
        return cast(func.json_agg(column), Text) if postgres else func.json_group_array(column)

    batches: dict[str, _Columns] = {}
    for name, round_ in groups:
        inner = select(*[table.c[c] for c in columns]).where(
            where, table.c.form_version == name,
            table.c.round.is_(None) if round_ is None else table.c.round == round_).subquery()
        row = session.execute(select(*[aggregate(inner.c[c]) for c in columns])).one()
        batches.setdefault(name, _Columns()).add(row)
    arrays = {name: batch.arrays() for name, batch in batches.items()}
    return dict(sorted(arrays.items(), key=lambda item: item[1].pop("_first")))


class _Columns:
    """Batches of fetched columns of one version, turned into compact arrays."""

    def __init__(self):
        self.batches = {name: [] for name in [*_COLUMNS, "seq"] if name != "form_version"}
        self.labels = {name: [] for name in _TEXT}
        self.offsets = dict.fromkeys(_TEXT, 0)

    def add(self, row) -> None:
        """Add one batch: the aggregates of the columns in ``_COLUMNS`` order, then ``seq``."""
        for name, text in zip(self.batches, row, strict=True):
            if name in _VECTORS:
                self.batches[name].append(np.frombuffer(bytes.fromhex(text or ""), dtype=np.uint8))
                continue
            values = json.loads(text)
            if name in _TEXT:
                codes, labels = pd.factorize(np.asarray(values, dtype=object))
                self.batches[name].append((codes, self.offsets[name]))
                self.labels[name].append(np.asarray(labels, dtype=object))
                self.offsets[name] += len(labels)
            elif name in _NUMBERS:
                self.batches[name].append(np.array(values, dtype="float64"))  # None -> NaN
            elif name == "consented":
                self.batches[name].append(np.array(values, dtype=bool))
            elif name == "seq":
                self.batches[name].append(np.array(values, dtype="int64"))
            elif name == "extra":
                self.batches[name].append(_extras(values))
            else:
                self.batches[name].append(np.array(values, dtype=object))

    def arrays(self) -> dict:
        """The columns of every batch, in ``seq`` order; ``_first``: the smallest ``seq``."""
        sizes = [len(s) for s in self.batches["seq"]]
        seq = np.concatenate(self.batches["seq"]) if sizes else np.array([], dtype="int64")
        order = None if (np.diff(seq) >= 0).all() else np.argsort(seq, kind="stable")
        out = {"_first": int(seq.min()) if len(seq) else 0}
        for name, batches in self.batches.items():
            if name == "seq":
                continue
            if name in _TEXT:
                values = self._decoded(name, batches)
            elif name in _VECTORS:
                values = np.concatenate([b.reshape(n, -1) if n else b.reshape(0, 0)
                                         for b, n in zip(batches, sizes, strict=True) if n]) \
                    if any(sizes) else np.zeros((0, 0), dtype=np.uint8)
            elif batches:
                values = np.concatenate(batches)
            else:
                values = np.array([], dtype="float64" if name in _NUMBERS else
                                  (bool if name == "consented" else object))
            out[name] = values if order is None else values[order]
        return out

    def _decoded(self, name, batches):
        labels = self.labels[name]
        every = np.concatenate(labels) if labels else np.array([], dtype=object)
        # the same label in several batches: one shared code (and one string object)
        merged, unique = pd.factorize(every) if len(every) else (np.array([], dtype=np.intp), every)
        table = np.append(np.asarray(unique, dtype=object), None)
        parts = []
        for (codes, first), batch_labels in zip(batches, labels, strict=True):
            remap = np.append(merged[first:first + len(batch_labels)], -1)
            parts.append(remap[codes])  # -1 (missing) picks the last entry: None
        codes = np.concatenate(parts) if parts else np.array([], dtype=np.intp)
        return table[codes]


def _extras(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if value is None:
            out[i] = None
        elif isinstance(value, (str, bytes)):
            out[i] = json.loads(value)
        else:
            out[i] = value
    return out


def _counts(part: dict) -> pd.DataFrame:
    placed = ~np.isnan(part["round"]) & pd.notna(part["commune_key"])
    consented = part["consented"][placed].astype("int64")
    out = pd.DataFrame({"round": part["round"][placed].astype("int64"),
                        "district_code": part["district_code"][placed],
                        "commune_key": part["commune_key"][placed],
                        "respondents": consented, "refusals": 1 - consented})
    return out.groupby(["round", "district_code", "commune_key"], as_index=False).sum()


def _decode(part: dict, form, *, places, signs_at_least) -> pd.DataFrame:
    layout = tidy.respondent_layout(form)
    n = len(part["submission_id"])
    body = {}
    extra = part["extra"]
    for name, _numeric in layout.profile:
        if name == "age":
            body[name] = part[name]  # floats, NaN when missing: what the frame's numeric age is
        elif name in PROFILE_COLUMNS:
            body[name] = part[name]
        else:
            body[name] = np.array([None if e is None else e.get(name) for e in extra], dtype=object)
    points = _vectors(part["points"], n, len(layout.items), "<f4")
    for j, name in enumerate(layout.items):
        body[name] = points[:, j].astype("float64")
    columns = layout.choice_columns
    choices = _vectors(part["choices"], n, len(columns), np.uint8)
    for j, column in enumerate(columns):
        values = choices[:, j].astype("float64")
        values[choices[:, j] == MISSING_CHOICE] = np.nan
        body[column] = values
    body = pd.DataFrame(body)
    design = pd.DataFrame({"submission_id": part["submission_id"], "round": part["round"],
                           "district_code": part["district_code"], "commune_key": part["commune_key"]})
    return tidy.respondent_frame(design, body, form, places=places, signs_at_least=signs_at_least)


def _vectors(raw: np.ndarray, n: int, width: int, dtype) -> np.ndarray:
    """Rows of stored vector bytes (n x bytes) as an n x ``width`` array of ``dtype``."""
    values = np.ascontiguousarray(raw).view(dtype) if raw.size else np.zeros((n, 0), dtype=dtype)
    return values.reshape(n, width)
