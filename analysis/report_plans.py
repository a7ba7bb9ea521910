"""Two sections of the gap report about plans: the design each round used, and the outreach plan against
what was done.

The server describes each round's design (:func:`fixed_designs` from the respondents, or an approved sample
plan's record) and passes it in as a plain mapping ``{round: description}``; a description is a dict
(``{"kind": "fixed", "communes": 4, "take": 55}`` or ``{"kind": "planned", "approved_on": date, "role":
"planner", "communes": 36}``) or a sentence already written. Consecutive rounds with the same
sentence share one line ("2017–2019: fixed design, ...").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from analysis import labels
from analysis._taylor import require_columns
from analysis.errors import VariableInvalid
from analysis.population import communes as census_communes
from analysis.report_blocks import Heading
from analysis.report_blocks import Items
from analysis.report_blocks import Paragraph
from analysis.report_blocks import Table
from analysis.report_blocks import number

__all__ = ["OutreachReview", "fixed_designs", "design_lines", "plan_sections"]

TEXT = {
    "designs": ("Thiết kế mẫu của từng vòng", "The design of each round"),
    "fixed": ("thiết kế cố định, {communes} xã/phường mỗi quận/huyện được chọn với xác suất tỷ lệ với số "
              "người lớn, khoảng {take} phỏng vấn mỗi nơi",
              "fixed design, {communes} communes per district drawn with probability proportional to "
              "adults, about {take} interviews each"),
    "planned": ("phân bổ theo kế hoạch được {role} duyệt ngày {date}: {communes} xã/phường, xác suất chọn "
                "được ghi lại", "planned allocation approved on {date} by {role}: {communes} communes, "
                "inclusion probabilities recorded"),
    "review": ("Kế hoạch truyền thông năm {year}: kế hoạch và thực hiện",
               "The outreach plan for {year}: planned and done"),
    "no_plan": ("Không có kế hoạch truyền thông nào được duyệt cho năm {year}.",
                "No outreach plan was approved for {year}."),
    "approved": ("Kế hoạch được {role} duyệt ngày {date}. Hoạt động tính theo kênh của loại hình; hoạt động "
                 "cấp thành phố, quận/huyện tính cho mọi xã/phường trong phạm vi.",
                 "Plan approved on {date} by {role}. Activities count for the channel of their type; city- "
                 "and district-wide activities count in every commune they covered."),
    "district": ("Quận/huyện", "District"),
    "channel": ("Kênh", "Channel"),
    "planned_col": ("Trong kế hoạch", "Planned"),
    "groups_planned": ("Nhóm đối tượng dự kiến", "Target groups planned"),
    "activities": ("Hoạt động đã làm", "Activities done"),
    "people_reached": ("Người được tiếp cận", "People reached"),
    "communes": ("Xã/phường đã đến / dự kiến", "Communes reached / planned"),
    "groups_reached": ("Nhóm dự kiến đã hướng đến", "Planned groups named"),
    "yes": ("có", "yes"),
    "no": ("không", "no"),
    "table": ("Kế hoạch truyền thông năm {year} và hoạt động đã ghi nhận",
              "Outreach plan for {year} and the activities logged"),
}
ROLES = {"planner": ("cán bộ kế hoạch", "a planner"), "coordinator": ("điều phối viên", "a coordinator"),
         "admin": ("quản trị viên", "an administrator")}


@dataclass(frozen=True)
class OutreachReview:
    """The approved outreach plan of ``year`` beside its activities (``comparison`` from
    :func:`analysis.outreach_plan.compare_outreach`); ``comparison`` None: no plan was approved."""

    year: int
    comparison: pd.DataFrame | None = None
    approved_on: dt.date | None = None
    approved_by: str | None = None


def _pick(key, lang):
    return TEXT[key][0 if lang == "vi" else 1]


def fixed_designs(frame: pd.DataFrame) -> dict[int, dict]:
    """Each round's fixed design as the respondents show it: the median number of communes interviewed per
    district and the mean number of interviews per commune (rounded: it is "about" so many)."""
    require_columns(frame, ["round", "district_code", "commune_key"])
    out = {}
    for year, part in frame.groupby("round"):
        communes = part.groupby("district_code")["commune_key"].nunique()
        per_commune = part.groupby("commune_key").size()
        out[int(year)] = {"kind": "fixed", "communes": int(round(communes.median())),
                          "take": int(round(per_commune.mean()))}
    return out


def _sentence(description, lang) -> str:
    if isinstance(description, str):
        return description
    if not isinstance(description, Mapping) or description.get("kind") not in ("fixed", "planned"):
        raise VariableInvalid(f"a round's design is a sentence or a dict of kind fixed or planned, got "
                              f"{description!r}")
    if description["kind"] == "fixed":
        return _pick("fixed", lang).format(communes=description["communes"], take=description["take"])
    role = ROLES.get(description.get("role") or "", (description.get("role") or "?",) * 2)
    date = description.get("approved_on")
    return _pick("planned", lang).format(role=role[0 if lang == "vi" else 1],
                                         communes=description["communes"],
                                         date=date.isoformat() if hasattr(date, "isoformat") else date)


def design_lines(designs: Mapping[int, object], *, language: str = "vi") -> list[str]:
    """One line per run of consecutive rounds with the same design: "2017–2019: fixed design, ..."."""
    lang = labels.check_language(language)
    lines: list[tuple[int, int, str]] = []
    for year in sorted(designs):
        text = _sentence(designs[year], lang)
        if lines and lines[-1][2] == text:
            lines[-1] = (lines[-1][0], year, text)
        else:
            lines.append((year, year, text))
    return [f"{a}–{b}: {text}" if a != b else f"{a}: {text}" for a, b, text in lines]


def _review_blocks(review: OutreachReview, lang, number_of) -> list:
    title = _pick("review", lang).format(year=review.year)
    out = [Heading(f"{number_of}. {title}")]
    if review.comparison is None:
        return out + [Paragraph(_pick("no_plan", lang).format(year=review.year), "body")]
    role = ROLES.get(review.approved_by or "", (review.approved_by or "?",) * 2)[0 if lang == "vi" else 1]
    date = review.approved_on.isoformat() if review.approved_on else "?"
    out.append(Paragraph(_pick("approved", lang).format(role=role, date=date), "note"))
    places = census_communes()
    names = dict(zip(places["district_code"], places["district_name"], strict=False))
    rows = []
    for _, r in review.comparison.iterrows():
        rows.append((names.get(r["district_code"], str(r["district_code"])),
                     labels.channel(r["channel"], lang),
                     _pick("yes" if r["planned"] else "no", lang),
                     ", ".join(labels.group(g, lang) for g in r["groups_planned"]) or "–",
                     f"{int(r['communes_reached'])}/{int(r['communes_planned'])}",
                     number(r["activities"], language=lang), number(r["people_reached"], language=lang),
                     ", ".join(labels.group(g, lang) for g in r["groups_reached"]) or "–"))
    keys = ("district", "channel", "planned_col", "groups_planned", "communes", "activities",
            "people_reached", "groups_reached")
    header = tuple(_pick(k, lang) for k in keys)
    out.append(Table("outreach_plan", _pick("table", lang).format(year=review.year), header, tuple(rows),
                     numeric_from=4))
    return out


def plan_sections(designs: Mapping[int, object] | None, review: OutreachReview | None, *, language: str,
                  first: int) -> list:
    """The report's blocks on the rounds' designs and on the outreach plan against what was done, numbered
    from ``first``; nothing for what was not given (a report built without the server's records)."""
    lang = labels.check_language(language)
    out = []
    if designs:
        lines = tuple(design_lines(designs, language=lang))
        out += [Heading(f"{first}. {_pick('designs', lang)}"), Items(lines, "body")]
        first += 1
    if review is not None:
        out += _review_blocks(review, lang, first)
    return out
