"""The outreach plan (propose, compare) and the report's lines on plans, on small frames checked by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from analysis import tidy
from analysis.errors import VariableInvalid
from analysis.outreach_plan import PLAN_COLUMNS
from analysis.outreach_plan import activity_channel
from analysis.outreach_plan import compare_outreach
from analysis.outreach_plan import propose_outreach
from analysis.report_plans import OutreachReview
from analysis.report_plans import design_lines
from analysis.report_plans import fixed_designs
from analysis.report_plans import plan_sections

URBAN, RURAL = "916", "925"  # Ninh Kiều: all urban communes; Cờ Đỏ: rural ones


def reach_table():
    """Channels × groups: the rural group least reached, family and friends reaching everyone most (but
    not plannable), and one withheld cell that would otherwise be the best."""
    cells = {
        # group: {channel: (estimate, ci_low, ci_high)}
        "all": {"mobile_team": (0.30, 0.25, 0.35), "family_friends": (0.60, 0.55, 0.65)},
        "rural": {"mobile_team": (0.12, 0.08, 0.16), "loudspeaker": (0.10, 0.07, 0.14),
                  "city_radio_tv": (0.04, 0.02, 0.06), "family_friends": (0.70, 0.60, 0.80)},
        "women_marriage_age": {"mobile_team": (0.20, 0.15, 0.25), "social_media": (0.50, 0.40, 0.60),
                               "city_radio_tv": (0.18, 0.12, 0.24), "commune_meeting": (0.05, 0.03, 0.07)},
        "low_education": {"loudspeaker": (0.30, 0.26, 0.34), "commune_meeting": (0.15, 0.12, 0.18),
                          "legal_bookshelf": (0.90, None, None)},
        "young_people": {"web_portal": (0.45, 0.40, 0.50), "event": (0.35, 0.30, 0.40)},
        "any_plan_target": {"mobile_team": (0.01, 0.00, 0.02)},
    }
    rows = []
    for group, channels in cells.items():
        for channel, (est, low, high) in channels.items():
            withheld = low is None
            rows.append({"group": group, "channel": channel, "estimate": None if withheld else est,
                         "ci_low": low, "ci_high": high, "n": 5 if withheld else 200, "suppressed": withheld})
    return pd.DataFrame(rows)


def need_tables():
    """Ninh Kiều with two top-tier communes; Cờ Đỏ with none (its largest need is Trung Thạnh)."""
    communes = pd.DataFrame([
        ("916", "31117", "Cái Khế", "urban", "highest", 0.90, 900.0),
        ("916", "31120", "An Hòa", "urban", "high", 0.40, 700.0),
        ("916", "31123", "Thới Bình", "urban", "lower", 0.01, 100.0),
        ("925", "31222", "Trung An", "rural", "medium", 0.10, 300.0),
        ("925", "31225", "Trung Thạnh", "rural", "medium", 0.10, 400.0),
    ], columns=["district_code", "commune_key", "commune_name", "area", "tier", "p_top_k", "need"])
    districts = pd.DataFrame({"district_code": [RURAL, URBAN]})
    return districts, communes


def test_proposal_targets_gaps_with_the_channels_that_reach_the_least_reached_groups():
    districts, communes = need_tables()
    plan = propose_outreach(reach_table(), districts, communes, year=2020, groups_per_district=2)
    assert list(plan.columns) == PLAN_COLUMNS
    assert list(plan["district_code"].unique()) == [RURAL, URBAN]  # the districts' order is kept
    rural = plan[plan["district_code"] == RURAL]
    # the least reached groups first: rural (best plannable 12%), then women 18-34 (20%)
    assert list(rural["group"]) == ["rural", "rural", "women_marriage_age", "women_marriage_age"]
    assert list(rural["channel"]) == ["mobile_team", "loudspeaker", "mobile_team", "city_radio_tv"]
    # no top-tier commune in Cờ Đỏ: its commune of largest need, and the reason says so
    assert set(rural["communes"]) == {("31225",)}
    assert rural["reason"].str.contains("no commune in the top tiers").all()
    assert rural["reason_vi"].str.contains("không có xã/phường ở nhóm ưu tiên cao").all()
    # Ninh Kiều is urban: the rural group is not proposed there; low education (30%) comes after women
    urban = plan[plan["district_code"] == URBAN]
    assert list(urban["group"]) == ["women_marriage_age", "women_marriage_age", "low_education",
                                    "low_education"]
    assert set(urban["communes"]) == {("31117", "31120")}
    # never a channel outreach cannot run on, a withheld cell, "all" or a union group
    assert not set(plan["channel"]) & {"family_friends", "social_media"}
    assert "legal_bookshelf" not in set(plan["channel"])
    assert not set(plan["group"]) & {"all", "any_plan_target"}
    # the figures quoted are the table's
    first = rural.iloc[0]
    assert (first["reach"], first["reach_low"], first["reach_high"]) == (0.12, 0.08, 0.16)
    assert "Mobile information team reached 12% [8%–16%]" in first["reason"]


def test_reasons_say_whether_the_second_channel_is_as_likely_the_best():
    districts, communes = need_tables()
    plan = propose_outreach(reach_table(), districts, communes, year=2020, groups_per_district=3)
    urban = plan[plan["district_code"] == URBAN].set_index(["group", "channel"])
    # loudspeaker 10% [7–14] overlaps mobile team's 12% [8–16] among rural residents
    rural = plan[(plan["district_code"] == RURAL) & (plan["channel"] == "loudspeaker")].iloc[0]
    assert "as likely the best" in rural["reason"] and "có thể tốt ngang nhau" in rural["reason_vi"]
    # commune meetings 15% [12–18] do not overlap loudspeakers' 30% [26–34] among the less schooled
    meeting = urban.loc[("low_education", "commune_meeting")]
    assert "the next best" in meeting["reason"] and "as likely" not in meeting["reason"]


def test_proposal_refuses_bad_sizes_and_missing_columns():
    districts, communes = need_tables()
    with pytest.raises(VariableInvalid):
        propose_outreach(reach_table(), districts, communes, year=2020, channels_per_group=0)
    with pytest.raises(Exception, match="tier"):
        propose_outreach(reach_table(), districts, communes.drop(columns="tier"), year=2020)


def _activities(rows):
    subs = pd.DataFrame({"submission_id": [f"a{i}" for i in range(len(rows))], "answers": rows})
    return tidy.activities(subs)


def test_comparison_counts_activities_people_and_communes_per_district_and_channel():
    plan = pd.DataFrame([
        {"district_code": RURAL, "group": "rural", "channel": "mobile_team", "communes": ("31222", "31225")},
        {"district_code": RURAL, "group": "women_marriage_age", "channel": "mobile_team",
         "communes": ("31225",)},
        {"district_code": URBAN, "group": "low_education", "channel": "loudspeaker", "communes": ("31117",)},
    ])
    activities = _activities([
        # two mobile-team sessions in Trung Thạnh, one naming rural people
        {"activity_date": "2020-03-01", "level": "commune", "district": RURAL, "communes": ["31225"],
         "activity_type": "mobile_team", "target_groups": ["rural_remote"], "people_reached": 120},
        {"activity_date": "2020-04-01", "level": "commune", "district": RURAL, "communes": ["31225"],
         "activity_type": "mobile_team", "target_groups": ["youth"], "people_reached": 80},
        # a meeting, not planned there
        {"activity_date": "2020-05-01", "level": "commune", "district": RURAL, "communes": ["31222"],
         "activity_type": "commune_meeting", "target_groups": [], "people_reached": 40},
        # the year before: not counted
        {"activity_date": "2019-05-01", "level": "commune", "district": URBAN, "communes": ["31117"],
         "activity_type": "loudspeaker", "target_groups": [], "people_reached": 999},
    ])
    out = compare_outreach(plan, activities, year=2020).set_index(["district_code", "channel"])
    mobile = out.loc[(RURAL, "mobile_team")]
    assert bool(mobile["planned"]) and mobile["groups_planned"] == ("rural", "women_marriage_age")
    assert (mobile["activities"], mobile["people_reached"]) == (2, 200.0)
    assert (mobile["communes_reached"], mobile["communes_planned"]) == (1, 2)
    assert mobile["groups_reached"] == ("rural",)
    meeting = out.loc[(RURAL, "commune_meeting")]
    assert not meeting["planned"] and meeting["activities"] == 1 and meeting["communes_planned"] == 0
    loud = out.loc[(URBAN, "loudspeaker")]
    assert bool(loud["planned"]) and loud["activities"] == 0 and loud["people_reached"] == 0.0


def test_activity_types_map_to_channels():
    assert activity_channel("radio_programme") == activity_channel("tv_report") == "city_radio_tv"
    assert activity_channel("day_30_july") == "event"
    assert activity_channel("something_new") == "other"


def test_design_lines_merge_consecutive_rounds_and_describe_planned_ones():
    fixed = {"kind": "fixed", "communes": 4, "take": 55}
    planned = {"kind": "planned", "approved_on": dt.date(2020, 1, 15), "role": "planner", "communes": 36}
    lines = design_lines({2017: fixed, 2018: fixed, 2019: fixed, 2020: planned}, language="en")
    assert lines == [
        "2017–2019: fixed design, 4 communes per district drawn with probability proportional to adults, "
        "about 55 interviews each",
        "2020: planned allocation approved on 2020-01-15 by a planner: 36 communes, inclusion probabilities "
        "recorded"]
    vi = design_lines({2017: fixed, 2018: "một câu tự viết"}, language="vi")
    assert vi[0].startswith("2017: thiết kế cố định, 4 xã/phường") and vi[1] == "2018: một câu tự viết"
    with pytest.raises(VariableInvalid):
        design_lines({2017: {"kind": "guess"}}, language="en")


def test_fixed_designs_read_the_respondents():
    rows = []
    for district, communes, take in (("916", 4, 50), ("917", 4, 60), ("918", 3, 55)):
        for c in range(communes):
            rows += [{"round": 2018, "district_code": district, "commune_key": f"{district}-{c}"}] * take
    designs = fixed_designs(pd.DataFrame(rows))
    # median communes per district 4; mean interviews per commune (200 + 240 + 165) / 11 = 55
    assert designs == {2018: {"kind": "fixed", "communes": 4, "take": 55}}


def test_plan_sections_say_when_no_plan_was_approved():
    blocks = plan_sections({2019: {"kind": "fixed", "communes": 4, "take": 55}}, OutreachReview(2019),
                           language="en", first=8)
    texts = [getattr(b, "text", "") for b in blocks]
    assert texts[0] == "8. The design of each round"
    assert texts[2] == "9. The outreach plan for 2019: planned and done"
    assert texts[3] == "No outreach plan was approved for 2019."
    assert plan_sections(None, None, language="vi", first=8) == []


def test_the_report_states_each_rounds_design_and_the_plan_against_what_was_done_in_html_and_docx():
    import dataclasses
    import io

    from analysis.gap_report import build_gap_report
    from analysis.report_docx import gap_report_docx
    from analysis.report_docx import letterhead
    from analysis.report_html import render_html
    from tests.analysis.test_gap_report import tiny_activities
    from tests.analysis.test_gap_report import tiny_frame
    from tests.docx_reader import data_tables
    from tests.docx_reader import open_docx
    from tests.docx_reader import texts

    frame, reached = tiny_frame()
    activities = tiny_activities(reached)
    report = build_gap_report(frame, activities, year=2019, previous=2018, min_n=1)
    key = sorted(reached)[0]
    district = frame.loc[frame["commune_key"] == key, "district_code"].iloc[0]
    plan = pd.DataFrame([{"district_code": district, "group": "rural", "channel": "mobile_team",
                          "communes": (key,)}])
    review = OutreachReview(2019, compare_outreach(plan, activities, year=2019), dt.date(2019, 1, 10),
                            "planner")
    designs = {2018: fixed_designs(frame)[2018],
               2019: {"kind": "planned", "approved_on": dt.date(2019, 1, 5), "role": "coordinator",
                      "communes": 17}}
    report = dataclasses.replace(report, designs=designs, outreach_review=review)
    html = render_html(report, language="en")
    assert "2018: fixed design, 2 communes per district drawn with probability proportional to adults, " \
           "about 12 interviews each" in html
    assert "2019: planned allocation approved on 2019-01-05 by a coordinator: 17 communes" in html
    assert "Plan approved on 2019-01-10 by a planner." in html
    buffer = io.BytesIO()
    gap_report_docx(report, buffer, language="vi", head=letterhead("vi", dt.date(2019, 11, 1)))
    document = open_docx(buffer.getvalue())
    body = texts(document)
    # list items are written with a leading dash
    assert "- 2019: phân bổ theo kế hoạch được điều phối viên duyệt ngày 2019-01-05: 17 xã/phường, " \
           "xác suất chọn được ghi lại" in body
    table = next(t for t in data_tables(document)
                 if (t["caption"] or "").startswith("Kế hoạch truyền thông năm 2019"))
    (row,) = [r for r in table["rows"] if r[2] == "có"]
    # one mobile-team session in the planned commune, 300 people, rural people not named (general public)
    assert row[1] == "Đội thông tin lưu động" and row[4:] == ["1/1", "1", "300", "–"]
    # the spreadsheets hold the same table, as shown and as codes
    from openpyxl import load_workbook

    from analysis.report_tables import write_xlsx

    for codes, first_row in ((False, ["Quận/huyện", "Kênh", "Trong kế hoạch"]), (True, ["Mã quận/huyện"])):
        buffer = io.BytesIO()
        write_xlsx(report, buffer, language="vi", codes=codes)
        sheet = load_workbook(buffer)["outreach_plan"]
        header = [c.value for c in sheet[1]]
        assert header[:len(first_row)] == first_row and sheet.max_row == 1 + len(review.comparison)
    # without a plan the section says so
    html = render_html(dataclasses.replace(report, outreach_review=OutreachReview(2019)), language="vi")
    assert "Không có kế hoạch truyền thông nào được duyệt cho năm 2019." in html
