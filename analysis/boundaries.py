"""Boundaries of districts and communes read from GeoJSON, checked at the edge, matched to the places.

An admin loads them (Ferry ships none: see ``docs/operations.md``). The file is untrusted, so reading it
is bounded before anything else happens: a byte cap, JSON without ``NaN``/``Infinity`` and without nesting
deeper than GeoJSON needs, finite longitudes and latitudes, closed rings, and a cap on the number of
positions. Each feature names its place by a property holding a GSO code (or Ferry's commune key, for the
units that have no code of their own); :func:`match_places` resolves those codes against the unit list and
says which are unknown and which places have no boundary.

Polygons are kept as tuples: ``polygon = (outer_ring, *holes)``, ``ring = ((lon, lat), ...)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd

from analysis.errors import BoundariesInvalid
from analysis.errors import BoundariesTooLarge

__all__ = ["CODE_PROPERTIES", "Boundaries", "Feature", "match_places", "read_geojson", "simplify_ring"]

#: Properties a feature may name its place by, in the order they are looked for; ``ref:gso`` is an
#: OpenStreetMap-style reference tag for a GSO code, ``commune_key`` Ferry's own key.
CODE_PROPERTIES = ("commune_code", "commune_key", "district_code", "ref:gso", "code")
_LEVEL_OF = {"commune_code": "commune", "commune_key": "commune", "district_code": "district"}
_MAX_ERRORS = 20


@dataclass(frozen=True)
class Feature:
    """One feature of the file: the code it carries, the level its property implies, its polygons."""

    code: str
    level: str | None
    polygons: tuple
    pointer: str


@dataclass
class Boundaries:
    """Polygons by district code and by commune key, with what could not be matched."""

    districts: dict[str, tuple] = field(default_factory=dict)
    communes: dict[str, tuple] = field(default_factory=dict)
    unknown: list[dict] = field(default_factory=list)
    missing_districts: list[str] = field(default_factory=list)
    missing_communes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The polygons as plain lists (for storage)."""
        return {"districts": self.districts, "communes": self.communes}

    @classmethod
    def from_json(cls, stored: dict) -> Boundaries:
        """Boundaries from :meth:`to_json`'s form (lists back to tuples)."""
        def polygons(value):
            return tuple(tuple(tuple((float(x), float(y)) for x, y in ring) for ring in polygon)
                         for polygon in value)
        return cls(districts={k: polygons(v) for k, v in stored.get("districts", {}).items()},
                   communes={k: polygons(v) for k, v in stored.get("communes", {}).items()})


def _reject_constant(name):
    raise ValueError(f"{name} is not a number GeoJSON allows")


def _decode(data: bytes, max_bytes: int):
    if len(data) > max_bytes:
        raise BoundariesTooLarge(f"The file has {len(data):,} bytes; at most {max_bytes:,} are accepted.",
                                 size=len(data), limit=max_bytes)
    try:
        text = data.decode("utf-8-sig")
        # parse_constant refuses NaN and ±Infinity; a number too long for int() raises ValueError and
        # nesting deeper than the interpreter's stack raises RecursionError: all are the file's fault.
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise BoundariesInvalid("The file is not UTF-8 text.") from None
    except RecursionError:
        raise BoundariesInvalid("The file nests deeper than GeoJSON ever needs.") from None
    except ValueError as exc:
        raise BoundariesInvalid(f"The file is not valid JSON: {str(exc)[:200]}") from None


class _Reader:
    """Walks features, collecting problems (at most ``_MAX_ERRORS``) and counting positions."""

    def __init__(self, max_coordinates: int):
        self.max_coordinates = max_coordinates
        self.positions = 0
        self.errors: list[dict] = []

    def fail(self, pointer: str, detail: str) -> None:
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append({"pointer": pointer, "detail": detail})

    def position(self, value, ring_pointer: str, index: int):
        # the pointer is built only for a problem: a file may hold 200,000 positions
        if type(value) is not list or len(value) not in (2, 3) or not all(
                type(v) in (int, float) for v in value):
            self.fail(f"{ring_pointer}/{index}", "A position is [longitude, latitude] in numbers.")
            return None
        try:
            lon, lat = float(value[0]), float(value[1])
        except OverflowError:  # a whole number of hundreds of digits
            lon = lat = float("nan")
        # comparisons are False for NaN, so this also refuses NaN (and ±inf, out of range)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            self.fail(f"{ring_pointer}/{index}",
                      "Longitude must lie in [-180, 180] and latitude in [-90, 90] (WGS 84).")
            return None
        return lon, lat

    def ring(self, value, pointer: str):
        if not isinstance(value, list) or len(value) < 4:
            self.fail(pointer, "A linear ring has at least 4 positions.")
            return None
        self.positions += len(value)
        if self.positions > self.max_coordinates:
            raise BoundariesTooLarge(f"The file has more than {self.max_coordinates:,} positions; "
                                     "simplify it first (e.g. mapshaper -simplify).",
                                     limit=self.max_coordinates)
        points = []
        for i, item in enumerate(value):
            point = self.position(item, pointer, i)
            if point is None:
                return None
            points.append(point)
        if points[0] != points[-1]:
            self.fail(pointer, "A linear ring must end where it starts (RFC 7946 §3.1.6).")
            return None
        return tuple(points)

    def polygon(self, value, pointer: str):
        if not isinstance(value, list) or not value:
            self.fail(pointer, "A polygon is a list of linear rings.")
            return None
        rings = [self.ring(r, f"{pointer}/{i}") for i, r in enumerate(value)]
        return None if any(r is None for r in rings) else tuple(rings)

    def geometry(self, value, pointer: str):
        if not isinstance(value, dict):
            self.fail(pointer, "Each feature needs a Polygon or MultiPolygon geometry.")
            return None
        kind, coordinates = value.get("type"), value.get("coordinates")
        if kind == "Polygon":
            polygon = self.polygon(coordinates, f"{pointer}/coordinates")
            return None if polygon is None else (polygon,)
        if kind == "MultiPolygon":
            if not isinstance(coordinates, list) or not coordinates:
                self.fail(f"{pointer}/coordinates", "A MultiPolygon is a list of polygons.")
                return None
            polygons = [self.polygon(p, f"{pointer}/coordinates/{i}") for i, p in enumerate(coordinates)]
            return None if any(p is None for p in polygons) else tuple(polygons)
        self.fail(f"{pointer}/type", f"Only Polygon and MultiPolygon are drawn, not {str(kind)[:40]!r}.")
        return None

    def code(self, properties, pointer: str):
        if not isinstance(properties, dict):
            self.fail(pointer, "Each feature needs properties with a GSO code.")
            return None, None
        for name in CODE_PROPERTIES:
            value = properties.get(name)
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int) or (isinstance(value, str) and 0 < len(value.strip()) <= 60):
                return str(value).strip(), _LEVEL_OF.get(name)
            self.fail(f"{pointer}/{name}", "A code is a short text or a whole number.")
            return None, None
        self.fail(pointer, "No GSO code: give one of the properties " + ", ".join(CODE_PROPERTIES) + ".")
        return None, None


def read_geojson(data: bytes, *, max_bytes: int, max_coordinates: int) -> list[Feature]:
    """The features of a GeoJSON FeatureCollection of Polygons/MultiPolygons, each with its code.

    Raises :class:`BoundariesTooLarge` past either cap and :class:`BoundariesInvalid` with every problem
    found (up to 20, each with its JSON pointer) for anything else.
    """
    document = _decode(data, max_bytes)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise BoundariesInvalid("The file must be a GeoJSON FeatureCollection.")
    if not document["features"]:
        raise BoundariesInvalid("The FeatureCollection has no features.")
    reader = _Reader(max_coordinates)
    features = []
    for i, item in enumerate(document["features"]):
        pointer = f"/features/{i}"
        if not isinstance(item, dict) or item.get("type") != "Feature":
            reader.fail(pointer, "Each member of features must be a Feature.")
            continue
        code, level = reader.code(item.get("properties"), f"{pointer}/properties")
        polygons = reader.geometry(item.get("geometry"), f"{pointer}/geometry")
        if code is not None and polygons is not None:
            features.append(Feature(code=code, level=level, polygons=polygons, pointer=pointer))
    if reader.errors:
        raise BoundariesInvalid(f"{len(reader.errors)} problem(s) in the file, the first: "
                                f"{reader.errors[0]['detail']}", errors=reader.errors)
    return features


def match_places(features: list[Feature], places: pd.DataFrame, *,
                 tolerance: float | None = None) -> Boundaries:
    """Resolve each feature's code against ``places`` (one row per commune: ``district_code``,
    ``commune_key``, ``commune_code``); features of one place are merged.

    A code is a district's code, a commune's key, or a commune's GSO code that names one commune
    alone (31240 names two: use their keys, ``31240-town`` and ``31240-commune``). Unknown and
    ambiguous codes go to ``unknown``; places no feature names, to ``missing_*``. Rings are simplified
    (:func:`simplify_ring`) by ``tolerance`` degrees, by default 1/1000 of the file's extent: under half a
    pixel of the 400-unit-wide map, so what is stored is what can be seen.
    """
    districts = set(places["district_code"].astype(str))
    keys = set(places["commune_key"].astype(str))
    by_code: dict[str, list[str]] = {}
    for code, key in zip(places["commune_code"], places["commune_key"], strict=True):
        if isinstance(code, str) and code:
            by_code.setdefault(code, []).append(str(key))
    if tolerance is None:
        tolerance = _extent(features) / 1000
    out = Boundaries()
    for feature in features:
        level, target = _resolve(feature, districts, keys, by_code)
        if target is None:
            out.unknown.append({"pointer": feature.pointer, "code": feature.code, "detail": level})
            continue
        shapes = out.districts if level == "district" else out.communes
        simplified = tuple(tuple(simplify_ring(r, tolerance) for r in polygon)
                           for polygon in feature.polygons)
        shapes[target] = shapes.get(target, ()) + simplified
    out.missing_districts = sorted(districts - set(out.districts))
    out.missing_communes = sorted(keys - set(out.communes))
    return out


def _resolve(feature: Feature, districts, keys, by_code):
    code = feature.code
    if feature.level != "commune" and code in districts:
        return "district", code
    if feature.level != "district":
        if code in keys:
            return "commune", code
        named = by_code.get(code, [])
        if len(named) == 1:
            return "commune", named[0]
        if len(named) > 1:
            return f"The code {code} names {len(named)} communes; use their keys: {', '.join(named)}.", None
    return f"No {feature.level or 'district or commune'} has the code {code} in the unit list.", None


def _extent(features: list[Feature]) -> float:
    xs = [x for f in features for p in f.polygons for x, _ in p[0]]
    ys = [y for f in features for p in f.polygons for _, y in p[0]]
    return max(max(xs) - min(xs), max(ys) - min(ys)) if xs else 0.0


def simplify_ring(ring: tuple, tolerance: float) -> tuple:
    """Douglas–Peucker on a closed ring: the points within ``tolerance`` of the kept outline are dropped.

    Iterative (a stack, not recursion: rings may have many thousand points), each split's distances
    computed at once with numpy. The ring is split at its first point and the point farthest from it, so
    the two halves have distinct ends; a ring that would fall below 4 positions is returned as it was.
    """
    if tolerance <= 0 or len(ring) <= 4:
        return tuple(ring)
    points = np.asarray(ring, dtype=float)
    far = int(np.argmax(np.hypot(*(points - points[0]).T)))
    keep = np.zeros(len(points), dtype=bool)
    keep[[0, far, len(points) - 1]] = True
    stack = [(0, far), (far, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        start, direction = points[first], points[last] - points[first]
        inner = points[first + 1:last] - start
        length = float(direction @ direction)
        if length > 0:
            # distance to the segment, not the line: the foot of the perpendicular is clamped to its ends
            along = np.clip(inner @ direction / length, 0.0, 1.0)
            inner = inner - along[:, None] * direction
        distances = np.hypot(inner[:, 0], inner[:, 1])
        worst = int(np.argmax(distances))
        if distances[worst] > tolerance:
            index = first + 1 + worst
            keep[index] = True
            stack += [(first, index), (index, last)]
    if keep.sum() < 4:
        return tuple(ring)
    return tuple((x, y) for x, y in points[keep].tolist())
