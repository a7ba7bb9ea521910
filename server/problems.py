"""One error vocabulary: every error of every endpoint as RFC 9457 ``application/problem+json``.

Pure packages raise their own roots (``FormError``, ``SyncError``, ``AnalysisError``) with a stable
``code`` and no knowledge of HTTP; this module alone decides the status of each code.
"""

from __future__ import annotations

import io
import logging

from flask import Flask
from flask import Request
from flask import current_app
from flask import jsonify
from flask import request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.utils import cached_property

from analysis.errors import AnalysisError
from forms.errors import FormError
from server.extensions import db
from server.models.errors import ServerError
from sync.errors import HTTP_STATUS as SYNC_HTTP_STATUS
from sync.errors import SyncError
from sync.transport import BODY_BOUNDS
from sync.transport import value_problems

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
#: ``app.extensions`` key of a function that renders a problem as an HTML page for a browser, or
#: returns None (not a page request): same code, status and title, so one vocabulary (``server.web``).
HTML_RENDERER = "ferry.problem_html"

#: Every code the server itself emits: code -> (HTTP status, title). docs/problems.md lists them all.
SERVER_PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "The request could not be understood"),
    "malformed-json": (400, "The body is not valid JSON"),
    "unauthenticated": (401, "Authentication required"),
    "token-invalid": (401, "The bearer token is unknown, expired or revoked"),
    "login-failed": (401, "Unknown user name or wrong password"),
    "forbidden": (403, "Not allowed for this account"),
    "csrf-failed": (400, "The form expired or was not sent from this site"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed on this resource"),
    "not-acceptable": (406, "No acceptable representation"),
    "conflict": (409, "Conflicts with the current state"),
    "outreach-plan-approved": (409, "The outreach plan is approved and cannot change"),
    "payload-too-large": (413, "The request body is too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation-failed": (422, "The request body did not pass validation"),
    "too-many-requests": (429, "Too many requests"),
    "internal-error": (500, "Internal server error"),
    "http-error": (500, "HTTP error"),
    "service-unavailable": (503, "Service unavailable"),
    "database-unavailable": (503, "The database cannot be reached"),
    "schema-outdated": (503, "The database schema is not at the latest migration"),
    "blob-type-not-allowed": (422, "Attachments of this content type are not accepted"),
    "blob-too-large": (413, "The attachment is larger than the server accepts"),
    "chunk-too-large": (413, "The chunk is too large or runs past the attachment's size"),
    "upload-offset-mismatch": (409, "The upload offset is not where the server's copy ends"),
    "chunk-checksum-mismatch": (460, "The chunk does not match its Upload-Checksum"),
    "blob-hash-mismatch": (422, "The uploaded bytes do not have the declared sha256"),
    "blob-incomplete": (409, "The attachment has not been completely uploaded yet"),
    "plan-not-draft": (409, "The round plan is approved or superseded; only a draft can change"),
}

#: Status of each pure-package code; codes not listed take their root's default below.
PACKAGE_STATUS: dict[str, int] = {
    "xlsform-too-large": 413,
    "form-unknown": 404,
    "version-conflict": 409,
    "state-invalid": 409,
    **SYNC_HTTP_STATUS,  # the sync protocol's codes: their statuses are part of the wire protocol
    "boundaries-too-large": 413,
}
ROOT_STATUS: dict[type[Exception], int] = {FormError: 422, SyncError: 409, AnalysisError: 422}

_WERKZEUG_CODES = {
    400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 406: "not-acceptable", 409: "conflict", 413: "payload-too-large",
    415: "unsupported-media-type", 422: "validation-failed", 429: "too-many-requests",
    500: "internal-error", 503: "service-unavailable",
}


class ApiError(ServerError):
    """A problem raised by the HTTP layer itself, by stable ``code``, with the headers it must carry."""

    def __init__(self, code: str, detail: str | None = None, *, errors=None, headers=None, **extra):
        if code not in SERVER_PROBLEMS:
            raise KeyError(f"undocumented problem code {code!r}")
        super().__init__(code, detail or SERVER_PROBLEMS[code][1], errors=errors, **extra)
        self.headers = headers or {}


class FerryRequest(Request):
    """Flask's request, with JSON parse failures and out-of-bounds values raised as Ferry problems.

    Every JSON body of every view passes here once: too deep, too long, a lone surrogate, an integer
    beyond 64 bits or a non-finite number is a 4xx problem before any view or database sees it.
    """

    _bounds_checked = False

    @cached_property
    def stream(self):
        # A chunked body has no Content-Length; werkzeug then reads nothing unless the server marks the
        # input terminated (gunicorn does not), and the view saw an empty body (400). Read it here,
        # up to the cap: over it is 413, as for a declared length.
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if self.environ.get("CONTENT_LENGTH") or not chunked:
            return super().stream
        cap = self.max_content_length
        source = self.environ["wsgi.input"]
        data = source.read() if cap is None else source.read(cap + 1)
        if cap is not None and len(data) > cap:
            raise ApiError("payload-too-large", f"The body is over {cap} bytes.", max_bytes=cap)
        return io.BytesIO(data)

    def get_json(self, force=False, silent=False, cache=True):
        try:
            body = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise ApiError("malformed-json", "The body nests too deeply.") from None
        if body is not None and not self._bounds_checked:
            problems = value_problems(body, BODY_BOUNDS)
            if problems:
                if silent:
                    return None
                raise ApiError("validation-failed", "The body holds values beyond the server's bounds.",
                               errors=problems)
            self._bounds_checked = cache
        return body

    def on_json_loading_failed(self, e):
        if e is None:
            raise ApiError("unsupported-media-type", "Send the body as application/json.")
        raise ApiError("malformed-json", f"The body is not valid JSON: {e}")


def prefers_html() -> bool:
    """Whether the client asks for HTML before JSON (a browser); no ``Accept`` or ``*/*`` is JSON."""
    best = request.accept_mimetypes.best_match([MEDIA_TYPE, "application/json", "text/html"])
    return best == "text/html"


def problem_response(code, status, title, detail, *, errors=(), headers=None, **extra):
    """Build an ``application/problem+json`` response (an HTML page instead for a browser's page)."""
    render_html = current_app.extensions.get(HTML_RENDERER)
    if render_html is not None:
        page = render_html(code, status, title, detail, headers=headers, errors=errors)
        if page is not None:
            return page
    body = {
        "type": request.host_url + "problems/" + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "code": code,
        "errors": list(errors),
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def status_of(exc: Exception | type[Exception]) -> int:
    """Return the HTTP status of a server or pure-package exception (or pure-package exception class)."""
    if isinstance(exc, ServerError):
        return SERVER_PROBLEMS[exc.code][0]
    cls = exc if isinstance(exc, type) else type(exc)
    if cls.code in PACKAGE_STATUS:
        return PACKAGE_STATUS[cls.code]
    for root, status in ROOT_STATUS.items():
        if issubclass(cls, root):
            return status
    return 500


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def package_exceptions() -> list[type[Exception]]:
    """Return every exception class of the pure packages, roots included."""
    return [cls for root in ROOT_STATUS for cls in (root, *_subclasses(root))]


def title_of(cls: type[Exception]) -> str:
    """Return the problem title of a pure-package exception class: its docstring's first line."""
    return (cls.__doc__ or cls.__name__).strip().splitlines()[0].rstrip(".")


def all_codes() -> dict[str, tuple[int, str]]:
    """Return every problem code any endpoint can emit: code -> (status, title)."""
    codes = dict(SERVER_PROBLEMS)
    for cls in package_exceptions():
        codes.setdefault(cls.code, (status_of(cls), title_of(cls)))
    return codes


def _marshmallow_errors(messages, prefix="") -> list[dict]:
    """Flatten marshmallow's nested messages into ``[{pointer, detail}]`` with JSON pointers."""
    out = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            escaped = str(key).replace("~", "~0").replace("/", "~1")  # RFC 6901
            pointer = prefix if key == "_schema" else f"{prefix}/{escaped}"
            out.extend(_marshmallow_errors(value, pointer))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.extend({"pointer": prefix, "detail": m} for m in messages)
    else:
        out.append({"pointer": prefix, "detail": str(messages)})
    return out


def _on_server_error(exc: ServerError):
    status, title = SERVER_PROBLEMS[exc.code]
    headers = dict(getattr(exc, "headers", {}))
    if "offset" in exc.fields:
        # tus: a client resumes from the server's offset, and no cache may answer for it
        headers.update({"Upload-Offset": str(exc.fields["offset"]), "Cache-Control": "no-store"})
    return problem_response(exc.code, status, title, exc.detail or title, errors=exc.errors, headers=headers,
                            **exc.fields)


def _on_package_error(exc):
    status = status_of(exc)
    extra = {k: v for k, v in exc.fields.items() if k not in ("errors",)}
    headers = {}
    if status in (429, 503):
        # Offline clients back off by this header (with jitter), not by guessing.
        headers["Retry-After"] = str(exc.fields.get("retry_after", 5))
    if exc.code in ("store-unavailable", "write-conflict"):
        db.session.rollback()
    return problem_response(exc.code, status, title_of(type(exc)), exc.detail, errors=exc.errors,
                            headers=headers, **extra)


def _on_validation_error(exc: ValidationError):
    return problem_response(
        "validation-failed", 422, SERVER_PROBLEMS["validation-failed"][1],
        "Some fields are missing or wrong; see errors.", errors=_marshmallow_errors(exc.messages),
    )


def _on_http_exception(exc: HTTPException):
    if isinstance(exc, InternalServerError):
        return _on_internal_error(exc)
    code = _WERKZEUG_CODES.get(exc.code, "http-error")
    headers = dict(exc.get_headers()) if exc.code in (405, 429, 503) else {}
    headers.pop("Content-Type", None)
    return problem_response(code, exc.code, exc.name, exc.description, headers=headers)


def _on_internal_error(exc: InternalServerError):
    original = getattr(exc, "original_exception", None) or exc
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
    # Whatever the failed request half-wrote must not leak into the next one on this session.
    db.session.rollback()
    return problem_response(
        "internal-error", 500, SERVER_PROBLEMS["internal-error"][1],
        "The server failed; nothing from this request was stored. The error has been logged.",
    )


def _on_operational_error(exc: OperationalError):
    # SQLite's write lock not granted within its busy timeout (200 devices at once): the request
    # stored nothing, so the device backs off and retries instead of seeing a 500.
    if "database is locked" not in str(exc.orig):
        return _on_internal_error(InternalServerError(original_exception=exc))
    return _busy()


def _busy(_exc: Exception | None = None):
    # Also every pooled connection in use past the pool's timeout: the same overload, the same answer.
    db.session.rollback()
    return problem_response("service-unavailable", 503, SERVER_PROBLEMS["service-unavailable"][1],
                            "The database is busy; nothing from this request was stored. Retry shortly.",
                            headers={"Retry-After": "2"})


def init_app(app: Flask) -> None:
    """Register the problem handlers for every kind of error."""
    app.register_error_handler(OperationalError, _on_operational_error)
    app.register_error_handler(PoolTimeout, _busy)
    app.register_error_handler(ServerError, _on_server_error)
    for root in ROOT_STATUS:
        app.register_error_handler(root, _on_package_error)
    app.register_error_handler(ValidationError, _on_validation_error)
    app.register_error_handler(HTTPException, _on_http_exception)
    app.register_error_handler(InternalServerError, _on_internal_error)
