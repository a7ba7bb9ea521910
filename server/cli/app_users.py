"""``flask --app server app-user …``: ODK Collect phones (create with a settings QR code, list, revoke)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.accounts import app_users
from server.cli.support import fail_on_api_error
from server.extensions import db


@click.group("app-user")
def app_user_group():
    """ODK Collect phones: each is an app user with a token in its server URL and a list of forms.

    Example:

    \b
        flask --app server app-user create "Cai Khe phone 1" --forms awareness,outreach
    """


@app_user_group.command("create")
@click.argument("name")
@click.option("--forms", "form_ids", required=True,
              help="Comma-separated form ids the phone may fill in, e.g. awareness,outreach.")
@click.option("--enumerator", default=None, help="The enumerator who carries the phone (optional).")
@click.option("--server-url", default=None,
              help="The address phones reach this server at (default: PUBLIC_URL, FERRY_PUBLIC_URL).")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the settings QR code PNG (default: app-user-NAME.png).")
@with_appcontext
@fail_on_api_error
def create_command(name: str, form_ids: str, enumerator: str | None, server_url: str | None,
                   qr_path: Path | None):
    """Create an app user; print its server URL and write the QR code Collect scans.

    The token is shown only now (the server keeps a hash of it). In ODK Collect: Add project,
    Configure with QR code, and scan the PNG (on screen or printed).

    Example:

    \b
        flask --app server app-user create "Cai Khe phone 1" --forms awareness,outreach --enumerator lan
    """
    public = server_url or current_app.config["PUBLIC_URL"]
    app_user, token = app_users.create(db.session, name, form_ids.split(","), enumerator=enumerator)
    url = app_users.server_url(public, token)
    png = app_users.qr_png(app_users.collect_settings(url, current_app.config["PROJECT_NAME"]))
    qr_path = qr_path or Path(f"app-user-{_slug(name)}.png")
    qr_path.write_bytes(png)
    db.session.commit()
    click.echo(f"Created app user {app_user.name!r} for {', '.join(app_user.form_ids)}.")
    click.echo(f"Server URL for ODK Collect: {url}")
    click.echo(f"Settings QR code: {qr_path}  (scan it in Collect: Add project > Configure with QR code)")


@app_user_group.command("list")
@with_appcontext
def list_command():
    """List app users with their forms, state and last contact.

    Example:

    \b
        flask --app server app-user list
    """
    for app_user in app_users.listing(db.session):
        state = "revoked" if app_user.revoked_at else "active"
        seen = app_user.device.last_seen_at
        seen_text = f"{seen:%Y-%m-%d %H:%M}" if seen else "never"
        click.echo(f"{app_user.name:<24} {state:<8} forms {','.join(app_user.form_ids):<20} "
                   f"device {app_user.device_id} last contact {seen_text}")


@app_user_group.command("revoke")
@click.argument("name")
@with_appcontext
@fail_on_api_error
def revoke_command(name: str):
    """Revoke an app user: its phone gets 403 from now on; what it sent stays stored.

    Example:

    \b
        flask --app server app-user revoke "Cai Khe phone 1"
    """
    app_users.revoke(db.session, name)
    db.session.commit()
    click.echo(f"Revoked app user {name!r}.")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "phone"
