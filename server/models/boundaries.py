"""Boundaries an admin loaded for the map: one set per unit list, with the licence it came under."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from server.extensions import db
from server.models.types import JsonDocument
from server.models.types import UTCDateTime
from server.models.types import utcnow


class BoundarySet(db.Model):
    """The district and commune polygons of one unit list (simplified at load), and their attribution.

    Loading again replaces the set: a map shows one source at a time, and its licence with it.
    """

    __tablename__ = "boundary_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_list_id: Mapped[int] = mapped_column(ForeignKey("unit_lists.id"), unique=True)
    # Shown under every map drawn from these polygons (ODbL data needs "© OpenStreetMap contributors").
    attribution: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    loaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # {"districts": {code: polygons}, "communes": {key: polygons}}; polygons as in analysis.boundaries
    shapes: Mapped[dict] = mapped_column(JsonDocument)
    # what the file did not cover: {"districts": [codes], "communes": [keys]}
    missing: Mapped[dict] = mapped_column(JsonDocument, default=dict)
