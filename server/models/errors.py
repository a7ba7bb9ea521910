"""The server's domain errors: what its services raise, by stable ``code``, knowing nothing of HTTP.

``server/problems.py`` alone turns a code into a status and a problem document; the CLI prints the detail.
"""

from __future__ import annotations


class ServerError(Exception):
    """A service refused or failed a request, by stable ``code`` (see ``server.problems``)."""

    def __init__(self, code: str, detail: str | None = None, *, errors=None, **fields):
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.errors = errors or []
        self.fields = fields
