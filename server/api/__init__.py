"""The HTTP API: one blueprint per resource, registered by ``init_app``."""

from flask import Flask

from server.api import assignments
from server.api import blobs
from server.api import console
from server.api import devices
from server.api import exports
from server.api import forms
from server.api import health
from server.api import places
from server.api import reports
from server.api import review
from server.api import sync
from server.api import tokens
from server.api import users

BLUEPRINTS = (health.bp, places.bp, tokens.bp, users.bp, forms.bp, sync.bp, devices.bp, review.bp,
              assignments.bp, blobs.bp, exports.bp, reports.bp, console.bp)


def init_app(app: Flask) -> None:
    """Register every blueprint."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
