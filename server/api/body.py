"""Reading request bodies, and naming the files a response downloads."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import request
from werkzeug.http import dump_options_header

from server.problems import ApiError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def json_body() -> dict:
    """Return the request's JSON object; a missing or non-object body is a problem."""
    body = request.get_json()
    if not isinstance(body, dict):
        raise ApiError("validation-failed", "The body must be a JSON object.",
                       errors=[{"pointer": "", "detail": "expected an object"}])
    return body


def attachment(filename: str, *, inline: bool = False) -> str:
    """Return a ``Content-Disposition`` value that downloads as ``filename``, whatever its script
    (``inline``: shown in the browser, under that name if saved).

    RFC 6266 / 5987, as werkzeug's ``send_file`` writes it: an ASCII ``filename`` for old clients and
    ``filename*=UTF-8''...`` (percent-encoded) with the real name, so a Vietnamese name never reaches a
    server (gunicorn refuses header values beyond Latin-1) or a browser undecodable. Control characters
    are dropped: a name must not end the header.
    """
    name = _CONTROL.sub("", filename).strip() or "download"
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        spelled = name.replace("đ", "d").replace("Đ", "D")  # the one Vietnamese letter NFKD keeps whole
        simple = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii").strip()
        options = {"filename": simple or "download", "filename*": "UTF-8''" + quote(name, safe="!#$&+^`|")}
    else:
        options = {"filename": name}
    return dump_options_header("inline" if inline else "attachment", options)
