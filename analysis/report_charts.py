"""The gap report's four charts as inline SVG, drawn with matplotlib's object API (no pyplot).

Figures are ``matplotlib.figure.Figure`` objects saved with the SVG backend, so nothing touches
pyplot's global state. The rc settings the SVG needs (text kept as text, a font with Vietnamese
glyphs, stable ids) are process-wide and read both when artists are made and when the file is
written, so each chart is drawn from start to end under one lock with ``rc_context``: a server may
render in several threads, one chart at a time. matplotlib is imported only when a chart is drawn.
"""

from __future__ import annotations

import functools
import io
import re
import textwrap
import threading
from html import escape

import numpy as np
import pandas as pd

__all__ = ["levels_chart", "groups_chart", "focus_chart", "heatmap_chart", "TIER_COLOURS"]

TIER_COLOURS = {"highest": "#b2182b", "high": "#ef8a62", "medium": "#f7d4bd", "lower": "#d1e5f0"}
_ROUND_COLOURS = ("#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
_LOCK = threading.Lock()
_RC = {"svg.fonttype": "none", "svg.hashsalt": "ferry-gap-report", "font.family": "sans-serif",
       "font.sans-serif": ["DejaVu Sans", "Arial", "Liberation Sans"], "font.size": 9}


def _charted(draw):
    """Run a chart function under the lock and the report's rc settings."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib

        with _LOCK, matplotlib.rc_context(_RC):
            return draw(*args, **kwargs)

    return wrapper


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure, label: str) -> str:
    """The figure as an ``<svg>`` element: no XML prolog, DOCTYPE or metadata (they hold URLs)."""
    buffer = io.StringIO()
    # no metadata: it would carry a date (the bytes would change every run) and RDF namespace URLs
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                   "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)


@_charted
def levels_chart(levels: pd.DataFrame, *, indicators, names, rounds, labels, title) -> str:
    """Levels with 95% CIs: one panel per indicator, districts down, one marker per round."""
    figure = _figure(9, 0.32 * (len(names) + 2) + 1.2)
    axes = figure.subplots(1, len(indicators), sharey=True, squeeze=False)[0]
    codes = list(names)
    for ax, indicator in zip(axes, indicators, strict=True):
        part = levels[levels["indicator"] == indicator]
        for i, r in enumerate(rounds):
            rows = part[(part["round"] == r)].set_index("district_code").reindex(codes)
            y = np.arange(len(codes)) + (i - (len(rounds) - 1) / 2) * 0.8 / max(len(rounds), 1)
            ok = rows["estimate"].notna().to_numpy()
            est, low, high = (rows[c].to_numpy(dtype="float64") for c in ("estimate", "ci_low", "ci_high"))
            ax.errorbar(100 * est[ok], y[ok], xerr=[100 * (est - low)[ok], 100 * (high - est)[ok]], fmt="o",
                        ms=3, lw=1, color=_ROUND_COLOURS[i % len(_ROUND_COLOURS)], label=str(r))
            for yy in y[~ok]:
                ax.text(1, yy, "–", va="center", fontsize=7, color="#666")
        ax.set_title(textwrap.fill(labels["indicator"](indicator), 24), fontsize=9)
        ax.set_xlim(0, 100)
        ax.set_xlabel("%")
        ax.grid(axis="x", color="#ddd", lw=0.5)
    axes[0].set_yticks(np.arange(len(codes)), [names[c] for c in codes])
    axes[0].invert_yaxis()
    axes[-1].legend(title=labels["round"], fontsize=7, title_fontsize=7, loc="lower right")
    return _svg(figure, title)


@_charted
def groups_chart(groups: pd.DataFrame, *, indicators, order, labels, title, column) -> str:
    """Change (or level) by target group with 95% CIs, one panel per indicator."""
    figure = _figure(9, 0.34 * (len(order) + 2) + 1.2)
    axes = figure.subplots(1, len(indicators), sharey=True, squeeze=False)[0]
    low_col, high_col = (f"{column}_low", f"{column}_high") if column == "change" else ("ci_low", "ci_high")
    for ax, indicator in zip(axes, indicators, strict=True):
        rows = groups[groups["indicator"] == indicator].set_index("group").reindex(order)
        est, low, high = (rows[c].to_numpy(dtype="float64") for c in (column, low_col, high_col))
        y = np.arange(len(order))
        ok = ~np.isnan(est)
        ax.errorbar(100 * est[ok], y[ok], xerr=[100 * (est - low)[ok], 100 * (high - est)[ok]], fmt="o", ms=3,
                    lw=1, color="#08519c")
        for yy in y[~ok]:
            ax.text(0.02, yy, "–", transform=ax.get_yaxis_transform(), va="center", fontsize=7, color="#666")
        if column == "change":
            ax.axvline(0, color="#444", lw=0.8)
        ax.set_title(textwrap.fill(labels["indicator"](indicator), 24), fontsize=9)
        ax.set_xlabel(labels["axis"])
        ax.grid(axis="x", color="#ddd", lw=0.5)
    axes[0].set_yticks(np.arange(len(order)), [labels["group"](g) for g in order])
    axes[0].invert_yaxis()
    return _svg(figure, title)


@_charted
def focus_chart(priorities: pd.DataFrame, *, top, labels, title) -> str:
    """The focus list: communes by P(top k), coloured by tier."""
    rows = priorities.head(top)
    figure = _figure(9, 0.3 * (len(rows) + 2) + 1.2)
    ax = figure.subplots()
    y = np.arange(len(rows))
    colours = [TIER_COLOURS.get(t, "#999") for t in rows["tier"]]
    ax.barh(y, 100 * rows["p_top_k"].to_numpy(dtype="float64"), color=colours, edgecolor="#555", lw=0.4)
    ax.set_yticks(y, list(rows["place_label"]))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(labels["axis"])
    for cut in (25, 75):
        ax.axvline(cut, color="#777", lw=0.6, ls="--")
    from matplotlib.patches import Patch

    seen = [t for t in TIER_COLOURS if t in set(rows["tier"])]
    ax.legend(handles=[Patch(color=TIER_COLOURS[t], label=labels["tier"](t)) for t in seen], fontsize=7,
              loc="lower right")
    return _svg(figure, title)


@_charted
def heatmap_chart(channels: pd.DataFrame, *, groups, channel_codes, labels, title) -> str:
    """Channel × target group heat map; withheld cells hatched and marked, never drawn as 0."""
    table = channels.pivot_table(index="group", columns="channel", values="estimate", aggfunc="first",
                                 dropna=False).reindex(index=groups, columns=channel_codes)
    withheld = channels.pivot_table(index="group", columns="channel", values="suppressed", aggfunc="first",
                                    dropna=False).reindex(index=groups, columns=channel_codes)
    values = table.to_numpy(dtype="float64")
    figure = _figure(10, 0.42 * len(groups) + 2.6)
    ax = figure.subplots()
    import matplotlib as mpl

    cmap = mpl.colormaps["Blues"].with_extremes(bad="#eeeeee")
    # a mesh of vector cells, not imshow: browsers smooth an embedded bitmap into blurred blobs
    rows, cols = values.shape
    image = ax.pcolormesh(np.arange(cols + 1) - 0.5, np.arange(rows + 1) - 0.5,
                          np.ma.masked_invalid(100 * values), cmap=cmap, edgecolors="white", linewidth=0.5,
                          vmin=0, vmax=max(5, np.nanmax(100 * values) if np.isfinite(values).any() else 5))
    ax.set_facecolor("#eeeeee")  # what a masked (withheld or empty) cell shows
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)  # first group on top, as in the table below
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isnan(values[i, j]):
                hidden = bool(withheld.iloc[i, j]) if pd.notna(withheld.iloc[i, j]) else False
                ax.add_patch(mpl.patches.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                                   edgecolor="#999", lw=0))
                ax.text(j, i, "–" if hidden else "", ha="center", va="center", fontsize=8, color="#333")
            else:
                dark = values[i, j] > 0.6 * np.nanmax(values)
                ax.text(j, i, f"{100 * values[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if dark else "#111")
    ax.set_xticks(np.arange(len(channel_codes)), [labels["channel"](c) for c in channel_codes], rotation=35,
                  ha="right", fontsize=7)
    ax.set_yticks(np.arange(len(groups)), [labels["group"](g) for g in groups], fontsize=7)
    bar = figure.colorbar(image, ax=ax, label="%", shrink=0.8)
    bar.solids.set_rasterized(False)  # matplotlib rasterises long colour bars: keep the SVG all vector
    return _svg(figure, title)
