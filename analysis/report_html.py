"""The awareness-gap report as one self-contained HTML document, in Vietnamese or English.

No external URL, script or font: CSS is inline, the four charts are inline ``<svg>``
(:mod:`analysis.report_charts`, text kept as text so screen readers and search find it) and
every chart has its numbers in an accessible table under it (``<caption>``, ``<th scope>``).
Withheld figures (fewer than ``min_n`` respondents) are shown as "–", never as 0.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

import pandas as pd

from analysis import labels
from analysis import report_charts as charts
from analysis.boundaries import Boundaries
from analysis.boundary_map import boundary_map
from analysis.boundary_map import can_draw
from analysis.gap_report import GapReport
from analysis.population import communes as census_communes
from analysis.report_blocks import Figure
from analysis.report_blocks import Heading
from analysis.report_blocks import Items
from analysis.report_blocks import Paragraph
from analysis.report_blocks import Table
from analysis.report_blocks import number
from analysis.report_estimates import HEADLINE
from analysis.report_map import TIER_COLOURS
from analysis.report_map import tile_map
from analysis.report_plans import plan_sections
from analysis.report_text import TEXT
from analysis.report_text import note

__all__ = ["render_html", "report_blocks"]

_CSS = """
body{font-family:"Noto Sans","DejaVu Sans","Segoe UI",Roboto,Arial,"Helvetica Neue",sans-serif;
 margin:2rem auto;max-width:62rem;padding:0 1rem;color:#1b1b1b;line-height:1.45}
svg text{font-family:"Noto Sans","DejaVu Sans","Segoe UI",Roboto,Arial,sans-serif !important}
h1{font-size:1.55rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{font-size:1rem;margin-top:1.4rem}figure{margin:1rem 0}svg{max-width:100%;height:auto}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.82rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}th,td{border:1px solid #ccc;padding:.2rem .45rem;
 vertical-align:top}thead th{background:#f0f0f0}td.num{text-align:right;white-space:nowrap}
.meta{color:#444}.note{font-size:.85rem;color:#333}.scroll{overflow-x:auto}
"""


_FIGURE = re.compile(r"^[-+–−▲▼\d.,%\[\]; /()]+$|^\d")


def _fmt(x, kind="pct", *, lang):
    """A figure in ``lang``'s number format (vi 1.809 and 0,5; en 1,809 and 0.5); '–' when missing."""
    if x is None or pd.isna(x):
        return "–"
    if kind == "pct":
        return number(100 * x, language=lang) + "%"
    if kind == "pp":
        return number(100 * x, 1, language=lang, sign=True)
    if kind == "int":
        return number(x, language=lang)
    if kind == "p":
        return number(x, 2, language=lang)
    return str(x)


def _mark(low, high):
    """▲ or ▼ before a change whose 95% interval excludes zero (a clear change), else nothing."""
    if pd.isna(low) or pd.isna(high):
        return ""
    return "▲ " if low > 0 else "▼ " if high < 0 else ""


def _ci(row, est="estimate", low="ci_low", high="ci_high", kind="pct", *, lang):
    if pd.isna(row.get(est)):
        return "–"
    if low not in row or high not in row:  # an estimate shown without an interval
        return _fmt(row[est], kind, lang=lang)
    if kind == "pp":
        interval = f"[{_fmt(row[low], 'pp', lang=lang)}; {_fmt(row[high], 'pp', lang=lang)}]"
        return f"{_mark(row[low], row[high])}{_fmt(row[est], 'pp', lang=lang)} {interval}"
    return f"{_fmt(row[est], lang=lang)} [{_fmt(row[low], lang=lang)}–{_fmt(row[high], lang=lang)}]"


def _table(name, caption, header, rows, *, numeric_from=1):
    cells = tuple(tuple(str(v) for v in row) for row in rows)
    return Table(name, caption, tuple(str(h) for h in header), cells, numeric_from)


def _html_table(table: Table) -> str:
    """An accessible table: caption, column headers, the first cell of each row a row header."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.header)
    body = []
    for row in table.rows:
        cells = [f'<th scope="row">{escape(row[0])}</th>']
        for i, text in enumerate(row[1:], start=1):
            # figures align right; words (labels, reasons) read better left-aligned and wrapped
            figure = i >= table.numeric_from and _FIGURE.match(text) is not None
            cls = ' class="num"' if figure else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><caption>{escape(table.caption)}</caption><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table></div>")


def _html_block(block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        cls = f' class="{block.style}"' if block.style != "body" else ""
        return f"<p{cls}>{escape(block.text)}</p>"
    if isinstance(block, Items):
        return f'<ul class="{block.style}">' + "".join(f"<li>{escape(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Figure):
        return f"<figure>{block.svg}<figcaption class=\"note\">{escape(block.caption)}</figcaption></figure>"
    return _html_table(block)


def render_html(report: GapReport, *, language="vi", date=None, boundaries: Boundaries | None = None,
                attribution: str = "") -> str:
    """The whole report as one HTML document in ``language`` (``"vi"`` or ``"en"``).

    With ``boundaries`` (and their ``attribution``, printed under the map) the tiers are drawn on them;
    without, as a tile map.
    """
    lang = labels.check_language(language)
    title = TEXT["title"][0 if lang == "vi" else 1].format(year=report.year)
    blocks = report_blocks(report, language=lang, date=date, boundaries=boundaries, attribution=attribution)
    body = "\n".join(_html_block(block) for block in blocks)
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def report_blocks(report: GapReport, *, language="vi", date=None, figures=True,
                  boundaries: Boundaries | None = None, attribution: str = "") -> list:
    """The whole report as blocks (:mod:`analysis.report_blocks`) in ``language``: what the HTML page, the
    DOCX document and the spreadsheets show. ``figures=False`` leaves the charts and the map out (drawing
    them is most of the time; a document or a spreadsheet does not show them). With ``boundaries`` the tiers
    are drawn on them (their ``attribution`` under the map), without as a tile map."""
    lang = labels.check_language(language)
    t = {key: pair[0 if lang == "vi" else 1] for key, pair in TEXT.items()} | {"lang": lang}
    date = date or dt.date.today()
    names = {**dict(zip(*census_communes()[["district_code", "district_name"]].T.values, strict=False)),
             "all": t["city"]}
    district_codes = [c for c in sorted(names) if c != "all"] + ["all"]
    draw = charts if figures else _NO_CHARTS
    ind = {"indicator": lambda c: labels.indicator(c, lang), "group": lambda c: labels.group(c, lang),
           "channel": lambda c: labels.channel(c, lang), "tier": lambda c: labels.tier(c, lang),
           "round": t["round"]}
    parts = [Heading(t["title"].format(year=report.year), 1),
             Paragraph(f"{t['round']}: {report.year}"
                       + (f" · {t['compared_with']}: {report.previous}" if report.previous else "")
                       + f" · {t['generated']}: {date.isoformat()}", "meta"),
             Paragraph(t["due"], "meta"),
             Heading(t["method"])]
    method = [t[key].format(min_n=report.min_n, k=report.k) for key in (
        "method_design", "method_change", "method_suppression", "method_did", "method_model",
        "method_priority")]
    parts.append(Items(tuple(method + [note(entry, lang) for entry in report.notes])))

    # (a) levels
    rounds = sorted(report.levels["round"].unique())
    parts.append(Heading(f"1. {t['levels']}"))
    shown = {c: names[c] for c in district_codes}
    chart = draw.levels_chart(report.levels, indicators=HEADLINE, names=shown, rounds=rounds, labels=ind,
                                title=t["levels"])
    parts.append(Figure(chart, t["levels_caption"]))
    rows = []
    position = {code: i for i, code in enumerate(district_codes)}
    groups = sorted(report.levels.groupby(["district_code", "round"], sort=False),
                    key=lambda item: (position.get(item[0][0], -1), item[0][1]))
    for (code, r), part in groups:
        by = part.set_index("indicator")
        rows.append([names.get(code, code), r, *[_ci(by.loc[i], lang=lang) if i in by.index else "–"
                                                 for i in HEADLINE], _fmt(by["n"].max(), "int", lang=lang)])
    header = [t["district"], t["round"], *[ind["indicator"](i) for i in HEADLINE], "n"]
    parts.append(_table("levels", t["levels"], header, rows, numeric_from=1))

    # (b) target groups
    order = [g for g in report.groups["group"].unique() if g != "all"] + ["all"]
    has_change = "change" in report.groups.columns and report.groups["change"].notna().any()
    heading = t["groups_change"].format(previous=report.previous) if has_change else t["groups"]
    parts.append(Heading(f"2. {heading}"))
    parts.append(Figure(draw.groups_chart(report.groups, indicators=HEADLINE, order=order, labels={
        **ind, "axis": t["pp"] if has_change else "%"}, title=heading, column="change" if has_change
        else "estimate"), t["groups_caption"]))
    rows = []
    for g in order:
        by = report.groups[report.groups["group"] == g].set_index("indicator")
        cells = []
        for i in HEADLINE:
            row = by.loc[i] if i in by.index else pd.Series(dtype="float64")
            cells.append(_ci(row, lang=lang) if len(row) else "–")
            if has_change:
                cells.append(_ci(row, "change", "change_low", "change_high", "pp", lang=lang)
                             if len(row) else "–")
        rows.append([ind["group"](g), *cells, _fmt(by["n"].max() if len(by) else None, "int", lang=lang)])
    header = [t["group"]]
    for i in HEADLINE:
        header += [ind["indicator"](i)] + ([f"{t['change']} ({t['pp']})"] if has_change else [])
    parts.append(_table("groups", heading, [*header, "n"], rows))
    if has_change:
        parts.append(Paragraph(t["change_marks"], "note"))

    if len(report.change):
        parts.append(Heading(t["district_change"].format(previous=report.previous), 3))
        rows = []
        for code in district_codes:
            by = report.change[report.change["district_code"] == code].set_index("indicator")
            if by.empty:
                continue
            rows.append([names[code], *[_ci(by.loc[i], "change", "change_low", "change_high", "pp", lang=lang)
                                        if i in by.index else "–" for i in HEADLINE]])
        parts.append(_table("change", t["district_change"].format(previous=report.previous),
                            [t["district"], *[f"{ind['indicator'](i)} ({t['pp']})" for i in HEADLINE]], rows))
    parts += _did_section(report, t)

    # (c) the focus list
    parts.append(Heading(f"3. {t['focus'].format(k=report.k)}"))
    model = labels.source("model", lang)
    focus = report.priorities.assign(place_label=[
        f"{c} ({names.get(d, d)})" + (f" – {model}" if source in ("model", "none") else "")
        for c, d, source in zip(report.priorities["commune_name"], report.priorities["district_code"],
                                report.priorities["source"], strict=True)])
    parts.append(Figure(draw.focus_chart(focus, top=20, labels={**ind, "axis": t["p_top_k_axis"].format(
        k=report.k)}, title=t["focus"].format(k=report.k)), t["focus_caption"]))
    parts.append(_tier_map(report, t, lang, boundaries, attribution, figures=figures))
    parts.append(_priority_table(focus.head(20), t, lang, report, commune=True))
    district = report.district_priorities.assign(place_label=report.district_priorities["district_name"])
    parts.append(_priority_table(district, t, lang, report, commune=False))

    # (d) channels × groups
    parts.append(Heading(f"4. {t['channels']}"))
    channel_codes = [c for c in report.channels["channel"].unique()]
    group_codes = ["all", *[g for g in report.channels["group"].unique() if g != "all"]]
    chart = draw.heatmap_chart(report.channels, groups=group_codes, channel_codes=channel_codes, labels=ind,
                                 title=t["channels"])
    parts.append(Figure(chart, t["channels_caption"]))
    pivot = report.channels.set_index(["group", "channel"])["estimate"]
    rows = [[ind["group"](g), *[_fmt(pivot.get((g, c)), lang=lang) for c in channel_codes]]
            for g in group_codes]
    parts.append(_table("channels", t["channels"], [t["group"], *[ind["channel"](c) for c in channel_codes]],
                        rows))

    parts += _small_area_section(report, t, lang, names)
    parts += _risk_section(report, t, names)
    parts += _outreach_section(report, t, lang)
    parts += plan_sections(report.designs, report.outreach_review, language=lang, first=8)
    return [p for p in parts if not isinstance(p, Figure) or p.svg]


class _NoCharts:
    """Stands in for :mod:`analysis.report_charts` when no figure is wanted: every chart is empty."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: ""


_NO_CHARTS = _NoCharts()


def _tier_map(report, t, lang, boundaries, attribution, *, figures=True):
    if not figures:
        return Figure("", "")
    map_labels = {"tiers": {code: labels.tier(code, lang) for code in TIER_COLOURS},
                  "missing": t["map_missing"], "value": str, "model_only": t["map_model_only"]}
    if can_draw(boundaries, "commune_key"):
        svg = boundary_map(boundaries, report.priorities, key="commune_key", value="tier", kind="tier",
                           title=t["bmap_tiers"].format(year=report.year), labels=map_labels)
        return Figure(svg, t["bmap_note"].format(attribution=attribution))
    svg = tile_map(report.priorities, key="commune_key", value="tier", kind="tier",
                   title=t["map_tiers"].format(year=report.year), labels=map_labels)
    return Figure(svg, t["map_note"])


def _priority_table(frame, t, lang, report, *, commune):
    header = [t["commune"] if commune else t["district"], t["tier"], t["p_top_k"].format(
        k=report.k if commune else int(frame["k"].iloc[0]) if len(frame) else 0), t["rank"], t["need"],
        t["reasons"]]
    rows = []
    for _, row in frame.iterrows():
        need = "–" if pd.isna(row["need"]) else (f"{_fmt(row['need'], 'int', lang=lang)} ["
                                                 f"{_fmt(row['need_low'], 'int', lang=lang)}–"
                                                 f"{_fmt(row['need_high'], 'int', lang=lang)}]")
        rows.append([row["place_label"], labels.tier(row["tier"], lang), _fmt(row["p_top_k"], "p", lang=lang),
                     f"{row['rank_median']:.0f} [{row['rank_low']:.0f}–{row['rank_high']:.0f}]", need,
                     row["reasons_vi" if lang == "vi" else "reasons"]])
    if commune:
        return _table("priorities", t["focus_table"], header, rows)
    return _table("district_priorities", t["district_focus"], header, rows)


def _did_section(report, t):
    lang = t["lang"]
    out = [Heading(t["did"], 3)]
    if report.did.empty:
        return out + [Paragraph(t["did_none"], "note")]
    rows = [[t[f"model_{r['model']}"], _ci(r, kind="pp", lang=lang), _fmt(r["n"], "int", lang=lang),
             _fmt(r.get("communes_reached"), "int", lang=lang)] for _, r in report.did.iterrows()]
    out.append(_table("did", t["did"], [t["model"], f"DiD ({t['pp']})", t["smallest_cell"],
                                        t["communes_reached"]], rows))
    rows = [[f"{t['reached'] if r['treated'] else t['not_reached']} · "
             f"{t['after'] if r['post'] else t['before']}", _ci(r, lang=lang), _fmt(r["n"], "int", lang=lang)]
            for _, r in report.did_cells.iterrows()]
    out.append(_table("did_cells", t["did_cells"], [t["cell"], t["knowledge"], "n"], rows))
    rows = [[labels.variable(r["variable"], lang), _fmt(r["mean_not_reached"], "p", lang=lang),
             _fmt(r["mean_reached"], "p", lang=lang), _fmt(r["std_difference"], "p", lang=lang)]
            for _, r in report.did_balance.iterrows()]
    header = [t["variable"], t["not_reached"], t["reached"], t["std_difference"]]
    out.append(_table("did_balance", t["balance"], header, rows))
    out.append(Items(tuple(t["caveats"])))
    return out


def _small_area_section(report, t, lang, names):
    rows = []
    for _, r in report.small_areas.sort_values(["district_code", "commune_key"]).iterrows():
        rows.append([r["commune_name"], names.get(r["district_code"], r["district_code"]),
                     _ci(r, "knowledge", "knowledge_low", "knowledge_high", lang=lang),
                     _ci(r, "hotline", "hotline_low", "hotline_high", lang=lang) if "hotline" in r else "–",
                     _ci(r, "risk", "risk_low", "risk_high", lang=lang) if "risk" in r else "–",
                     _fmt(r["n"], "int", lang=lang), labels.source(r["source"], lang)])
    header = [t["commune"], t["district"], t["knowledge"], labels.indicator("hotline_aware", lang),
              labels.indicator("at_risk", lang), "n", t["source"]]
    return [Heading(f"5. {t['small_areas']}"), Paragraph(t["small_areas_note"], "note"),
            _table("small_areas", t["small_areas"], header, rows, numeric_from=2)]


def _risk_section(report, t, names):
    lang = t["lang"]
    if report.risk.empty:
        return [Heading(f"6. {t['risk']}"), Paragraph(t["risk_none"], "note")]
    s = report.risk.iloc[0]
    out = [Heading(f"6. {t['risk']}"),
           Paragraph(t["risk_note"].format(n=_fmt(int(s["n_fit"]), "int", lang=lang), folds=int(s["folds"])),
                     "note")]

    def figure(value, digits):
        return number(value, digits, language=lang)

    out.append(_table("risk_model", t["risk_quality"], [t["measure"], t["value"]], [
        ["AUC", f"{figure(s['auc'], 3)} (± {figure(s['auc_sd'], 3)})"],
        [t["calibration_slope"], figure(s["calibration_slope"], 2)],
        [t["calibration_intercept"], figure(s["calibration_intercept"], 2)],
        ["Brier", figure(s["brier"], 3)]]))
    rows = [[int(r["bin"]), _fmt(r["predicted"], lang=lang), _fmt(r["observed"], lang=lang),
             _fmt(r["n"], "int", lang=lang)] for _, r in report.risk_calibration.iterrows()]
    out.append(_table("risk_calibration", t["calibration"], [t["bin"], t["predicted"], t["observed"], "n"],
                      rows))
    rows = [[names.get(r["district_code"], r["district_code"]), _fmt(r["population"], "int", lang=lang),
             _fmt(r["expected"], "int", lang=lang), _fmt(r["rate"], lang=lang),
             _fmt(r["women_18_34_expected"], "int", lang=lang)] for _, r in report.at_risk.iterrows()]
    header = [t["district"], t["adults"], t["expected"], t["rate"], t["women_expected"]]
    out.append(_table("at_risk", t["at_risk"], header, rows))
    return out


def _outreach_section(report, t, lang):
    y = report.yearly
    rows = []
    for _, r in y.outreach_totals.iterrows():
        kinds = y.outreach[y.outreach["district_code"] == r["district_code"]]
        types = ", ".join(f"{labels.activity_type(k, lang)} {n}" for k, n in zip(
            kinds["activity_type"], kinds["activities"], strict=True)) or "–"
        rows.append([r["district_name"], _fmt(r["activities"], "int", lang=lang),
                     _fmt(r["people_reached"], "int", lang=lang), f"{r['communes_reached']}/{r['communes']}",
                     types])
    caption = t["outreach"].format(year=report.year)
    return [Heading(f"7. {caption}"),
            _table("outreach_totals", caption, [t["district"], t["activities"], t["people_reached"],
                                                t["communes_reached"], t["types"]], rows)]
