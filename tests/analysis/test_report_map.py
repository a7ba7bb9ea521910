"""The tile map: a tile per census commune, grouped by district, coloured by tier or share, with a legend."""

from __future__ import annotations

import re

import pandas as pd

from analysis.population import communes
from analysis.report_map import SHARE_COLOURS
from analysis.report_map import TIER_COLOURS
from analysis.report_map import tile_map

TIERS = {"highest": "Highest", "high": "High", "medium": "Medium", "lower": "Lower"}
LABELS = {"tiers": TIERS, "missing": "no figure", "value": lambda v: f"{100 * v:.0f}%"}
TILE = re.compile(r'<rect class="tile"[^>]* fill="(#[0-9a-f]{6})"[^>]*><title>([^<]*)</title></rect>')


def test_one_tile_per_commune_coloured_by_its_tier_with_a_legend():
    places = communes()
    order = list(TIER_COLOURS)
    values = pd.DataFrame({"commune_key": places["commune_key"].astype(str),
                           "tier": [order[i % 4] for i in range(len(places))]}).iloc[:-1]  # one without
    svg = tile_map(values, key="commune_key", value="tier", kind="tier", labels=LABELS, title="Tiers & <x>")
    tiles = TILE.findall(svg)
    assert len(tiles) == len(places) == 85
    expected = dict(zip(values["commune_key"], values["tier"], strict=True))
    for (colour, title), key, name in zip(tiles, places["commune_key"].astype(str), places["commune_name"],
                                          strict=True):
        assert title.startswith(name)
        if key in expected:
            assert colour == TIER_COLOURS[expected[key]] and title.endswith(TIERS[expected[key]])
        else:
            assert colour == "#ffffff" and title.endswith("no figure")
    assert all(f">{label}</text>" in svg for label in TIERS.values()) and ">no figure</text>" in svg
    assert "Tiers &amp; &lt;x&gt;" in svg and "<x>" not in svg  # text is escaped
    assert all(f">{name}</text>" in svg for name in places["district_name"].unique())
    assert "http" not in svg and "style=" not in svg  # inline in pages under their CSP


def test_a_district_value_colours_all_its_communes_on_a_share_scale():
    places = communes()
    values = pd.DataFrame({"district_code": ["916", "917"], "estimate": [0.05, 0.95]})
    svg = tile_map(values, key="district_code", value="estimate", kind="share", labels=LABELS, title="Know")
    tiles = TILE.findall(svg)
    colours = pd.Series([c for c, _ in tiles], index=places["district_code"].to_numpy())
    assert set(colours["916"]) == {SHARE_COLOURS[0]} and set(colours["917"]) == {SHARE_COLOURS[-1]}
    assert set(colours.drop(["916", "917"])) == {"#ffffff"}
    assert all(title.endswith("95%") for (_, title), code in zip(tiles, places["district_code"], strict=True)
               if code == "917")
    assert ">0–20%</text>" in svg and ">80–100%</text>" in svg
