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
from analysis.report_estimates import HEADLINE
from analysis.report_map import TIER_COLOURS
from analysis.report_map import tile_map
from analysis.report_text import TEXT
from analysis.report_text import note

__all__ = ["render_html"]

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


def _fmt(x, kind="pct"):
    if x is None or pd.isna(x):
        return "–"
    if kind == "pct":
        return _unsigned_zero(f"{100 * x:.0f}") + "%"
    if kind == "pp":
        return _unsigned_zero(f"{100 * x:+.1f}")
    if kind == "int":
        return f"{x:,.0f}"
    if kind == "p":
        return f"{x:.2f}"
    return str(x)


def _unsigned_zero(text):
    """``text`` without its sign when it reads as zero: never "-0" or "+0.0"."""
    return text.lstrip("+-") if not text.strip("+-0.") else text


def _mark(low, high):
    """▲ or ▼ before a change whose 95% interval excludes zero (a clear change), else nothing."""
    if pd.isna(low) or pd.isna(high):
        return ""
    return "▲ " if low > 0 else "▼ " if high < 0 else ""


def _ci(row, est="estimate", low="ci_low", high="ci_high", kind="pct"):
    if pd.isna(row.get(est)):
        return "–"
    if low not in row or high not in row:  # an estimate shown without an interval
        return _fmt(row[est], kind)
    if kind == "pp":
        interval = f"[{_fmt(row[low], 'pp')}; {_fmt(row[high], 'pp')}]"
        return f"{_mark(row[low], row[high])}{_fmt(row[est], 'pp')} {interval}"
    return f"{_fmt(row[est])} [{_fmt(row[low])}–{_fmt(row[high])}]"


def _table(caption, header, rows, *, numeric_from=1):
    """An accessible table: caption, column headers, the first cell of each row a row header."""
    head = "".join(f'<th scope="col">{escape(str(h))}</th>' for h in header)
    body = []
    for row in rows:
        cells = [f'<th scope="row">{escape(str(row[0]))}</th>']
        for i, value in enumerate(row[1:], start=1):
            text = str(value)
            # figures align right; words (labels, reasons) read better left-aligned and wrapped
            figure = i >= numeric_from and _FIGURE.match(text) is not None
            cls = ' class="num"' if figure else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _figure(svg, caption):
    return f"<figure>{svg}<figcaption class=\"note\">{escape(caption)}</figcaption></figure>"


def render_html(report: GapReport, *, language="vi", date=None, boundaries: Boundaries | None = None,
                attribution: str = "") -> str:
    """The whole report as one HTML document in ``language`` (``"vi"`` or ``"en"``).

    With ``boundaries`` (and their ``attribution``, printed under the map) the tiers are drawn on them;
    without, as a tile map.
    """
    lang = labels.check_language(language)
    t = {key: pair[0 if lang == "vi" else 1] for key, pair in TEXT.items()} | {"lang": lang}
    date = date or dt.date.today()
    names = {**dict(zip(*census_communes()[["district_code", "district_name"]].T.values, strict=False)),
             "all": t["city"]}
    district_codes = [c for c in sorted(names) if c != "all"] + ["all"]
    ind = {"indicator": lambda c: labels.indicator(c, lang), "group": lambda c: labels.group(c, lang),
           "channel": lambda c: labels.channel(c, lang), "tier": lambda c: labels.tier(c, lang),
           "round": t["round"]}
    parts = [f"<h1>{escape(t['title'].format(year=report.year))}</h1>",
             f"<p class=\"meta\">{escape(t['round'])}: {report.year}"
             + (f" · {escape(t['compared_with'])}: {report.previous}" if report.previous else "")
             + f" · {escape(t['generated'])}: {date.isoformat()}</p>",
             f"<p class=\"meta\">{escape(t['due'])}</p>",
             f"<h2>{escape(t['method'])}</h2><ul class=\"note\">"]
    for key in ("method_design", "method_change", "method_suppression", "method_did", "method_model",
                "method_priority"):
        parts.append(f"<li>{escape(t[key].format(min_n=report.min_n, k=report.k))}</li>")
    parts += [f"<li>{escape(note(entry, lang))}</li>" for entry in report.notes] + ["</ul>"]

    # (a) levels
    rounds = sorted(report.levels["round"].unique())
    parts.append(f"<h2>1. {escape(t['levels'])}</h2>")
    shown = {c: names[c] for c in district_codes}
    chart = charts.levels_chart(report.levels, indicators=HEADLINE, names=shown, rounds=rounds, labels=ind,
                                title=t["levels"])
    parts.append(_figure(chart, t["levels_caption"]))
    rows = []
    position = {code: i for i, code in enumerate(district_codes)}
    groups = sorted(report.levels.groupby(["district_code", "round"], sort=False),
                    key=lambda item: (position.get(item[0][0], -1), item[0][1]))
    for (code, r), part in groups:
        by = part.set_index("indicator")
        rows.append([names.get(code, code), r, *[_ci(by.loc[i]) if i in by.index else "–" for i in HEADLINE],
                     _fmt(by["n"].max(), "int")])
    header = [t["district"], t["round"], *[ind["indicator"](i) for i in HEADLINE], "n"]
    parts.append(_table(t["levels"], header, rows, numeric_from=1))

    # (b) target groups
    order = [g for g in report.groups["group"].unique() if g != "all"] + ["all"]
    has_change = "change" in report.groups.columns and report.groups["change"].notna().any()
    heading = t["groups_change"].format(previous=report.previous) if has_change else t["groups"]
    parts.append(f"<h2>2. {escape(heading)}</h2>")
    parts.append(_figure(charts.groups_chart(report.groups, indicators=HEADLINE, order=order, labels={
        **ind, "axis": t["pp"] if has_change else "%"}, title=heading, column="change" if has_change
        else "estimate"), t["groups_caption"]))
    rows = []
    for g in order:
        by = report.groups[report.groups["group"] == g].set_index("indicator")
        cells = []
        for i in HEADLINE:
            row = by.loc[i] if i in by.index else pd.Series(dtype="float64")
            cells.append(_ci(row) if len(row) else "–")
            if has_change:
                cells.append(_ci(row, "change", "change_low", "change_high", "pp") if len(row) else "–")
        rows.append([ind["group"](g), *cells, _fmt(by["n"].max() if len(by) else None, "int")])
    header = [t["group"]]
    for i in HEADLINE:
        header += [ind["indicator"](i)] + ([f"{t['change']} ({t['pp']})"] if has_change else [])
    parts.append(_table(heading, [*header, "n"], rows))
    if has_change:
        parts.append(f'<p class="note">{escape(t["change_marks"])}</p>')

    if len(report.change):
        parts.append(f"<h3>{escape(t['district_change'].format(previous=report.previous))}</h3>")
        rows = []
        for code in district_codes:
            by = report.change[report.change["district_code"] == code].set_index("indicator")
            if by.empty:
                continue
            rows.append([names[code], *[_ci(by.loc[i], "change", "change_low", "change_high", "pp")
                                        if i in by.index else "–" for i in HEADLINE]])
        parts.append(_table(t["district_change"].format(previous=report.previous),
                            [t["district"], *[f"{ind['indicator'](i)} ({t['pp']})" for i in HEADLINE]], rows))
    parts.append(_did_section(report, t))

    # (c) the focus list
    parts.append(f"<h2>3. {escape(t['focus'].format(k=report.k))}</h2>")
    model = labels.source("model", lang)
    focus = report.priorities.assign(place_label=[
        f"{c} ({names.get(d, d)})" + (f" – {model}" if source in ("model", "none") else "")
        for c, d, source in zip(report.priorities["commune_name"], report.priorities["district_code"],
                                report.priorities["source"], strict=True)])
    parts.append(_figure(charts.focus_chart(focus, top=20, labels={**ind, "axis": t["p_top_k_axis"].format(
        k=report.k)}, title=t["focus"].format(k=report.k)), t["focus_caption"]))
    parts.append(_tier_map(report, t, lang, boundaries, attribution))
    parts.append(_priority_table(focus.head(20), t, lang, report, commune=True))
    district = report.district_priorities.assign(place_label=report.district_priorities["district_name"])
    parts.append(_priority_table(district, t, lang, report, commune=False))

    # (d) channels × groups
    parts.append(f"<h2>4. {escape(t['channels'])}</h2>")
    channel_codes = [c for c in report.channels["channel"].unique()]
    group_codes = ["all", *[g for g in report.channels["group"].unique() if g != "all"]]
    chart = charts.heatmap_chart(report.channels, groups=group_codes, channel_codes=channel_codes, labels=ind,
                                 title=t["channels"])
    parts.append(_figure(chart, t["channels_caption"]))
    pivot = report.channels.set_index(["group", "channel"])["estimate"]
    rows = [[ind["group"](g), *[_fmt(pivot.get((g, c))) for c in channel_codes]] for g in group_codes]
    parts.append(_table(t["channels"], [t["group"], *[ind["channel"](c) for c in channel_codes]], rows))

    parts.append(_small_area_section(report, t, lang, names))
    parts.append(_risk_section(report, t, names))
    parts.append(_outreach_section(report, t, lang))
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(t['title'].format(year=report.year))}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def _tier_map(report, t, lang, boundaries, attribution):
    map_labels = {"tiers": {code: labels.tier(code, lang) for code in TIER_COLOURS},
                  "missing": t["map_missing"], "value": str, "model_only": t["map_model_only"]}
    if can_draw(boundaries, "commune_key"):
        svg = boundary_map(boundaries, report.priorities, key="commune_key", value="tier", kind="tier",
                           title=t["bmap_tiers"].format(year=report.year), labels=map_labels)
        return _figure(svg, t["bmap_note"].format(attribution=attribution))
    svg = tile_map(report.priorities, key="commune_key", value="tier", kind="tier",
                   title=t["map_tiers"].format(year=report.year), labels=map_labels)
    return _figure(svg, t["map_note"])


def _priority_table(frame, t, lang, report, *, commune):
    header = [t["commune"] if commune else t["district"], t["tier"], t["p_top_k"].format(
        k=report.k if commune else int(frame["k"].iloc[0]) if len(frame) else 0), t["rank"], t["need"],
        t["reasons"]]
    rows = []
    for _, row in frame.iterrows():
        need = "–" if pd.isna(row["need"]) else (f"{row['need']:,.0f} [{row['need_low']:,.0f}–"
                                                 f"{row['need_high']:,.0f}]")
        rows.append([row["place_label"], labels.tier(row["tier"], lang), _fmt(row["p_top_k"], "p"),
                     f"{row['rank_median']:.0f} [{row['rank_low']:.0f}–{row['rank_high']:.0f}]", need,
                     row["reasons_vi" if lang == "vi" else "reasons"]])
    return _table(t["focus_table"] if commune else t["district_focus"], header, rows)


def _did_section(report, t):
    out = [f"<h3>{escape(t['did'])}</h3>"]
    if report.did.empty:
        return "".join(out + [f"<p class=\"note\">{escape(t['did_none'])}</p>"])
    rows = [[t[f"model_{r['model']}"], _ci(r, kind="pp"), _fmt(r["n"], "int"), _fmt(r.get("communes_reached"),
                                                                                   "int")]
            for _, r in report.did.iterrows()]
    out.append(_table(t["did"], [t["model"], f"DiD ({t['pp']})", t["smallest_cell"], t["communes_reached"]],
                      rows))
    rows = [[f"{t['reached'] if r['treated'] else t['not_reached']} · "
             f"{t['after'] if r['post'] else t['before']}", _ci(r), _fmt(r["n"], "int")]
            for _, r in report.did_cells.iterrows()]
    out.append(_table(t["did_cells"], [t["cell"], t["knowledge"], "n"], rows))
    rows = [[labels.variable(r["variable"], t["lang"]), _fmt(r["mean_not_reached"], "p"),
             _fmt(r["mean_reached"], "p"), _fmt(r["std_difference"], "p")]
            for _, r in report.did_balance.iterrows()]
    header = [t["variable"], t["not_reached"], t["reached"], t["std_difference"]]
    out.append(_table(t["balance"], header, rows))
    out.append("<ul class=\"note\">" + "".join(f"<li>{escape(c)}</li>" for c in t["caveats"]) + "</ul>")
    return "".join(out)


def _small_area_section(report, t, lang, names):
    rows = []
    for _, r in report.small_areas.sort_values(["district_code", "commune_key"]).iterrows():
        rows.append([r["commune_name"], names.get(r["district_code"], r["district_code"]),
                     _ci(r, "knowledge", "knowledge_low", "knowledge_high"),
                     _ci(r, "hotline", "hotline_low", "hotline_high") if "hotline" in r else "–",
                     _ci(r, "risk", "risk_low", "risk_high") if "risk" in r else "–",
                     _fmt(r["n"], "int"), labels.source(r["source"], lang)])
    header = [t["commune"], t["district"], t["knowledge"], labels.indicator("hotline_aware", lang),
              labels.indicator("at_risk", lang), "n", t["source"]]
    return (f"<h2>5. {escape(t['small_areas'])}</h2><p class=\"note\">{escape(t['small_areas_note'])}</p>"
            + _table(t["small_areas"], header, rows, numeric_from=2))


def _risk_section(report, t, names):
    if report.risk.empty:
        return f"<h2>6. {escape(t['risk'])}</h2><p class=\"note\">{escape(t['risk_none'])}</p>"
    s = report.risk.iloc[0]
    out = [f"<h2>6. {escape(t['risk'])}</h2>",
           f"<p class=\"note\">{escape(t['risk_note'].format(n=int(s['n_fit']), folds=int(s['folds'])))}</p>"]
    out.append(_table(t["risk_quality"], [t["measure"], t["value"]], [
        ["AUC", f"{s['auc']:.3f} (± {s['auc_sd']:.3f})"],
        [t["calibration_slope"], f"{s['calibration_slope']:.2f}"],
        [t["calibration_intercept"], f"{s['calibration_intercept']:.2f}"], ["Brier", f"{s['brier']:.3f}"]]))
    rows = [[int(r["bin"]), _fmt(r["predicted"]), _fmt(r["observed"]), _fmt(r["n"], "int")]
            for _, r in report.risk_calibration.iterrows()]
    out.append(_table(t["calibration"], [t["bin"], t["predicted"], t["observed"], "n"], rows))
    rows = [[names.get(r["district_code"], r["district_code"]), _fmt(r["population"], "int"),
             _fmt(r["expected"], "int"), _fmt(r["rate"]), _fmt(r["women_18_34_expected"], "int")]
            for _, r in report.at_risk.iterrows()]
    header = [t["district"], t["adults"], t["expected"], t["rate"], t["women_expected"]]
    out.append(_table(t["at_risk"], header, rows))
    return "".join(out)


def _outreach_section(report, t, lang):
    y = report.yearly
    rows = []
    for _, r in y.outreach_totals.iterrows():
        kinds = y.outreach[y.outreach["district_code"] == r["district_code"]]
        types = ", ".join(f"{labels.activity_type(k, lang)} {n}" for k, n in zip(
            kinds["activity_type"], kinds["activities"], strict=True)) or "–"
        rows.append([r["district_name"], _fmt(r["activities"], "int"), _fmt(r["people_reached"], "int"),
                     f"{r['communes_reached']}/{r['communes']}", types])
    caption = t["outreach"].format(year=report.year)
    return (f"<h2>7. {escape(caption)}</h2>"
            + _table(caption, [t["district"], t["activities"], t["people_reached"], t["communes_reached"],
                               t["types"]], rows))
