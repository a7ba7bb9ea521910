"""Default settings; the instance folder's ``config.py`` and ``FERRY_*`` variables override them."""

import os
import secrets

from server.sync import runtime as sync_runtime

MiB = 1024 * 1024


def defaults(instance_path: str) -> dict:
    """Return the default settings for an app whose instance folder is ``instance_path``."""
    return {
        # Signs the browser session cookie. None: generated once and kept in the instance folder
        # (see ensure_secret_key); instance/config.py or FERRY_SECRET_KEY override it.
        "SECRET_KEY": None,
        # Embedded SQLite in the instance folder; FERRY_DATABASE_URL selects PostgreSQL.
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "ferry.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Request bodies above this are refused with 413 before they are read.
        "MAX_CONTENT_LENGTH": 10 * MiB,
        # Boundary files for the map (`places boundaries load`, the console): bytes and positions at most.
        "BOUNDARY_MAX_BYTES": 5 * MiB,
        "BOUNDARY_MAX_POSITIONS": 200_000,
        # Survey rounds created by `flask init`: the 2017 baseline and yearly follow-ups.
        "ROUNDS": [2017, 2018, 2019, 2020],
        # Report cells from fewer respondents are withheld from planners.
        "REPORT_MIN_CELL": 10,
        # The unit the DOCX reports go out under (letterhead, signer, recipients): None is the Department of
        # Information and Communications (analysis.report_docx.DEFAULT_UNIT, whose shape an override takes).
        "REPORT_UNIT": None,
        # Failed sign-ins (the /login page and /api/v1/auth/token together) allowed per client address
        # and per user name before 429 with Retry-After; successful ones do not count. Argon2 already
        # makes each guess slow; this stops a patient guesser. RATELIMIT_STORAGE_URI shares the counts
        # between processes (default: each process counts its own).
        "SIGN_IN_LIMIT_PER_ADDRESS": "10 per minute; 100 per day",
        "SIGN_IN_LIMIT_PER_USER": "30 per hour",
        # failures per (user name, address); an address where the user signed in lately is exempt
        # from the per-user limit above for this many days, so no stranger can lock the owner out
        "SIGN_IN_LIMIT_PER_USER_ADDRESS": "10 per hour",
        "SIGN_IN_KNOWN_ADDRESS_DAYS": 30,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Trusted reverse proxies in front of Ferry (0: none). Behind one, set 1, or every client would
        # share the proxy's address, and its sign-in limit.
        "PROXY_HOPS": 0,
        # Lifetime of a user's bearer token from /api/v1/auth/token, in hours.
        "USER_TOKEN_HOURS": 12,
        # Browser sessions of the /reports/ pages: absolute lifetime in hours, and the cookie's flags.
        # Set FERRY_SESSION_COOKIE_SECURE=true when the server is reached over HTTPS.
        "SESSION_HOURS": 8,
        "SESSION_COOKIE_NAME": "ferry_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "SESSION_REFRESH_EACH_REQUEST": False,
        # CSRF tokens (Flask-WTF) are checked on the pages' form posts only, never on the bearer-token
        # API; a token lives as long as the session it is bound to.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        # The address phones reach this server at: ODK Collect app users' server URLs start with it.
        "PUBLIC_URL": "http://127.0.0.1:5000",
        # The project name ODK Collect shows for a phone set up by QR code.
        "PROJECT_NAME": "Ferry",
        # Lifetime of a one-time device enrolment code, in hours.
        "ENROLMENT_CODE_HOURS": 72,
        # A device that lost the answer to its enrolment may retry with the same code and the same
        # installation id for this long and get the same answer (docs/protocol.md step 2).
        "ENROLMENT_RETRY_MINUTES": 15,
        "JSON_SORT_KEYS": False,
        **sync_runtime.DEFAULTS,
        # Interviews in the demo season `flask demo` loads (plus the outreach log).
        "DEMO_INTERVIEWS": 8000,
        # Attachments (photos, voice notes): largest accepted, largest chunk per PATCH, accepted types.
        "BLOB_MAX_BYTES": 20 * MiB,
        "BLOB_CHUNK_BYTES": 256 * 1024,
        "BLOB_CONTENT_TYPES": ["image/jpeg", "image/png", "audio/*", "application/pdf"],
    }


SECRET_KEY_FILE = "secret_key"


def ensure_secret_key(instance_path: str) -> str:
    """Return the instance folder's secret key, generating and saving it (mode 0600) the first time.

    Several workers may start at once: the key is written to a temporary file and linked into
    place, so every worker reads the same complete key.
    """
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker won the race; use its key
        finally:
            os.unlink(tmp)
    with open(path, encoding="ascii") as fh:
        key = fh.read().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds a secret key shorter than 32 characters; delete it to regenerate")
    return key
