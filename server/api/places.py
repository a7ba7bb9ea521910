"""Reference data: districts with their communes."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from forms.places import UNIT_LIST_2019
from server.api.access import AUTHENTICATED
from server.api.access import access
from server.api.schemas import UnitListSchema
from server.extensions import db
from server.models import District
from server.models import UnitList
from server.problems import ApiError

bp = Blueprint("places", __name__, url_prefix="/api/v1")


@bp.get("/places")
@access(AUTHENTICATED)
def list_places():
    """Return the unit list of the 2017–2020 campaign: districts with their communes."""
    unit_list = db.session.scalar(
        select(UnitList).where(UnitList.code == UNIT_LIST_2019).options(
            selectinload(UnitList.districts).selectinload(District.communes))
    )
    if unit_list is None:
        raise ApiError("not-found", "No places loaded yet: run `flask --app server init`.")
    return UnitListSchema().dump(unit_list)
