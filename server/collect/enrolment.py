"""The link a coordinator shows a volunteer to enrol the web form (``/collect/#code=<code>``), as a QR PNG.

The code travels in the URL's fragment, which browsers never send to a server or put in a Referer, and
the web form removes it from the address bar and the history as soon as it has used it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import segno


def enrolment_link(base_url: str, code: str) -> str:
    """Return the link that opens the web form and enrols it with ``code``."""
    return f"{base_url.rstrip('/')}/collect/#code={quote(code, safe='')}"


def write_qr_png(link: str, path: str | Path, *, scale: int = 8) -> Path:
    """Write ``link`` as a QR code PNG (error correction M survives a worn printout); return the path."""
    path = Path(path)
    segno.make(link, error="m", boost_error=False).save(str(path), kind="png", scale=scale, border=4)
    return path
