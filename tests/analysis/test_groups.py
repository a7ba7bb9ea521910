"""Target groups as data: evaluation, validation, and domain estimates that recover the truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import groups as g
from analysis import tidy
from analysis import weights
from analysis.errors import GroupInvalid
from analysis.survey import Design
from forms import library

from .simulate import simulate


def test_default_groups_cover_the_plan_target_groups():
    names = {x["name"] for x in g.load_groups()}
    assert {"women_marriage_age", "rural", "low_education", "limited_legal_knowledge"} <= names
    labels = g.group_labels(language="vi")
    assert labels["rural"].startswith("Người dân nông thôn")


def test_conditions_ranges_combinations_and_missing_values():
    frame = pd.DataFrame({
        "sex": ["female", "female", "male", "female", None],
        "age": [20, 40, 25, np.nan, 22],
        "area": ["rural", "rural", "urban", "rural", "rural"],
        "knowledge_law": [0.0, 1 / 3, 2 / 3, 1.0, np.nan],
    })
    defs = [
        {"name": "w", "label": {"vi": "w", "en": "w"},
         "where": {"sex": ["female"], "age": {"min": 18, "max": 34}}},
        {"name": "both", "label": {"vi": "b", "en": "b"}, "all_of": ["rural", "w"]},
        {"name": "rural", "label": {"vi": "r", "en": "r"}, "where": {"area": "rural"}},
        {"name": "either", "label": {"vi": "e", "en": "e"}, "any_of": ["w", "law"]},
        {"name": "law", "label": {"vi": "l", "en": "l"}, "where": {"knowledge_law": {"lt": 0.5}}},
    ]
    out = g.add_group_columns(frame, defs)
    assert out["w"].tolist() == [True, False, False, pd.NA, pd.NA]
    assert out["both"].tolist() == [True, False, False, pd.NA, pd.NA]
    assert out["law"].tolist() == [True, True, False, False, pd.NA]
    # a man is outside "women 18-34" whatever else is missing; Kleene logic for combinations
    assert out["either"].tolist() == [True, True, False, pd.NA, pd.NA]
    assert str(out["w"].dtype) == "boolean"


@pytest.mark.parametrize("bad, fragment", [
    ([{"name": "x", "label": {"vi": "x", "en": "x"}, "where": {"nope": [1]}}], "not in the frame"),
    ([{"name": "x", "label": {"en": "x"}, "where": {"sex": ["f"]}}], "label"),
    ([{"name": "x", "label": {"vi": "x", "en": "x"}, "where": {"age": {"above": 3}}}], "range"),
    ([{"name": "x", "label": {"vi": "x", "en": "x"}, "all_of": ["y"]}], "unknown group"),
    ([{"name": "x", "label": {"vi": "x", "en": "x"}, "all_of": ["y"]},
      {"name": "y", "label": {"vi": "y", "en": "y"}, "any_of": ["x"]}], "cycle"),
    ([{"name": "1x", "label": {"vi": "x", "en": "x"}, "where": {"sex": "f"}}], "name"),
    ([{"name": "x", "label": {"vi": "x", "en": "x"}, "where": {"sex": "f"}, "any_of": ["x"]}], "exactly one"),
    ([{"name": "x", "label": {"vi": "x", "en": "x"}, "where": {"sex": {"min": "a"}}}], "number"),
])
def test_invalid_definitions_raise_group_invalid(bad, fragment):
    frame = pd.DataFrame({"sex": ["female"], "age": [20]})
    with pytest.raises(GroupInvalid) as err:
        g.add_group_columns(frame, bad)
    assert err.value.code == "group-invalid"
    assert fragment in str(err.value)


def test_analysts_pass_their_own_json_and_nothing_is_evaluated(tmp_path):
    doc = {"format": "ferry-groups/1", "groups": [
        {"name": "odd", "label": {"vi": "o", "en": "o"}, "where": {"sex": ["__import__('os').system('x')"]}}]}
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    frame = pd.DataFrame({"sex": ["female", "__import__('os').system('x')"]})
    for source in (path, str(path), json.dumps(doc), doc):
        assert g.add_group_columns(frame, source)["odd"].tolist() == [False, True]
    with pytest.raises(GroupInvalid):
        g.load_groups(json.dumps({"groups": []}))


def test_domain_means_by_group_recover_known_prevalence():
    # truth: women 18-34 know the hotline with probability 0.7, everyone else 0.3
    def hotline(p):
        return 0.7 if p["sex"] == "female" and 18 <= p["age"] <= 34 else 0.3

    subs, _ = simulate(11, n_per_district=4, m=30, hotline=hotline)
    frame = weights.design_weights(tidy.respondents(subs, library.load("awareness")))
    frame = g.add_group_columns(frame)
    design = Design(frame, weight="weight", strata="stratum", psu="psu")
    est = design.proportion("hotline_aware", by="women_marriage_age").set_index("women_marriage_age")
    for member, truth in ((True, 0.7), (False, 0.3)):
        row = est.loc[member]
        assert row["ci_low"] <= truth <= row["ci_high"], row.to_dict()
    # the same domain estimate without the group column would be wrong by 0.4: the test can fail
    assert est.loc[True, "estimate"] - est.loc[False, "estimate"] > 0.25
