"""The report pages in a real browser: Debian's chromium driven by Playwright, against a server on 127.0.0.1.

Screenshots of the priorities page and the overview are saved to ``FERRY_SCREENSHOT_DIR`` (read when
this module is imported, before the tests clear ``FERRY_*`` variables) or ``tests/web/screenshots/``.
Without chromium these tests are skipped and say why; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browsers import launched
from tests.live_server import live_server
from tests.web.conftest import MIN_CELL
from tests.web.conftest import PASSWORD
from tests.web.conftest import Site

SCREENSHOTS = Path(os.environ.get("FERRY_SCREENSHOT_DIR") or Path(__file__).parent / "screenshots")
#: A full-page PNG of a report page is far larger than this; a blank or failed capture is not.
MIN_PNG_BYTES = 20_000


@pytest.fixture(scope="module")
def browser():
    """Headless chromium, launched once for the module."""
    with launched("the browser tests of the /reports/ pages") as chromium:
        yield chromium


@pytest.fixture(scope="module")
def server(site):
    """The seeded site served on a free loopback port."""
    with live_server(site.app) as url:
        yield url


@pytest.fixture
def visit(browser, server, request):
    """A fresh browser context (no cookies); every request any page makes is recorded and checked."""
    context = browser.new_context(accept_downloads=True, locale="vi-VN")
    requests: list[str] = []
    context.on("request", lambda sent: requests.append(sent.url))
    page = context.new_page()
    yield page
    context.close()
    if not hasattr(request.node, "report_call"):
        return  # the test's body never ran (its setup failed, and said why): no requests to check
    assert requests, "the browser made no request"
    away = [url for url in requests if not url.startswith(server + "/")]
    assert away == [], f"requests left 127.0.0.1: {away}"


def _sign_in(page, role: str) -> None:
    page.get_by_label(re.compile("Tên đăng nhập|User name")).fill(Site.username(role))
    page.get_by_label(re.compile("Mật khẩu|Password")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Đăng nhập|Sign in")).click()
    page.wait_for_url(lambda url: "/login" not in url)  # and for the page signed in to, loaded


def _screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > MIN_PNG_BYTES, path.stat().st_size
    return path


def test_a_planner_reads_the_priorities_in_both_languages_and_downloads_them(visit, server):
    page = visit
    page.goto(server + "/reports/priorities")
    assert page.url.startswith(server + "/login?next=")
    _sign_in(page, "planner")
    assert page.url == server + "/reports/priorities"
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Nơi cần ưu tiên, vòng 2018"
    assert page.get_by_role("heading", name=re.compile("Mức ưu tiên: Cao nhất")).count() == 1
    assert page.locator("td.reasons").first.inner_text().startswith(("nông thôn", "thành thị"))
    withheld = page.locator("td.withheld:visible")  # the medium and lower tiers are folded (<details>)
    assert withheld.count() > 0 and set(withheld.all_inner_texts()) == {"–"}
    assert page.locator("details.tier:not([open])").count() >= 1
    assert f"dưới {MIN_CELL}" in page.content()
    _screenshot(page, "priorities-planner-vi.png")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Priorities, round 2018")
    expect(page.get_by_role("heading", name=re.compile("Tier: Highest"))).to_have_count(1)
    assert f"fewer than {MIN_CELL} respondents are withheld" in page.locator("footer").inner_text()
    _screenshot(page, "priorities-planner-en.png")

    with page.expect_download() as info:  # the table as shown, in the page's language
        page.get_by_role("link", name="CSV").first.click()
    download = info.value
    assert download.suggested_filename == "ferry-priorities-2018-commune-en.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == 85
    assert {"Tier", "Chance of being among the 10 most in need", "Reasons"} <= set(rows[0])
    assert any(r["Knowledge"] == "–" and r["Respondents"] == f"under {MIN_CELL}" for r in rows)

    # The choice of level works without JavaScript: a plain GET form.
    page.get_by_role("combobox", name="Level").select_option("district")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r".*level=district"))
    expect(page.locator("td.reasons")).to_have_count(9)


def test_the_overview_and_sign_out(visit, server):
    page = visit
    page.goto(server + "/reports/")
    _sign_in(page, "analyst")
    assert page.url == server + "/reports/"
    assert page.get_by_role("table").first.locator("caption").inner_text().startswith("Cần Thơ")
    assert page.locator("td.withheld").count() == 0  # analysts see every cell
    page.get_by_role("combobox", name="Ngôn ngữ").select_option("en")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview of round 2018")
    _screenshot(page, "overview-analyst-en.png")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(server + "/login")
    expect(page.locator("body")).to_contain_text("You have signed out.")
    page.goto(server + "/reports/districts")
    assert page.url.startswith(server + "/login?next=")


def test_the_full_report_opens_from_the_overview_with_its_charts(visit, server):
    page = visit
    page.goto(server + "/reports/?lang=en")
    _sign_in(page, "planner")
    page.get_by_role("navigation").get_by_role("link", name="Full report").click()
    expect(page).to_have_url(server + "/reports/full?round=2018")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    charts = page.locator("svg")
    expect(charts).to_have_count(5)  # four charts and the tier map
    page.wait_for_load_state()
    # the charts are drawn: each has a visible size in the laid-out page
    assert all(box["width"] > 200 and box["height"] > 100
               for box in (charts.nth(i).bounding_box() for i in range(5)))
    assert "withheld" in page.content()
    _screenshot(page, "full-report-planner-en.png")


PAGES = {"overview": "/reports/", "districts": "/reports/districts", "groups": "/reports/groups",
         "change": "/reports/change", "priorities": "/reports/priorities", "channels": "/reports/channels",
         "yearly": "/reports/yearly"}
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_at_phone_and_desktop_size(browser, server, size):
    """At 360×640 the tables reflow into labelled cards (nothing wider than the screen); screenshots."""
    viewport = PHONE if size == "phone" else DESKTOP
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    try:
        page.goto(server + "/login")
        _sign_in(page, "planner")
        heights = {}
        for name, path in PAGES.items():
            page.goto(server + path)
            assert page.locator("h1").count() == 1, name
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (name, width)  # no sideways scrolling
            heights[name] = page.evaluate("document.documentElement.scrollHeight")
            _screenshot(page, f"{name}-{size}-vi.png")
            if size == "phone":
                cell = page.locator("table.cards td[data-label]").first
                assert cell.evaluate("e => getComputedStyle(e).display") == "block", name
                head = page.locator("table.cards thead").first.bounding_box()
                assert head["x"] + head["width"] < 0, name  # the header row is off-screen (read by labels)
        if size == "phone":
            # the planner's page fits in a few screens per tier, not 67,000 px of one-word lines
            print("phone page heights (px):", heights)
            assert heights["priorities"] < 40_000, heights
            page.goto(server + PAGES["districts"])
            first = page.locator("table.cards td[data-label]").first.get_attribute("data-label")
            assert first == "Vòng khảo sát 2018", first  # the latest round first
    finally:
        context.close()
    assert [url for url in requests if not url.startswith(server + "/")] == []


def test_an_enumerator_gets_a_403_page(visit, server):
    page = visit
    page.goto(server + "/login")
    _sign_in(page, "enumerator")
    response = page.goto(server + "/reports/priorities")
    assert response.status == 403
    assert response.headers["ferry-problem"] == "forbidden"
    assert page.locator("#problem-code").inner_text() == "forbidden"
    assert "Báo cáo dành cho cán bộ phân tích và cán bộ kế hoạch" in page.content()


def test_a_wrong_password_says_so(visit, server):
    page = visit
    page.goto(server + "/login?lang=en")
    page.get_by_label("User name").fill(Site.username("planner"))
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."
    assert page.get_by_label("User name").input_value() == Site.username("planner")


def test_without_chromium_the_tests_skip_but_ci_fails(monkeypatch):
    import tests.browsers as module

    monkeypatch.setattr(module, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="is not installed"):
        module.chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run them"):
        module.chromium_path()
