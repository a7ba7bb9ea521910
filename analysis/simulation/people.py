"""People of a sampled commune: profiles from the census structure, latent traits, answer documents.

Profiles: age band from the commune's census cells (its district's urban or rural age structure),
single year uniform within the band; sex with ``female_share``; education from
``P(education | area, age group)``; marital status from ``P(marital | sex, age group)``;
occupation from a fixed rule of thumb (students at 15–24, farming in rural communes, no work at
60+; it enters no model). Refusals get a profile too (the truth the interview did not record).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.simulation.model import AWARENESS_CHANNEL
from analysis.simulation.model import MARITAL
from analysis.simulation.model import categorical
from analysis.simulation.model import expit
from analysis.simulation.model import group_probs
from analysis.simulation.model import knowledge_mu
from analysis.simulation.model import risk_mu
from analysis.simulation.parameters import EDUCATION

__all__ = ["profiles", "answer_documents", "OCCUPATIONS"]

OCCUPATIONS = ("farming", "factory", "trade", "hired_labour", "public_sector", "student", "homemaker",
               "no_work", "other")
# rule-of-thumb occupation mix of working-age adults, by area (order of OCCUPATIONS)
RISK_ASKED = ("risk_broker", "risk_approached", "risk_papers", "risk_debt", "risk_lost_contact")
_WORK = {"urban": (0.03, 0.22, 0.26, 0.15, 0.09, 0.0, 0.10, 0.08, 0.07),
         "rural": (0.40, 0.12, 0.12, 0.20, 0.03, 0.0, 0.07, 0.04, 0.02)}


def profiles(rng, params, ages: pd.DataFrame, commune: np.ndarray) -> pd.DataFrame:
    """One profile per entry of ``commune`` (commune indices), drawn from the census cells."""
    n = len(commune)
    out = pd.DataFrame({"commune": commune})
    age = np.empty(n, dtype="int64")
    area = np.empty(n, dtype=object)
    by_commune = {k: g for k, g in ages.groupby("commune", sort=False)}
    order = np.argsort(commune, kind="stable")
    for k in np.unique(commune):
        rows = order[np.searchsorted(commune[order], k):np.searchsorted(commune[order], k, side="right")]
        cells = by_commune[k]
        p = cells["population"].to_numpy() / cells["population"].sum()
        pick = categorical(rng, np.tile(p, (len(rows), 1)))
        age[rows] = cells["age"].to_numpy()[pick]
        area[rows] = cells["area"].to_numpy()[pick]
    female = rng.random(n) < params.female_share
    education = np.empty(n, dtype=object)
    for a in ("urban", "rural"):
        rows = np.flatnonzero(area == a)
        if len(rows):
            pick = categorical(rng, group_probs(params.education_by_age[a], age[rows]))
            education[rows] = np.array(EDUCATION, dtype=object)[pick]
    marital = np.empty(n, dtype=object)
    for sex, mask in (("female", female), ("male", ~female)):
        rows = np.flatnonzero(mask)
        if len(rows):
            pick = categorical(rng, group_probs(params.marital_by_age[sex], age[rows]))
            marital[rows] = np.array(MARITAL, dtype=object)[pick]
    work = np.array([_WORK[a] for a in area], dtype="float64")
    student = np.select([age < 20, age < 25], [0.7, 0.2], 0.0)
    work *= (1 - student)[:, None]
    work[:, OCCUPATIONS.index("student")] = student
    old = age >= 60
    work[old] *= 0.5
    work[old, OCCUPATIONS.index("no_work")] += 0.5
    occupation = np.array(OCCUPATIONS, dtype=object)[categorical(rng, work / work.sum(axis=1, keepdims=True))]
    out["age"] = age
    out["area"] = area
    out["sex"] = np.where(female, "female", "male")
    out["education"] = education
    out["marital"] = marital
    out["occupation"] = occupation
    out["women_18_30"] = female & (age >= 18) & (age <= 30)
    out["age_60"] = age >= 60
    return out


def _wrong(rng, n, wrong: tuple, dk_share: float) -> np.ndarray:
    """A wrong answer: "dont_know" with ``dk_share``, else one of the wrong choices at random."""
    pick = np.array(wrong, dtype=object)[rng.integers(0, len(wrong), n)]
    return np.where(rng.random(n) < dk_share, "dont_know", pick)


def _ynd(rng, p, dk_share):
    yes = rng.random(len(p)) < p
    return np.where(yes, "yes", np.where(rng.random(len(p)) < dk_share, "dont_know", "no"))


def answer_documents(rng, params, realised, items, people: pd.DataFrame, round_: int) -> list[dict]:
    """Awareness answer documents of consenting people (one dict per row of ``people``).

    ``people`` has the profile columns plus ``district_code, commune_key, commune, campaign_now``.
    Draws are vectorised per item; the documents are assembled last.
    """
    n = len(people)
    if n == 0:
        return []
    rural = (people["area"] == "rural").to_numpy()
    education = people["education"].to_numpy()
    women = people["women_18_30"].to_numpy()
    theta = knowledge_mu(params, realised, district=people["district_code"].to_numpy(),
                         commune=people["commune"].to_numpy(), rural=rural, education=education,
                         women_18_30=women, age_60=people["age_60"].to_numpy(), round_=round_)
    theta = theta + rng.normal(0.0, params.person_sd, n)
    know = {}
    for name, _domain, _list, key, wrong, b in items.single:
        correct = rng.random(n) < expit(theta - b)
        know[name] = np.where(correct, key, _wrong(rng, n, wrong, params.dont_know_share))
    name, _domain, keys, diffs = items.report
    ticks = np.column_stack([rng.random(n) < expit(theta - b) for b in diffs])
    rho = risk_mu(params, rural=rural, education=education, women_18_30=women, round_=round_)
    rho = rho + rng.normal(0.0, params.risk_person_sd, n)
    c, dk = params.risk_threshold, params.risk_dont_know
    risk = {k: _ynd(rng, expit(rho - c[k]), dk) for k in
            ("plan_away", "plan_abroad", "risk_broker", "risk_approached", "risk_papers", "risk_debt",
             "risk_lost_contact")}
    campaign = people["campaign_now"].to_numpy()
    heard = rng.random(n) < expit(params.heard_intercept + params.heard_trend * (round_ - 2017)
                                  + params.heard_campaign * (campaign != ""))
    channels = list(params.channel_heard)
    p_channel = np.tile(np.array([params.channel_heard[ch] for ch in channels]), (n, 1))
    for activity, channel in AWARENESS_CHANNEL.items():
        if channel in channels:
            p_channel[campaign == activity, channels.index(channel)] = params.campaign_channel_heard
    tick_channel = rng.random((n, len(channels))) < p_channel
    main_draw = rng.random(n)
    docs = []
    rows = people[["sex", "age", "marital", "education", "occupation", "district_code", "commune_key"]]
    for i, person in enumerate(rows.itertuples(index=False)):
        plan = risk["plan_away"][i] == "yes" or risk["plan_abroad"][i] == "yes"
        knowledge = {k: str(v[i]) for k, v in know.items()}
        knowledge[name] = [k for k, t in zip(keys, ticks[i], strict=True) if t] or ["dont_know"]
        doc = {
            "round": str(round_), "consent": "yes",
            "profile": {"sex": person.sex, "age": int(person.age), "marital": person.marital,
                        "education": person.education, "occupation": person.occupation,
                        "district": person.district_code, "commune": person.commune_key,
                        "plan_away": str(risk["plan_away"][i]), "plan_abroad": str(risk["plan_abroad"][i])},
            "knowledge": knowledge,
            "risk": {k: str(risk[k][i]) for k in RISK_ASKED if plan or k != "risk_broker"},
        }
        if heard[i]:
            picked = [ch for ch, t in zip(channels, tick_channel[i], strict=True) if t] or ["family_friends"]
            doc["exposure"] = {"heard_any": "yes", "channels": picked,
                               "channel_main": picked[int(main_draw[i] * len(picked))]}
        else:
            doc["exposure"] = {"heard_any": "no"}
        docs.append(doc)
    return docs
