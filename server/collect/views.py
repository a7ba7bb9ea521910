"""Serve the built web form: the shell never cached by HTTP (the service worker caches it), assets forever."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint
from flask import current_app
from flask import request
from flask import send_from_directory
from werkzeug.utils import safe_join

from server.api.access import PUBLIC
from server.api.access import access
from server.problems import ApiError

BUILD = Path(__file__).resolve().parent / "build"

bp = Blueprint("collect", __name__, url_prefix="/collect")

# The page loads nothing from other sites. ODK's XPath parser is tree-sitter compiled to WebAssembly, hence
# 'wasm-unsafe-eval' (not 'unsafe-eval': the browser tests pass without it); Vue and PrimeVue set inline
# styles. Connections go to this server only.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self'; "
       "manifest-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def build_folder() -> Path:
    """Return the folder of the built app (``COLLECT_BUILD`` overrides it, for tests of a missing build)."""
    return Path(current_app.config.get("COLLECT_BUILD") or BUILD)


def _send(filename: str, *, cache: str):
    folder = build_folder()
    if not (folder / "index.html").is_file():
        raise ApiError("service-unavailable",
                       "The web form is not built: run 'make collect' (npm ci, then vite build).")
    if safe_join(str(folder), filename) is None or not (folder / filename).is_file():
        raise ApiError("not-found", f"No file {filename!r} in the web form.")
    packed = folder / f"{filename}.gz"
    if "gzip" in request.headers.get("Accept-Encoding", "") and packed.is_file():
        # Built next to each asset by vite (level 9): the bytes a phone on 2G actually waits for.
        response = send_from_directory(folder, f"{filename}.gz", max_age=None)
        response.mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_from_directory(folder, filename, max_age=None)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/")
@access(PUBLIC)
def shell():
    """The app's page; the device token never reaches it in a URL (the QR's code is in the #fragment)."""
    return _send("index.html", cache="no-cache")


@bp.get("/sw.js")
@access(PUBLIC)
def service_worker():
    """The service worker: always revalidated so a new build reaches phones on their next visit online."""
    response = _send("sw.js", cache="no-cache")
    response.headers["Service-Worker-Allowed"] = "/collect/"
    return response


@bp.get("/assets/<path:filename>")
@access(PUBLIC)
def asset(filename: str):
    """A built asset: its name carries its content hash, so it is cached for good."""
    if safe_join("assets", filename) is None:
        raise ApiError("not-found", f"No asset {filename!r} in the web form.")
    return _send(f"assets/{filename}", cache="public, max-age=31536000, immutable")


@bp.get("/manifest.webmanifest")
@access(PUBLIC)
def manifest():
    """The web manifest that makes the app installable."""
    response = _send("manifest.webmanifest", cache="no-cache")
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/icon.svg")
@access(PUBLIC)
def icon():
    """The app's icon."""
    return _send("icon.svg", cache="no-cache")
