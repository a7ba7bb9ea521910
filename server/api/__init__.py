"""The HTTP API: one blueprint per resource, registered by ``init_app``."""

from flask import Flask

from server.api import assignments
from server.api import blobs
from server.api import console
from server.api import devices
from server.api import exports
from server.api import forms
from server.api import health
from server.api import openapi
from server.api import outreach_plans
from server.api import places
from server.api import plans
from server.api import reports
from server.api import review
from server.api import sync
from server.api import tokens
from server.api import users
from server.openrosa import http as openrosa

BLUEPRINTS = (health.bp, places.bp, tokens.bp, users.bp, forms.bp, sync.bp, devices.bp, review.bp,
              assignments.bp, blobs.bp, exports.bp, reports.bp, openapi.bp, openrosa.bp,
              console.bp, plans.bp, outreach_plans.bp)


#: A page the API serves (the self-contained report) carries its stylesheet and inline SVG, nothing else.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
            "frame-ancestors 'none'")


def _secure(response):
    """Headers of every API answer: no sniffing a download into a page; pages locked down like /reports/."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
    return response


for _bp in BLUEPRINTS:  # once, at import: blueprints are shared by every app
    _bp.after_request(_secure)


def init_app(app: Flask) -> None:
    """Register every blueprint (each answering with the API's security headers)."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
