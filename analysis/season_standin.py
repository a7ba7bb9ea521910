"""Stand-in for ``analysis.season.generate`` until the season branch lands (deleted then)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

from forms.places import read_districts


@dataclass(frozen=True)
class Interview:
    sub_id: str
    form_id: str
    version: str
    round: int
    district_code: str
    commune_key: str
    day: dt.date
    answers: dict


@dataclass(frozen=True)
class Activity:
    sub_id: str
    form_id: str
    version: str
    round: int
    day: dt.date
    answers: dict


@dataclass(frozen=True)
class Season:
    interviews: list
    activities: list


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(seed: int = 2017, interviews: int = 8000, rounds=(2017, 2018, 2019, 2020)) -> Season:
    rng = random.Random(seed)
    communes = [c for d in read_districts() for c in d.communes]
    made = []
    for i in range(interviews):
        year = rounds[i * len(rounds) // interviews]
        commune = rng.choice(communes)
        made.append(Interview(_uuid(rng), "awareness", "2017.1", year,
                              commune.district_code, commune.key, dt.date(year, 6, 1 + rng.randrange(28)),
                              {"round": str(year), "consent": "no"}))
    activities = []
    for year in rounds:
        for _ in range(max(1, interviews // 200)):
            day = dt.date(year, 1 + rng.randrange(12), 1 + rng.randrange(28))
            activities.append(Activity(_uuid(rng), "outreach", "2017.1",
                                       year, day, {"activity_date": day.isoformat(), "level": "city",
                                                   "activity_type": "radio_programme",
                                                   "target_groups": ["youth"],
                                                   "people_reached": rng.randrange(50, 5000),
                                                   "reach_basis": "estimated", "organiser": "radio_tv"}))
    return Season(made, activities)
