"""Default settings; the instance folder's ``config.py`` and ``FERRY_*`` variables override them."""

import os

from . import sync_http

MiB = 1024 * 1024


def defaults(instance_path: str) -> dict:
    """Return the default settings for an app whose instance folder is ``instance_path``."""
    return {
        # Overridden in production by instance/config.py or FERRY_SECRET_KEY; `flask init` writes one.
        "SECRET_KEY": "dev",
        # Embedded SQLite in the instance folder; FERRY_DATABASE_URL selects PostgreSQL.
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "ferry.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # Request bodies above this are refused with 413 before they are read.
        "MAX_CONTENT_LENGTH": 10 * MiB,
        # Survey rounds created by `flask init`: the 2017 baseline and yearly follow-ups.
        "ROUNDS": [2017, 2018, 2019, 2020],
        # Report cells from fewer respondents are withheld from planners.
        "REPORT_MIN_CELL": 10,
        # Lifetime of a user's bearer token from /api/v1/auth/token, in hours.
        "USER_TOKEN_HOURS": 12,
        # Lifetime of a one-time device enrolment code, in hours.
        "ENROLMENT_CODE_HOURS": 72,
        "JSON_SORT_KEYS": False,
        **sync_http.DEFAULTS,
        # Interviews in the demo season `flask demo` loads (plus the outreach log).
        "DEMO_INTERVIEWS": 8000,
        # Attachments (photos, voice notes): largest accepted, largest chunk per PATCH, accepted types.
        "BLOB_MAX_BYTES": 20 * MiB,
        "BLOB_CHUNK_BYTES": 256 * 1024,
        "BLOB_CONTENT_TYPES": ["image/jpeg", "image/png", "audio/*", "application/pdf"],
    }
