"""A boundary map as SVG: districts or communes drawn from loaded boundaries, coloured by tier or share.

The same colours, ``<title>`` per place and legend as the tile map (:mod:`analysis.report_map`), drawn
from the polygons an admin loaded (:mod:`analysis.boundaries`) instead of tiles. The projection is
equirectangular with longitudes scaled by the cosine of the middle latitude (true to within a fraction of
a percent across a city), and each ring is simplified to half a pixel (Douglas–Peucker) so the page stays
small. Communes whose figure rests on the model alone are hatched and say so in their title. Nothing is
loaded from elsewhere: no tiles, no fonts, no address.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from analysis.boundaries import Boundaries
from analysis.boundaries import simplify_ring
from analysis.population import communes as census_communes
from analysis.report_map import fill_of
from analysis.report_map import is_missing
from analysis.report_map import legend_entries
from analysis.report_map import legend_svg
from analysis.report_map import shown_text

__all__ = ["boundary_map", "can_draw"]

# about the tile map's width, so its 11 px text reads alike at 360 px (scaled ×0.84) and on a desktop
_WIDTH, _PAD = 400.0, 4.0
_HATCH = "url(#map-hatch)"
#: Sources of a commune figure that rest on the model alone (no interviews there).
MODEL_ONLY = ("model", "none")


def can_draw(boundaries: Boundaries | None, key: str) -> bool:
    """Whether ``boundaries`` can draw values keyed by ``key`` (communes need commune polygons)."""
    if boundaries is None:
        return False
    if key == "commune_key":
        return bool(boundaries.communes)
    return bool(boundaries.districts or boundaries.communes)


def _projection(shapes):
    xs = [x for polygons in shapes for polygon in polygons for x, _ in polygon[0]]
    ys = [y for polygons in shapes for polygon in polygons for _, y in polygon[0]]
    west, east, south, north = min(xs), max(xs), min(ys), max(ys)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = (_WIDTH - 2 * _PAD) / max((east - west) * squeeze, north - south, 1e-9)
    height = (north - south) * scale + 2 * _PAD

    def project(ring):
        return tuple((_PAD + (x - west) * squeeze * scale, _PAD + (north - y) * scale) for x, y in ring)
    return project, height


def _path(polygons, project) -> str:
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points = simplify_ring(project(ring), 0.5)
            text = [f"{x:.1f},{y:.1f}" for x, y in points]
            text = [t for i, t in enumerate(text) if i == 0 or t != text[i - 1]]
            if len(text) >= 4:
                parts.append("M" + "L".join(text[:-1]) + "Z")
    return "".join(parts)


def _centre(polygons, project):
    """The area-weighted centroid of the outer rings (where a district's name goes).

    Each ring's own centroid is weighted by its absolute area: files do not all wind rings the same way.
    """
    total = cx = cy = 0.0
    for polygon in polygons:
        ring = project(polygon[0])
        area = sx = sy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            area += cross
            sx += (x0 + x1) * cross
            sy += (y0 + y1) * cross
        if abs(area) > 1e-9:
            weight = abs(area)
            total += weight
            cx += weight * sx / (3 * area)
            cy += weight * sy / (3 * area)
    if total == 0:
        return project(polygons[0][0])[0]
    return cx / total, cy / total


def boundary_map(boundaries: Boundaries, values: pd.DataFrame, *, key: str, value: str, kind: str,
                 labels: dict, title: str) -> str:
    """An SVG map of the loaded boundaries coloured by ``values[value]`` looked up by ``values[key]``.

    Arguments as :func:`analysis.report_map.tile_map`; ``labels["model_only"]`` (optional) names the
    hatch drawn over communes whose ``values["source"]`` is ``model`` or ``none``. District values fill
    district polygons where loaded, else every commune of the district.
    """
    places = census_communes()
    district_names = dict(zip(places["district_code"], places["district_name"], strict=False))
    district_of = dict(zip(places["commune_key"].astype(str), places["district_code"], strict=False))
    commune_names = dict(zip(places["commune_key"].astype(str), places["commune_name"], strict=False))
    lookup = dict(zip(values[key].astype(str), values[value], strict=False))
    hatched = set()
    if "model_only" in labels and "source" in values.columns and key == "commune_key":
        hatched = {str(k) for k, s in zip(values[key], values["source"], strict=True) if s in MODEL_ONLY}
    by_district = key == "district_code" and bool(boundaries.districts)
    drawn = boundaries.districts if by_district else boundaries.communes
    project, map_height = _projection([*boundaries.districts.values(), *boundaries.communes.values()])
    legend = legend_entries(kind, labels)
    if hatched:
        legend.append((_HATCH, labels["model_only"]))
    legend_y = map_height + 20
    height = legend_y + 20 * len(legend)
    out = [f'<svg class="map boundary-map" role="img" viewBox="0 0 {_WIDTH:.0f} {height:.0f}" width="100%" '
           f'aria-labelledby="map-title"><title id="map-title">{escape(title)}</title>',
           '<defs><pattern id="map-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)">'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#1b1f24" stroke-width="1.4"/></pattern></defs>']
    for place, polygons in sorted(drawn.items()):
        if by_district:
            found, name = lookup.get(place), district_names.get(place, place)
        else:
            district = district_of.get(place, "")
            found = lookup.get(place if key == "commune_key" else district)
            name = f"{commune_names.get(place, place)} ({district_names.get(district, district)})"
        said = shown_text(found, kind, labels)
        if place in hatched and not is_missing(found):
            said = f"{said}; {labels['model_only']}"
        path = _path(polygons, project)
        out.append(f'<path class="place" d="{path}" fill="{fill_of(found, kind)}" fill-rule="evenodd" '
                   f'stroke="#5b6470" stroke-width="0.6"><title>{escape(name)}: {escape(str(said))}'
                   f'</title></path>')
        if place in hatched:
            out.append(f'<path d="{path}" fill="{_HATCH}" fill-rule="evenodd" stroke="none" '
                       f'aria-hidden="true"/>')
    if not by_district and boundaries.districts:
        # district outlines over the communes, so the strata read at a glance
        for polygons in boundaries.districts.values():
            out.append(f'<path d="{_path(polygons, project)}" fill="none" stroke="#1b1f24" '
                       f'stroke-width="1.6" aria-hidden="true"/>')
    out += _district_names(boundaries, project, district_names, district_of)
    out.append(legend_svg(legend, legend_y))
    out.append("</svg>")
    return "".join(out)


def _district_names(boundaries: Boundaries, project, names, district_of) -> list[str]:
    """Each district's name at its centre, with a white halo so it reads over any fill."""
    shapes = dict(boundaries.districts)
    for key, polygons in boundaries.communes.items():
        district = district_of.get(key)
        if district is not None and district not in boundaries.districts:
            shapes[district] = shapes.get(district, ()) + polygons
    out = []
    for code, polygons in sorted(shapes.items()):
        x, y = _centre(polygons, project)
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="middle" fill="#1b1f24" '
                   f'stroke="#ffffff" stroke-width="3" paint-order="stroke" aria-hidden="true">'
                   f'{escape(names.get(code, code))}</text>')
    return out

