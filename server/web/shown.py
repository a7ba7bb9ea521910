"""The pages' tables as a reader sees them, for downloads: the same columns, labels, rounding and language.

Each cell is written by the helpers the templates use (:mod:`server.web.i18n`: ``percent``, ``interval``,
``points``, ``number``), so a download holds the page's text cell for cell; a withheld figure is "–" and
a withheld count says "under N", as on the page. Several tables of one page (one per indicator, one per
tier) are stacked, the first column saying which (the page's caption). The codes and full-precision
figures, for analysts, are the other download choice (``?codes=1``), straight from the tidy frames.
"""

from __future__ import annotations

import pandas as pd

from server.reports.request import ReportRequest
from server.web.i18n import activity_label
from server.web.i18n import channel_label
from server.web.i18n import clear_change
from server.web.i18n import current_language
from server.web.i18n import group_label
from server.web.i18n import groups_label
from server.web.i18n import indicator_label
from server.web.i18n import interval
from server.web.i18n import number
from server.web.i18n import percent
from server.web.i18n import points
from server.web.i18n import points_interval
from server.web.i18n import text as t

_MARKS = {"up": "▲ ", "down": "▼ "}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _withheld(row: dict, value: str) -> bool:
    return bool(row.get("suppressed")) or _missing(row.get(value))


def share(row: dict, value="estimate", low="ci_low", high="ci_high") -> str:
    """A share with its interval, '52% [48–56%]'; '–' when withheld (the page's ``share`` cell)."""
    if _withheld(row, value):
        return "–"
    return f"{percent(row[value])} {interval(row[low], row[high])}".strip()


def change(row: dict, value="estimate", low="ci_low", high="ci_high") -> str:
    """A change in points with its interval, '▲ +5 [+2; +8]' when clear; '–' when withheld."""
    if _withheld(row, value):
        return "–"
    mark = _MARKS.get(clear_change(row[low], row[high]), "")
    return f"{mark}{points(row[value])} {points_interval(row[low], row[high])}".strip()


def count(row: dict, min_cell: int) -> str:
    """Respondents, or 'under N' when the row is withheld for planners (the page's ``count`` cell)."""
    if row.get("suppressed") and min_cell > 1:
        return t("fewer_than", min=min_cell)
    return number(row.get("n"))


def _rows(frame: pd.DataFrame) -> list[dict]:
    return frame.astype("object").where(frame.notna(), None).to_dict("records")


def _unique(rows: list[dict], key: str) -> list:
    return list(dict.fromkeys(row[key] for row in rows))


def _table(rows: list[list], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns, dtype="object")


def _city(frame, choices):
    rows = [[indicator_label(r["indicator"]), share(r), count(r, choices.min_cell)] for r in _rows(frame)]
    return _table(rows, [t("indicator"), t("estimate_ci"), t("n")])


def _districts(frame, choices):
    rows_in = _rows(frame)
    cells = {(r["indicator"], r["district_code"], r["round"]): r for r in rows_in}
    columns = [t("indicator"), t("district")]
    for r in reversed(choices.rounds):  # the latest round first, as on the page
        columns += [f"{t('round')} {r}: {t('estimate_ci')}", f"{t('round')} {r}: {t('n')}"]
    district_names = {r["district_code"]: r["district_name"] for r in rows_in}
    rows = []
    for indicator in _unique(rows_in, "indicator"):
        for code in _unique(rows_in, "district_code"):
            row = [indicator_label(indicator), district_names[code]]
            for r in reversed(choices.rounds):
                cell = cells.get((indicator, code, r))
                row += [share(cell), count(cell, choices.min_cell)] if cell else ["–", ""]
            rows.append(row)
    return _table(rows, columns)


def _groups(frame, choices):
    rows_in = _rows(frame)
    cells = {(r["group"], r["indicator"]): r for r in rows_in}
    indicators = _unique(rows_in, "indicator")
    columns = [t("group")]
    for i in indicators:
        columns += [f"{indicator_label(i)}: {t('estimate_ci')}", f"{indicator_label(i)}: {t('n')}"]
    rows = []
    for group in _unique(rows_in, "group"):
        first = cells.get((group, indicators[0]))
        row = [first["label"] if first else group]
        for i in indicators:
            cell = cells.get((group, i))
            row += [share(cell), count(cell, choices.min_cell)] if cell else ["–", ""]
        rows.append(row)
    return _table(rows, columns)


def _change(frame, choices):
    rows = []
    for r in _rows(frame):
        levels = ["–", "–"] if r.get("suppressed") else [percent(r["estimate_a"]), percent(r["estimate_b"])]
        rows.append([indicator_label(r["indicator"]), r["district_name"], *levels, change(r),
                     count(r, choices.min_cell)])
    columns = [t("indicator"), t("district"), str(choices.a), str(choices.b), t("change_col"), t("n")]
    return _table(rows, columns)


def _priorities(frame, choices):
    rows_in = _rows(frame)
    k = rows_in[0]["k"] if rows_in else ""
    reasons = "reasons_vi" if current_language() == "vi" and "reasons_vi" in frame.columns else "reasons"
    commune = choices.level == "commune"
    columns = [t("tier"), t("place"), *([t("district")] if commune else []), t("p_top_k", k=k),
               t("knowledge"), t("hotline"), t("risk"), t("n"), t("reasons")]
    rows = []
    for tier in ("highest", "high", "medium", "lower"):
        for r in (r for r in rows_in if r["tier"] == tier):
            place = [r["commune_name"], r["district_name"]] if commune else [r["district_name"]]
            rows.append([t("tier_" + tier), *place, percent(r["p_top_k"]),
                         share(r, "knowledge", "knowledge_low", "knowledge_high"),
                         share(r, "hotline", "hotline_low", "hotline_high"),
                         share(r, "risk", "risk_low", "risk_high"), count(r, choices.min_cell), r[reasons]])
    return _table(rows, columns)


def _channels(frame, choices):
    rows_in = _rows(frame)
    cells = {(r["channel"], r["group"]): r for r in rows_in}
    groups = _unique(rows_in, "group")
    rows = []
    for channel in _unique(rows_in, "channel"):
        rows.append([channel_label(channel), *[share(cells[(channel, g)]) if (channel, g) in cells else "–"
                                               for g in groups]])
    return _table(rows, [t("channel"), *[group_label(g) for g in groups]])


def _outreach_totals(frame, choices):
    rows = [[r["district_name"], number(r["activities"]), number(r["people_reached"]),
             f"{r['communes_reached']}/{r['communes']}", number(r["reach_per_1000"], 1)]
            for r in _rows(frame)]
    return _table(rows, [t("district"), t("activities"), t("people_reached"), t("communes_reached"),
                         t("reach_per_1000")])


def _outreach(frame, choices):
    rows = [[r["district_name"], activity_label(r["activity_type"]), number(r["activities"]),
             number(r["people_reached"])] for r in _rows(frame)]
    return _table(rows, [t("district"), t("activity_type"), t("activities"), t("people_reached")])


def _outreach_plan(frame, choices):
    rows = [[r["district_name"], channel_label(r["channel"]),
             t("yearly_yes" if r["planned"] else "yearly_no"), groups_label(r["groups_planned"]),
             f"{r['communes_reached']}/{r['communes_planned']}", number(r["activities"]),
             number(r["people_reached"]), groups_label(r["groups_reached"])]
            for r in _rows(frame)]
    return _table(rows, [t("district"), t("channel"), t("yearly_plan_planned"), t("yearly_plan_groups"),
                         t("yearly_plan_communes"), t("activities"), t("people_reached"),
                         t("yearly_plan_reached")])


def _awareness(frame, choices):
    columns = [t("indicator"), t("district"), t("estimate_ci"), t("n")]
    columns += [t("change_col")] if choices.previous else []
    rows = []
    for r in _rows(frame):
        row = [indicator_label(r["indicator"]), r["district_name"], share(r), count(r, choices.min_cell)]
        rows.append(row + ([change(r, "change", "change_low", "change_high")] if choices.previous else []))
    return _table(rows, columns)


_SHOWN = {"city": _city, "indicators": _districts, "groups": _groups, "change": _change,
          "priorities": _priorities, "channels": _channels, "outreach_totals": _outreach_totals,
          "outreach": _outreach, "outreach_plan": _outreach_plan, "awareness": _awareness}


def shown(frames: dict[str, pd.DataFrame], choices: ReportRequest) -> dict[str, pd.DataFrame]:
    """Each table of a page (:func:`server.web.tables.build`) as the page shows it, in this language."""
    return {part: _SHOWN[part](frame, choices) for part, frame in frames.items()}
