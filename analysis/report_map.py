"""A tile map as SVG: one tile per commune, grouped by district, coloured by tier or by a share.

It needs no boundaries, so it can be drawn for any place list: each district is a block of equal tiles
(its communes in census order) with its name above, the blocks in census order three to a row. Every
tile carries a ``<title>`` (the commune, its district and its value) for a pointer or a screen reader,
and the legend says what each colour means. Colours are SVG presentation attributes, not ``style``, so
the pages' Content-Security-Policy (``style-src 'self'``) lets them through.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from analysis.population import communes as census_communes

__all__ = ["TIER_COLOURS", "fill_of", "legend_entries", "legend_svg", "shown_text", "tile_map"]

#: Tier → fill, the pages' tier colours (highest red to lower grey).
TIER_COLOURS = {"highest": "#b3261e", "high": "#e07b00", "medium": "#d8b700", "lower": "#9aa3ad"}
#: Five steps of a sequential scale (light to dark blue) for shares in [0, 1].
SHARE_COLOURS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
_MISSING = "#ffffff"
_TILE, _GAP, _COLUMNS, _BLOCKS = 18, 3, 5, 3
_BLOCK_W = _COLUMNS * (_TILE + _GAP) + 24
_HEAD = 18


def _share_colour(value) -> str:
    if value is None or pd.isna(value):
        return _MISSING
    return SHARE_COLOURS[min(int(float(value) * len(SHARE_COLOURS)), len(SHARE_COLOURS) - 1)]


def _legend_share(labels):
    steps = len(SHARE_COLOURS)
    scale = [(colour, f"{100 * i // steps}–{100 * (i + 1) // steps}%")
             for i, colour in enumerate(SHARE_COLOURS)]
    return [*scale, (_MISSING, labels["missing"])]


def legend_entries(kind: str, labels: dict) -> list[tuple[str, str]]:
    """The legend of a map of ``kind`` (``"tier"`` or ``"share"``): (colour, text) pairs, top to bottom."""
    if kind == "tier":
        return [*((TIER_COLOURS[t], labels["tiers"][t]) for t in TIER_COLOURS), (_MISSING, labels["missing"])]
    return _legend_share(labels)


def is_missing(found) -> bool:
    """Whether a looked-up value is absent (no row, or NaN)."""
    return found is None or (not isinstance(found, str) and pd.isna(found))


def fill_of(found, kind: str) -> str:
    """The fill of a place whose value is ``found`` (None when it has none)."""
    return TIER_COLOURS.get(found, _MISSING) if kind == "tier" else _share_colour(found)


def shown_text(found, kind: str, labels: dict) -> str:
    """The value as a place's ``<title>`` says it."""
    if is_missing(found):
        return labels["missing"]
    return labels["tiers"].get(found, found) if kind == "tier" else labels["value"](found)


def legend_svg(legend, top: float) -> str:
    """The legend's swatches and texts from ``top`` down, 20 px a line (a swatch fill may be a pattern)."""
    out = []
    for i, (colour, text) in enumerate(legend):
        ly = top + 20 * i
        out.append(f'<rect x="0" y="{ly - 11}" width="14" height="14" fill="{colour}" stroke="#5b6470" '
                   f'stroke-width="0.6"/>'
                   f'<text x="20" y="{ly}" font-size="11" fill="#1b1f24">{escape(text)}</text>')
    return "".join(out)


def tile_map(values: pd.DataFrame, *, key: str, value: str, kind: str, labels: dict, title: str) -> str:
    """An SVG tile map of the census communes coloured by ``values[value]`` looked up by ``values[key]``.

    ``key`` is ``commune_key`` (one value per commune) or ``district_code`` (every commune of a district
    takes its district's value). ``kind`` is ``"tier"`` (values are tier codes) or ``"share"`` (in [0, 1]).
    ``labels``: ``{"tiers": {code: label}, "missing": "...", "value": function(value) -> text}``.
    """
    places = census_communes()
    lookup = dict(zip(values[key].astype(str), values[value], strict=False))
    blocks = list(places.groupby("district_code", sort=False))
    rows_of_blocks = [blocks[i:i + _BLOCKS] for i in range(0, len(blocks), _BLOCKS)]
    heights = [_HEAD + ((max(len(g) for _, g in row) + _COLUMNS - 1) // _COLUMNS) * (_TILE + _GAP) + 12
               for row in rows_of_blocks]
    legend = legend_entries(kind, labels)
    width = _BLOCKS * _BLOCK_W
    legend_y = sum(heights) + 16
    height = legend_y + 20 * len(legend) + 4
    # inline in an HTML page, so no xmlns (and no address of anywhere else in the page)
    out = [f'<svg class="map" role="img" viewBox="0 0 {width} {height}" width="100%" '
           f'aria-labelledby="map-title"><title id="map-title">{escape(title)}</title>']
    y = 0  # the title is the figure's accessible name; its caption says the rest (long text would clip)
    for row, row_height in zip(rows_of_blocks, heights, strict=True):
        for b, (_, group) in enumerate(row):
            x0 = b * _BLOCK_W
            name = group["district_name"].iloc[0]
            out.append(f'<text x="{x0}" y="{y + 12}" font-size="11" fill="#1b1f24">{escape(name)}</text>')
            for i, place in enumerate(group.itertuples(index=False)):
                found = lookup.get(str(getattr(place, key)))
                colour, shown = fill_of(found, kind), shown_text(found, kind, labels)
                tx = x0 + (i % _COLUMNS) * (_TILE + _GAP)
                ty = y + _HEAD + (i // _COLUMNS) * (_TILE + _GAP)
                out.append(f'<rect class="tile" x="{tx}" y="{ty}" width="{_TILE}" height="{_TILE}" rx="2" '
                           f'fill="{colour}" stroke="#5b6470" stroke-width="0.6"><title>'
                           f'{escape(place.commune_name)} ({escape(name)}): {escape(str(shown))}'
                           f'</title></rect>')
        y += row_height
    out.append(legend_svg(legend, legend_y))
    out.append("</svg>")
    return "".join(out)
