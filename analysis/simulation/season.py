"""``generate``: a season of survey rounds and outreach logs with its ground truth."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import DesignInvalid
from analysis.simulation import design
from analysis.simulation import truth as truth_tables
from analysis.simulation.model import knowledge_items
from analysis.simulation.model import places as census_places
from analysis.simulation.model import realise
from analysis.simulation.outreach import campaign_documents
from analysis.simulation.parameters import Parameters
from analysis.simulation.people import answer_documents
from analysis.simulation.people import profiles

__all__ = ["generate", "Season", "Interview", "Activity"]

PROFILE_COLUMNS = ["area", "sex", "age", "marital", "education", "occupation", "women_18_30", "age_60"]


@dataclass(frozen=True)
class Interview:
    """One awareness submission (a refusal records only ``round`` and ``consent``)."""

    sub_id: str
    form_id: str
    version: str
    round: int
    district_code: str
    commune_key: str
    day: dt.date
    answers: dict

    def to_json(self) -> dict:
        """JSON-able dict (``day`` as ISO text)."""
        return {"sub_id": self.sub_id, "form_id": self.form_id, "version": self.version, "round": self.round,
                "district_code": self.district_code, "commune_key": self.commune_key,
                "day": self.day.isoformat(), "answers": self.answers}


@dataclass(frozen=True)
class Activity:
    """One outreach submission."""

    sub_id: str
    form_id: str
    version: str
    round: int
    day: dt.date
    answers: dict

    def to_json(self) -> dict:
        """JSON-able dict (``day`` as ISO text)."""
        return {"sub_id": self.sub_id, "form_id": self.form_id, "version": self.version, "round": self.round,
                "day": self.day.isoformat(), "answers": self.answers}


@dataclass
class Season:
    """A generated season: submissions, the sample with its design, and the ground truth.

    Attributes
    ----------
    interviews : list of Interview
        Awareness submissions, rounds in order, interview order (day) within a round.
    activities : list of Activity
        Outreach submissions, in date order.
    sample : pandas.DataFrame
        One row per person approached (refusals too): ``sub_id, round, stratum, psu, weight``
        (NaN for refusals), ``refused, day, district_code, commune_key``, the profile
        (``area, sex, age, marital, education, occupation, women_18_30, age_60``; refusals'
        profiles are the model's, never recorded by an interview) and the design components
        ``pi_commune, pi_person, attempts, respondents, base_weight, certainty``.
    truth : dict of str to pandas.DataFrame
        ``city`` (round), ``district`` (round × district), ``commune`` (round × commune), ``group``
        (round × target group), ``district_group``: population means of ``knowledge``, its
        domains, ``aware_signs_3``, ``hotline_aware``, the risk items, ``plans_migrate`` and
        ``reached_any``; ``effects`` / ``effects_by_group``: the true outreach effect on the
        knowledge score in treated communes (round × channel [× group]: ``effect`` = mean score
        with the campaign minus without it, over the treated communes' population; ``any`` pools
        channels); ``effects_by_commune``: the same per round × treated commune (``population``,
        ``effect``, ``treated_knowledge``, ``untreated_knowledge``), so that the effect over any set
        of treated communes (e.g. one campaign year's, as a report's DiD contrasts them) is their
        population-weighted mean; ``treated`` (commune, campaign year and channel); ``communes`` (realised
        district and commune effects); ``items`` (difficulties and thresholds).
    params : Parameters
    seed : int
    """

    interviews: list
    activities: list
    sample: pd.DataFrame
    truth: dict
    params: Parameters
    seed: int
    rounds: tuple = field(default=())

    def submissions(self) -> pd.DataFrame:
        """Awareness submissions in the shape ``analysis.tidy.respondents`` reads."""
        return pd.DataFrame({
            "submission_id": [i.sub_id for i in self.interviews], "round": [i.round for i in self.interviews],
            "district_code": [i.district_code for i in self.interviews],
            "commune_key": [i.commune_key for i in self.interviews],
            "answers": [i.answers for i in self.interviews]})

    def outreach_submissions(self) -> pd.DataFrame:
        """Outreach submissions in the shape ``analysis.tidy.activities`` reads."""
        return pd.DataFrame({"submission_id": [a.sub_id for a in self.activities],
                             "answers": [a.answers for a in self.activities]})

    def write(self, folder) -> None:
        """Write sample.csv, truth_<table>.csv, interviews.jsonl, activities.jsonl and README.md."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.sample.to_csv(folder / "sample.csv", index=False, lineterminator="\n")
        for name, table in self.truth.items():
            table.to_csv(folder / f"truth_{name}.csv", index=False, lineterminator="\n")
        for filename, rows in (("interviews.jsonl", self.interviews), ("activities.jsonl", self.activities)):
            with open(folder / filename, "w", encoding="utf-8", newline="\n") as fh:
                for row in rows:
                    fh.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
        (folder / "README.md").write_text(self.readme(), encoding="utf-8")

    def readme(self) -> str:
        """The README written beside the data: what was generated, how, and every parameter."""
        from analysis.simulation import __doc__ as package_doc

        n_refused = int(self.sample["refused"].sum())
        return "\n".join([
            "# Generated survey season (Ferry)", "",
            f"seed `{self.seed}`, rounds {list(self.rounds)}, {len(self.interviews)} interviews "
            f"({n_refused} refusals), {len(self.activities)} outreach activities.", "",
            "## Model", "", (package_doc or "").strip(), "",
            "## Parameters", "", Parameters.__doc__.strip(), "", self.params.markdown(), "",
        ])


def _ids(rng, n: int) -> list[str]:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    return [str(uuid.UUID(bytes=bytes(row), version=4)) for row in raw]


def _round(rng, params, places, realised, items, round_, attempts, form, plan=None):
    """Sample rows and answer documents of one round, in interview order (``plan``: a Plan.frame's draw)."""
    frame = places.communes
    if plan is None:
        psus = design.select_communes(rng, frame, params.communes_per_district)
        takes = design.allocate(attempts, len(psus))
    else:
        psus = design.planned_communes(frame, plan)
        takes = psus["take"].astype(int).tolist()
    if min(takes) < 1:
        raise DesignInvalid(f"{attempts} interviews cannot cover {len(psus)} communes in round {round_}",
                            round=round_)
    commune = np.repeat(psus["commune"].to_numpy(), takes)
    people = profiles(rng, params, places.ages, commune)
    psu_row = np.repeat(np.arange(len(psus)), takes)
    for column in ("district_code", "commune_key", "M_i", "M_h", "pi", "certainty"):
        people[column] = psus[column].to_numpy()[psu_row]
    people["attempts"] = np.repeat(takes, takes)
    people["j"] = np.concatenate([np.arange(t) for t in takes])
    p_refuse = np.where(people["area"] == "rural", params.refusal_rural, params.refusal_urban)
    people["refused"] = rng.random(len(people)) < p_refuse
    # teams visit the communes in a random order spread over the field period
    slot = rng.permutation(len(psus))[psu_row]
    span = max(params.field_days - params.days_per_commune, 0)
    start = (slot * span) // max(len(psus) - 1, 1)
    offset = (people["j"].to_numpy() * params.days_per_commune) // people["attempts"].to_numpy()
    first = dt.date(round_, *params.field_start)
    people["day"] = [first + dt.timedelta(days=int(d)) for d in start + offset]
    people["slot"] = slot
    year = realised.campaign_year[commune]
    people["campaign_now"] = np.where(year == round_, realised.campaign_channel[commune], "")
    people = people.sort_values(["day", "slot", "j"], kind="stable").reset_index(drop=True)
    consenting = people[~people["refused"]]
    docs = answer_documents(rng, params, realised, items, consenting, round_)
    answers = [{"round": str(round_), "consent": "no"}] * len(people)
    answers = [dict(a) for a in answers]
    for position, doc in zip(consenting.index, docs, strict=True):
        answers[position] = doc
    people["round"] = round_
    return people, answers


def generate(seed: int = 2017, interviews: int = 8000, rounds=(2017, 2018, 2019, 2020),
             params: Parameters | None = None, designs=None) -> Season:
    """Generate a season (see the package docstring for the model and the design).

    Parameters
    ----------
    seed : int
        Everything is a function of the seed and the arguments (byte-identical output).
    interviews : int
        Awareness submissions over all rounds, refusals included (split as equally as possible).
    rounds : sequence of int
        Survey years, among 2017–2020 (the awareness form's ``round`` choices).
    params : Parameters, optional
        Model parameters; default ``Parameters()``.
    designs : mapping of int to pandas.DataFrame, optional
        ``{round: Plan.frame}`` (:mod:`analysis.next_round`): those rounds visit the plan's selected
        communes with its takes (its recorded ``pi``) instead of the fixed design's draw. Everything
        else (population, truth, outreach, the other rounds' samples) is the same as without it, so
        a season can be drawn twice with the same truth and only that round's sample changed.
    """
    from forms import library

    params = Parameters() if params is None else params
    rounds = tuple(int(r) for r in rounds)
    form, outreach_form = library.load("awareness"), library.load("outreach")
    allowed = {int(c.name) for c in form.choices["round"]}
    if not rounds or set(rounds) - allowed or len(set(rounds)) != len(rounds):
        raise DesignInvalid(f"rounds must be distinct years among {sorted(allowed)}, got {list(rounds)}")
    if interviews < 1:
        raise DesignInvalid("interviews must be positive")
    places = census_places()
    realised = realise(np.random.default_rng([seed, 0]), params, places.communes)
    items = knowledge_items(form, params)
    designs = {int(r): plan for r, plan in (designs or {}).items()}
    if set(designs) - set(rounds):
        raise DesignInvalid(f"designs given for rounds not generated: {sorted(set(designs) - set(rounds))}")
    parts, answers = [], []
    for round_, attempts in zip(rounds, design.allocate(interviews, len(rounds)), strict=True):
        people, docs = _round(np.random.default_rng([seed, 1, round_]), params, places, realised, items,
                              round_, attempts, form, designs.get(round_))
        parts.append(people)
        answers.extend(docs)
    sample = pd.concat(parts, ignore_index=True)
    sample["sub_id"] = _ids(np.random.default_rng([seed, 2]), len(sample))
    sample["stratum"] = sample["district_code"]
    sample["psu"] = sample["commune_key"]
    sample["respondents"] = (~sample["refused"]).groupby([sample["round"], sample["psu"]]).transform("sum")
    sample["pi_commune"] = sample["pi"]
    sample["pi_person"] = sample["attempts"] / sample["M_i"]
    sample["base_weight"] = 1.0 / (sample["pi_commune"] * sample["pi_person"])
    sample["weight"] = design.weights(sample)
    interviews_out = [
        Interview(sid, "awareness", form.version, int(r), str(d), str(c), day, doc)
        for sid, r, d, c, day, doc in zip(sample["sub_id"], sample["round"], sample["district_code"],
                                          sample["commune_key"], sample["day"], answers, strict=True)]
    columns = ["sub_id", "round", "stratum", "psu", "weight", "refused", "day", "district_code",
               "commune_key", *PROFILE_COLUMNS, "pi_commune", "pi_person", "attempts", "respondents",
               "base_weight", "certainty"]
    campaigns = campaign_documents(np.random.default_rng([seed, 3]), params, places.communes, realised)
    campaigns = [c for c in campaigns if c[0] <= max(rounds)]  # nothing logged after the last round
    ids = _ids(np.random.default_rng([seed, 4]), len(campaigns))
    activities = [Activity(sid, "outreach", outreach_form.version, year, day, doc)
                  for sid, (year, day, doc) in zip(ids, campaigns, strict=True)]
    truth = truth_tables.tables(params, realised, items, places, rounds)
    return Season(interviews_out, activities, sample[columns].copy(), truth, params, seed, rounds)
