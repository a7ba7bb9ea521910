"""Loading the reference data that ships with Ferry: the unit list and the survey rounds."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms import places
from server.models import Commune
from server.models import District
from server.models import DistrictAgePopulation
from server.models import Round
from server.models import UnitList
from server.sync import buckets


def load_places(session: Session) -> UnitList:
    """Load the 2019 unit list (9 districts, 85 communes, age bands) once; return it.

    Loading is idempotent: a unit list already present is left exactly as it is. Its districts and
    communes are (re)published to the ``places`` bucket, which re-sends nothing that is unchanged.
    """
    existing = session.scalar(select(UnitList).where(UnitList.code == places.UNIT_LIST_2019))
    if existing is not None:
        buckets.publish_places(session, existing)
        return existing
    unit_list = UnitList(
        code=places.UNIT_LIST_2019,
        name="Cần Thơ, 2019 census structure (campaign 2017–2020)",
        valid_from="2019-04-01",
        valid_to="2025-06-30",
    )
    session.add(unit_list)
    session.flush()
    by_code: dict[str, District] = {}
    for d in places.read_districts():
        district = District(unit_list=unit_list, code=d.code, name=d.name, kind=d.kind)
        by_code[d.code] = district
        for c in d.communes:
            district.communes.append(Commune(
                unit_list_id=unit_list.id, key=c.key, code=c.code, name=c.name, kind=c.kind,
                population_2019=c.population, urban_population_2019=c.urban_population,
                rural_population_2019=c.rural_population,
            ))
        session.add(district)
    session.flush()
    for band in places.read_age_bands():
        session.add(DistrictAgePopulation(
            district_id=by_code[band.district_code].id, age_band=band.age_band,
            urban=band.urban, rural=band.rural, total=band.total,
        ))
    session.flush()
    buckets.publish_places(session, unit_list)
    return unit_list


def ensure_rounds(session: Session, years: list[int]) -> list[Round]:
    """Create the survey rounds for ``years`` that do not exist yet; the earliest is the baseline."""
    have = {r.year: r for r in session.scalars(select(Round))}
    baseline = min([*have, *years]) if (have or years) else None
    for year in sorted(set(years) - set(have)):
        kind = "baseline" if year == baseline else "follow-up"
        name = f"{'Baseline' if kind == 'baseline' else 'Follow-up'} {year}"
        have[year] = Round(year=year, kind=kind, name=name)
        session.add(have[year])
    session.flush()
    return [have[y] for y in sorted(have)]
