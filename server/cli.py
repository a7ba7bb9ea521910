"""Command-line tools, ``flask --app server <command>``: thin wrappers over package functions."""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from forms.errors import FormError

from . import accounts
from . import form_registry
from . import reference
from .db_setup import MIGRATIONS_DIR
from .extensions import db
from .models import FORM_STATES
from .models import ROLES
from .models import User
from .problems import ApiError

DEMO_CREDENTIALS = "demo-credentials.txt"


def _fail_on_api_error(fn):
    """Turn a Ferry problem into a clean CLI error (exit code 1) instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            db.session.rollback()
            raise click.ClickException(exc.detail) from exc

    return wrapper


def initialise() -> None:
    """Migrate the schema to the head and load reference data and built-in forms; safe to rerun."""
    upgrade(directory=MIGRATIONS_DIR)
    reference.load_places(db.session)
    reference.ensure_rounds(db.session, list(current_app.config["ROUNDS"]))
    form_registry.install_library(db.session)
    db.session.commit()


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database; load places, survey rounds and the built-in forms.

    Safe to run again: migrations already applied and data already loaded are left alone.

    Example:

    \b
        flask --app server init
    """
    initialise()
    click.echo(f"Database ready at {db.engine.url.render_as_string(hide_password=True)}.")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.password_option(help="The password (prompted for, twice, when omitted).")
@with_appcontext
@_fail_on_api_error
def create_user_command(username: str, role: str, password: str):
    """Create a staff account with a role.

    Example:

    \b
        flask --app server create-user lan --role coordinator
    """
    if len(password) < 10:
        raise click.ClickException("Use a password of at least 10 characters.")
    accounts.create_user(db.session, username, password, role, cli=True)
    db.session.commit()
    click.echo(f"Created {role} {username!r}.")


@click.command("enroll-device")
@click.argument("username")
@click.option("--label", default="", help="A name to recognise the device by, e.g. 'Phone 3'.")
@with_appcontext
@_fail_on_api_error
def enroll_device_command(username: str, label: str):
    """Create a device for an enumerator and print its one-time enrolment code.

    The code is shown once, stored only as a hash, and expires after ENROLMENT_CODE_HOURS.

    Example:

    \b
        flask --app server enroll-device minh --label "Phone 3"
    """
    hours = current_app.config["ENROLMENT_CODE_HOURS"]
    device, code = accounts.enroll_device(db.session, username, label, dt.timedelta(hours=hours),
                                          cli=True)
    db.session.commit()
    click.echo(f"Device {device.id} for {username!r}.")
    click.echo(f"Enrolment code (valid {hours} h, shown once): {code}")


def load_demo() -> list[tuple[str, str, str]]:
    """Initialise the database and create one demo user per role; return their credentials.

    Passwords are random per installation and kept in the instance folder so `make run` can show
    them; a demo database is never a production one.
    """
    initialise()
    path = os.path.join(current_app.instance_path, DEMO_CREDENTIALS)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            rows = [tuple(line.split()) for line in fh if line.strip() and not line.startswith("#")]
        if all(db.session.scalar(select(User).where(User.username == u)) for u, _, _ in rows):
            return rows
    rows = []
    for role in ROLES:
        username = f"demo-{role}"
        if db.session.scalar(select(User).where(User.username == username)) is None:
            password = secrets.token_urlsafe(12)
            accounts.create_user(db.session, username, password, role, cli=True)
            rows.append((username, password, role))
    db.session.commit()
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        fh.write("# demo users: username password role\n")
        fh.writelines(f"{u} {p} {r}\n" for u, p, r in rows)
    return rows


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo: places, survey rounds and one demo user per role.

    Prints the demo users' credentials (also kept in the instance folder).

    Example:

    \b
        flask --app server demo
    """
    rows = load_demo()
    click.echo("Demo users (user name, password, role):")
    for username, password, role in rows:
        click.echo(f"  {username:<18} {password:<18} {role}")


@click.group("forms")
def forms_group():
    """Import, publish and close form versions.

    Example:

    \b
        flask --app server forms list
    """


@forms_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--attachment", "attachment_paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A file the form reads (e.g. communes.csv); repeat for several.")
@click.option("--publish", is_flag=True, help="Open the version for data collection right away.")
@with_appcontext
@_fail_on_api_error
def forms_import_command(path: str, attachment_paths: tuple[str, ...], publish: bool):
    """Import an XLSForm as a draft version (or find it unchanged).

    Example:

    \b
        flask --app server forms import awareness-2021.xlsx --attachment communes.csv
    """
    files = {os.path.basename(p): open(p, "rb").read() for p in attachment_paths}
    with open(path, "rb") as fh:
        source = fh.read()
    try:
        version, created = form_registry.import_xlsform(db.session, source, os.path.basename(path), files)
    except FormError as exc:
        raise click.ClickException(_form_error_text(exc)) from exc
    if publish:
        form_registry.publish(db.session, version.form.form_id, version.version)
    db.session.commit()
    what = "Imported" if created else "Unchanged:"
    click.echo(f"{what} {version.form.form_id} version {version.version} ({version.state}).")


def _form_error_text(exc: FormError) -> str:
    lines = [exc.detail] + [f"  {e.get('pointer', '')}: {e.get('detail', '')}" for e in exc.errors]
    return "\n".join(lines)


@forms_group.command("publish")
@click.argument("form_id")
@click.argument("version")
@with_appcontext
@_fail_on_api_error
def forms_publish_command(form_id: str, version: str):
    """Open a draft version: devices receive it from their next sync.

    Example:

    \b
        flask --app server forms publish awareness 2021.1
    """
    form_registry.publish(db.session, form_id, version)
    db.session.commit()
    click.echo(f"{form_id} version {version} is open.")


@forms_group.command("state")
@click.argument("form_id")
@click.argument("version")
@click.argument("state", type=click.Choice(FORM_STATES))
@with_appcontext
@_fail_on_api_error
def forms_state_command(form_id: str, version: str, state: str):
    """Move a version to another state: open, closing (late uploads only) or closed.

    Example:

    \b
        flask --app server forms state awareness 2017.1 closing
    """
    form_registry.set_state(db.session, form_id, version, state)
    db.session.commit()
    click.echo(f"{form_id} version {version} is {state}.")


@forms_group.command("list")
@with_appcontext
def forms_list_command():
    """List every form version with its state.

    Example:

    \b
        flask --app server forms list
    """
    for version in form_registry.visible_versions(db.session, "admin"):
        click.echo(f"{version.form.form_id:<16} {version.version:<16} {version.state:<8} "
                   f"{version.content_hash[:12]}")


COMMANDS = (init_command, create_user_command, enroll_device_command, demo_command, forms_group)


def leaf_commands():
    """Yield ``(invocation, command)`` for every command, subcommands of groups included."""
    for command in COMMANDS:
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield f"{command.name} {sub.name}", sub
        yield command.name, command


def init_app(app: Flask) -> None:
    """Register the CLI commands."""
    for command in COMMANDS:
        app.cli.add_command(command)
