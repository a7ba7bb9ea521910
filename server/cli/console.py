"""``flask coordinator-districts``: which districts a coordinator's console shows."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.cli.support import fail_on_api_error
from server.console import scope
from server.extensions import db


@click.command("coordinator-districts")
@click.argument("username")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
@fail_on_api_error
def coordinator_districts_command(username: str, codes: tuple[str, ...]):
    """Make CODES (GSO district codes) the whole set of districts a coordinator looks after.

    Example:

    \b
        flask --app server coordinator-districts lan 916 917
    """
    granted = scope.grant_districts(db.session, username, list(codes))
    db.session.commit()
    click.echo(f"{username} looks after districts {', '.join(granted)}.")
