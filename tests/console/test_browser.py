"""The console in headless chromium (Debian's, driven by Playwright) against a server on 127.0.0.1, as a
coordinator and then an admin; phone-size and desktop screenshots of each page go to
``tests/web/screenshots/console-*.png`` (or ``FERRY_SCREENSHOT_DIR``)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import openpyxl
import pytest
from playwright.sync_api import expect

from server.accounts import app_users
from tests.browsers import launched
from tests.conftest import shared_path
from tests.console.test_conflicts import _concurrent
from tests.live_server import live_server
from tests.web.conftest import PASSWORD
from tests.web.test_browser import MIN_PNG_BYTES
from tests.web.test_browser import SCREENSHOTS

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def browser():
    with launched("the console's browser tests") as chromium:
        yield chromium


def _shots(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        path = SCREENSHOTS / f"console-{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > MIN_PNG_BYTES / 4, path
    page.set_viewport_size(SIZES["desktop"])


def _sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/console/forms")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/forms$"))


def _decode_qr(png: bytes, tmp_path) -> str:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is not installed (Debian package zbar-tools; .ci/run installs it)")
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    out = subprocess.run([zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_coordinators_day_then_the_admins_audit(console, browser, tmp_path):
    a = console.district_a
    commune = console.interviews[a][0]["profile"]["commune"]
    with live_server(console.app) as url:
        context = browser.new_context(accept_downloads=True, locale="vi-VN")
        page = context.new_page()
        _sign_in(page, url, "coord-a")
        assert page.locator("html").get_attribute("lang") == "vi"

        # Forms: a broken real-world XLSForm shows its problems; a good one is published
        bad = shared_path("data", "xlsforms", "odk_unknown_type_INVALID.xlsx")
        page.set_input_files("#f-file", str(bad))
        page.click("form.stack button[type=submit]")
        expect(page.locator("#upload-problems")).to_contain_text("textX")
        _shots(page, "forms-problems")
        good = shared_path("data", "xlsforms", "ona_nested_repeats.xlsx")
        page.set_input_files("#f-file", str(good))
        page.click("form.stack button[type=submit]")
        expect(page.locator("#upload-result")).to_have_count(1)
        page.locator('tr[data-form="nested_repeats"] button[value="open"]').click()
        expect(page.locator('tr[data-form="nested_repeats"] td.state')).to_contain_text("đang mở")
        _shots(page, "forms")

        # Phones: a web-form device whose QR code decodes to the enrolment link with its code
        page.click("text=Điện thoại")
        page.select_option("#f-enum", "enum-a")
        page.fill("#f-label", "Máy 7")
        page.click("form.stack button[type=submit]")
        code = page.locator("#enrolment-code").inner_text().strip()
        decoded = _decode_qr(page.locator("#enrolment-qr svg").screenshot(), tmp_path)
        assert decoded == f"{url}/collect/#code={code}"
        _shots(page, "phones")

        # Phones: an ODK Collect app user whose settings QR code decodes to Collect's settings
        page.select_option("#a-enum", "enum-a")
        page.fill("#a-name", "Cái Khế Collect 1")
        page.check("#a-form-awareness")
        page.click("#new-app-user button[type=submit]")
        payload = _decode_qr(page.locator("#collect-qr svg").screenshot(), tmp_path)
        settings = app_users.read_settings_payload(payload)
        server_url = settings["general"]["server_url"]
        assert re.fullmatch(re.escape(url) + r"/v1/key/[A-Za-z0-9_-]{40,}/projects/1", server_url)
        assert server_url == page.locator("#collect-url").inner_text().strip()
        assert settings["general"]["form_update_mode"] == "match_exactly"
        assert settings["general"]["autosend"] == "wifi_and_cellular" and settings["admin"] == {}
        expect(page.locator("#app-users tbody tr", has_text="Cái Khế Collect 1")).to_have_count(1)
        _shots(page, "phones-app-user")

        # Assignments: a commune quota set on the page reaches the device through sync
        page.goto(f"{url}/console/assignments?enumerator=enum-a&round=2017")
        page.fill(f"#q-{commune}", "9")
        page.click("text=Lưu")
        expect(page.locator(".notice")).to_have_count(1)
        pulled = console.pull("enum-a")
        quotas = [c["d"]["quota"] for b in pulled["buckets"].values() for c in b["changes"]
                  if c.get("d") and c["d"].get("commune") == commune]
        assert quotas == [9]
        _shots(page, "assignments")

        # Progress moves after a push
        page.goto(f"{url}/console/progress?round=2017")
        cell = page.locator(f'#progress-communes tr[data-key="{commune}"] td.received')
        assert cell.inner_text() == "0"
        assert console.push("enum-a", console.interviews[a][0])["status"] == "created"
        page.reload()
        assert cell.inner_text() == "1"
        assert page.locator("figure.chart svg polyline").count() == 1
        _shots(page, "progress")

        # Submissions: listed, filtered, with the detail in the form's labels
        page.goto(f"{url}/console/submissions?form=awareness")
        page.locator("#submissions tbody a").first.click()
        expect(page.locator("#answers")).to_have_count(1)
        _shots(page, "submission")
        page.goto(f"{url}/console/submissions")
        _shots(page, "submissions")

        # Review: a held submission's reason beside its answer, corrected into a new revision
        answers = console.interviews[a][1]
        held = console.push("enum-a", {**answers, "profile": {**answers["profile"], "age": 7}})
        assert held["status"] == "quarantined"
        page.goto(f"{url}/console/review")
        _shots(page, "review")
        page.locator("#quarantine a").first.click()
        expect(page.locator("tr.flagged code", has_text="/profile/age")).to_have_count(1)
        _shots(page, "review-item")
        page.fill("#f-note", "tuổi nhập nhầm")
        page.fill("#f-answers", json.dumps(answers, ensure_ascii=False))
        page.click('button[value="correct"]')
        expect(page.locator("#outcome")).to_have_count(1)
        page.goto(f"{url}/console/submissions/{held['sub']}")
        assert "tuổi nhập nhầm" in page.locator("#revisions").inner_text()

        # Conflicts: both sides in words, then keep ours with a note
        _, key, _, _ = _concurrent(console)
        page.goto(f"{url}/console/review")
        page.locator(f'tr[data-conflict="{key}"] a', has_text="Xử lý").click()
        expect(page.locator("#differences")).to_contain_text("/profile/age")
        _shots(page, "conflict")
        page.fill("#f-note", "hỏi lại người trả lời")
        page.click('button[value="keep_ours"]')
        expect(page.locator("#outcome")).to_have_count(1)
        expect(page.locator("#resolution")).to_have_count(1)

        # Exports: a form with repeats as XLSX, opened with openpyxl
        page.goto(f"{url}/console/exports")
        _shots(page, "exports")
        with page.expect_download() as download:
            page.locator('a[href*="/console/exports/nested_repeats.xlsx?labels=codes"]').click()
        book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True)
        assert book.sheetnames[0] == "submissions" and len(book.sheetnames) > 1
        context.close()

        # The admin reads in the audit log what the coordinator just did
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        _sign_in(page, url, "c-admin")
        page.goto(f"{url}/console/audit?lang=en&user=coord-a")
        log = page.locator("#audit").inner_text()
        for action in ("user.login", "form.import", "form.state", "device.create", "app-user.create",
                       "assignment.replace", "quarantine.correct", "conflict.keep_ours", "export.raw"):
            assert action in log, action
        _shots(page, "audit")
        context.close()
