"""Simulated survey rounds with known truth: answer documents of the awareness form.

The sample follows the design the weights assume: per district ``n_h`` communes drawn with
probability proportional to adult population (systematic PPS), ``m`` respondents per
commune. Each respondent's answers come from a latent model whose parameters the tests
control (so they know the truth they must recover).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.population import communes as census_communes

SIGNS = ("sign_job_abroad", "sign_marriage_broker", "sign_keep_papers", "sign_debt")
SIGN_KEYS = {"sign_keep_papers": "false"}
FORMS = ("form_forced_labour", "form_marriage", "form_cross_border", "form_organ", "form_adoption",
         "form_legal_export")
FORM_KEYS = {"form_legal_export": "false"}
EDUCATION = ("none", "primary", "lower_secondary", "upper_secondary", "vocational", "university")
CHANNELS = ("newspaper", "city_radio_tv", "web_portal", "loudspeaker", "mobile_team", "commune_meeting",
            "event", "social_media", "legal_bookshelf", "family_friends")


def expit(x):
    return 1 / (1 + np.exp(-x))


def pps_sample(rng, places, n_per_district):
    """Systematic PPS draw of communes within each district (by adult population)."""
    chosen = []
    for _, group in places.groupby("district_code", sort=True):
        size = group["adult_population"].to_numpy()
        n = min(n_per_district, len(group))
        cum = np.cumsum(size) / size.sum()
        start = rng.uniform(0, 1 / n)
        picks = np.searchsorted(cum, start + np.arange(n) / n)
        chosen.extend(group.iloc[np.unique(picks)]["commune_key"].tolist())
    return places[places["commune_key"].isin(chosen)]


def _tf(rng, p, key="true"):
    wrong = "true" if key == "false" else "false"
    return key if rng.random() < p else (wrong if rng.random() < 0.5 else "dont_know")


def _answers(rng, person, knowledge_logit, hotline_p, risk_p, heard_p, channel_p):
    k = knowledge_logit
    yes = lambda p: "yes" if rng.random() < p else "no"  # noqa: E731
    answers = {
        "round": str(person["round"]),
        "consent": "yes",
        "profile": {
            "sex": person["sex"], "age": int(person["age"]), "marital": person["marital"],
            "education": person["education"], "occupation": person["occupation"],
            "district": person["district_code"], "commune": person["commune_key"],
            "plan_away": yes(risk_p), "plan_abroad": yes(risk_p / 2),
        },
        "knowledge": {
            "heard": yes(expit(k + 1.5)),
            **{s: _tf(rng, expit(k), SIGN_KEYS.get(s, "true")) for s in SIGNS},
            **{f: _tf(rng, expit(k + 0.3), FORM_KEYS.get(f, "true")) for f in FORMS},
            "law_exists": yes(expit(k + 0.5)),
            "law_victim": _tf(rng, expit(k - 0.3)),
            "law_punish": _tf(rng, expit(k + 0.8)),
            "hotline": "18001567" if rng.random() < hotline_p else "113",
            "hotline_free": _tf(rng, expit(k - 0.5)),
            "report_where": [r for r in ("police", "commune_committee", "border_guard", "hotline",
                                         "mass_organisation") if rng.random() < expit(k)] or ["dont_know"],
            "day": "30_07" if rng.random() < expit(k - 1) else "dont_know",
            "respond": "check" if rng.random() < expit(k) else "go",
        },
        "risk": {
            "risk_approached": yes(risk_p), "risk_papers": yes(risk_p),
            "risk_debt": yes(risk_p), "risk_lost_contact": yes(risk_p),
        },
    }
    if "yes" in (answers["profile"]["plan_away"], answers["profile"]["plan_abroad"]):
        answers["risk"]["risk_broker"] = yes(risk_p)
    heard = rng.random() < heard_p
    answers["exposure"] = {"heard_any": "yes" if heard else "no"}
    if heard:
        picked = [c for c in CHANNELS if rng.random() < channel_p.get(c, 0.2)] or ["family_friends"]
        answers["exposure"]["channels"] = picked
        answers["exposure"]["channel_main"] = picked[0]
    return answers


def simulate(seed=0, *, round=2019, n_per_district=3, m=20, refusal=0.0, knowledge_shift=None,
             district_shift=None, hotline=None, risk=None, heard=0.7, channel_p=None, places=None):
    """Submissions of one round plus the truth used to make them.

    Parameters (callables take the person row as a dict)
    ----------
    knowledge_shift : callable, optional
        Person → logit shift of knowledge items (default: by education and area).
    district_shift : dict, optional
        District code → extra logit shift of knowledge.
    hotline : callable, optional
        Person → probability of naming the hotline.
    risk : callable, optional
        Person → probability of each risk indicator.
    channel_p : dict or callable, optional
        Channel → probability of having heard through it (callable: person → dict).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        Submissions (``submission_id, round, commune_key, district_code, answers``) and the
        people drawn with their true probabilities.
    """
    rng = np.random.default_rng(seed)
    places = census_communes() if places is None else places
    sample = pps_sample(rng, places, n_per_district)
    district_shift = district_shift or {}
    if knowledge_shift is None:
        def knowledge_shift(p):
            return 0.3 * EDUCATION.index(p["education"]) - 0.8 + (-0.4 if p["area"] == "rural" else 0.0)
    hotline = hotline or (lambda p: 0.4)
    risk = risk or (lambda p: 0.3)
    channel_p = channel_p or {}
    rows, people = [], []
    for _, place in sample.iterrows():
        for j in range(m):
            person = {
                "round": round, "district_code": place["district_code"], "commune_key": place["commune_key"],
                "area": place["area"], "sex": "female" if rng.random() < 0.5 else "male",
                "age": int(rng.integers(15, 80)), "marital": rng.choice(["single", "married", "widowed"]),
                "education": EDUCATION[int(rng.integers(0, 6))],
                "occupation": rng.choice(["farming", "factory", "trade", "student"]),
            }
            sid = f"{round}-{place['commune_key']}-{j}"
            if rng.random() < refusal:
                rows.append({"submission_id": sid, "round": round, "commune_key": place["commune_key"],
                             "district_code": place["district_code"],
                             "answers": {"round": str(round), "consent": "no"}})
                continue
            k = knowledge_shift(person) + district_shift.get(person["district_code"], 0.0)
            probs = channel_p(person) if callable(channel_p) else channel_p
            answers = _answers(rng, person, k, hotline(person), risk(person), heard, probs)
            rows.append({"submission_id": sid, "round": round, "commune_key": place["commune_key"],
                         "district_code": place["district_code"], "answers": answers})
            people.append({**person, "submission_id": sid, "knowledge_logit": k,
                           "hotline_p": hotline(person), "risk_p": risk(person)})
    return pd.DataFrame(rows), pd.DataFrame(people)
