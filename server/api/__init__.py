"""The HTTP API: one blueprint per resource, registered by ``init_app``."""

from flask import Flask

from . import assignments
from . import blobs
from . import forms
from . import health
from . import places
from . import tokens
from . import users

BLUEPRINTS = (health.bp, places.bp, tokens.bp, users.bp, forms.bp, assignments.bp, blobs.bp)


def init_app(app: Flask) -> None:
    """Register every blueprint."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
