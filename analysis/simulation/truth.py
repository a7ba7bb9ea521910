"""The ground truth of a season, computed exactly from the model (no Monte Carlo).

The population of a commune is its census adults (15–79) split by single year of age (uniform
within the 5-year bands), sex (``female_share``) and education (``P(education | area, age)``).
People of the same commune, area, age class (15–17, 18–30, 31–34, 35–59, 60–79), sex and
education share the model's mean ability and risk propensity, so the population is a few
thousand *types*. A type's expected score is the integral over the person effect, done by
Gauss–Hermite quadrature with 40 nodes (error far below 1e-8 for these smooth integrands);
population means are type means weighted by type population. These are the means of the
model's (super)population given the seed's realised commune effects and campaigns; a sampled
person is an independent draw from that same distribution, so the design-based estimators
target exactly these numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.simulation.model import LOW_EDUCATION
from analysis.simulation.model import expit
from analysis.simulation.model import group_probs
from analysis.simulation.model import knowledge_mu
from analysis.simulation.model import risk_mu
from analysis.simulation.parameters import EDUCATION
from analysis.simulation.parameters import MODEL_GROUPS

__all__ = ["types", "type_means", "tables", "AGE_CLASSES", "TRUTH_GROUPS"]

AGE_CLASSES = (15, 18, 31, 35, 60)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
SIGNS_AT_LEAST = 3

#: Target groups of the truth tables (those of ``analysis/groups.json`` that profiles define, plus
#: the model's women aged 18–30), as functions of the type table.
TRUTH_GROUPS = {
    "all": lambda t: np.ones(len(t), bool),
    "women_marriage_age": lambda t: ((t["sex"] == "female") & t["age_class"].isin([1, 2])).to_numpy(),
    "rural": lambda t: (t["area"] == "rural").to_numpy(),
    "low_education": lambda t: t["education"].isin(LOW_EDUCATION).to_numpy(),
    "young_people": lambda t: t["age_class"].isin([0, 1]).to_numpy(),
    "rural_women_marriage_age": lambda t: TRUTH_GROUPS["rural"](t) & TRUTH_GROUPS["women_marriage_age"](t),
    "rural_low_education": lambda t: TRUTH_GROUPS["rural"](t) & TRUTH_GROUPS["low_education"](t),
    "women_18_30": lambda t: t["women_18_30"].to_numpy(),
}
RISK_ITEMS = ("risk_approached", "risk_papers", "risk_debt", "risk_lost_contact")


def types(params, places) -> pd.DataFrame:
    """Population types: commune, district, area, age_class, sex, education, flags, population."""
    ages = places.ages
    parts = []
    for area in ("urban", "rural"):
        cell = ages[ages["area"] == area]
        if cell.empty:
            continue
        p_edu = group_probs(params.education_by_age[area], cell["age"].to_numpy())
        for sex, share in (("female", params.female_share), ("male", 1 - params.female_share)):
            for e, name in enumerate(EDUCATION):
                parts.append(pd.DataFrame({
                    "commune": cell["commune"].to_numpy(), "area": area, "sex": sex, "education": name,
                    "age_class": np.searchsorted(AGE_CLASSES, cell["age"].to_numpy(), side="right") - 1,
                    "population": cell["population"].to_numpy() * share * p_edu[:, e]}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.groupby(["commune", "area", "age_class", "sex", "education"], as_index=False, sort=True)[
        "population"].sum()
    frame = frame[frame["population"] > 0].reset_index(drop=True)
    communes = places.communes.set_index("index")
    frame["district_code"] = communes.loc[frame["commune"], "district_code"].to_numpy()
    frame["commune_key"] = communes.loc[frame["commune"], "commune_key"].to_numpy()
    frame["women_18_30"] = (frame["sex"] == "female").to_numpy() & (frame["age_class"] == 1).to_numpy()
    frame["age_60"] = (frame["age_class"] == 4).to_numpy()
    return frame


def _at_least(p: np.ndarray, k: int) -> np.ndarray:
    """P(at least k successes) of independent trials with probabilities p[..., j] (Poisson binomial)."""
    dist = np.zeros(p.shape[:-1] + (p.shape[-1] + 1,))
    dist[..., 0] = 1.0
    for j in range(p.shape[-1]):
        pj = p[..., j:j + 1]
        dist = dist * (1 - pj) + np.concatenate([np.zeros_like(pj), dist[..., :-1]], axis=-1) * pj
    return dist[..., k:].sum(axis=-1)


def _mu(params, realised, frame, round_, outreach):
    return knowledge_mu(params, realised, district=frame["district_code"].to_numpy(),
                        commune=frame["commune"].to_numpy(), rural=(frame["area"] == "rural").to_numpy(),
                        education=frame["education"].to_numpy(), women_18_30=frame["women_18_30"].to_numpy(),
                        age_60=frame["age_60"].to_numpy(), round_=round_, outreach=outreach)


def type_means(params, realised, items, frame: pd.DataFrame, round_: int, *, outreach=True) -> pd.DataFrame:
    """Expected scores of each type in a round (columns named as in ``analysis.tidy``)."""
    kw = dict(rural=(frame["area"] == "rural").to_numpy(), education=frame["education"].to_numpy(),
              women_18_30=frame["women_18_30"].to_numpy())
    mu = _mu(params, realised, frame, round_, outreach)
    theta = mu[:, None] + params.person_sd * _NODES[None, :]
    out = pd.DataFrame(index=frame.index)
    domains: dict[str, list] = {}
    signs = []
    for name, domain, _list, _key, _wrong, b in items.single:
        p = expit(theta - b)
        out[name] = p @ _WEIGHTS
        domains.setdefault(domain, []).append(out[name].to_numpy())
        if domain == "knowledge.signs":
            signs.append(p)
    name, domain, _keys, diffs = items.report
    out[name] = np.mean([expit(theta - b) @ _WEIGHTS for b in diffs], axis=0)
    domains.setdefault(domain, []).append(out[name].to_numpy())
    every = [v for values in domains.values() for v in values]
    out.insert(0, "knowledge", np.mean(every, axis=0))
    for domain, values in domains.items():
        out["knowledge_" + domain.split(".", 1)[1]] = np.mean(values, axis=0)
    out[f"aware_signs_{SIGNS_AT_LEAST}"] = _at_least(np.stack(signs, axis=-1), SIGNS_AT_LEAST) @ _WEIGHTS
    out["hotline_aware"] = out["hotline"]
    rho = risk_mu(params, round_=round_, **kw)[:, None] + params.risk_person_sd * _NODES[None, :]
    c = params.risk_threshold
    plan = 1 - (1 - expit(rho - c["plan_away"])) * (1 - expit(rho - c["plan_abroad"]))
    out["plans_migrate"] = plan @ _WEIGHTS
    out["risk_broker"] = (plan * expit(rho - c["risk_broker"])) @ _WEIGHTS  # skipped scores 0
    for k in RISK_ITEMS:
        out[k] = expit(rho - c[k]) @ _WEIGHTS
    year = realised.campaign_year[frame["commune"].to_numpy()]
    out["reached_any"] = expit(params.heard_intercept + params.heard_trend * (round_ - 2017)
                               + params.heard_campaign * (year == round_))
    return out


def _weighted(frame: pd.DataFrame, keys: list[str], measures: list[str]) -> pd.DataFrame:
    values = frame[measures].mul(frame["population"], axis=0)
    values[keys] = frame[keys]
    values["population"] = frame["population"]
    sums = values.groupby(keys, sort=True).sum()
    out = sums[measures].div(sums["population"], axis=0)
    out.insert(0, "population", sums["population"])
    return out.reset_index()


def tables(params, realised, items, places, rounds) -> dict[str, pd.DataFrame]:
    """Every truth table of a season (see ``analysis.simulation.Season``)."""
    frame = types(params, places)
    per_round, effects, effects_group, effects_commune = [], [], [], []
    for r in rounds:
        means = type_means(params, realised, items, frame, r)
        measures = list(means.columns)
        per_round.append(pd.concat([frame.assign(round=r), means], axis=1))
        year = realised.campaign_year[frame["commune"].to_numpy()]
        treated = (year > 0) & (year <= r)
        if treated.any():
            sub = frame[treated]
            base = type_means(params, realised, items, sub, r, outreach=False)
            gain = means.loc[sub.index, "knowledge"] - base["knowledge"]
            logit = _mu(params, realised, sub, r, True) - _mu(params, realised, sub, r, False)
            eff = sub.assign(round=r, channel=realised.campaign_channel[sub["commune"].to_numpy()],
                             effect=gain.to_numpy(), effect_logit=logit,
                             treated_knowledge=means.loc[sub.index, "knowledge"].to_numpy(),
                             untreated_knowledge=base["knowledge"].to_numpy())
            cols = ["effect", "effect_logit", "treated_knowledge", "untreated_knowledge"]
            effects_commune.append(_weighted(eff, ["round", "district_code", "commune_key"], cols))
            for scope in ("all", *MODEL_GROUPS):
                member = TRUTH_GROUPS[scope](eff)
                if member.any():
                    part = _weighted(eff[member], ["round", "channel"], cols).assign(group=scope)
                    (effects if scope == "all" else effects_group).append(part)
                    if scope == "all":
                        effects.append(_weighted(eff, ["round"], cols).assign(channel="any", group="all"))
    full = pd.concat(per_round, ignore_index=True)
    groups = []
    for name, rule in TRUTH_GROUPS.items():
        groups.append(_weighted(full[rule(full)], ["round"], measures).assign(group=name))
    group_table = pd.concat(groups, ignore_index=True)
    group_table = group_table[["round", "group", "population", *measures]]
    effect_cols = ["round", "channel", "group", "population", "effect", "effect_logit", "treated_knowledge",
                   "untreated_knowledge"]
    communes = places.communes
    realised_table = pd.DataFrame({
        "district_code": communes["district_code"], "commune_key": communes["commune_key"],
        "area": communes["area"], "adult_population": communes["adult_population"],
        "district_effect": communes["district_code"].map(realised.district_effect),
        "commune_effect": realised.commune_effect, "campaign_year": realised.campaign_year,
        "campaign_channel": realised.campaign_channel.astype(str)})
    item_rows = [{"item": n, "domain": d, "keyed": k, "parameter": "difficulty", "value": b}
                 for n, d, _l, k, _w, b in items.single]
    item_rows += [{"item": f"{items.report[0]}/{k}", "domain": items.report[1], "keyed": k,
                   "parameter": "difficulty", "value": b} for k, b in zip(items.report[2], items.report[3],
                                                                          strict=True)]
    item_rows += [{"item": k, "domain": "risk", "keyed": "yes", "parameter": "threshold", "value": v}
                  for k, v in params.risk_threshold.items()]
    return {
        "city": _weighted(full, ["round"], measures),
        "district": _weighted(full, ["round", "district_code"], measures),
        "commune": _weighted(full, ["round", "district_code", "commune_key"], measures),
        "group": group_table,
        "district_group": pd.concat(
            [_weighted(full[rule(full)], ["round", "district_code"], measures).assign(group=name)
             for name, rule in TRUTH_GROUPS.items() if name != "all"], ignore_index=True),
        "effects": _frame(effects, effect_cols),
        "effects_by_group": _frame(effects_group, effect_cols),
        "effects_by_commune": (
            pd.concat(effects_commune, ignore_index=True) if effects_commune
            else pd.DataFrame(columns=["round", "district_code", "commune_key", "population",
                                       *effect_cols[4:]])),
        "treated": realised_table[realised_table["campaign_year"].between(1, max(rounds))][
            ["district_code", "commune_key", "area", "campaign_year", "campaign_channel"]
        ].reset_index(drop=True),
        "communes": realised_table,
        "items": pd.DataFrame(item_rows),
    }


def _frame(parts, columns) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)[columns]
    return out.sort_values(["round", "channel", "group"], kind="stable").reset_index(drop=True)
