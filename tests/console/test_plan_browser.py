"""Round plans in headless chromium against a server on 127.0.0.1: a planner proposes, edits (a drawn
commune cannot be dropped; a take and the capacity can change) and approves; a coordinator cannot approve
a city-wide plan; the approved plan's progress shows on the coordinator's progress page. Screenshots go to
``tests/web/screenshots/console-plan-*.png`` (or ``FERRY_SCREENSHOT_DIR``)."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.extensions import db
from server.models import Assignment
from server.models import Round
from tests.console.test_browser import _shots
from tests.console.test_browser import browser  # noqa: F401 - the chromium fixture
from tests.live_server import live_server
from tests.plan_site import PASSWORD
from tests.plan_site import build


def _sign_in(page, url: str, username: str, path: str) -> None:
    page.goto(f"{url}{path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(f".*{re.escape(path)}$"))


def _takes(page) -> dict[str, int]:
    rows = page.locator("#plan-communes tbody tr")
    return {rows.nth(i).get_attribute("data-key"): int(rows.nth(i).locator("input.take").input_value())
            for i in range(rows.count())}


def test_a_planner_proposes_edits_and_approves_and_the_coordinator_sees_progress(app, browser):  # noqa: F811
    site = build(app)
    with live_server(app) as url:
        context = browser.new_context(locale="vi-VN")
        page = context.new_page()
        _sign_in(page, url, "p-planner", "/console/plans")
        assert page.locator("nav.console a", has_text="Điện thoại").count() == 0  # a planner's console
        page.fill("#f-year", "2019")
        page.fill("#f-communes", "2")
        page.click("#propose button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/plans/\d+$"))
        plan_url = page.url
        takes = _takes(page)
        assert 0 < len(takes) <= 2 * len(site.districts)
        assert page.locator("#plan-communes td.pi").first.inner_text().strip() not in ("", "–")
        assert page.locator("#plan-gain tbody tr[data-place=city]").count() == 1
        _shots(page, "plan-proposed")

        # a drawn commune cannot be dropped: the page says why and nothing changes
        first = next(iter(takes))
        page.fill(f"#t-{first}", "0")
        page.click("#save-plan")
        assert "cannot be dropped" in page.locator("#plan-error").inner_text()
        assert page.locator("#keep-drawn").is_visible()
        assert _takes(page) == takes
        _shots(page, "plan-refused")

        # a take and then the capacity change; the plan is proposed again with its seed
        page.fill(f"#t-{first}", "31")
        page.click("#save-plan")
        page.wait_for_url(re.compile(r".*saved=edit$"))
        assert _takes(page)[first] == 31
        assert sum(_takes(page).values()) == sum(takes.values())  # the budget is kept
        page.fill("#f-communes", "3")
        page.click("#save-plan")
        page.wait_for_url(re.compile(r".*saved=edit$"))
        assert len(_takes(page)) > len(takes)
        code = site.districts[0]  # one district's team can visit one commune only
        page.fill(f"#c-{code}", "1")
        page.click("#save-plan")
        page.wait_for_url(re.compile(r".*saved=edit$"))
        assert page.locator(f'#plan-districts tr[data-district="{code}"] .sub').inner_text() == "(1)"
        assert page.locator("#f-communes").input_value() == ""  # capacities now differ by district

        # a coordinator of one district may not approve a city-wide plan
        other = browser.new_context(locale="en-GB").new_page()
        _sign_in(other, url, "coord-a", "/console/forms")
        other.goto(plan_url + "?lang=en")
        assert other.locator("#approve").count() == 0
        assert "wholly in their districts" in other.locator("main").inner_text()

        # the planner approves: the assignments are made
        page.click("#approve button[type=submit]")
        page.wait_for_url(re.compile(r".*saved=approve$"))
        assert page.locator("#plan-status").inner_text().strip() == "đã duyệt"
        approved = _shown_takes(page)
        _shots(page, "plan-approved")
        with app.app_context():
            assigned = {a.commune.key: a.quota for a in db.session.scalars(
                select(Assignment).join(Round).where(Round.year == 2019))}
        assert assigned == approved

        # the coordinator's progress page shows their district's part of the plan
        other.goto(f"{url}/console/progress?round=2019")
        rows = other.locator("#progress-plan tbody tr")
        mine = {k for k in approved if other.locator(f'#progress-plan tr[data-key="{k}"]').count()}
        assert rows.count() == len(mine) > 0
        planned = {k: other.locator(f'#progress-plan tr[data-key="{k}"] td.planned').inner_text()
                   for k in mine}
        assert planned == {k: str(approved[k]) for k in mine}
        _shots(other, "plan-progress")


def _shown_takes(page) -> dict[str, int]:
    rows = page.locator("#plan-communes tbody tr")
    return {rows.nth(i).get_attribute("data-key"): int(rows.nth(i).locator(".take").inner_text())
            for i in range(rows.count())}
