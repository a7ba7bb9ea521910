"""The boundary map in a real browser, at phone and desktop size: drawn, inside the screen, attributed.

Same chromium and live server as ``test_browser.py``; screenshots go to the same folder.
"""

from __future__ import annotations

import pytest

from tests.web.test_boundary_maps import clear_boundaries
from tests.web.test_boundary_maps import load_boundaries
from tests.web.test_browser import DESKTOP
from tests.web.test_browser import PHONE
from tests.web.test_browser import _screenshot
from tests.web.test_browser import _sign_in
from tests.web.test_browser import browser  # noqa: F401 - the fixture
from tests.web.test_browser import server  # noqa: F401 - the fixture

PAGES = {"priorities": "/reports/priorities", "districts": "/reports/districts", "full": "/reports/full"}


@pytest.fixture(scope="module")
def boundaries_loaded(site):
    load_boundaries(site.app)
    yield
    clear_boundaries(site.app)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_boundary_map_at_phone_and_desktop_size(browser, server, boundaries_loaded, size):  # noqa: F811
    viewport = PHONE if size == "phone" else DESKTOP
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    # the full report builds the whole analysis on request: past Playwright's 30 s on a busy shared machine
    page.set_default_navigation_timeout(120_000)
    try:
        page.goto(server + "/login")
        _sign_in(page, "planner")
        for name, path in PAGES.items():
            page.goto(server + path)
            svg = page.locator("svg.boundary-map")
            assert svg.count() == 1, name
            svg.scroll_into_view_if_needed()
            box = svg.bounding_box()
            # drawn at a readable size and inside the screen (no sideways scrolling)
            assert 300 <= box["width"] <= viewport["width"] and box["height"] > 250, (name, box)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
            assert page.locator("path.place").count() == (9 if name == "districts" else 85), name
            assert page.get_by_text("Synthetic test squares", exact=False).first.is_visible(), name
            _screenshot(page, f"{name}-boundary-map-{size}-vi.png")
    finally:
        context.close()
    assert [url for url in requests if not url.startswith(server + "/")] == []
