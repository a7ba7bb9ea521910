"""Round plans: the next round's sample proposed from the last round's uncertainty, edited, approved.

Planners and admins propose, edit and approve; coordinators read, choose the enumerators of their
districts' communes, and approve a plan that lies wholly in their districts (``server.plans.approval``).
"""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import request
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from server.api.access import access
from server.api.access import current_principal
from server.api.body import json_body
from server.extensions import db
from server.plans import approval
from server.plans import proposals
from server.plans import summary

bp = Blueprint("plans", __name__, url_prefix="/api/v1/plans")
_YEAR = validate.Range(min=2000, max=2100)
_KEY = fields.String(validate=validate.Length(min=1, max=60))
_CAPACITY = validate.Range(min=1, max=500)
_COUNT = fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000))


class PlanChoicesSchema(Schema):
    """What a planner decides (every field optional: an absent one keeps the plan's value)."""

    interviews = fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000))
    communes = fields.Integer(strict=True, validate=_CAPACITY)
    district_communes = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=20)),
                                    values=fields.Integer(strict=True, validate=_CAPACITY))
    certain = fields.List(_KEY, validate=validate.Length(max=500))
    takes = fields.Dict(keys=_KEY, values=_COUNT, validate=validate.Length(max=500))
    enumerators = fields.Dict(keys=_KEY, values=fields.String(validate=validate.Length(max=80)),
                              validate=validate.Length(max=500))
    notes = fields.String(validate=validate.Length(max=4000))


class PlanProposeSchema(PlanChoicesSchema):
    round = fields.Integer(required=True, strict=True, validate=_YEAR)
    seed = fields.Integer(strict=True, validate=validate.Range(min=0, max=2**31 - 1))


class PlanQuerySchema(Schema):
    round = fields.Integer(validate=_YEAR)


def choices_of(args: dict) -> proposals.Choices:
    """The planner's choices from a loaded :class:`PlanChoicesSchema`."""
    return proposals.Choices(interviews=args.get("interviews"), communes=args.get("communes"),
                             district_communes=args.get("district_communes"), certain=args.get("certain"),
                             takes=args.get("takes"), enumerators=args.get("enumerators") or {},
                             notes=args.get("notes"))


def _describe(row) -> dict:
    return summary.describe(db.session, row, approval.reader_scope(db.session, current_principal().user))


def _min_cell() -> int:
    return int(current_app.config["REPORT_MIN_CELL"])


@bp.get("")
@access(*approval.READERS)
def list_plans():
    """Round plans, newest first (``?round=`` for one round)."""
    args = PlanQuerySchema().load(request.args)
    return {"plans": [summary.brief(row) for row in proposals.listing(db.session, args.get("round"))]}


@bp.post("")
@access(*approval.PLANNERS)
def propose():
    """Propose a plan for a round from the last round's priorities and outreach (stored as a draft)."""
    args = PlanProposeSchema().load(json_body())
    row = proposals.propose(db.session, args["round"], actor=current_principal().user, min_cell=_min_cell(),
                            choices=choices_of(args), seed=args.get("seed"))
    if args.get("enumerators"):
        row = proposals.edit(db.session, row.id, proposals.Choices(enumerators=args["enumerators"]),
                             actor=current_principal().user, min_cell=_min_cell())
    db.session.commit()
    return _describe(row), 201


@bp.get("/<plan_id>")
@access(*approval.READERS)
def read(plan_id: str):
    """A plan: its communes with reasons, takes, inclusion probabilities and enumerators, and the gain."""
    return _describe(proposals.get(db.session, plan_id))


@bp.patch("/<plan_id>")
@access(*approval.READERS)
def edit(plan_id: str):
    """Change a draft (budget, capacity, forced communes, takes, enumerators, notes); it is re-proposed
    with its recorded seed. A drawn commune cannot be dropped (take 0 is refused)."""
    choices = choices_of(PlanChoicesSchema().load(json_body()))
    user = current_principal().user
    approval.check_edit(db.session, user, proposals.get(db.session, plan_id), choices)
    row = proposals.edit(db.session, plan_id, choices, actor=user, min_cell=_min_cell())
    db.session.commit()
    return _describe(row)


@bp.post("/<plan_id>/approve")
@access(*approval.READERS)
def approve(plan_id: str):
    """Approve a draft: it becomes the round's sample and the enumerators' assignments (sent by sync)."""
    row = approval.approve(db.session, plan_id, actor=current_principal().user)
    db.session.commit()
    return _describe(row)
