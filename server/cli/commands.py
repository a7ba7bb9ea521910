"""Command-line tools, ``flask --app server <command>``: thin wrappers over package functions."""

from __future__ import annotations

import datetime as dt
import os

import click
from flask import Flask
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from forms.errors import FormError
from server.accounts import users as accounts
from server.cli.app_users import app_user_group
from server.cli.places import places_group
from server.cli.plan import plan_group
from server.cli.report import report_group
from server.cli.support import fail_on_api_error
from server.collect import enrolment as collect_enrolment
from server.console import forms as console_forms
from server.extensions import db
from server.forms import registry as form_registry
from server.models import FORM_STATES
from server.models import ROLES
from server.models import reference
from server.models import utcnow
from server.models.database import MIGRATIONS_DIR
from server.simulation import demo
from server.sync import devices
from server.sync import runtime as sync_runtime
from sync import engine


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
@fail_on_api_error
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
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the web form's enrolment link (/collect/#code=...) as a QR code PNG here.")
@click.option("--url", "base_url", default="http://127.0.0.1:5000", show_default=True,
              help="The server's address as phones reach it, for the link.")
@with_appcontext
@fail_on_api_error
def enroll_device_command(username: str, label: str, qr_path: str | None, base_url: str):
    """Create a device for an enumerator and print its one-time enrolment code.

    The code is shown once, stored only as a hash, and expires after ENROLMENT_CODE_HOURS.
    With --qr, the link that enrols the offline web form is also written as a PNG to show on screen.

    Example:

    \b
        flask --app server enroll-device minh --label "Phone 3"
        flask --app server enroll-device lan --qr lan.png --url https://ferry.example.org
    """
    hours = current_app.config["ENROLMENT_CODE_HOURS"]
    device, code = accounts.enroll_device(db.session, username, label, dt.timedelta(hours=hours),
                                          cli=True)
    db.session.commit()
    click.echo(f"Device {device.id} for {username!r}.")
    click.echo(f"Enrolment code (valid {hours} h, shown once): {code}")
    if qr_path:
        link = collect_enrolment.enrolment_link(base_url, code)
        collect_enrolment.write_qr_png(link, qr_path)
        click.echo(f"Web form link: {link}")
        click.echo(f"QR code written to {qr_path}: scan it with the phone's camera to enrol the web form.")


def load_demo() -> tuple[list[tuple[str, str, str]], demo.SeasonLoad]:
    """Initialise the database, create one demo user per role and load the demo season; safe to rerun."""
    initialise()
    app = current_app._get_current_object()
    rows = demo.ensure_users(app)
    return rows, demo.load_season(app, int(app.config["DEMO_INTERVIEWS"]),
                                  progress=lambda line: click.echo(line, err=True))


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo: places, rounds, one demo user per role, and a survey season synced from devices.

    The season (FERRY_DEMO_INTERVIEWS interviews, default 8000, over four rounds, plus the
    outreach log) is generated with a fixed seed and pushed by simulated enumerators' devices
    through the sync protocol. Running it again adds nothing. Prints the demo users' credentials
    (also kept in the instance folder).

    Example:

    \b
        flask --app server demo
    """
    rows, season = load_demo()
    click.echo("Demo users (user name, password, role):")
    for username, password, role in rows:
        click.echo(f"  {username:<18} {password:<18} {role}")
    if season.ingested:
        click.echo(f"Synced {season.ingested} submissions from demo devices in {season.seconds:.1f} s.",
                   err=True)
    if not season.verdict.ok:
        raise click.ClickException(f"The demo season is not stored exactly once: {season.verdict}")
    click.echo(f"Demo season: {season.interviews} interviews and {season.activities} outreach activities "
               "on the server.")


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
@fail_on_api_error
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
@fail_on_api_error
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
@fail_on_api_error
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
    """List every form version: state, content hash, submissions, title (a header, aligned columns).

    Example:

    \b
        flask --app server forms list
    """
    rows = [(v.form_id, v.version or "-", v.state, v.content_hash[:12], str(v.submissions), v.title)
            for v in console_forms.version_rows(db.session)]
    header = ("FORM", "VERSION", "STATE", "HASH", "SUBMISSIONS", "TITLE")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.rjust(w) if i == 4 else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=False))]
        click.echo("  ".join(cells + [row[-1]]).rstrip())


@click.group("sync")
def sync_group():
    """Look after sync: the review queue, devices, the server epoch.

    Example:

    \b
        flask --app server sync quarantine
    """


@sync_group.command("quarantine")
@click.option("--all", "include_resolved", is_flag=True, help="Include items already dealt with.")
@with_appcontext
def sync_quarantine_command(include_resolved: bool):
    """List quarantined submissions with their reasons (they are stored, never dropped).

    Example:

    \b
        flask --app server sync quarantine
    """
    items = engine.quarantined(sync_runtime.store(), include_resolved=include_resolved)
    for item in items:
        first = item.issues[0] if item.issues else {}
        click.echo(f"{item.received_at:%Y-%m-%d %H:%M} {item.key} {item.reason:<18} "
                   f"{item.form_id or '-'}@{item.form_version or '-'} {first.get('pointer', '')} "
                   f"{item.resolution or ''}".rstrip())
    click.echo(f"{len(items)} item(s).")


@sync_group.command("conflicts")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved conflicts.")
@with_appcontext
def sync_conflicts_command(include_resolved: bool):
    """List corrections of one submission made without seeing each other.

    Example:

    \b
        flask --app server sync conflicts
    """
    items = engine.conflicts(sync_runtime.store(), include_resolved=include_resolved)
    for item in items:
        click.echo(f"{item.created_at:%Y-%m-%d %H:%M} {item.key} {item.kind:<18} {item.submission_id} "
                   f"revisions: {', '.join(item.revisions)}")
    click.echo(f"{len(items)} conflict(s).")


@sync_group.command("revalidate")
@with_appcontext
def sync_revalidate_command():
    """Check quarantined submissions again (after publishing a fixed form) and accept the valid ones.

    Example:

    \b
        flask --app server sync revalidate
    """
    outcomes = engine.revalidate_quarantined(sync_runtime.store(), now=utcnow())
    accepted = sum(1 for outcome in outcomes.values() if outcome == "accepted")
    click.echo(f"Accepted {accepted}; still quarantined {len(outcomes) - accepted}.")


@sync_group.command("new-epoch")
@click.confirmation_option(prompt="Start a new epoch? Do this right after restoring the database.")
@with_appcontext
def sync_new_epoch_command():
    """Give the database a new epoch after a restore, so devices re-send what the backup lacks.

    Example:

    \b
        flask --app server sync new-epoch --yes
    """
    store = sync_runtime.store()
    with store.transaction():
        epoch = store.start_new_epoch()
    click.echo(f"New epoch {epoch}: devices will re-send their archives; duplicates are ignored.")


@sync_group.command("devices")
@with_appcontext
def sync_devices_command():
    """List devices with their enumerator, last sync and clock skew.

    Example:

    \b
        flask --app server sync devices
    """
    for row in devices.listing():
        seen = f"{row['last_seen_at']:%Y-%m-%d %H:%M}" if row["last_seen_at"] else "never"
        skew = f"{row['clock_skew_s']:+d}s" if row["clock_skew_s"] is not None else "-"
        state = "revoked" if row["revoked_at"] else ("enrolled" if row["enrolled_at"] else "waiting")
        who = row["enumerator"] or "-"
        if row["app_user"]:
            who += f" (ODK Collect {row['app_user']})"
        click.echo(f"{row['device_id']} {who:<16} {state:<8} last sync {seen} skew {skew}")



COMMANDS = (init_command, create_user_command, enroll_device_command, demo_command, forms_group, sync_group,
            report_group, app_user_group, places_group, plan_group)


def leaf_commands():
    """Yield ``(invocation, command)`` for every command, subcommands of groups (at any depth) included."""
    def walk(prefix: str, command: click.Command):
        invocation = f"{prefix} {command.name}".strip()
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(invocation, sub)
        yield invocation, command

    for command in COMMANDS:
        yield from walk("", command)


def init_app(app: Flask) -> None:
    """Register the CLI commands."""
    for command in COMMANDS:
        app.cli.add_command(command)
