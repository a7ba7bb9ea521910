"""``flask --app server plan …``: the next round's sample from the command line (propose, show, approve)."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from analysis.errors import AnalysisError
from server.cli.support import fail_on_api_error
from server.extensions import db
from server.plans import approval
from server.plans import proposals
from server.plans import summary


@click.group("plan")
def plan_group():
    """Round plans: the next round's sample proposed from the last round's uncertainty, then approved.

    Example:

    \b
        flask --app server plan propose --round 2019 --communes 4
        flask --app server plan show 1
        flask --app server plan approve 1
    """


def _print(document: dict) -> None:
    click.echo(f"Plan {document['id']} for {document['year']} ({document['status']}), based on "
               f"{document['based_on'] or 'no round'}: {len(document['communes'])} communes, "
               f"{document['interviews']} interviews, seed {document['parameters']['seed']}")
    for line in document["communes"]:
        click.echo(f"  {line['district']}  {line['commune']:<14} pi={line['pi']:.3f}  "
                   f"take={line['take']:>4}  {line['enumerator'] or '-':<16} {line['reason']}")


def _show(document: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        _print(document)


@plan_group.command("propose")
@click.option("--round", "year", type=int, required=True, help="The round (year) the plan is for.")
@click.option("--interviews", type=int, default=None, help="Budget (default: the last round's interviews).")
@click.option("--communes", type=int, default=None, help="Communes per district (default 4).")
@click.option("--certain", multiple=True, help="A commune key forced into the sample (repeatable).")
@click.option("--seed", type=int, default=None, help="Seed of the draw (default: a random one, recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@with_appcontext
@fail_on_api_error
def propose_command(year, interviews, communes, certain, seed, as_json):
    """Propose a plan for a round from the stored data and store it as a draft.

    Example:

    \b
        flask --app server plan propose --round 2019 --communes 4 --certain 31171
    """
    choices = proposals.Choices(interviews=interviews, communes=communes, certain=list(certain) or None)
    try:
        row = proposals.propose(db.session, year, actor=None, choices=choices, seed=seed,
                                min_cell=int(current_app.config["REPORT_MIN_CELL"]))
    except AnalysisError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    _show(summary.describe(db.session, row), as_json)


@plan_group.command("show")
@click.argument("plan_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@with_appcontext
@fail_on_api_error
def show_command(plan_id, as_json):
    """Show a plan: its communes with pi, take, enumerator and reason.

    Example:

    \b
        flask --app server plan show 1 --json
    """
    _show(summary.describe(db.session, proposals.get(db.session, plan_id)), as_json)


@plan_group.command("approve")
@click.argument("plan_id", type=int)
@with_appcontext
@fail_on_api_error
def approve_command(plan_id):
    """Approve a draft: the round's sample and the enumerators' assignments (devices get them by sync).

    Example:

    \b
        flask --app server plan approve 1
    """
    row = approval.approve(db.session, plan_id, actor=None)
    db.session.commit()
    _print(summary.describe(db.session, row))
