"""Synthetic boundary files for tests: squares laid out on a grid near Cần Thơ, keyed by real GSO codes.

Ferry ships no boundaries (none under an open licence was found in the project's data), so tests draw
made-up ones: each district a rectangle in a 3×3 grid, its communes a grid of squares inside it. The
codes are the real ones of the places Ferry ships (``forms/reference/cantho``).
"""

from __future__ import annotations

import json
import math

from analysis.population import communes

WEST, NORTH, STEP = 105.45, 10.30, 0.12


def _square(x0: float, y0: float, size: float) -> list:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 - size], [x0, y0 - size], [x0, y0]]
    return [[[round(x, 6), round(y, 6)] for x, y in ring]]


def features(*, districts: bool = True, commune_limit: int | None = None) -> list[dict]:
    """District rectangles (``district_code``) and commune squares (``commune_code``, or ``commune_key``
    for the units without a code of their own); ``commune_limit`` communes per district at most."""
    places = communes()
    out = []
    for d, (code, group) in enumerate(places.groupby("district_code", sort=False)):
        x0, y0 = WEST + (d % 3) * STEP, NORTH - (d // 3) * STEP
        if districts:
            out.append({"type": "Feature",
                        "properties": {"district_code": code, "name": group.iloc[0]["district_name"]},
                        "geometry": {"type": "Polygon", "coordinates": _square(x0, y0, STEP)}})
        side = math.ceil(math.sqrt(len(group)))
        size = STEP / side
        for i, row in enumerate(group.head(commune_limit).itertuples(index=False)):
            key = str(row.commune_key)
            props = {"commune_code": key} if key.isdigit() else {"commune_key": key}
            out.append({"type": "Feature", "properties": props, "geometry": {
                "type": "MultiPolygon",
                "coordinates": [_square(x0 + (i % side) * size, y0 - (i // side) * size, size)]}})
    return out


def geojson(**kwargs) -> bytes:
    """A FeatureCollection of :func:`features` as UTF-8 bytes."""
    return json.dumps({"type": "FeatureCollection", "features": features(**kwargs)}).encode()
