"""Which districts a coordinator looks after: the console shows them those districts' people and data only."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from server.extensions import db
from server.models.places import District


class CoordinatorDistrict(db.Model):
    """One district a coordinator is responsible for (admins see every district without rows here)."""

    __tablename__ = "coordinator_districts"
    __table_args__ = (
        UniqueConstraint("user_id", "district_id", name="uq_coordinator_districts_user_district"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)

    district: Mapped[District] = relationship()
