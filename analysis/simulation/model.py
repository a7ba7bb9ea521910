"""The population and answer model of a season: profiles, latent ability and risk, item probabilities.

Shared by the sample (people drawn one by one) and the truth (the same model integrated exactly),
so the two cannot drift apart.

Knowledge: ``theta = beta_0 + gamma (r - 2017) + gaps(profile) + d_district + u_commune
+ outreach(commune, r, profile) + eps``, ``eps ~ N(0, person_sd^2)``; item j is correct with
probability ``expit(theta - b_j)``. Risk: ``rho = rho_0 + tau (r - 2017) + gaps(profile) + eta``,
``eta ~ N(0, risk_person_sd^2)``; risk answer k is "yes" with ``expit(rho - c_k)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.population import band_ages
from analysis.population import census_cells
from analysis.population import communes as census_communes
from analysis.simulation.parameters import EDUCATION
from analysis.simulation.parameters import MODEL_GROUPS

__all__ = ["Places", "places", "expit", "categorical", "age_group_index", "Realised", "realise",
           "knowledge_mu", "risk_mu", "outreach_delta", "KnowledgeItems", "knowledge_items",
           "MARITAL", "LOW_EDUCATION", "AWARENESS_CHANNEL"]

MARITAL = ("single", "married", "widowed", "separated")
LOW_EDUCATION = ("none", "primary", "lower_secondary")
#: The awareness form's channel for each outreach activity type the model uses.
AWARENESS_CHANNEL = {"mobile_team": "mobile_team", "commune_meeting": "commune_meeting",
                     "loudspeaker": "loudspeaker", "legal_bookshelf": "legal_bookshelf",
                     "day_30_july": "event"}


def expit(x):
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def categorical(rng, probs: np.ndarray) -> np.ndarray:
    """One draw per row of an (n, K) probability matrix (inverse CDF: one uniform per row)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = np.inf  # rows add up to 1 up to rounding; never fall off the end
    u = rng.random(len(probs))
    return (u[:, None] >= cum).sum(axis=1)


def age_group_index(ages: np.ndarray, table: dict) -> np.ndarray:
    """Index of the age group (the table's sorted lower bounds) each age falls in."""
    bounds = np.array(sorted(table))
    return np.searchsorted(bounds, ages, side="right") - 1


def group_probs(table: dict, ages: np.ndarray) -> np.ndarray:
    """(n, K) probabilities of a ``{lower age: probabilities}`` table for each age."""
    rows = np.array([table[k] for k in sorted(table)], dtype="float64")
    rows = rows / rows.sum(axis=1, keepdims=True)
    return rows[age_group_index(ages, table)]


@dataclass(frozen=True)
class Places:
    """The census frame: communes with adult population, and single-year age cells per commune."""

    communes: pd.DataFrame  # census communes, in census order, with an integer ``index`` column
    ages: pd.DataFrame      # commune_key, commune index, area, age, population (15–79)


@lru_cache(maxsize=1)
def places() -> Places:
    """Census communes and their adults per single year of age (uniform within 5-year bands)."""
    frame = census_communes().reset_index(drop=True)
    frame["index"] = np.arange(len(frame))
    cells = census_cells()
    rows = []
    for cell in cells.itertuples(index=False):
        ages = band_ages(cell.age_band)
        for age in ages:
            rows.append((cell.commune_key, cell.area, age, cell.population / len(ages)))
    ages = pd.DataFrame(rows, columns=["commune_key", "area", "age", "population"])
    ages["commune"] = ages["commune_key"].map(frame.set_index("commune_key")["index"]).astype("int64")
    return Places(frame, ages)


@dataclass(frozen=True)
class Realised:
    """What the seed fixes about the population: random effects and the outreach campaigns."""

    district_effect: dict     # district code -> d_h
    commune_effect: np.ndarray  # per commune index -> u_i
    campaign_year: np.ndarray   # per commune index, 0 = never treated
    campaign_channel: np.ndarray  # per commune index, "" = never treated


def realise(rng, params, frame: pd.DataFrame) -> Realised:
    """Draw district and commune effects and the communes' outreach campaigns (year, channel)."""
    districts = sorted(frame["district_code"].unique())
    d_eff = dict(zip(districts, rng.normal(0.0, params.district_sd, len(districts)).tolist(), strict=True))
    u = rng.normal(0.0, params.commune_sd, len(frame))
    year = np.zeros(len(frame), dtype="int64")
    channel = np.full(len(frame), "", dtype=object)
    names = list(params.channel_shares)
    shares = np.array([params.channel_shares[c] for c in names], dtype="float64")
    shares = shares / shares.sum()
    for code in districts:
        members = rng.permutation(np.flatnonzero(frame["district_code"].to_numpy() == code))
        start = 0
        for y in sorted(params.treated_share, key=int):
            take = int(round(params.treated_share[y] * len(members)))
            chosen = members[start:start + take]
            start += take
            year[chosen] = int(y)
            channel[chosen] = [names[k] for k in categorical(rng, np.tile(shares, (len(chosen), 1)))]
    return Realised(d_eff, u, year, channel)


def groups_of(rural, education, women_18_30) -> dict:
    """Membership (bool arrays) of the model groups the effect modifiers refer to."""
    low = np.isin(education, LOW_EDUCATION)
    return dict(zip(MODEL_GROUPS, (np.asarray(rural, bool), low, np.asarray(women_18_30, bool)),
                    strict=True))


def outreach_delta(params, realised, commune, round_, member: dict) -> np.ndarray:
    """Ability gain from the commune's campaign (from its year on), by channel and group."""
    commune = np.asarray(commune)
    year = realised.campaign_year[commune]
    channel = realised.campaign_channel[commune]
    active = (year > 0) & (year <= round_)
    out = np.zeros(len(commune))
    for name, base in params.effect.items():
        hit = active & (channel == name)
        if not hit.any():
            continue
        gain = np.full(len(commune), float(base))
        for group, extra in params.effect_extra.get(name, {}).items():
            gain += float(extra) * member[group]
        out[hit] = gain[hit]
    return out


def knowledge_mu(params, realised, *, district, commune, rural, education, women_18_30, age_60,
                 round_, outreach=True) -> np.ndarray:
    """Mean ability (theta without eps) of people with these profiles in this round."""
    edu = np.array([params.knowledge_gap_education[e] for e in EDUCATION])
    ed_index = _edu_index(education)
    mu = (params.knowledge_intercept + params.knowledge_trend * (round_ - 2017)
          + params.knowledge_gap_rural * np.asarray(rural, float) + edu[ed_index]
          + params.knowledge_gap_women_18_30 * np.asarray(women_18_30, float)
          + params.knowledge_gap_age_60 * np.asarray(age_60, float)
          + np.array([realised.district_effect[d] for d in district]) + realised.commune_effect[commune])
    if outreach:
        mu = mu + outreach_delta(params, realised, commune, round_, groups_of(rural, education, women_18_30))
    return mu


def risk_mu(params, *, rural, education, women_18_30, round_) -> np.ndarray:
    """Mean risk propensity (rho without eta) of people with these profiles in this round."""
    edu = np.array([params.risk_gap_education[e] for e in EDUCATION])
    return (params.risk_intercept + params.risk_trend * (round_ - 2017)
            + params.risk_gap_rural * np.asarray(rural, float) + edu[_edu_index(education)]
            + params.risk_gap_women_18_30 * np.asarray(women_18_30, float))


_EDU = {e: i for i, e in enumerate(EDUCATION)}


def _edu_index(education) -> np.ndarray:
    return np.fromiter((_EDU[e] for e in education), dtype="int64", count=len(education))


@dataclass(frozen=True)
class KnowledgeItems:
    """The awareness form's knowledge items as the model answers them."""

    single: tuple       # (name, domain, list name, keyed choice, wrong choices, difficulty)
    report: tuple       # (name, domain, places keyed, difficulties)


@lru_cache(maxsize=4)
def _items_cached(form, difficulty_items: tuple) -> KnowledgeItems:
    difficulty = dict(difficulty_items)
    single, report = [], None
    questions = {q.name: q for q in form.walk()}
    for item in form.scoring:
        if not item.domain.startswith("knowledge"):
            continue
        q = questions[item.name]
        if item.method == "count":
            report = (item.name, item.domain, tuple(item.keys),
                      tuple(difficulty[f"report_{k}"] for k in item.keys))
            continue
        choices = [c.name for c in form.choices[q.choices]]
        wrong = tuple(c for c in choices if c not in item.keys and c != "dont_know")
        single.append((item.name, item.domain, q.choices, item.keys[0], wrong, difficulty[item.name]))
    return KnowledgeItems(tuple(single), report)


def knowledge_items(form, params) -> KnowledgeItems:
    """Knowledge items of ``form`` with the difficulties of ``params``."""
    return _items_cached(form, tuple(sorted(params.item_difficulty.items())))
