"""Round plans from the stored data: the last round's commune priorities and the communes outreach reached
since, through :func:`analysis.next_round.propose`, stored as a draft and re-proposed on every edit with the
seed recorded at the first proposal (so an edit changes the design, never the luck of the draw).

What a planner may change keeps the plan a probability sample: the budget, each district's capacity, the
communes forced in (inclusion probability 1) and the takes of drawn communes. A drawn commune cannot be
dropped by hand: its inclusion probability was computed with it in the draw, so leaving it out would make
every other commune's recorded probability wrong and the weights biased; change the budget or the capacity
instead, which draws again under a new design whose probabilities are recorded.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from dataclasses import field

import pandas as pd
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from analysis import next_round
from analysis import tidy
from forms.places import UNIT_LIST_2019
from server.models import Commune
from server.models import District
from server.models import Respondent
from server.models import RoundPlan
from server.models import RoundPlanCommune
from server.models import UnitList
from server.models import User
from server.models import audit
from server.models.errors import ServerError
from server.plans import staffing
from server.reports import service as reports
from server.reports.request import ReportRequest

#: Communes a district's team visits in a round unless the planner says otherwise (the fixed design's 4).
DEFAULT_CAPACITY = 4
KEEP_DRAWN = ("A drawn commune cannot be dropped: its inclusion probability was recorded with it in the "
              "draw, so dropping it would bias the weights. Change the budget or the capacity to draw again.")


@dataclass(frozen=True)
class Choices:
    """What the planner decides; None keeps the plan's current value (the defaults on a first proposal)."""

    interviews: int | None = None
    communes: int | None = None  # every district's capacity
    district_communes: dict[str, int] | None = None  # some districts' capacity (overrides ``communes``)
    certain: list[str] | None = None
    takes: dict[str, int] | None = None
    enumerators: dict[str, str] = field(default_factory=dict)  # commune key -> username ("" clears)
    notes: str | None = None


@dataclass
class Inputs:
    """The stored data a plan is built from."""

    last_round: int | None
    communes: pd.DataFrame  # analysis.priority.prioritise(level="commune") of the last round
    reached: list[str]
    interviews: int | None  # interviews of the last round, refusals included


def inputs(session: Session, year: int, *, min_cell: int) -> Inputs:
    """The last round before ``year`` with respondents, its commune priorities, its interviews, and the
    communes outreach reached after it (activities of the years after it, up to ``year``)."""
    data = reports.load(session, [], missing_ok=True)
    rounds = sorted(int(r) for r in data.respondents["round"].unique()) if len(data.respondents) else []
    earlier = [r for r in rounds if r < year]
    if not earlier:
        return Inputs(None, pd.DataFrame(), [], None)
    last = earlier[-1]
    data.rounds = rounds
    request = ReportRequest(rounds=tuple(rounds), min_cell=min_cell, round=last, level="commune")
    communes = reports.priorities(data, request)
    reached: set[str] = set()
    if len(data.activities):
        exposure = tidy.exposure(data.activities, rounds=range(last + 1, year + 1))
        reached = set(exposure.loc[exposure["reached"], "commune_key"].astype(str))
    attempted = session.scalar(select(func.count()).select_from(Respondent).where(
        Respondent.form_id == reports.SURVEY_FORM, Respondent.round == last))
    return Inputs(last, communes, sorted(reached), int(attempted) or None)


def _draw(year: int, source: Inputs, parameters: dict) -> next_round.Plan:
    params = next_round.PlanParameters(interviews=parameters["interviews"], communes=parameters["communes"],
                                       seed=parameters["seed"])
    return next_round.propose(source.communes, year=year, params=params, reached=source.reached,
                              certain=parameters["certain"], takes=parameters["takes"] or None)


def _communes_by_key(session: Session, keys) -> dict[str, Commune]:
    return {c.key: c for c in session.scalars(
        select(Commune).join(UnitList).where(UnitList.code == UNIT_LIST_2019, Commune.key.in_(list(keys)))
        .options(selectinload(Commune.district)))}


def _store(session: Session, row: RoundPlan, plan: next_round.Plan,
           enumerators: dict[str, int | None]) -> None:
    """Put ``plan`` in ``row``: its JSON and one row per selected commune (enumerators kept where chosen)."""
    row.plan = plan.to_json()
    row.communes = []
    session.flush()  # the old rows go before the new ones (a commune drawn again is a new row)
    chosen = plan.frame[plan.frame["selected"]]
    communes = _communes_by_key(session, chosen["commune_key"])
    row.communes = [RoundPlanCommune(commune=communes[str(r.commune_key)], pi=float(r.pi),
                                     certainty=bool(r.certainty), take=int(r.take),
                                     enumerator_id=enumerators.get(str(r.commune_key)))
                    for r in chosen.itertuples()]
    session.flush()
    staffing.fill_defaults(session, row)


def _check_choices(session: Session, choices: Choices) -> list[dict]:
    errors = []
    if choices.interviews is not None and choices.interviews < 1:
        errors.append({"pointer": "/interviews",
                       "detail": "the budget is a whole number of interviews from 1"})
    values = [choices.communes] if choices.communes is not None else []
    if any(v < 1 for v in [*values, *(choices.district_communes or {}).values()]):
        errors.append({"pointer": "/communes", "detail": "a district's capacity is at least 1 commune"})
    codes = set(_district_codes(session))
    errors += [{"pointer": f"/district_communes/{code}", "detail": f"no district {code!r}"}
               for code in choices.district_communes or {} if code not in codes]
    known = _communes_by_key(session, choices.certain or [])
    errors += [{"pointer": "/certain", "detail": f"no commune {key!r} in the 2019 unit list"}
               for key in choices.certain or [] if key not in known]
    return errors


def _district_codes(session: Session) -> list[str]:
    return list(session.scalars(select(District.code).join(UnitList).where(UnitList.code == UNIT_LIST_2019)
                                .order_by(District.code)))


def _capacity(session: Session, current: int | dict | None, choices: Choices) -> int | dict[str, int]:
    """Communes per district after the choices: one number for all, or one per district code."""
    if choices.communes is None and not choices.district_communes:
        return DEFAULT_CAPACITY if current is None else current
    if not choices.district_communes:
        return choices.communes
    if choices.communes is not None or not isinstance(current, dict):
        base = choices.communes or (current if isinstance(current, int) else DEFAULT_CAPACITY)
        current = dict.fromkeys(_district_codes(session), base)
    return {**current, **choices.district_communes}


def propose(session: Session, year: int, *, actor: User | None, min_cell: int, choices: Choices | None = None,
            seed: int | None = None) -> RoundPlan:
    """Build a plan for round ``year`` from the stored data and store it as a draft."""
    choices = choices or Choices()
    errors = _check_choices(session, choices)
    if errors:
        raise ServerError("validation-failed", "The plan cannot be proposed; see errors.", errors=errors)
    source = inputs(session, year, min_cell=min_cell)
    interviews = choices.interviews or source.interviews
    if interviews is None:
        raise ServerError("validation-failed", "No earlier round has interviews to copy: give the budget.",
                          errors=[{"pointer": "/interviews", "detail": "required when no round has data"}])
    parameters = {"interviews": int(interviews), "communes": _capacity(session, None, choices),
                  "certain": sorted(set(choices.certain or [])), "takes": dict(choices.takes or {}),
                  "seed": secrets.randbelow(2**31) if seed is None else int(seed), "reached": source.reached}
    plan = _draw(year, source, parameters)
    row = RoundPlan(year=year, based_on=source.last_round, status="draft", parameters=parameters, plan={},
                    notes=choices.notes or "", proposed_by_user_id=actor.id if actor else None)
    session.add(row)
    _store(session, row, plan, {})
    audit(session, "plan.propose", "round_plan", row.id, user_id=actor.id if actor else None,
          cli=actor is None, year=year, interviews=parameters["interviews"], seed=parameters["seed"])
    session.flush()
    return row


def get(session: Session, plan_id: int | str) -> RoundPlan:
    """A stored plan (by its id, or the id's text from a URL), or ``not-found``."""
    if not str(plan_id).isdigit() or len(str(plan_id)) > 18:
        raise ServerError("not-found", f"No round plan {plan_id!r}.")
    plan_id = int(plan_id)
    row = session.scalar(select(RoundPlan).where(RoundPlan.id == plan_id).options(
        selectinload(RoundPlan.communes).selectinload(RoundPlanCommune.commune).selectinload(Commune.district)))
    if row is None:
        raise ServerError("not-found", f"No round plan {plan_id}.")
    return row


def listing(session: Session, year: int | None = None) -> list[RoundPlan]:
    """Plans, newest first (of one round, or all)."""
    query = select(RoundPlan).order_by(RoundPlan.year.desc(), RoundPlan.id.desc())
    if year is not None:
        query = query.where(RoundPlan.year == year)
    return list(session.scalars(query))


def restored(row: RoundPlan) -> next_round.Plan:
    """The stored plan as :class:`analysis.next_round.Plan`."""
    return next_round.Plan.from_json(row.plan)


def require_draft(row: RoundPlan) -> None:
    if row.status != "draft":
        raise ServerError("plan-not-draft", f"Plan {row.id} is {row.status}; only a draft can change. "
                          "Propose a new plan for the round instead.")


def _check_takes(row: RoundPlan, takes: dict[str, int], certain: list[str]) -> list[dict]:
    drawn = {c.commune.key for c in row.communes}
    errors = []
    for key, take in takes.items():
        if take < 1 and key in drawn:
            errors.append({"pointer": f"/takes/{key}", "detail": KEEP_DRAWN})
        elif take < 1:
            errors.append({"pointer": f"/takes/{key}", "detail": "a take is a whole number from 1"})
        elif key not in drawn and key not in certain:
            errors.append({"pointer": f"/takes/{key}",
                           "detail": f"commune {key!r} is not in the sample; force it in first"})
    return errors


def edit(session: Session, plan_id: int | str, choices: Choices, *, actor: User | None,
         min_cell: int) -> RoundPlan:
    """Apply the planner's choices to a draft and propose it again with its recorded seed.

    Enumerators chosen for communes still in the sample are kept; a commune's take 0 is refused
    (:data:`KEEP_DRAWN`).
    """
    row = get(session, plan_id)
    require_draft(row)
    before = dict(row.parameters)
    parameters = dict(before)
    if choices.interviews is not None:
        parameters["interviews"] = choices.interviews
    parameters["communes"] = _capacity(session, before.get("communes"), choices)
    if choices.certain is not None:
        parameters["certain"] = sorted(set(choices.certain))
    takes = dict(parameters.get("takes") or {})
    takes.update(choices.takes or {})
    errors = _check_choices(session, choices) + _check_takes(row, choices.takes or {}, parameters["certain"])
    errors += staffing.check_choices(session, row, choices.enumerators)
    if errors:
        raise ServerError("validation-failed", "The plan cannot be changed; see errors.", errors=errors)
    redraw = any(parameters.get(k) != before.get(k) for k in ("interviews", "communes", "certain")) or \
        takes != (before.get("takes") or {})
    kept = {c.commune.key: c.enumerator_id for c in row.communes}
    kept.update(staffing.resolve(session, choices.enumerators))
    if redraw:
        source = inputs(session, row.year, min_cell=min_cell)
        selected_before = set(kept)
        draft = _draw(row.year, source, {**parameters, "takes": {}})
        selected = set(draft.frame.loc[draft.frame["selected"], "commune_key"].astype(str))
        # takes of communes the new draw left out no longer apply (the draw, not the planner, left them out)
        parameters["takes"] = {k: v for k, v in takes.items() if k in selected}
        plan = _draw(row.year, source, parameters) if parameters["takes"] else draft
        row.parameters = parameters
        _store(session, row, plan, {k: v for k, v in kept.items() if k in selected_before})
    else:
        for line in row.communes:
            if line.commune.key in kept:
                line.enumerator_id = kept[line.commune.key]
    if choices.notes is not None:
        row.notes = choices.notes
    audit(session, "plan.edit", "round_plan", row.id, user_id=actor.id if actor else None, cli=actor is None,
          before={k: before.get(k) for k in ("interviews", "communes", "certain", "takes")},
          after={k: parameters.get(k) for k in ("interviews", "communes", "certain", "takes")},
          enumerators=choices.enumerators or None)
    session.flush()
    return row
