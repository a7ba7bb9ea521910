"""Analysis-ready respondents: written as submissions arrive, read back in bulk as tidy frames.

``index_head`` runs inside the sync store's transaction for every saved submission head, so the
``respondents`` table always matches the heads: a scored form's head revision is extracted once
(:func:`analysis.tidy.respondent_record`, the same function the bulk path uses) and a deleted head
loses its row. ``load_respondents`` reads the table with one query and decodes the point vectors
with numpy, giving the frame :func:`analysis.tidy.respondents` gives from the JSON answers.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import tidy
from analysis.errors import AnalysisError
from analysis.weights import design_weights

from . import form_registry
from .models import Form
from .models import FormVersion
from .models import Respondent
from .models import Submission
from .models import SubmissionRevision
from .models.respondents import PROFILE_COLUMNS
from .problems import ApiError

log = logging.getLogger(__name__)

#: Longest code kept in a typed column (``respondents`` String(100) columns).
_CODE_LENGTH = 100
#: Choice vector codes: not chosen, chosen, missing.
_MISSING_CHOICE = 2


def respondent_values(form, answers: dict) -> dict:
    """The ``respondents`` columns (without ids) of one answer document of a scored form."""
    record = tidy.respondent_record(form, answers)
    layout = tidy.respondent_layout(form)
    values = {key: record[key] for key in ("round", "district_code", "commune_key", "consented")}
    extra = {}
    for name, _numeric in layout.profile:
        value = record[name]
        if name in PROFILE_COLUMNS:
            values[name] = _typed(name, value)
        elif value is not None:
            extra[name] = value
    values["extra"] = extra or None
    if values["round"] is not None and not 0 < values["round"] < 10000:
        raise ValueError(f"round {values['round']} is not a year")
    for key in ("district_code", "commune_key", *PROFILE_COLUMNS):
        value = values.get(key)
        if isinstance(value, str) and len(value) > _CODE_LENGTH:
            # PostgreSQL would refuse the row and with it the device's whole sync transaction.
            raise ValueError(f"{key} is longer than {_CODE_LENGTH} characters")
    points = [record[name] for name in layout.items]
    values["points"] = np.array([np.nan if p is None else p for p in points], dtype="<f4").tobytes()
    choices = [record[column] for column in layout.choice_columns]
    values["choices"] = bytes(_MISSING_CHOICE if c is None else int(bool(c)) for c in choices)
    return values


def _typed(name, value):
    if value is None:
        return None
    if name == "age":
        try:
            age = int(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return age if 0 <= age < 1000 else None  # an INTEGER column; no one is older
    return str(value)


def index_head(session: Session, head, form, answers: dict | None, *, new: bool = False) -> None:
    """Write, replace or remove the ``respondents`` row of a submission head (inside its transaction).

    ``form`` is the head's form version (None if unknown); ``answers`` its head revision's answers
    (None for a tombstone); ``new``: the head was just created, so it has no row yet. Forms without
    scoring keys have no row.
    """
    row = None if new else session.get(Respondent, head.id)
    if head.deleted or answers is None or form is None or not form.scoring:
        if row is not None:
            session.delete(row)
        return
    try:
        values = respondent_values(form, answers)
    except (AnalysisError, ValueError, TypeError) as exc:
        # The submission is stored whatever happens here; it only stays out of the analysis
        # (``report reindex`` retries) rather than failing the device's sync.
        log.warning("submission %s not indexed for analysis: %s", head.id, exc)
        if row is not None:
            session.delete(row)
        return
    values.update(form_id=head.form_id, form_version=head.form_version, seq=head.seq)
    if row is None:
        session.add(Respondent(submission_id=head.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)


def reindex(session: Session, *, batch: int = 1000) -> int:
    """Rebuild the ``respondents`` table from the stored heads; return the rows written."""
    session.execute(delete(Respondent))
    forms: dict[tuple[str, str], object] = {}
    written = 0
    query = (select(Submission, SubmissionRevision.answers)
             .join(SubmissionRevision, SubmissionRevision.op_id == Submission.head)
             .where(Submission.deleted.is_(False)).order_by(Submission.seq))
    for head, answers in session.execute(query.execution_options(yield_per=batch)):
        key = (head.form_id, head.form_version)
        if key not in forms:
            version = session.scalar(select(FormVersion).join(Form).where(
                Form.form_id == head.form_id, FormVersion.version == head.form_version))
            forms[key] = None if version is None else form_registry.load_form(version)
        index_head(session, head, forms[key], answers)
        written += 1 if forms[key] is not None and forms[key].scoring else 0
        if written % batch == 0:
            session.flush()
    session.flush()
    return session.query(Respondent).count()


_COLUMNS = ["submission_id", "form_version", "round", "district_code", "commune_key", "consented",
            *PROFILE_COLUMNS, "extra", "points", "choices"]


def load_respondents(form_id: str, version: str | None = None, *, session: Session | None = None,
                     places=None, weights: bool = True, signs_at_least: int = 3) -> pd.DataFrame:
    """The tidy respondent frame of a scored form (one version, or all), with design weights.

    Same columns as :func:`analysis.tidy.respondents` (plus ``form_version``); ``weight`` from
    :func:`analysis.weights.design_weights`, its nonresponse adjustment counting the refusals
    whose commune is known. Raises ``not-found`` for an unknown form or version.
    """
    if session is None:
        from .extensions import db

        session = db.session
    query = select(FormVersion).join(Form).where(Form.form_id == form_id)
    if version is not None:
        query = query.where(FormVersion.version == version)
    stored = {row.version: row for row in session.scalars(query)}
    if not stored:
        what = f"version {version!r} of form {form_id!r}" if version is not None else f"form {form_id!r}"
        raise ApiError("not-found", f"No {what}.")
    table = Respondent.__table__
    select_rows = select(*[table.c[c] for c in _COLUMNS]).where(table.c.form_id == form_id)
    if version is not None:
        select_rows = select_rows.where(table.c.form_version == version)
    rows = session.execute(select_rows.order_by(table.c.seq)).all()
    # Column-wise from plain tuples: pandas probing SQLAlchemy rows one by one costs more than the query.
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_COLUMNS)
    raw = pd.DataFrame({name: list(values) for name, values in zip(_COLUMNS, columns, strict=True)},
                       columns=_COLUMNS)
    parts, counts = [], []
    for name, part in raw.groupby("form_version", sort=False) if len(raw) else []:
        form = form_registry.load_form(stored[name])
        counts.append(_counts(part))
        # a respondent the server cannot place (no round or commune answered) is left out
        placed = part["consented"].astype(bool) & part["round"].notna() & part["commune_key"].notna()
        frame = _decode(part[placed].reset_index(drop=True), form,
                        places=places, signs_at_least=signs_at_least)
        frame.insert(1, "form_version", name)
        parts.append(frame)
    if not parts:
        form = form_registry.load_form(next(iter(stored.values())))
        empty = pd.DataFrame(columns=_COLUMNS)
        frame = _decode(empty, form, places=places, signs_at_least=signs_at_least)
        frame.insert(1, "form_version", pd.Series(dtype="object"))
        return frame.assign(weight=pd.Series(dtype="float64")) if weights else frame
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if weights and len(frame):
        keys = ["round", "district_code", "commune_key"]
        count_table = pd.concat(counts).groupby(keys, as_index=False).sum()
        count_table["attempted"] = count_table["respondents"] + count_table["refusals"]
        frame = design_weights(frame, population=places, counts=count_table)
    elif weights:
        frame["weight"] = pd.Series(dtype="float64")
    return frame


def _counts(part: pd.DataFrame) -> pd.DataFrame:
    placed = part.dropna(subset=["round", "commune_key"])
    out = pd.DataFrame({"round": placed["round"].astype("int64"), "district_code": placed["district_code"],
                        "commune_key": placed["commune_key"],
                        "respondents": placed["consented"].astype("int64"),
                        "refusals": 1 - placed["consented"].astype("int64")})
    return out.groupby(["round", "district_code", "commune_key"], as_index=False).sum()


def _decode(part: pd.DataFrame, form, *, places, signs_at_least) -> pd.DataFrame:
    layout = tidy.respondent_layout(form)
    n = len(part)
    body = pd.DataFrame(index=part.index)
    extra = part["extra"].tolist()
    for name, _numeric in layout.profile:
        if name in PROFILE_COLUMNS:
            body[name] = part[name].astype("object")
        else:
            body[name] = pd.Series([None if e is None else e.get(name) for e in extra], index=part.index,
                                   dtype="object")
    points = np.frombuffer(b"".join(part["points"]), dtype="<f4").reshape(n, len(layout.items))
    for j, name in enumerate(layout.items):
        body[name] = points[:, j].astype("float64")
    columns = layout.choice_columns
    choices = np.frombuffer(b"".join(part["choices"]), dtype=np.uint8).reshape(n, len(columns))
    for j, column in enumerate(columns):
        values = choices[:, j].astype("float64")
        values[choices[:, j] == _MISSING_CHOICE] = np.nan
        body[column] = values
    design = part[["submission_id", "round", "district_code", "commune_key"]]
    return tidy.respondent_frame(design, body, form, places=places, signs_at_least=signs_at_least)
