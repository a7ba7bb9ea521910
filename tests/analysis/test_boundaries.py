"""Boundaries of the new analysis modules: imports, weight totals for any sample, no individual scores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from analysis import population
from analysis import weights

MODULES = ("tidy", "scores", "weights", "groups", "risk", "priority", "yearly_report", "disclosure",
           "population", "boundaries", "boundary_map")


def test_new_modules_do_not_import_the_server_stack():
    code = (
        "import sys, importlib;"
        f"[importlib.import_module('analysis.' + m) for m in {MODULES!r}];"
        "bad=[m for m in ('flask','flask_sqlalchemy','werkzeug','server') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    repo = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=repo).returncode == 0


PLACES = population.communes()


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_pps_weights_add_up_to_district_adults_for_any_sample(data):
    rows, counts = [], []
    for district, group in PLACES.groupby("district_code"):
        keys = group["commune_key"].tolist()
        chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=min(4, len(keys)),
                                    unique=True))
        for i, key in enumerate(chosen):
            # a commune where everyone refused is possible, but each district keeps one respondent
            m = data.draw(st.integers(0 if i else 1, 25))
            refused = data.draw(st.integers(0 if m else 1, 10))
            rows += [{"round": 2019, "stratum": district, "psu": key}] * m
            counts.append({"round": 2019, "district_code": district, "commune_key": key,
                           "respondents": m, "refusals": refused, "attempted": m + refused})
    frame = weights.design_weights(pd.DataFrame(rows), counts=pd.DataFrame(counts))
    check = weights.check_weights(frame, strict=True)
    assert check["ok"].all()
    assert np.isclose(frame["weight"].sum(), PLACES["adult_population"].sum())
