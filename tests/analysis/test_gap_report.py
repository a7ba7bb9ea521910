"""The awareness-gap report on a tiny hand-built frame whose figures can be checked by hand."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis import population
from analysis import tidy
from analysis.errors import VariableInvalid
from analysis.gap_report import build_gap_report
from analysis.report_blocks import tables as block_tables
from analysis.report_docx import dated as dated_line
from analysis.report_docx import gap_report_docx
from analysis.report_docx import letterhead
from analysis.report_html import render_html
from analysis.report_html import report_blocks
from analysis.report_tables import shown_tables
from analysis.report_tables import write_csv_zip
from analysis.report_tables import write_xlsx
from analysis.report_text import COLUMNS
from analysis.yearly_report import render_markdown
from forms import library
from tests.docx_reader import data_tables
from tests.docx_reader import letterhead as docx_letterhead
from tests.docx_reader import open_docx
from tests.docx_reader import texts as docx_texts

SMALL = "927"  # Thới Lai: one commune of 6 respondents, below the small-cell threshold of 10
EDUCATION = ("none", "primary", "lower_secondary", "upper_secondary", "university")


def _communes():
    places = population.communes()
    chosen = {}
    for code, group in places.groupby("district_code", sort=True):
        chosen[code] = group.head(1 if code == SMALL else 2)
    return chosen


def tiny_frame():
    """Two rounds; 12 respondents per commune (6 in Thới Lai), weights 1, values set by hand.

    * ``hotline_aware`` alternates 0/1 in every commune: exactly 0.5 everywhere.
    * ``knowledge`` alternates 0.4/0.6 (mean 0.5) in 2018; in 2019 0.6/0.8 (0.7) in the two
      communes reached by local outreach, 0.45/0.65 (0.55) elsewhere; Thới Lai 0.37 then 0.42.
      So the DiD is (0.7 - 0.5) - (0.55 - 0.5) = 0.15 exactly.
    """
    rows = []
    chosen = _communes()
    reached = {chosen["916"]["commune_key"].iloc[0], chosen["926"]["commune_key"].iloc[0]}
    for year in (2018, 2019):
        for code, communes in chosen.items():
            for _, place in communes.iterrows():
                m = 6 if code == SMALL else 12
                for j in range(m):
                    high = j % 2
                    if code == SMALL:
                        knowledge = 0.37 if year == 2018 else 0.42
                    elif year == 2018:
                        knowledge = 0.6 if high else 0.4
                    elif place["commune_key"] in reached:
                        knowledge = 0.8 if high else 0.6
                    else:
                        knowledge = 0.65 if high else 0.45
                    rows.append({
                        "submission_id": f"{year}-{place['commune_key']}-{j}", "round": year,
                        "district_code": code, "commune_key": place["commune_key"], "stratum": code,
                        "psu": place["commune_key"], "area": place["area"], "weight": 1.0,
                        "sex": "female" if j % 4 < 2 else "male", "age": 18 + (7 * j) % 50,
                        "education": EDUCATION[j % 5], "knowledge_law": 0.0 if j % 3 else 1.0,
                        "knowledge": knowledge, "hotline_aware": float(high),
                        "aware_signs_3": float(j % 3 == 0), "at_risk": float(j % 3 == 1),
                        "channels_mobile_team": bool(j % 2), "channels_city_radio_tv": j % 4 == 0,
                    })
    return pd.DataFrame(rows), reached


def tiny_activities(reached):
    rows = [{"submission_id": f"team-{i}", "answers": {
        "activity_date": "2019-05-01", "level": "commune", "activity_type": "mobile_team",
        "communes": [key], "people_reached": 300, "target_groups": ["general_public"],
        "reach_basis": "counted", "organiser": "womens_union"}} for i, key in enumerate(sorted(reached))]
    rows.append({"submission_id": "radio", "answers": {
        "activity_date": "2019-07-30", "level": "city", "activity_type": "radio_programme",
        "people_reached": 10_000, "target_groups": ["general_public"], "reach_basis": "estimated",
        "organiser": "radio_tv"}})
    return tidy.activities(pd.DataFrame(rows), library.load("outreach"))


@pytest.fixture(scope="module")
def tiny():
    frame, reached = tiny_frame()
    activities = tiny_activities(reached)
    analyst = build_gap_report(frame, activities, year=2019, previous=2018, min_n=1)
    planner = build_gap_report(frame, activities, year=2019, previous=2018, min_n=10)
    return analyst, planner


class _Page(HTMLParser):
    """Tags, URLs in attributes, headings and table rows of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.headings, self.rows = [], [], [], []
        self._row, self._cell, self._in = None, None, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in.append(tag)
        for name, value in attrs:
            if value and ("http://" in value or "https://" in value) and not name.startswith("xmlns"):
                self.urls.append((tag, name, value))
        if tag == "tr":
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in and self._in[-1] in ("h1", "h2", "h3"):
            self.headings.append(data)
        if "http://" in data or "https://" in data:
            self.urls.append(("text", "", data))


def _page(html):
    parser = _Page()
    parser.feed(html)
    return parser


def test_tables_hold_the_hand_computed_figures(tiny):
    analyst, _ = tiny
    hot = analyst.levels[analyst.levels["indicator"] == "hotline_aware"]
    assert len(hot) == 2 * 10  # two rounds × (nine districts and the city)
    assert np.allclose(hot["estimate"], 0.5)
    knowledge = analyst.change[analyst.change["indicator"] == "knowledge"].set_index("district_code")
    # Phong Điền: one of its two communes reached, so (0.7 + 0.55) / 2 - 0.5
    assert knowledge.loc["926", "change"] == pytest.approx(0.125)
    assert knowledge.loc["917", "change"] == pytest.approx(0.05)
    assert knowledge.loc[SMALL, "change"] == pytest.approx(0.05)
    unadjusted = analyst.did.set_index("model").loc["unadjusted"]
    assert unadjusted["estimate"] == pytest.approx(0.15)
    assert unadjusted["communes_reached"] == 2
    assert set(analyst.groups["group"]) >= {"all", "women_marriage_age", "rural", "low_education"}
    everyone = analyst.groups[(analyst.groups["group"] == "all")].set_index("indicator")
    assert everyone.loc["hotline_aware", "estimate"] == pytest.approx(0.5)
    assert everyone.loc["hotline_aware", "change"] == pytest.approx(0.0)
    assert len(analyst.small_areas) == 85 and len(analyst.priorities) == 85
    assert len(analyst.district_priorities) == 9
    assert analyst.priorities["tier"].isin(["highest", "high", "medium", "lower"]).all()
    assert 0.5 <= analyst.risk["auc"].iloc[0] <= 1 and not analyst.risk["subsampled"].iloc[0]
    assert analyst.at_risk["expected"].sum() > 0 and len(analyst.at_risk) == 9
    mobile = analyst.channels[(analyst.channels["group"] == "all")
                              & (analyst.channels["channel"] == "mobile_team")]
    assert mobile["estimate"].iloc[0] == pytest.approx(0.5)
    assert set(analyst.yearly.outreach["activity_type"]) == {"mobile_team", "radio_programme"}


def test_small_cells_are_withheld_in_every_table(tiny):
    analyst, planner = tiny
    small = planner.levels[planner.levels["district_code"] == SMALL]
    assert small["suppressed"].all() and small["estimate"].isna().all()
    assert analyst.levels.loc[analyst.levels["district_code"] == SMALL, "estimate"].notna().all()
    assert planner.change.loc[planner.change["district_code"] == SMALL, "change"].isna().all()
    # communes of the small district carry no figure, surveyed or not (their fill is the district's)
    for table in (planner.small_areas, planner.priorities):
        rows = table[table["district_code"] == SMALL]
        assert rows["knowledge"].isna().all() and rows["suppressed"].all()
    reasons = planner.priorities.loc[planner.priorities["district_code"] == SMALL, "reasons"]
    assert reasons.str.contains("figures withheld").all() and not reasons.str.contains("37%|42%").any()
    district = planner.district_priorities.set_index("district_code").loc[SMALL]
    assert pd.isna(district["knowledge"]) and pd.isna(district["need"])
    yearly = planner.yearly.awareness
    assert yearly.loc[yearly["district_code"] == SMALL, "estimate"].isna().all()


def test_html_is_self_contained_with_four_charts_and_a_map_in_both_languages(tiny):
    analyst, _ = tiny
    for language, heading in (("vi", "Danh sách tập trung"), ("en", "The focus list")):
        html = render_html(analyst, language=language)
        page = _page(html)
        assert page.urls == []
        assert page.tags.count("svg") == 5  # four charts and the tier map
        assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
        # all vector: an embedded bitmap (imshow, a rasterised colour bar) is blurred by browsers
        assert "image" not in page.tags
        assert any(heading in h for h in page.headings)
        assert page.tags.count("caption") >= 4 and 'scope="col"' in html and 'scope="row"' in html
        assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    vi, en = render_html(analyst, language="vi"), render_html(analyst, language="en")
    assert "Buổi thông tin lưu động" in vi and "Mobile information team session" in en  # activity labels
    assert "Phụ nữ trong độ tuổi kết hôn" in vi and "Women of marriage age" in en
    assert "Đội thông tin lưu động" in vi  # the channel, as the survey form words it
    with pytest.raises(VariableInvalid):
        render_html(analyst, language="fr")


def _levels_row(html, district, round_):
    return next(row for row in _page(html).rows if row[:2] == [district, str(round_)])


def test_html_and_xlsx_withhold_the_small_cell(tiny):
    analyst, planner = tiny
    seen = _levels_row(render_html(analyst, language="en"), "Thới Lai", 2019)
    assert seen[2].startswith("42%")
    hidden = _levels_row(render_html(planner, language="en"), "Thới Lai", 2019)
    assert hidden[2:5] == ["–", "–", "–"]
    buffer = io.BytesIO()
    write_xlsx(planner, buffer, language="vi", codes=True)
    book = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    assert {"about", "levels", "groups", "change", "did", "small_areas", "priorities", "channels",
            "risk_model", "at_risk", "outreach_totals"} <= set(book.sheetnames)
    header = [c.value for c in next(book["levels"].iter_rows())]
    assert "Ước lượng" in header and "Tên chỉ số" in header
    # a bootstrap share (a multiple of 1/2000) may be 0.42 by chance: it is not Thới Lai's figure
    chance = COLUMNS["p_top_k"][0]
    for name in book.sheetnames:
        rows = list(book[name].iter_rows(values_only=True))
        skip = {i for i, v in enumerate(rows[0] if rows else ()) if v == chance}
        for row in rows:
            assert not any(isinstance(v, float) and abs(v - 0.42) < 1e-9 for i, v in enumerate(row)
                           if i not in skip), name
    book.close()
    buffer = io.BytesIO()
    write_xlsx(analyst, buffer, language="en", codes=True)
    book = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    values = [v for row in book["levels"].iter_rows(values_only=True) for v in row]
    assert any(isinstance(v, float) and abs(v - 0.42) < 1e-9 for v in values)
    book.close()


def test_csv_zip_has_one_file_per_table(tiny):
    _, planner = tiny
    buffer = io.BytesIO()
    write_csv_zip(planner, buffer, language="en", codes=True)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert {"levels.csv", "channels.csv", "priorities.csv", "about.csv"} <= set(archive.namelist())
    assert archive.read("levels.csv").startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    levels = pd.read_csv(io.BytesIO(archive.read("levels.csv")))
    assert "Estimate" in levels.columns
    assert levels.loc[levels["District code"].astype(str) == SMALL, "Estimate"].isna().all()


def test_markdown_names_activity_types(tiny):
    analyst, _ = tiny
    assert "Radio programme 1" in render_markdown(analyst.yearly, language="en")
    assert "Chương trình phát thanh 1" in render_markdown(analyst.yearly, language="vi")


def test_inputs_are_checked(tiny):
    frame, reached = tiny_frame()
    activities = tiny_activities(reached)
    with pytest.raises(VariableInvalid):
        build_gap_report(frame, activities, year=2020)
    with pytest.raises(VariableInvalid):
        build_gap_report(frame, activities, year=2019, previous=2019)
    single = build_gap_report(frame, activities, year=2018, min_n=1)
    assert single.did.empty and single.notes == [{"code": "no_previous"}]
    assert "change" not in single.groups.columns
    assert render_html(single, language="en").count("<svg") == 5


def test_heat_map_marks_withheld_cells_and_keeps_real_zeros():
    from analysis import labels
    from analysis.report_charts import heatmap_chart

    channels = pd.DataFrame({"group": ["all", "all", "rural", "rural"],
                             "channel": ["mobile_team", "newspaper", "mobile_team", "newspaper"],
                             "estimate": [0.25, 0.0, np.nan, 0.5], "suppressed": [False, False, True, False]})
    svg = heatmap_chart(channels, groups=["all", "rural"], channel_codes=["mobile_team", "newspaper"],
                        labels={"group": lambda c: labels.group(c, "en"),
                                "channel": lambda c: labels.channel(c, "en")}, title="t")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert texts.count("–") == 1 and "0" in texts and "25" in texts and "50" in texts
    assert "<pattern" in svg  # the hatch of the withheld cell
    assert "Mobile information team" in svg and "Rural residents (communes)" in svg


def test_a_round_too_small_for_the_model_still_gives_a_report():
    frame, reached = tiny_frame()
    few = frame[frame["district_code"].isin(["916", "917"])]  # four communes: fewer than five folds
    report = build_gap_report(few, tiny_activities(reached), year=2019, previous=2018, min_n=1)
    assert report.risk.empty and [n["code"] for n in report.notes] == ["risk_failed"]
    html = render_html(report, language="en")
    assert "The model could not be estimated" in html and html.count("<svg") == 5
    # the note is worded from its codes, in the reader's language: never the exception's own text
    assert report.notes[0] == {"code": "risk_failed", "reason": "model-invalid"}
    assert "The risk model could not be fitted: too few communes or respondents for the model." in html
    assert "folds" not in html
    vi = render_html(report, language="vi")
    assert "Không ước lượng được mô hình nguy cơ: quá ít xã/phường hoặc người trả lời cho mô hình." in vi


def test_differences_of_round_levels_equal_the_pooled_change():
    from analysis.change import change
    from analysis.levels import differences
    from analysis.levels import round_levels

    frame, _ = tiny_frame()
    frame = frame[frame["district_code"] != SMALL].reset_index(drop=True)  # no single-PSU stratum
    frame["knowledge"] += np.where(frame["age"] > 40, 0.03, 0.0)  # some variance within communes
    from analysis.levels import report_design

    pooled = frame.assign(_s=frame["stratum"] + "|" + frame["round"].astype(str),
                          _p=frame["psu"] + "|" + frame["round"].astype(str))
    # with the domain rule (R's degf of the pooled design) the intervals agree exactly; with the
    # reports' Satterthwaite df, Welch's combination of the rounds' whole df is within 1 of the pooled
    for rule, combine in (("domain", "sum"), ("satterthwaite", "welch")):
        levels = round_levels(frame, indicators=["knowledge"], rounds=[2018, 2019], df=rule)
        ours = differences(levels, a=2018, b=2019, keys=["district_code", "indicator"], df=combine).set_index(
            "district_code")
        theirs = change(pooled, y="knowledge", round="round", a=2018, b=2019, by="stratum",
                        **report_design(strata="_s", psu="_p", df=rule)).set_index("stratum")
        for code in theirs.index:
            assert ours.loc[code, "change"] == pytest.approx(theirs.loc[code, "estimate"], abs=1e-12)
            assert ours.loc[code, "change_se"] == pytest.approx(theirs.loc[code, "se"], rel=1e-9)
            if rule == "domain":
                assert ours.loc[code, "change_low"] == pytest.approx(theirs.loc[code, "ci_low"], rel=1e-9)
            else:
                assert abs(ours.loc[code, "change_df"] - theirs.loc[code, "df"]) <= 1


def test_a_round_without_local_outreach_says_why_there_is_no_did_in_both_languages():
    frame, _ = tiny_frame()
    report = build_gap_report(frame, tiny_activities(set()), year=2019, previous=2018, min_n=1)
    sampled = frame["commune_key"].nunique()
    assert report.did.empty
    assert report.notes == [{"code": "did_no_contrast", "reached": 0, "communes": sampled}]
    en, vi = render_html(report, language="en"), render_html(report, language="vi")
    assert f"0 of the {sampled} surveyed communes had local outreach between the rounds" in en
    assert f"0 trong {sampled} xã/phường được khảo sát có hoạt động truyền thông tại chỗ" in vi
    for html in (en, vi):  # the exception's own words never reach the reader
        assert "must be a 0/1" not in html and "'reached'" not in html


def _figures(table):
    """The cells of a table that are figures (the same in both languages but for the separators)."""
    figure = re.compile(r"^[-+–▲▼\d.,%\[\]; ]+$")
    return [(i, j, cell) for i, row in enumerate(table.rows) for j, cell in enumerate(row)
            if figure.match(cell)]


def test_vietnamese_figures_use_vietnamese_separators_and_say_the_same_numbers(tiny):
    analyst, _ = tiny
    vi = block_tables(report_blocks(analyst, language="vi", figures=False))
    en = block_tables(report_blocks(analyst, language="en", figures=False))
    assert [t.name for t in vi] == [t.name for t in en]
    swap = str.maketrans({",": ".", ".": ","})
    compared = 0
    for a, b in zip(vi, en, strict=True):
        for (i, j, cell), (k, m, other) in zip(_figures(a), _figures(b), strict=True):
            assert (i, j) == (k, m) and cell == other.translate(swap), (a.name, cell, other)
            compared += "," in cell or "." in cell
    assert compared > 20
    outreach = next(t for t in vi if t.name == "outreach_totals")
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", row[2]) for row in outreach.rows)  # e.g. 1.809 people
    html = render_html(analyst, language="vi")
    assert not re.search(r">[1-9]\d{0,2}(,\d{3})+<", html)  # no English thousands separator in a cell


def test_spreadsheets_hold_the_pages_cells_and_codes_are_the_other_choice(tiny):
    _, planner = tiny
    page = [row for row in _page(render_html(planner, language="vi")).rows]
    shown = shown_tables(planner, language="vi")
    buffer = io.BytesIO()
    write_xlsx(planner, buffer, language="vi")
    book = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    try:
        assert book.sheetnames == ["about", *shown]
        sheets = [[["" if v is None else str(v) for v in row]
                   for row in book[name].iter_rows(values_only=True)] for name in shown]
    finally:
        book.close()
    # every sheet is a table of the page: its header row, then its rows
    assert [row for sheet in sheets for row in sheet] == page
    assert not any(isinstance(v, float) for sheet in sheets for row in sheet for v in row)
    buffer = io.BytesIO()
    write_csv_zip(planner, buffer, language="en")
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    levels = pd.read_csv(io.BytesIO(archive.read("levels.csv")), dtype=str)
    assert "District code" not in levels.columns and levels.iloc[0, 0] == "Ninh Kiều"


def test_docx_reads_back_with_the_letterhead_and_the_pages_tables(tiny):
    _, planner = tiny
    day = dt.date(2026, 2, 5)
    for language, motto, dated in (
            ("vi", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Cần Thơ, ngày 05 tháng 02 năm 2026"),
            ("en", "SOCIALIST REPUBLIC OF VIET NAM", "Cần Thơ, 5 February 2026")):
        buffer = io.BytesIO()
        gap_report_docx(planner, buffer, language=language, head=letterhead(
            language, day, {"abbreviation": "STTTT", "number": "42"}))
        document = open_docx(buffer.getvalue())
        left, right = docx_letterhead(document)
        assert right[0] == motto and right[-1] == dated
        assert left[-1] == ("Số: 42/BC-STTTT" if language == "vi" else "No.: 42/BC-STTTT")
        body = docx_texts(document)
        assert body[body.index("BÁO CÁO" if language == "vi" else "REPORT") + 1].startswith(
            "Khoảng trống nhận thức" if language == "vi" else "Awareness-gap report")
        written = data_tables(document)
        expected = block_tables(report_blocks(planner, language=language, figures=False))
        assert [(t["caption"], t["header"], t["rows"]) for t in written] == [
            (t.caption, list(t.header), [list(r) for r in t.rows]) for t in expected]
        section = document.sections[0]
        assert round(section.left_margin.cm) == 3 and round(section.page_width.cm) == 21
        assert document.styles["Normal"].font.name == "Times New Roman"
        signature = document.tables[-1].rows[0].cells[1].paragraphs[0].text
        assert signature == ("GIÁM ĐỐC" if language == "vi" else "DIRECTOR")
    assert dated_line("Cần Thơ", dt.date(2026, 11, 12), "vi") == "Cần Thơ, ngày 12 tháng 11 năm 2026"
    assert dated_line("Cần Thơ", dt.date(2017, 9, 5), "vi") == "Cần Thơ, ngày 05 tháng 9 năm 2017"
