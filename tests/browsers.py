"""Debian's chromium for the browser tests (Playwright cannot download a browser here).

Without chromium a browser test skips and says why; under ``CI=true`` it fails instead, because CI must
run it (``.ci/run`` installs the package).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def chromium_path(what: str = "the browser tests") -> str:
    """The chromium executable, or skip (fail under CI) saying that ``what`` cannot run."""
    path = shutil.which(CHROMIUM)
    if path is None:
        reason = (f"{CHROMIUM} is not installed (Debian package 'chromium'; .ci/run installs it): "
                  f"{what} cannot run")
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " and CI must run them")
        pytest.skip(reason)
    return path


@contextmanager
def launched(what: str = "the browser tests"):
    """Headless chromium, closed on the way out."""
    executable = chromium_path(what)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
