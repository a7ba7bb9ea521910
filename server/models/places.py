"""Places: versioned unit lists of districts and communes, and census population by age."""

from __future__ import annotations

from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from server.extensions import db


class UnitList(db.Model):
    """One version of the administrative map (the 2019 census list; later, the 2025 reform)."""

    __tablename__ = "unit_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Codes were reused with other names across the 2025 reform: places are keyed by (list, code).
    valid_from: Mapped[str | None] = mapped_column(String(10))
    valid_to: Mapped[str | None] = mapped_column(String(10))

    districts: Mapped[list[District]] = relationship(back_populates="unit_list")


class District(db.Model):
    """An urban district (quận) or rural district (huyện): the survey's stratum."""

    __tablename__ = "districts"
    __table_args__ = (
        UniqueConstraint("unit_list_id", "code"),
        CheckConstraint("kind IN ('urban', 'rural')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_list_id: Mapped[int] = mapped_column(ForeignKey("unit_lists.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))

    unit_list: Mapped[UnitList] = relationship(back_populates="districts")
    communes: Mapped[list[Commune]] = relationship(
        back_populates="district", order_by="Commune.id"
    )


class Commune(db.Model):
    """A ward, commune or town (phường/xã/thị trấn): the survey's primary sampling unit."""

    __tablename__ = "communes"
    __table_args__ = (UniqueConstraint("unit_list_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_list_id: Mapped[int] = mapped_column(ForeignKey("unit_lists.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    # The GSO code where the unit still existed in 2025, else a stable slug (see forms.places).
    key: Mapped[str] = mapped_column(String(60))
    code: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    population_2019: Mapped[int]
    urban_population_2019: Mapped[int]
    rural_population_2019: Mapped[int]

    district: Mapped[District] = relationship(back_populates="communes")


class DistrictAgePopulation(db.Model):
    """2019 census population of a district in one 5-year age band (both sexes)."""

    __tablename__ = "district_age_population"
    __table_args__ = (UniqueConstraint("district_id", "age_band"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    age_band: Mapped[str] = mapped_column(String(10))
    urban: Mapped[int]
    rural: Mapped[int]
    total: Mapped[int]
