"""The packed analysis row ingestion stores: the same values as the extraction it packs."""

from __future__ import annotations

import math

import numpy as np

from analysis import tidy
from analysis.respondent_rows import MISSING_CHOICE
from analysis.respondent_rows import respondent_row
from analysis.simulation import generate
from forms import library


def test_points_and_choices_pack_the_records_values_in_layout_order():
    form = library.load("awareness")
    layout = tidy.respondent_layout(form)
    season = generate(seed=3, interviews=300, rounds=(2017,))
    checked, missing, chosen, unchosen, unanswered = 0, 0, 0, 0, 0
    for interview in season.interviews:
        if interview.form_id != "awareness":
            continue
        record = tidy.respondent_record(form, interview.answers)
        row = respondent_row(form, interview.answers)
        points = np.frombuffer(row["points"], dtype="<f4")
        assert len(points) == len(layout.items)
        for name, packed in zip(layout.items, points, strict=True):
            value = record[name]
            missing += value is None
            assert math.isnan(packed) if value is None else packed == np.float32(value), name
        expected = [MISSING_CHOICE if record[c] is None else int(bool(record[c]))
                    for c in layout.choice_columns]
        assert list(row["choices"]) == expected
        chosen, unchosen = chosen + expected.count(1), unchosen + expected.count(0)
        unanswered += expected.count(MISSING_CHOICE)
        checked += 1
    # every kind of value was packed at least once (seed 3: 300 rows, 644 missing points, 168 unanswered)
    assert checked > 200 and missing and chosen and unchosen and unanswered
