"""What every CLI command module shares."""

from __future__ import annotations

import functools

import click

from server.extensions import db
from server.models.errors import ServerError


def fail_on_api_error(fn):
    """Turn a Ferry problem into a clean CLI error (exit code 1) instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ServerError as exc:
            db.session.rollback()
            raise click.ClickException(exc.detail or exc.code) from exc

    return wrapper
