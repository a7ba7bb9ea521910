"""The outreach-plan pages in headless chromium against a server on 127.0.0.1: a planner proposes, edits and
approves a plan (Vietnamese), a coordinator reads their district's part (English); screenshots of each page
go to ``tests/web/screenshots/console-outreach-*.png``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.console import test_browser as console_browser
from tests.console.outreach_site import ONE_DISTRICT
from tests.console.outreach_site import drop_site
from tests.console.outreach_site import make_site
from tests.console.test_browser import _shots
from tests.live_server import live_server
from tests.web.conftest import PASSWORD
from tests.web.conftest import sign_in

browser = console_browser.browser  # the console's fixture: chromium, launched per test


@pytest.fixture(scope="module")
def site(migrated_database, tmp_path_factory):
    app, url = make_site(migrated_database, tmp_path_factory.mktemp("outreach-browser"))
    yield app
    drop_site(app, url)


def _sign_in(page, url: str, username: str, lang: str) -> None:
    page.goto(f"{url}/console/outreach-plans?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/outreach-plans(\?.*)?$"))


def test_a_planner_proposes_edits_and_approves_then_a_coordinator_reads_their_part(site, browser):
    with live_server(site) as url:
        context = browser.new_context(locale="vi-VN")
        page = context.new_page()
        _sign_in(page, url, "web-planner", "vi")
        assert page.locator("nav.console a[aria-current=page]").inner_text() == "Kế hoạch truyền thông"
        page.fill("#o-year", "2019")
        page.select_option("#o-round", "2018")
        page.click("form.choices button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/outreach-plans/2019$"))
        rows = page.locator("#plan-rows tbody tr")
        assert rows.count() > 9 and "bản nháp" in page.locator("#plan-status").inner_text()
        _shots(page, "outreach-draft")

        # change the first row's channel to commune meetings: the table says so
        first = rows.first.get_attribute("data-row")
        page.click(f"#edit-{first} summary")
        page.select_option(f"#r{first}-channel", "commune_meeting")
        page.fill(f"#r{first}-note", "Họp dân ở ấp xa")
        page.click(f"#edit-{first} form.stack button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/outreach-plans/2019$"))
        changed = page.locator(f"#plan-rows tr[data-row='{first}']")
        assert "Họp tổ dân phố, ấp, xã" in changed.inner_text() and "Họp dân ở ấp xa" in changed.inner_text()

        # a commune outside the district is refused, pointing at the field, and nothing is added
        before = rows.count()
        page.select_option("#new-district", "916")
        page.fill("#new-communes", "31222")
        page.click("#add-row button[type=submit]")
        expect(page.locator("#refused")).to_contain_text("/communes")
        page.wait_for_load_state()
        assert page.locator("#plan-rows tbody tr").count() == before

        page.click("#approve button[type=submit]")
        page.wait_for_url(re.compile(r".*/console/outreach-plans/2019$"))
        assert "cán bộ kế hoạch" in page.locator("#approved").inner_text()
        assert page.locator("#add-row").count() == 0 and page.locator("details.edit-row").count() == 0
        assert page.locator("#plan-done").count() == 1  # planned beside done (nothing logged for 2019 yet)
        _shots(page, "outreach-approved")
        context.close()

        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        _sign_in(page, url, "web-coordinator", "en")
        page.click("#plans a:text('2019')")
        page.wait_for_url(re.compile(r".*/console/outreach-plans/2019$"))
        districts = {page.locator("#plan-rows tbody tr").nth(i).get_attribute("data-district")
                     for i in range(page.locator("#plan-rows tbody tr").count())}
        assert districts == {ONE_DISTRICT}
        assert "Approved on" in page.locator("#approved").inner_text()
        assert page.locator("form.choices").count() == 0  # coordinators do not propose a city's plan
        _shots(page, "outreach-coordinator")
        context.close()


def test_other_roles_are_refused_the_pages(site):
    for role in ("web-analyst", "web-enumerator"):
        client = site.test_client()
        assert sign_in(client, role).status_code == 303
        assert client.get("/console/outreach-plans").status_code == 403
