"""Outreach log → activities → exposure, and the 12 November report with known changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import population
from analysis import tidy
from analysis import weights
from analysis import yearly_report as report
from analysis.errors import PlaceUnknown
from analysis.errors import VariableInvalid
from forms import library

from .simulate import simulate

PHONG_DIEN = "926"


def communes_of(district):
    places = population.communes()
    return places.loc[places["district_code"] == district, "commune_key"].tolist()


def outreach_log():
    rows = []

    def add(sid, date, level, kind, reached, district=None, communes=None):
        answers = {"activity_date": date, "level": level, "activity_type": kind,
                   "target_groups": ["general_public"], "people_reached": reached,
                   "reach_basis": "estimated", "organiser": "radio_tv"}
        if district:
            answers["district"] = district
        if communes:
            answers["communes"] = communes
        rows.append({"submission_id": sid, "answers": answers})

    add("radio-1", "2019-03-01", "city", "radio_programme", 100_000)
    add("radio-2", "2019-07-30", "city", "radio_programme", 50_000)
    for i, commune in enumerate(communes_of(PHONG_DIEN)[:3]):
        add(f"team-{i}", f"2019-05-0{i + 1}", "commune", "mobile_team", 200, PHONG_DIEN, [commune])
    add("old", "2018-07-30", "district", "day_30_july", 1_000, PHONG_DIEN)
    return pd.DataFrame(rows)


def test_activities_and_exposure_share_reach_by_population():
    acts = tidy.activities(outreach_log(), library.load("outreach"))
    assert len(acts) == 2 * 85 + 3 + len(communes_of(PHONG_DIEN))
    per_activity = acts.groupby("activity_id")["people_reached"].sum()
    assert per_activity["radio-1"] == pytest.approx(100_000)
    exp = tidy.exposure(acts, rounds=[2018, 2019])
    assert len(exp) == 2 * 85
    e19 = exp[exp["round"] == 2019].set_index("commune_key")
    first = communes_of(PHONG_DIEN)[0]
    assert e19.loc[first, "activities"] == 3 and e19.loc[first, "channels"] == "mobile_team;radio_programme"
    last = communes_of(PHONG_DIEN)[-1]
    assert e19.loc[last, "activities"] == 2 and e19.loc[last, "last_outreach_year"] == 2019
    e18 = exp[exp["round"] == 2018].set_index("commune_key")
    assert e18.loc[first, "last_outreach_year"] == 2018 and pd.isna(e18.loc["31117", "last_outreach_year"])
    assert e18.loc["31117", "reached"] == np.False_
    bad = outreach_log().head(1).copy()
    bad["answers"] = [{"activity_date": "2019-01-01", "level": "commune", "communes": ["nowhere"],
                       "activity_type": "other", "people_reached": 1}]
    with pytest.raises(PlaceUnknown):
        tidy.activities(bad)


@pytest.fixture(scope="module")
def two_rounds():
    form = library.load("awareness")
    frames = []
    for seed, year, p_pd in ((21, 2018, 0.3), (22, 2019, 0.6)):
        subs, _ = simulate(seed, round=year, n_per_district=4, m=20,
                           hotline=lambda p, p_pd=p_pd: p_pd if p["district_code"] == PHONG_DIEN else 0.4)
        frames.append(weights.design_weights(tidy.respondents(subs, form)))
    return pd.concat(frames, ignore_index=True)


def test_report_levels_change_and_outreach(two_rounds):
    acts = tidy.activities(outreach_log(), library.load("outreach"))
    rep = report.yearly_report(two_rounds, acts, year=2019, previous=2018)
    totals = rep.outreach_totals.set_index("district_code")
    assert totals.loc[PHONG_DIEN, "activities"] == 5 and totals.loc["916", "activities"] == 2
    assert totals["people_reached"].sum() == pytest.approx(150_000 + 600)
    hot = rep.awareness[rep.awareness["indicator"] == "hotline_aware"].set_index("district_code")
    assert len(hot) == 10  # nine districts and the city
    pd_row = hot.loc[PHONG_DIEN]
    assert pd_row["ci_low"] <= 0.6 <= pd_row["ci_high"]
    assert pd_row["change_low"] <= 0.3 <= pd_row["change_high"] and pd_row["change_low"] > 0
    others = hot.drop(index=[PHONG_DIEN, "all"])
    covers_zero = (others["change_low"] <= 0) & (others["change_high"] >= 0)
    assert covers_zero.sum() >= 7
    text = report.render_markdown(rep, language="both")
    assert "Hoạt động truyền thông / Outreach activities" in text
    assert "12 tháng 11" in text and "Phong Điền" in text
    assert report.render_markdown(rep, language="en").startswith("# Anti-trafficking communication")


def test_report_withholds_small_cells_and_checks_rounds(two_rounds):
    acts = tidy.activities(outreach_log(), library.load("outreach"))
    rep = report.yearly_report(two_rounds, acts, year=2019, min_n=100)
    districts = rep.awareness[rep.awareness["district_code"] != "all"]
    assert districts["suppressed"].all() and districts["estimate"].isna().all()
    assert not rep.awareness.loc[rep.awareness["district_code"] == "all", "suppressed"].any()
    assert "–" in report.render_markdown(rep, language="vi")
    with pytest.raises(VariableInvalid):
        report.yearly_report(two_rounds, acts, year=2019, previous=2017)
