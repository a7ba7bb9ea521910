"""Boundaries for the map: loading an admin's GeoJSON into the current set, reading it for the pages.

The file is checked by :mod:`analysis.boundaries` (caps, GeoJSON shape, finite WGS 84 positions) and its
codes matched against the stored unit list; a file naming any place Ferry does not know is refused whole,
so a map never silently drops a shape. Places the file does not cover are recorded and listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.boundaries import Boundaries
from analysis.boundaries import match_places
from analysis.boundaries import read_geojson
from analysis.errors import BoundariesInvalid
from forms.places import UNIT_LIST_2019
from server.models import BoundarySet
from server.models import Commune
from server.models import District
from server.models import UnitList
from server.models import audit
from server.models.errors import ServerError

#: Longest attribution text kept (a licence line and a source, not a licence's full text).
MAX_ATTRIBUTION = 500


@dataclass(frozen=True)
class LoadedMap:
    """The current boundaries and the attribution every map drawn from them shows."""

    boundaries: Boundaries
    attribution: str


def _unit_list(session: Session) -> UnitList:
    unit_list = session.scalar(select(UnitList).where(UnitList.code == UNIT_LIST_2019))
    if unit_list is None:
        raise ServerError("conflict", "No places are loaded yet: run `flask --app server init` first.")
    return unit_list


def _places(session: Session, unit_list: UnitList) -> pd.DataFrame:
    rows = session.execute(select(District.code, Commune.key, Commune.code).join(Commune.district)
                           .where(Commune.unit_list_id == unit_list.id)).all()
    return pd.DataFrame(rows, columns=["district_code", "commune_key", "commune_code"])


def load(session: Session, data: bytes, *, source_name: str, attribution: str, max_bytes: int,
         max_positions: int, user_id: int | None = None, cli: bool = False) -> BoundarySet:
    """Check a GeoJSON file and make it the current boundary set (replacing any other); audited.

    Raises ``ServerError("validation-failed")`` without an attribution, and the analysis package's
    ``BoundariesInvalid``/``BoundariesTooLarge`` for a file that is not usable (unknown codes included).
    """
    attribution = " ".join(attribution.split())
    if not attribution:
        raise ServerError("validation-failed", "Give the data's licence and attribution (ODbL data from "
                          "OpenStreetMap: \"© OpenStreetMap contributors\").",
                          errors=[{"pointer": "/attribution", "detail": "required"}])
    if len(attribution) > MAX_ATTRIBUTION:
        raise ServerError("validation-failed", f"Keep the attribution under {MAX_ATTRIBUTION} characters.",
                          errors=[{"pointer": "/attribution", "detail": "too long"}])
    unit_list = _unit_list(session)
    features = read_geojson(data, max_bytes=max_bytes, max_coordinates=max_positions)
    matched = match_places(features, _places(session, unit_list))
    if matched.unknown:
        raise BoundariesInvalid(
            f"{len(matched.unknown)} feature(s) name no place of the unit list {unit_list.code}, the first: "
            f"{matched.unknown[0]['detail']}",
            errors=[{"pointer": u["pointer"], "detail": u["detail"]} for u in matched.unknown[:20]])
    session.execute(delete(BoundarySet).where(BoundarySet.unit_list_id == unit_list.id))
    missing = {"districts": matched.missing_districts, "communes": matched.missing_communes}
    loaded = BoundarySet(unit_list_id=unit_list.id, attribution=attribution, source_name=source_name[:200],
                         loaded_by_user_id=user_id, shapes=matched.to_json(), missing=missing)
    session.add(loaded)
    session.flush()
    audit(session, "boundaries.load", "boundary_set", loaded.id, user_id=user_id, cli=cli,
          source=loaded.source_name, districts=len(matched.districts), communes=len(matched.communes),
          missing_districts=len(matched.missing_districts), missing_communes=len(matched.missing_communes))
    return loaded


def clear(session: Session, *, user_id: int | None = None, cli: bool = False) -> bool:
    """Remove the loaded boundaries (the pages go back to the tile map); False when there were none."""
    removed = session.execute(delete(BoundarySet)).rowcount
    if removed:
        audit(session, "boundaries.clear", "boundary_set", "all", user_id=user_id, cli=cli)
    return bool(removed)


def current_set(session: Session) -> BoundarySet | None:
    """The stored boundary set, if an admin loaded one."""
    return session.scalar(select(BoundarySet).order_by(BoundarySet.id.desc()).limit(1))


def current(session: Session) -> LoadedMap | None:
    """The boundaries to draw and their attribution; None when none are loaded (draw the tile map)."""
    stored = current_set(session)
    if stored is None:
        return None
    return LoadedMap(Boundaries.from_json(stored.shapes), stored.attribution)


def report_args(session: Session) -> dict:
    """``render_html``'s map arguments: the loaded boundaries and their attribution, or none."""
    loaded = current(session)
    return {} if loaded is None else {"boundaries": loaded.boundaries, "attribution": loaded.attribution}
