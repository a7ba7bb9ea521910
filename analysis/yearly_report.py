"""The yearly report due 12 November: outreach and awareness per district, with change.

Plan 136/KH-UBND asks every unit to send its results to the Department of Information and
Communications before 12 November. Per district this report gives the year's outreach
activities (by type) and people reached (from the outreach log), the awareness indicators
of that year's survey round (design-based, with 95% CIs), and their change from the
previous round.

Conventions
-----------
* An activity counts in every district it covered: a city-wide radio programme appears in
  all nine (``level`` tells them apart) and its reach is shared by population
  (:func:`analysis.tidy.activities`), so district reach adds up to the city's.
* Levels: design-based means/proportions with strata = districts and PSUs = communes.
* Change: the two rounds are independent samples, so the change is the difference of the two
  rounds' levels with the SE of a difference of independent estimates
  (:func:`analysis.levels.differences`; the same as :func:`analysis.change.change` with strata
  district × round and PSUs commune × round).
* Figures from fewer than ``min_n`` respondents are withheld (:mod:`analysis.disclosure`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import labels
from analysis._taylor import require_columns
from analysis.disclosure import MIN_N
from analysis.disclosure import suppress_small
from analysis.errors import VariableInvalid
from analysis.labels import INDICATORS
from analysis.levels import differences
from analysis.levels import round_levels
from analysis.population import communes as census_communes
from analysis.report_blocks import Heading
from analysis.report_blocks import Paragraph
from analysis.report_blocks import Table
from analysis.report_plans import plan_sections

__all__ = ["INDICATORS", "YearlyReport", "yearly_report", "render_markdown"]

HEADINGS = {
    "title": ("Báo cáo kết quả truyền thông phòng, chống mua bán người năm {year}",
              "Anti-trafficking communication: results for {year}"),
    "due": ("Gửi Sở Thông tin và Truyền thông trước ngày 12 tháng 11",
            "Due to the Department of Information and Communications by 12 November"),
    "outreach": ("Hoạt động truyền thông", "Outreach activities"),
    "awareness": ("Mức độ nhận thức và thay đổi so với vòng {previous}",
                  "Awareness levels and change since {previous}"),
    "awareness_only": ("Mức độ nhận thức", "Awareness levels"),
    "notes": ("Ghi chú", "Notes"),
}


@dataclass
class YearlyReport:
    """The report's tidy tables: ``outreach`` (district × activity type), ``outreach_totals``
    (per district) and ``awareness`` (district × indicator, with change)."""

    year: int
    previous: int | None
    outreach: pd.DataFrame
    outreach_totals: pd.DataFrame
    awareness: pd.DataFrame
    min_n: int
    #: The year's approved outreach plan beside what was done (:class:`analysis.report_plans.OutreachReview`),
    #: given by the caller (the server's records); None: not given, and the report has no section on it.
    outreach_review: object = None


def _outreach(activities, year, places):
    require_columns(activities, ["activity_id", "year", "district_code", "commune_key", "activity_type",
                                 "people_reached"])
    this = activities[activities["year"] == year]
    by_type = this.groupby(["district_code", "activity_type"], as_index=False).agg(
        activities=("activity_id", "nunique"), people_reached=("people_reached", "sum"))
    totals = this.groupby("district_code").agg(
        activities=("activity_id", "nunique"), people_reached=("people_reached", "sum"),
        communes_reached=("commune_key", "nunique"))
    districts = places.groupby(["district_code", "district_name"], as_index=False).agg(
        communes=("commune_key", "size"), population=("population", "sum"))
    totals = districts.merge(totals, on="district_code", how="left")
    for column in ("activities", "communes_reached"):
        totals[column] = totals[column].fillna(0).astype("int64")
    totals["people_reached"] = totals["people_reached"].fillna(0.0)
    totals["reach_per_1000"] = 1000 * totals["people_reached"] / totals["population"]
    return by_type, totals


def yearly_report(frame, activities, *, year, previous=None, indicators=None, min_n=MIN_N, weight="weight",
                  level=0.95, levels=None) -> YearlyReport:
    """Build the 12 November report for ``year``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Weighted respondents of round ``year`` (and ``previous``, for the change).
    activities : pandas.DataFrame
        :func:`analysis.tidy.activities` (any years; ``year`` is selected).
    year, previous : int
        The report's survey round and the round to compare with (None: no change columns).
    indicators : list of str, optional
        Indicator columns (default :data:`INDICATORS` present in the frame).
    min_n : int
        Small-cell threshold.
    levels : pandas.DataFrame, optional
        :func:`analysis.levels.round_levels` of ``year`` (and ``previous``) for the indicators,
        when the caller has it already (the gap report does); computed here otherwise.
    """
    require_columns(frame, ["round", "stratum", "psu", weight])
    indicators = indicators or [c for c in INDICATORS if c in frame.columns]
    if not indicators:
        raise VariableInvalid("no indicator column to report")
    if not (frame["round"] == year).any():
        raise VariableInvalid(f"no respondents in round {year}")
    if previous is not None and not (frame["round"] == previous).any():
        raise VariableInvalid(f"no respondents in round {previous}")
    places = census_communes()
    by_type, totals = _outreach(activities, year, places)
    rounds = [year] if previous is None else [previous, year]
    if levels is None:
        levels = round_levels(frame, indicators=indicators, rounds=rounds, weight=weight, level=level)
    levels = levels[levels["indicator"].isin(indicators) & levels["round"].isin(rounds)]
    awareness = levels[levels["round"] == year][["district_code", "indicator", "estimate", "se", "ci_low",
                                                 "ci_high", "n", "deff"]]
    if previous is not None:
        diff = differences(levels, a=previous, b=year, keys=["district_code", "indicator"], level=level)
        diff = diff.drop(columns="change_df").rename(columns={"n": "_n_change"})
        awareness = awareness.merge(diff, on=["district_code", "indicator"], how="left")
    # indicator by indicator, districts in code order and the city last (as the markdown reads)
    order = {name: i for i, name in enumerate(indicators)}
    awareness = awareness.assign(_i=awareness["indicator"].map(order), _c=awareness["district_code"] == "all")
    awareness = awareness.sort_values(["_i", "_c", "district_code"], kind="stable").drop(columns=["_i", "_c"])
    awareness = awareness.reset_index(drop=True)
    change_columns = [c for c in awareness.columns if c.startswith("change")]
    figures = [c for c in awareness.columns if c not in ("district_code", "indicator", "n", "_n_change")]
    awareness = suppress_small(awareness, min_n=min_n, columns=figures)
    if previous is not None:
        # a change also rests on the earlier round's respondents: withhold it when those are few
        small = awareness.pop("_n_change").fillna(0) < min_n
        awareness.loc[small, change_columns] = np.nan
    names = dict(zip(places["district_code"], places["district_name"], strict=False))
    awareness.insert(1, "district_name", awareness["district_code"].map(names).fillna("Cần Thơ"))
    return YearlyReport(year, previous, by_type, totals, awareness, min_n)


def _fmt_pct(x):
    return "–" if pd.isna(x) else f"{100 * x:.0f}%"


def _fmt_change(row):
    if pd.isna(row.get("change", np.nan)):
        return "–"
    return f"{100 * row['change']:+.0f} [{100 * row['change_low']:+.0f}; {100 * row['change_high']:+.0f}]"


def render_markdown(report: YearlyReport, *, language="vi") -> str:
    """Markdown text of the report; headings and labels in ``"vi"``, ``"en"`` or ``"both"``."""
    if language not in ("vi", "en", "both"):
        raise VariableInvalid(f"language must be 'vi', 'en' or 'both', got {language!r}")

    def h(key, **values):
        vi, en = (text.format(**values) for text in HEADINGS[key])
        return {"vi": vi, "en": en, "both": f"{vi} / {en}"}[language]

    def label(indicator):
        vi, en = INDICATORS.get(indicator, (indicator, indicator))
        return {"vi": vi, "en": en, "both": f"{vi} / {en}"}[language]

    def kind(code):
        vi, en = (labels.activity_type(code, lang) for lang in ("vi", "en"))
        return {"vi": vi, "en": en, "both": f"{vi} / {en}"}[language]

    lines = [f"# {h('title', year=report.year)}", "", f"_{h('due')}_", "", f"## 1. {h('outreach')}", ""]
    head = {"vi": "| Quận/huyện | Hoạt động | Người được tiếp cận | Số xã/phường có hoạt động | Loại hình |",
            "en": "| District | Activities | People reached | Communes reached | Types |"}
    lines += [head["en" if language == "en" else "vi"], "|---|---:|---:|---:|---|"]
    for _, row in report.outreach_totals.iterrows():
        kinds = report.outreach[report.outreach["district_code"] == row["district_code"]]
        pairs = zip(kinds["activity_type"], kinds["activities"], strict=True)
        types = ", ".join(f"{kind(t)} {n}" for t, n in pairs)
        lines.append(f"| {row['district_name']} | {row['activities']} | {row['people_reached']:,.0f} | "
                     f"{row['communes_reached']}/{row['communes']} | {types or '–'} |")
    key = "awareness" if report.previous is not None else "awareness_only"
    lines += ["", f"## 2. {h(key, previous=report.previous)}", ""]
    for indicator, table in report.awareness.groupby("indicator", sort=False):
        lines += [f"### {label(indicator)}", "",
                  "| Quận/huyện / District | % [95% CI] | n | Δ (điểm %) / change (pp) [95% CI] |",
                  "|---|---:|---:|---:|"]
        for _, row in table.iterrows():
            interval = f"[{_fmt_pct(row['ci_low'])}–{_fmt_pct(row['ci_high'])}]"
            level_text = "–" if row["suppressed"] else f"{_fmt_pct(row['estimate'])} {interval}"
            lines.append(f"| {row['district_name']} | {level_text} | {row['n']} | {_fmt_change(row)} |")
        lines.append("")
    notes = {
        "vi": [f"Số liệu từ dưới {report.min_n} người trả lời không được công bố (–).",
               "Khoảng tin cậy 95% tính theo thiết kế mẫu (phân tầng theo quận/huyện, cụm là xã/phường).",
               "Hoạt động cấp thành phố được tính cho mọi quận/huyện; số người tiếp cận chia theo dân số."],
        "en": [f"Figures from fewer than {report.min_n} respondents are withheld (–).",
               "95% confidence intervals are design-based (strata: districts; clusters: communes).",
               "City-wide activities count in every district; their reach is shared by population."],
    }
    if report.outreach_review is not None:
        for lang in (("vi", "en") if language == "both" else (language,)):
            lines += _markdown_blocks(plan_sections(None, report.outreach_review, language=lang, first=3))
    lines += [f"## {h('notes')}", ""]
    for lang in (("vi", "en") if language == "both" else (language,)):
        lines += [f"- {note}" for note in notes[lang]]
    return "\n".join(lines) + "\n"


def _markdown_blocks(blocks) -> list[str]:
    """Markdown lines of a section's blocks (headings, paragraphs, tables), as the page shows them."""
    lines = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * block.level} {block.text}", ""]
        elif isinstance(block, Paragraph):
            lines += [f"_{block.text}_" if block.style == "note" else block.text, ""]
        elif isinstance(block, Table):
            align = ["---" if i < block.numeric_from else "---:" for i in range(len(block.header))]
            lines += [f"**{block.caption}**", "", _markdown_row(block.header), _markdown_row(align)]
            lines += [_markdown_row(row) for row in block.rows] + [""]
    return lines


def _markdown_row(cells) -> str:
    # a cell's own | would end it early
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"
