"""The HTTP API: one blueprint per resource, registered by ``init_app``."""

from flask import Flask

from . import assignments
from . import blobs
from . import devices
from . import exports
from . import forms
from . import health
from . import places
from . import reports
from . import review
from . import sync
from . import tokens
from . import users

BLUEPRINTS = (health.bp, places.bp, tokens.bp, users.bp, forms.bp, sync.bp, devices.bp, review.bp,
              assignments.bp, blobs.bp, exports.bp, reports.bp)


def init_app(app: Flask) -> None:
    """Register every blueprint."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
