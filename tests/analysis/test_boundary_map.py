"""The boundary map: the loaded polygons coloured like the tile map, with its legend, titles and hatch."""

from __future__ import annotations

import re

import pandas as pd

from analysis.boundaries import match_places
from analysis.boundaries import read_geojson
from analysis.boundary_map import boundary_map
from analysis.boundary_map import can_draw
from analysis.population import communes
from analysis.report_map import SHARE_COLOURS
from analysis.report_map import TIER_COLOURS
from analysis.report_map import legend_entries
from tests.analysis.test_boundary_files import CAPS
from tests.analysis.test_boundary_files import _places
from tests.boundary_files import geojson

TIERS = {"highest": "Highest", "high": "High", "medium": "Medium", "lower": "Lower"}
LABELS = {"tiers": TIERS, "missing": "no figure", "value": lambda v: f"{100 * v:.0f}%",
          "model_only": "model estimate only"}
PLACE = re.compile(r'<path class="place" d="([^"]+)" fill="(#[0-9a-f]{6})"[^>]*>'
                   r'<title>([^<]*)</title></path>')


def _boundaries(**kwargs):
    return match_places(read_geojson(geojson(**kwargs), **CAPS), _places())


def test_each_commune_is_a_shape_coloured_by_its_tier_titled_and_hatched_when_model_only():
    places = communes()
    order = list(TIER_COLOURS)
    values = pd.DataFrame({"commune_key": places["commune_key"].astype(str),
                           "tier": [order[i % 4] for i in range(len(places))],
                           "source": ["model" if i % 5 == 0 else "survey" for i in range(len(places))],
                           }).iloc[:-1]
    boundaries = _boundaries()
    svg = boundary_map(boundaries, values, key="commune_key", value="tier", kind="tier", labels=LABELS,
                       title="Tiers & <x>")
    shapes = PLACE.findall(svg)
    assert len(shapes) == 85
    name_of = {str(k): f"{c} ({d})" for k, c, d in places[["commune_key", "commune_name", "district_name"]]
               .itertuples(index=False)}
    expected = dict(zip(values["commune_key"], values["tier"], strict=True))
    model = set(values.loc[values["source"] == "model", "commune_key"])
    # drawn in key order
    for key, (_, colour, title) in zip(sorted(boundaries.communes), shapes, strict=True):
        assert title.startswith(name_of[key] + ": ")
        if key in expected:
            assert colour == TIER_COLOURS[expected[key]] and TIERS[expected[key]] in title
            assert title.endswith("; model estimate only") == (key in model), title
        else:
            assert colour == "#ffffff" and title.endswith("no figure")
    assert svg.count('fill="url(#map-hatch)"') == len(model) + 1  # one per hatched commune and the legend
    # the same legend as the tile map, then the hatch
    for colour, text in legend_entries("tier", LABELS):
        assert f'fill="{colour}" stroke="#5b6470" stroke-width="0.6"/><text x="20"' in svg
        assert f">{text}</text>" in svg
    assert ">model estimate only</text>" in svg
    assert all(f">{name}</text>" in svg for name in places["district_name"].unique())  # district names
    assert svg.count('stroke-width="1.6"') == 9  # district outlines over the communes
    assert "Tiers &amp; &lt;x&gt;" in svg and "<x>" not in svg
    assert "http" not in svg and "style=" not in svg and "xlink" not in svg


def test_district_values_fill_district_shapes_or_every_commune_without_them():
    values = pd.DataFrame({"district_code": ["916", "917"], "estimate": [0.05, 0.95]})
    svg = boundary_map(_boundaries(), values, key="district_code", value="estimate", kind="share",
                       labels=LABELS, title="Know")
    shapes = PLACE.findall(svg)
    assert len(shapes) == 9
    colours = {title.split(":")[0]: colour for _, colour, title in shapes}
    assert colours["Ninh Kiều"] == SHARE_COLOURS[0] and colours["Ô Môn"] == SHARE_COLOURS[-1]
    assert sum(c == "#ffffff" for c in colours.values()) == 7
    only_communes = _boundaries(districts=False)
    svg = boundary_map(only_communes, values, key="district_code", value="estimate", kind="share",
                       labels=LABELS, title="Know")
    shapes = PLACE.findall(svg)
    assert len(shapes) == 85 and sum(c == SHARE_COLOURS[-1] for _, c, _ in shapes) == 7  # Ô Môn's 7 wards
    assert ">0–20%</text>" in svg and ">80–100%</text>" in svg


def test_commune_values_need_commune_shapes():
    districts_only = _boundaries(commune_limit=0)
    assert can_draw(districts_only, "district_code") and not can_draw(districts_only, "commune_key")
    assert not can_draw(None, "district_code")


def test_the_projection_keeps_squares_square_and_the_svg_small():
    svg = boundary_map(_boundaries(commune_limit=0), pd.DataFrame({"district_code": [], "estimate": []}),
                       key="district_code", value="estimate", kind="share", labels=LABELS, title="t")
    first = PLACE.findall(svg)[0][0]
    points = [tuple(map(float, p.split(","))) for p in first[1:-1].split("L")]
    width = max(x for x, _ in points) - min(x for x, _ in points)
    height = max(y for _, y in points) - min(y for _, y in points)
    # squares of 0.12° near 10°N: a degree of longitude is cos(10°) of a degree of latitude on the ground
    assert abs(width / height - 0.9848) < 0.01
    assert len(boundary_map(_boundaries(), pd.DataFrame({"commune_key": [], "tier": []}), key="commune_key",
                            value="tier", kind="tier", labels=LABELS, title="t")) < 40_000
