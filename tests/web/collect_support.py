"""What the web form's browser tests share: a server that can be stopped and restarted on its port,
the seeded site (forms, places, an enumerator with assignments, a published form with a repeat), and
helpers that answer ODK Web Forms' questions the way a person does (by the question's visible label).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server.collect.views import BUILD
from tests import browsers
from tests.xlsform_builder import xlsform

PHONE = {"width": 360, "height": 640}
SCREENSHOTS = Path(os.environ.get("FERRY_SCREENSHOT_DIR") or Path(__file__).parent / "screenshots")
USERNAME = "lan"

#: A small household form with a repeat (the awareness form has none): ages and sexes of the members.
HOUSEHOLD = xlsform([
    ("type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "required", "constraint"),
    ("select_one yes_no", "visited", "Hộ có người ở nhà không?", "Was anyone at home?", "yes", ""),
    ("begin_repeat", "members", "Thành viên", "Member", "", ""),
    ("integer", "member_age", "Tuổi thành viên", "Member's age", "yes", ". >= 0 and . <= 110"),
    ("select_one sex", "member_sex", "Giới tính thành viên", "Member's sex", "yes", ""),
    ("end_repeat", "", "", "", "", ""),
], choices=[
    ("list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)"),
    ("yes_no", "yes", "Có", "Yes"), ("yes_no", "no", "Không", "No"),
    ("sex", "female", "Nữ", "Female"), ("sex", "male", "Nam", "Male"),
], form_id="household", version="2026.1", title="Hộ gia đình")

#: A form with a photo question: the photo travels as a blob (docs/protocol.md step 9), not in the XML.
PHOTO = xlsform([
    ("type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "required"),
    ("text", "house", "Số nhà", "House number", "yes"),
    ("image", "photo", "Ảnh ngôi nhà", "Photo of the house", "yes"),
    ("image", "paper", "Ảnh giấy tờ", "Photo of a paper", ""),
], choices=[("list_name", "name", "label::Tiếng Việt (vi)", "label::English (en)")],
    form_id="photo", version="2026.1", title="Ảnh hộ gia đình")


def chromium_path() -> str:
    """Debian's chromium, or skip (fail under CI) saying why."""
    path = browsers.chromium_path("the web form's tests")
    if not (BUILD / "index.html").is_file():
        reason = "the web form is not built (make collect: npm ci and vite build)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " and CI must test it")
        pytest.skip(reason)
    return path


class Server:
    """The app on a fixed loopback port (the web form's origin, so its storage survives restarts)."""

    def __init__(self, app, *, wrap=None):
        self.app = wrap(app) if wrap else app
        self.port = None
        self._server = self._thread = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port or 0, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


class PushLog:
    """WSGI middleware recording the operation ids of every push through /api/v1/sync, and the answer."""

    def __init__(self):
        self.pushes: list[tuple[list[str], str]] = []

    def __call__(self, app):
        def logged(environ, start_response):
            if environ.get("PATH_INFO") != "/api/v1/sync":
                return app(environ, start_response)
            raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(raw)
            body = json.loads(gzip.decompress(raw) if environ.get("HTTP_CONTENT_ENCODING") == "gzip" else raw)
            ops = [op["id"] for op in body["push"]["ops"]]

            def recorded(status, headers, *args):
                self.pushes.append((ops, status.split()[0]))
                return start_response(status, headers, *args)

            return app(environ, recorded)

        return logged


def seed(app) -> None:
    """Places, rounds, the built-in forms, the household and photo forms, an enumerator with two communes."""
    from server.accounts import users as accounts
    from server.extensions import db
    from server.forms import registry as form_registry
    from server.models import reference
    from server.sync import assignments

    with app.app_context():
        reference.load_places(db.session)
        reference.ensure_rounds(db.session, app.config["ROUNDS"])
        form_registry.install_library(db.session)
        for book, name in ((HOUSEHOLD, "household.xlsx"), (PHOTO, "photo.xlsx")):
            version, _ = form_registry.import_xlsform(db.session, book, name)
            form_registry.publish(db.session, version.form.form_id, version.version)
        accounts.create_user(db.session, USERNAME, "correct horse battery", "enumerator")
        db.session.commit()
        assignments.replace_assignments(db.session, USERNAME, 2019, [
            {"commune": "31117", "quota": 40}, {"commune": "31120", "quota": 25}])
        db.session.commit()


# -- answering questions as a person does -------------------------------------------------------------
def question(page, label: str):
    """The question whose label reads exactly ``label``."""
    return page.locator(".question-container").filter(
        has=page.locator(".control-text label").get_by_text(label, exact=True))


def choose(page, label: str, *values: str) -> None:
    """Tick the option(s) with these values (radio buttons and checkboxes)."""
    for value in values:
        question(page, label).locator(f'label.value-option:has(input[value="{value}"])').click()


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in a drop-down question (appearance minimal, select_one_from_file)."""
    question(page, label).locator(".p-select-label").click()
    page.get_by_role("option", name=option, exact=True).click()


def type_number(page, label: str, value: int, *, nth: int = 0) -> None:
    """Type a number into an integer question, then leave the field (as a thumb does)."""
    field = question(page, label).nth(nth).locator("input")
    field.click()
    field.press("Control+A")
    field.press("Backspace")
    field.press_sequentially(str(value))  # PrimeVue's number field reads keys, not a pasted value
    field.press("Tab")


def send(page) -> None:
    """Press Ferry's Send under the form (the interview is queued only when every constraint holds)."""
    page.get_by_test_id("send").click()


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"collect-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
