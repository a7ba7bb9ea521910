"""Outreach submissions of the communes' campaigns (the outreach form's answer documents).

A treated commune runs one campaign in its campaign year: ``activities_per_campaign`` activities
of its channel, each logged at commune level, dated between 1 March and two weeks before the
field period (the 30 July events between 20 and 31 July), so that ``analysis.tidy.exposure``
counts them for the survey round of the same year.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["campaign_documents"]

# people reached per activity (uniform integer range; loudspeakers: share of the commune)
_REACH = {"mobile_team": (80, 400), "commune_meeting": (30, 200), "legal_bookshelf": (20, 150),
          "day_30_july": (150, 800)}
_BASIS = {"mobile_team": "counted", "commune_meeting": "counted", "legal_bookshelf": "counted",
          "day_30_july": "estimated", "loudspeaker": "estimated"}
_HOURS = {"mobile_team": 2.0, "commune_meeting": 1.5, "loudspeaker": 0.5, "day_30_july": 3.0}
_ORGANISER = {"mobile_team": ("district_committee",),
              "commune_meeting": ("commune_committee", "womens_union"),
              "loudspeaker": ("commune_committee", "district_committee"),
              "legal_bookshelf": ("district_committee",), "day_30_july": ("womens_union", "youth_union")}
#: The outreach form's target group for each model group.
TARGET_OF_GROUP = {"rural": "rural_remote", "low_education": "low_education",
                   "women_18_30": "women_marriage_age"}


def _targets(params, channel: str, rural: bool) -> list[str]:
    groups = [TARGET_OF_GROUP[g] for g, extra in params.effect_extra.get(channel, {}).items() if extra > 0]
    if rural and "rural_remote" not in groups:
        groups.append("rural_remote")
    return ["general_public", *groups]


def campaign_documents(rng, params, frame: pd.DataFrame, realised) -> list[tuple[int, dt.date, dict]]:
    """``(year, date, answers)`` of every outreach activity, in date then commune order."""
    out = []
    for k in np.flatnonzero(realised.campaign_year > 0):
        year = int(realised.campaign_year[k])
        channel = str(realised.campaign_channel[k])
        place = frame.iloc[k]
        low, high = params.activities_per_campaign
        count = int(rng.integers(low, high + 1))
        if channel == "day_30_july":
            first, last = dt.date(year, 7, 20), dt.date(year, 7, 31)
        else:
            first = dt.date(year, 3, 1)
            last = dt.date(year, *params.field_start) - dt.timedelta(days=14)
        span = (last - first).days
        for _ in range(count):
            day = first + dt.timedelta(days=int(rng.integers(0, span + 1)))
            if channel == "loudspeaker":
                reached = int(place["population"] * rng.uniform(0.1, 0.4))
            else:
                reached = int(rng.integers(_REACH[channel][0], _REACH[channel][1] + 1))
            organisers = _ORGANISER[channel]
            doc = {
                "activity_date": day.isoformat(), "level": "commune",
                "district": str(place["district_code"]), "communes": [str(place["commune_key"])],
                "activity_type": channel,
                "target_groups": _targets(params, channel, place["area"] == "rural"),
                "people_reached": reached, "reach_basis": _BASIS[channel],
            }
            if channel in _HOURS:
                doc["duration_hours"] = _HOURS[channel]
            doc["organiser"] = organisers[int(rng.integers(0, len(organisers)))]
            out.append((year, day, doc))
    out.sort(key=lambda t: (t[1], t[2]["communes"][0], t[2]["activity_type"]))
    return out
