"""Benchmark: loading and drawing a boundary file at the size the caps allow.

Figures: seconds to check a GeoJSON file (:func:`analysis.boundaries.read_geojson`), seconds to match
its codes and simplify it (:func:`analysis.boundaries.match_places`), the bytes stored, and the seconds
and bytes of one boundary map (:func:`analysis.boundary_map.boundary_map`), medians of 3 runs. The
target is 10 s for checking plus matching (an admin's upload waits for it); the ratio is the total
over 10 s. The file: the synthetic city of ``tests/boundary_files.py`` (9 districts, 85 communes)
with every edge of every square made a 500-point wiggle, about 188,000 positions in 4.4 MB, near the
200,000-position cap; the wiggle is larger than the simplification tolerance, so little is dropped
(a worst case for Douglas–Peucker).

Run: python tests/bench/bench_boundaries.py
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from pathlib import Path

RUNS = 3
TARGET = 10.0


def _bench(name, value, unit, target=None, ratio=None, baseline=None):
    print("BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": unit, "target": target,
                                 "ratio": None if ratio is None else round(ratio, 3), "baseline": baseline}))


def _wiggled(features: list[dict]) -> list[dict]:
    out = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        wiggled = []
        for polygon in polygons:
            ring, points = polygon[0], []
            for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
                for i in range(500):
                    t, w = i / 500, 0.0004 * math.sin(40 * math.pi * i / 500)
                    points.append([round(x0 + (x1 - x0) * t + w * (y1 - y0) / 0.12, 6),
                                   round(y0 + (y1 - y0) * t + w * (x1 - x0) / 0.12, 6)])
            points.append(points[0])
            wiggled.append([points])
        out.append({**feature, "geometry": {"type": "MultiPolygon", "coordinates": wiggled}})
    return out


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import pandas as pd

    from analysis.boundaries import match_places
    from analysis.boundaries import read_geojson
    from analysis.boundary_map import boundary_map
    from forms.places import read_districts
    from tests.boundary_files import features

    data = json.dumps({"type": "FeatureCollection", "features": _wiggled(features())}).encode()
    places = pd.DataFrame([{"district_code": d.code, "commune_key": c.key, "commune_code": c.code}
                           for d in read_districts() for c in d.communes])
    labels = {"tiers": {t: t for t in ("highest", "high", "medium", "lower")}, "missing": "-", "value": str}
    values = pd.DataFrame({"commune_key": [], "tier": []})
    timings = {"read": [], "match": [], "draw": []}
    for _ in range(RUNS):
        start = time.perf_counter()
        read = read_geojson(data, max_bytes=5 * 1024 * 1024, max_coordinates=200_000)
        timings["read"].append(time.perf_counter() - start)
        start = time.perf_counter()
        matched = match_places(read, places)
        timings["match"].append(time.perf_counter() - start)
        start = time.perf_counter()
        svg = boundary_map(matched, values, key="commune_key", value="tier", kind="tier", labels=labels,
                           title="t")
        timings["draw"].append(time.perf_counter() - start)
    positions = sum(len(ring) for f in read for polygon in f.polygons for ring in polygon)
    stored = len(json.dumps(matched.to_json()))
    read_s, match_s, draw_s = (statistics.median(timings[k]) for k in ("read", "match", "draw"))
    print(f"file {len(data):,} bytes, {positions:,} positions; check {read_s:.2f} s, match and simplify "
          f"{match_s:.2f} s; stored {stored:,} bytes; map {len(svg):,} bytes drawn in {draw_s:.3f} s")
    _bench("boundaries_check_s", read_s, "s")
    _bench("boundaries_match_simplify_s", match_s, "s")
    _bench("boundaries_load_s", read_s + match_s, "s", TARGET, (read_s + match_s) / TARGET)
    _bench("boundaries_stored_bytes", stored, "bytes")
    _bench("boundary_map_svg_bytes", len(svg), "bytes")
    _bench("boundary_map_draw_s", draw_s, "s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
