"""The offline web form end to end, in Debian's chromium at phone size, against a real server on 127.0.0.1.

One enumerator's day: enrol by the QR link, go offline, fill three awareness interviews (a refusal along
the skip path, one with an age the constraint refuses and then corrected, a third) and a household
interview with a repeat, reload with no network (app and interviews still there), come back online,
sync; the server then holds each interview exactly once with the answers entered, and the same
``respondents`` row the JSON sync protocol and OpenRosa (ODK Collect) give for the same interview. A second
sync sends nothing; a sync while the server is down is retried later with nothing lost; a revoked device
keeps its outbox.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from forms import library
from tests.browsers import launched
from tests.web import collect_support as support
from tests.web.collect_support import choose
from tests.web.collect_support import pick
from tests.web.collect_support import question
from tests.web.collect_support import send
from tests.web.collect_support import shoot
from tests.web.collect_support import type_number

AWARENESS = library.load("awareness")
REFUSAL = {"round": "2019", "consent": "no"}
FULL = {
    "round": "2019", "consent": "yes",
    "profile": {"sex": "female", "age": 34, "marital": "married", "education": "primary",
                "occupation": "farming", "district": "916", "commune": "31117", "plan_away": "no",
                "plan_abroad": "yes"},
    "knowledge": {"heard": "yes", "sign_job_abroad": "true", "sign_marriage_broker": "true",
                  "sign_keep_papers": "false", "sign_debt": "dont_know", "form_forced_labour": "true",
                  "form_marriage": "true", "form_cross_border": "true", "form_organ": "true",
                  "form_adoption": "false", "form_legal_export": "false", "law_exists": "yes",
                  "law_victim": "true", "law_punish": "true", "hotline": "18001567", "hotline_free": "true",
                  "report_where": ["police", "hotline"], "day": "30_07", "respond": "check"},
    "risk": {"risk_broker": "no", "risk_approached": "no", "risk_papers": "no", "risk_debt": "yes",
             "risk_lost_contact": "no"},
    "exposure": {"heard_any": "yes", "channels": ["loudspeaker", "mobile_team"],
                 "channel_main": "mobile_team"},
}
SHORT_EXPOSURE = {"heard_any": "no"}
HOUSEHOLD = {"visited": "yes", "members": [{"member_age": 41, "member_sex": "female"},
                                           {"member_age": 9, "member_sex": "male"}]}
#: What the phone computes itself (times, calculations): kept, but not typed by the enumerator.
DEVICE_MADE = ("start", "end")
DROPDOWN_LABELS = {"district": "Quận Ninh Kiều", "commune": "Phường Cái Khế"}


def label(name: str) -> str:
    return AWARENESS.question(name).label["Tiếng Việt (vi)"]


def fill_awareness(page, answers: dict, *, wrong_age: int | None = None) -> None:
    """Answer the awareness form as ``answers`` says, question by question, in the form's order."""
    choose(page, label("round"), answers["round"])
    choose(page, label("consent"), answers["consent"])
    if answers["consent"] == "no":
        return
    for group in ("profile", "knowledge", "risk", "exposure"):
        for name, value in answers[group].items():
            if name == "age":
                type_number(page, label(name), wrong_age if wrong_age is not None else value)
            elif name in DROPDOWN_LABELS:
                pick(page, label(name), DROPDOWN_LABELS[name])
            elif isinstance(value, list):
                choose(page, label(name), *value)
            else:
                choose(page, label(name), value)


def open_form(page, form_id: str) -> None:
    home = page.locator("nav.tabs").get_by_role("button", name="Phỏng vấn", exact=True)
    if home.count():
        home.click()
    page.locator(f"button[data-form={form_id}]").click()
    page.wait_for_selector(".form-initialization-status.ready", state="attached", timeout=30_000)


def ready_offline(page) -> None:
    """Wait until every form on the phone says it can be filled with no network."""
    page.wait_for_function("""() => { const forms = [...document.querySelectorAll('button[data-form]')];
        return forms.length > 0 && forms.every((b) => b.dataset.offline === 'true'); }""", timeout=30_000)


def waiting(page) -> str:
    return page.get_by_test_id("waiting").first.inner_text()


def without_device_made(answers: dict) -> dict:
    out = {k: v for k, v in answers.items() if k not in DEVICE_MADE}
    if isinstance(out.get("knowledge"), dict):
        out["knowledge"] = {k: v for k, v in out["knowledge"].items() if k != "signs_correct"}
    return out


@pytest.fixture(scope="module")
def browser():
    support.chromium_path()  # skips (fails under CI) when the web form is not built
    with launched("the web form's tests") as chromium:
        yield chromium


@pytest.fixture
def site(app, places):
    support.seed(app)
    server = support.Server(app)
    yield server
    server.stop()


def enrol_by_qr(app, runner, server, tmp_path) -> str:
    """Run ``flask enroll-device --qr``; check the PNG holds the printed link; return the link."""
    import segno
    from PIL import Image

    png = tmp_path / "lan.png"
    result = runner.invoke(args=["enroll-device", support.USERNAME, "--label", "web", "--qr", str(png),
                                 "--url", server.url])
    assert result.exit_code == 0, result.output
    link = re.search(r"Web form link: (\S+)", result.output).group(1)
    assert re.fullmatch(re.escape(server.url) + r"/collect/#code=[A-Z0-9-]+", link), link
    expected = segno.make(link, error="m", boost_error=False).matrix
    image = Image.open(png).convert("L")
    scale, border = 8, 4
    read = [[image.getpixel(((x + border) * scale + scale // 2, (y + border) * scale + scale // 2)) < 128
             for x in range(len(expected))] for y in range(len(expected))]
    assert read == [[bool(cell) for cell in row] for row in expected], "the PNG does not encode the link"
    return link


def stored(app) -> dict:
    """Submission id -> (form, head answers) of everything the server holds."""
    from server.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT s.id, s.form_id, r.answers FROM submissions s "
            "JOIN submission_revisions r ON r.submission_id = s.id AND r.op_id = s.head")).all()
        db.session.remove()
    return {row[0]: (row[1], row[2] if isinstance(row[2], dict) else json.loads(row[2]))
            for row in rows}


def ledger_size(app) -> int:
    from server.extensions import db

    with app.app_context():
        size = db.session.execute(sa.text("SELECT count(*) FROM sync_ops")).scalar_one()
        db.session.remove()
    return size


def respondent_rows(app, subs) -> dict:
    from server.extensions import db
    from server.models.respondents import Respondent

    with app.app_context():
        rows = {r.submission_id: {c.name: getattr(r, c.name) for c in Respondent.__table__.columns
                                  if c.name not in ("submission_id", "seq")}
                for r in db.session.query(Respondent).filter(Respondent.submission_id.in_(list(subs)))}
        db.session.remove()
    return rows


def test_an_offline_day_of_interviews_reaches_the_server_once(app, runner, site, browser, tmp_path):
    link = enrol_by_qr(app, runner, site, tmp_path)
    context = browser.new_context(viewport=support.PHONE, locale="vi-VN", device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(link)
        page.wait_for_selector("button[data-form=awareness]", timeout=30_000)
        assert "#code" not in page.url, "the one-time code stays out of the address bar"
        assert "Cái Khế · 2019 · chỉ tiêu 40" in page.inner_text("body"), "the assignments were pulled"
        page.evaluate("navigator.serviceWorker.ready")
        page.reload()  # now controlled by the service worker, which cached the shell
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
        page.wait_for_selector("button[data-form=awareness]")

        ready_offline(page)
        context.set_offline(True)
        page.wait_for_selector(".net.off")

        # 1. A refusal: the skip logic hides every other question.
        open_form(page, "awareness")
        fill_awareness(page, REFUSAL)
        assert question(page, label("sex")).count() == 0
        assert page.get_by_text("Cuộc phỏng vấn kết thúc tại đây", exact=False).is_visible()
        send(page)
        page.wait_for_selector("text=1 phỏng vấn đang chờ gửi")

        # 2. An age the constraint refuses: shown, not saved; corrected, then saved.
        open_form(page, "awareness")
        fill_awareness(page, FULL, wrong_age=12)
        send(page)
        age_message = question(page, label("age")).locator(".validation-message")
        assert "15 đến 80" in age_message.inner_text()
        # Ferry's banner, in Vietnamese, names the question and gives the form's own message.
        banner = page.get_by_test_id("form-problems").inner_text()
        assert "1 câu hỏi cần sửa trước khi gửi" in banner and f"“{label('age')}”" in banner
        assert "15 đến 80" in banner and "question" not in banner.lower()
        question(page, label("age")).scroll_into_view_if_needed()
        shoot(page, "form-constraint")
        assert page.locator(".screen-form").count() == 1, "an invalid interview must not be saved"
        type_number(page, label("age"), FULL["profile"]["age"])
        send(page)
        page.wait_for_selector("text=2 phỏng vấn đang chờ gửi")

        # 3. A third awareness interview; 4. a household with two members (a repeat).
        third = {**FULL, "profile": {**FULL["profile"], "sex": "male", "age": 61},
                 "exposure": SHORT_EXPOSURE}
        open_form(page, "awareness")
        fill_awareness(page, third)
        send(page)
        page.wait_for_selector("text=3 phỏng vấn đang chờ gửi")
        open_form(page, "household")
        choose(page, "Hộ có người ở nhà không?", "yes")
        page.locator(".button-add-instance").click()
        for i, member in enumerate(HOUSEHOLD["members"]):
            type_number(page, "Tuổi thành viên", member["member_age"], nth=i)
            question(page, "Giới tính thành viên").nth(i).locator(
                f'label.value-option:has(input[value="{member["member_sex"]}"])').click()
        shoot(page, "form-repeat")
        send(page)
        page.wait_for_selector("text=4 phỏng vấn đang chờ gửi")

        # Reload with no network: the shell comes from the service worker, the outbox from IndexedDB.
        page.reload()
        page.wait_for_selector("text=4 phỏng vấn đang chờ gửi", timeout=20_000)
        page.get_by_role("button", name=re.compile("Hộp thư đi")).click()
        expect(page.get_by_test_id("interview")).to_have_count(4)
        shoot(page, "outbox-offline")
        assert stored(app) == {}, "nothing reached the server while offline"

        # Online again: the app syncs by itself.
        context.set_offline(False)
        page.get_by_role("button", name="Đồng bộ").click()
        page.wait_for_selector("text=0 phỏng vấn đang chờ gửi", timeout=30_000)
        shoot(page, "sync")
        held = stored(app)
        assert sorted(form for form, _ in held.values()) == ["awareness"] * 3 + ["household"]
        answers = [without_device_made(a) for form, a in held.values() if form == "awareness"]
        def canonical(answers):
            return json.dumps(answers, sort_keys=True)

        assert sorted(answers, key=canonical) == sorted([REFUSAL, FULL, third], key=canonical)
        household = next(a for form, a in held.values() if form == "household")
        assert without_device_made(household) == HOUSEHOLD
        assert all(a["start"] and a["end"] for form, a in held.values() if form == "awareness")

        # The same interviews through the JSON protocol give the same respondents rows.
        twins = push_json_twins(app, site, {sub: a for sub, (form, a) in held.items() if form == "awareness"})
        web_rows = respondent_rows(app, twins)
        json_rows = respondent_rows(app, twins.values())
        assert len(web_rows) == 3 and all(web_rows[sub] == json_rows[twin] for sub, twin in twins.items())
        # ... and the same instances sent by ODK Collect over OpenRosa (a new instanceID each) give them too.
        before = set(stored(app))
        collect_twins(app, site, sent_instances(page, "awareness"))
        openrosa_subs = set(stored(app)) - before
        assert len(openrosa_subs) == 3
        def rows_as_text(rows):
            return sorted(json.dumps(row, sort_keys=True, default=str) for row in rows.values())

        assert rows_as_text(respondent_rows(app, openrosa_subs)) == rows_as_text(web_rows)

        # A second sync sends nothing and stores nothing new.
        ledger = ledger_size(app)
        syncs: list[str] = []
        page.on("request", lambda r: syncs.append(r.url) if r.url.endswith("/api/v1/sync") else None)
        page.get_by_test_id("sync").click()
        page.wait_for_selector("text=Không có gì mới để gửi", timeout=20_000)
        assert syncs and ledger_size(app) == ledger, "a second sync must send no operation"
        assert len(stored(app)) == 4 + 3 + 3, "the web interviews, their JSON twins and their Collect twins"
        page.get_by_role("button", name=re.compile("Hộp thư đi")).click()
        expect(page.get_by_text("Đã nhận")).to_have_count(4)
        shoot(page, "outbox-sent")
        assert errors == []
    finally:
        context.close()


def push_json_twins(app, server, web: dict) -> dict:
    """Send each web interview's answers through the JSON protocol from a second device; web sub -> twin."""
    import datetime

    from server.accounts import users as accounts
    from server.extensions import db
    from sync.client import HttpTransport
    from sync.client import Outbox
    from sync.client import SyncClient
    from tests.web.collect_support import USERNAME

    with app.app_context():
        _, code = accounts.enroll_device(db.session, USERNAME, "python twin", datetime.timedelta(hours=1))
        db.session.commit()
    import tempfile

    client = SyncClient(Outbox(tempfile.mktemp(suffix=".sqlite")), HttpTransport(server.url, timeout=10))
    client.enrol(code)
    twins = {sub: client.create("awareness", AWARENESS.version, answers) for sub, answers in web.items()}
    counts = client.push()
    assert counts == {"created": 3}, counts
    return twins


def sent_instances(page, form_id: str) -> list[str]:
    """The instance XML of every operation of ``form_id`` in the phone's sent archive (IndexedDB)."""
    return page.evaluate("""async (formId) => {
        const db = await new Promise((ok, no) => {
            const request = indexedDB.open('ferry-collect');
            request.onsuccess = () => ok(request.result);
            request.onerror = () => no(request.error);
        });
        const entries = await new Promise((ok, no) => {
            const request = db.transaction('sent').objectStore('sent').getAll();
            request.onsuccess = () => ok(request.result);
            request.onerror = () => no(request.error);
        });
        db.close();
        return entries.filter((entry) => entry.op.form === formId).map((entry) => entry.op.xml);
    }""", form_id)


def collect_twins(app, server, instances: list[str]) -> None:
    """Send each instance as ODK Collect would (an app user over OpenRosa), under a new instanceID."""
    import uuid

    from tests.openrosa.collect import Collect
    from tests.openrosa.conftest import make_app_user

    phone = Collect(f"{server.url}/v1/key/{make_app_user(app, 'collect twin', ('awareness',))}/projects/1")
    for xml in instances:
        fresh = f"<instanceID>uuid:{uuid.uuid4()}</instanceID>"
        renamed = re.sub(r"<instanceID>[^<]*</instanceID>", fresh, xml)
        assert renamed != xml, "the instance names itself"
        answers = phone.send(renamed.encode("utf-8"))
        assert [a.status for a in answers] == [201], [(a.status, a.body[:300]) for a in answers]


def test_server_down_during_a_sync_is_retried_and_a_revoked_device_keeps_its_outbox(
        app, runner, site, browser, tmp_path):
    link = enrol_by_qr(app, runner, site, tmp_path)
    context = browser.new_context(viewport=support.PHONE, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(link)
        page.wait_for_selector("button[data-form=awareness]", timeout=30_000)
        page.evaluate("navigator.serviceWorker.ready")
        ready_offline(page)
        context.set_offline(True)
        open_form(page, "awareness")
        fill_awareness(page, REFUSAL)
        send(page)
        page.wait_for_selector("text=1 phỏng vấn đang chờ gửi")

        # The server stops; the phone is online and syncs: no answer, so it waits and retries by itself.
        site.stop()
        context.set_offline(False)
        page.get_by_role("button", name="Đồng bộ").click()
        page.wait_for_selector("text=Sẽ thử lại lúc", timeout=20_000)
        assert "1 phỏng vấn đang chờ gửi" in page.inner_text("body")
        site.start()
        page.wait_for_selector("text=0 phỏng vấn đang chờ gửi", timeout=30_000)  # the backoff's retry
        assert [without_device_made(a) for _, a in stored(app).values()] == [REFUSAL]

        # Revoked: the next interview stays on the phone, and the phone says why.
        from server.extensions import db
        from server.sync import devices

        open_form(page, "awareness")
        fill_awareness(page, {**REFUSAL, "round": "2018"})
        with app.app_context():
            device_id = page.evaluate("""async () => await new Promise((resolve) => {
                const open = indexedDB.open('ferry-collect');
                open.onsuccess = () => { const get = open.result.transaction('state').objectStore('state')
                  .get('device_id'); get.onsuccess = () => resolve(get.result); };
            })""")
            devices.revoke(device_id, now=dt.datetime.now(dt.UTC))
            db.session.commit()
        send(page)
        page.wait_for_selector("text=Máy này đã bị thu hồi", timeout=20_000)
        page.reload()
        page.wait_for_selector("text=1 phỏng vấn đang chờ gửi", timeout=20_000)
        assert page.get_by_test_id("revoked").inner_text().startswith("Máy này đã bị thu hồi")
        page.get_by_role("button", name="Đồng bộ").click()
        page.get_by_test_id("sync").click()
        page.wait_for_timeout(500)
        assert page.get_by_text("Máy này đã bị thu hồi").count() == 1 and "1 phỏng vấn" in waiting(page)
        shoot(page, "revoked")
        assert len(stored(app)) == 1
    finally:
        context.close()
        time.sleep(0)


def idb_state(page, key: str):
    return page.evaluate("""async (key) => await new Promise((resolve) => {
        const open = indexedDB.open('ferry-collect');
        open.onsuccess = () => { const get = open.result.transaction('state').objectStore('state').get(key);
          get.onsuccess = () => resolve(get.result); };
    })""", key)


def test_a_quarantined_interview_is_explained_in_vietnamese_with_its_question(app, runner, site, browser,
                                                                               tmp_path):
    from server.extensions import db
    from server.forms import registry as form_registry
    from tests.server.test_sync_instance_ops import refusal_xml

    link = enrol_by_qr(app, runner, site, tmp_path)
    context = browser.new_context(viewport=support.PHONE, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(link)
        page.wait_for_selector("button[data-form=household]", timeout=30_000)
        ready_offline(page)
        context.set_offline(True)
        open_form(page, "household")
        choose(page, "Hộ có người ở nhà không?", "no")
        type_number(page, "Tuổi thành viên", 30)
        question(page, "Giới tính thành viên").locator('label.value-option:has(input[value="male"])').click()
        send(page)
        page.wait_for_selector("text=1 phỏng vấn đang chờ gửi")
        # The coordinator closes the version while the phone is offline: the interview is held, not lost.
        with app.app_context():
            form_registry.set_state(db.session, "household", "2026.1", "closed")
            db.session.commit()
        context.set_offline(False)
        page.get_by_role("button", name="Đồng bộ").click()
        page.get_by_test_id("sync").click()
        page.wait_for_selector("text=0 phỏng vấn đang chờ gửi", timeout=30_000)
        page.get_by_role("button", name=re.compile("Hộp thư đi")).click()
        held = page.locator(".item.quarantined")
        expect(held).to_have_count(1)
        expect(held).to_contain_text("Bị giữ lại để xem xét")
        assert "Phiên bản biểu mẫu này đã đóng" in held.inner_text()

        # Answers the server refuses: its real answer, filed in the phone's archive as a sync would.
        token, device_id = idb_state(page, "token"), idb_state(page, "device_id")
        sub = "6f1c2a9e-0000-4000-8000-00000000abcd"
        op = {"id": "web-op-1", "n": 99, "kind": "create", "sub": sub, "form": "awareness",
              "ver": AWARENESS.version, "at": "2026-12-03T09:00:00Z",
              "xml": refusal_xml(sub, consent="maybe")}
        answer = app.test_client().post("/api/v1/sync/push", headers={"Authorization": f"Bearer {token}"},
                                        json={"protocol": 1, "device_id": device_id, "ops": [op]})
        result = answer.get_json()["results"][0]
        assert result["status"] == "quarantined", result
        page.evaluate("""async (entry) => await new Promise((resolve) => {
            const open = indexedDB.open('ferry-collect');
            open.onsuccess = () => { const tx = open.result.transaction('sent', 'readwrite');
              tx.objectStore('sent').put(entry); tx.oncomplete = resolve; };
        })""", {"n": 99, "op": op, "result": result, "settled_at": "2026-12-03T09:00:05Z"})
        page.reload()
        page.wait_for_selector("button[data-form=awareness]")
        page.get_by_role("button", name=re.compile("Hộp thư đi")).click()
        explained = page.locator(".item.quarantined").first
        expect(explained).to_contain_text("Câu hỏi “Anh/chị có đồng ý tham gia không?”", timeout=20_000)
        assert "Một số câu trả lời không hợp lệ" in explained.inner_text()
        assert "“maybe” không phải là lựa chọn của câu hỏi này" in explained.inner_text()
        shoot(page, "outbox-quarantined")
        page.get_by_role("button", name="English").click()
        in_english = page.locator(".item.quarantined").first
        expect(in_english).to_contain_text("Question “Do you agree to take part?”")
        assert page.get_by_role("button", name="Tiếng Việt").is_visible()
    finally:
        context.close()


def test_413_halves_the_batch_and_a_new_epoch_re_pushes_the_archive_with_the_same_ids(app, runner, places,
                                                                                        browser, tmp_path):
    support.seed(app)
    log = support.PushLog()
    server = support.Server(app, wrap=log)
    context = browser.new_context(viewport=support.PHONE, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(enrol_by_qr(app, runner, server, tmp_path))
        page.wait_for_selector("button[data-form=awareness]", timeout=30_000)
        ready_offline(page)
        context.set_offline(True)
        for year in ("2017", "2018", "2019"):
            open_form(page, "awareness")
            fill_awareness(page, {**REFUSAL, "round": year})
            send(page)
        page.wait_for_selector("text=3 phỏng vấn đang chờ gửi")
        # The operator lowers the limit after the phone enrolled: the phone learns it from a real 413.
        app.config["SYNC_MAX_PUSH_OPS"] = 1
        log.pushes.clear()
        context.set_offline(False)
        page.get_by_role("button", name="Đồng bộ").click()
        page.get_by_test_id("sync").click()
        page.wait_for_selector("text=0 phỏng vấn đang chờ gửi", timeout=30_000)
        assert [(len(ops), status) for ops, status in log.pushes[:2]] == [(3, "413"), (1, "200")]
        first_try = log.pushes[0][0]
        delivered = [ops[0] for ops, status in log.pushes if status == "200" and ops]
        assert delivered == first_try, "the same operations, same ids, in the same order"
        assert sorted(a["round"] for _, a in stored(app).values()) == ["2017", "2018", "2019"]

        # The database is "restored": a new epoch. The phone re-sends its whole archive, same ids.
        assert runner.invoke(args=["sync", "new-epoch", "--yes"]).exit_code == 0
        log.pushes.clear()
        page.get_by_test_id("sync").click()

        def resent():
            return [op for ops, status in log.pushes if status == "200" for op in ops]

        # The phone learns of the restore from a 409 when its push carries operations, or from the pull's
        # epoch_changed when its outbox is empty (the usual case here: everything was acknowledged); either
        # way it moves its sent archive back into the outbox and re-sends it with the same ids.
        deadline = time.monotonic() + 60
        while resent() != first_try and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        page.wait_for_function("() => !document.querySelector('[data-testid=sync]').disabled", timeout=60_000)
        assert resent() == first_try, (log.pushes, page.inner_text("body"))
        # the screen said "Đã gửi 3 phỏng vấn"; an automatic sync right after may already have replaced it
        # with "nothing new to send", so the ids re-sent above are what this checks
        assert len(stored(app)) == 3, "re-sent operations are duplicates, never new submissions"
        assert "0 phỏng vấn đang chờ gửi" in waiting(page)
    finally:
        context.close()
        server.stop()


def idb_drafts(page) -> list[dict]:
    """The drafts the phone holds: id and instance XML."""
    return page.evaluate("""async () => await new Promise((resolve) => {
        const open = indexedDB.open('ferry-collect');
        open.onsuccess = () => { const all = open.result.transaction('drafts').objectStore('drafts').getAll();
          all.onsuccess = () => resolve(all.result.map((d) => ({ id: d.id, xml: d.xml }))); };
    })""")


def test_a_half_filled_interview_survives_an_offline_reload_as_a_draft_and_is_sent_once(
        app, runner, site, browser, tmp_path):
    link = enrol_by_qr(app, runner, site, tmp_path)
    context = browser.new_context(viewport=support.PHONE, locale="vi-VN", device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    first_half = {k: FULL["profile"][k] for k in ("sex", "age", "marital")}
    second_half = {k: v for k, v in FULL["profile"].items() if k not in first_half}
    try:
        page.goto(link)
        page.wait_for_selector("button[data-form=awareness]", timeout=30_000)
        page.evaluate("navigator.serviceWorker.ready")
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
        ready_offline(page)
        context.set_offline(True)
        page.wait_for_selector(".net.off")

        # Half an interview, then the tab goes away (a reload with no network).
        open_form(page, "awareness")
        fill_awareness(page, {**FULL, "profile": first_half, "knowledge": {}, "risk": {}, "exposure": {}})
        deadline = time.monotonic() + 20
        while (not any("<marital>married</marital>" in d["xml"] for d in idb_drafts(page))
               and time.monotonic() < deadline):
            page.wait_for_timeout(250)
        assert len(idb_drafts(page)) == 1, "the half-filled interview is kept as one draft"
        page.reload()
        draft = page.get_by_test_id("draft")
        draft.wait_for(timeout=20_000)
        assert "Phỏng vấn chưa xong (1)" in page.inner_text("body")
        assert "0 phỏng vấn đang chờ gửi" in waiting(page), "a draft is not in the outbox"
        shoot(page, "drafts")

        # Reopened: the answers are there; finished and sent, the draft becomes one queued interview.
        draft.locator("button[data-draft]").click()
        page.wait_for_selector(".form-initialization-status.ready", state="attached", timeout=30_000)
        assert question(page, label("sex")).locator('input[value="female"]').is_checked()
        assert question(page, label("marital")).locator('input[value="married"]').is_checked()
        assert question(page, label("age")).locator("input").input_value() == "34"
        fill_awareness(page, {**FULL, "profile": second_half})
        send(page)
        page.wait_for_selector("text=1 phỏng vấn đang chờ gửi")
        assert page.get_by_test_id("draft").count() == 0 and idb_drafts(page) == []

        context.set_offline(False)
        page.get_by_role("button", name="Đồng bộ").click()
        page.get_by_test_id("sync").click()
        page.wait_for_selector("text=0 phỏng vấn đang chờ gửi", timeout=30_000)
        held = list(stored(app).values())
        assert len(held) == 1 and held[0][0] == "awareness"
        assert without_device_made(held[0][1]) == FULL
        assert held[0][1]["start"], "the interview keeps the start time of its first opening"
        assert errors == []
    finally:
        context.close()


def test_a_photo_answer_is_uploaded_as_a_blob_linked_to_its_submission(app, runner, accounts, site, browser,
                                                                       tmp_path):
    import hashlib
    import io

    from PIL import Image

    from server.extensions import db
    from server.models import Blob
    from server.models.submissions import SubmissionRevision

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (11, 61, 46)).save(buffer, format="PNG")
    photo = buffer.getvalue()
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (255, 212, 0)).save(buffer, format="GIF")
    gif = buffer.getvalue()
    link = enrol_by_qr(app, runner, site, tmp_path)
    context = browser.new_context(viewport=support.PHONE, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(link)
        page.wait_for_selector("button[data-form=photo]", timeout=30_000)
        ready_offline(page)
        context.set_offline(True)
        open_form(page, "photo")
        field = question(page, "Số nhà").locator("input")
        field.fill("12A")
        field.press("Tab")
        question(page, "Ảnh ngôi nhà").locator('input[type=file]:not([capture])').set_input_files(
            files=[{"name": "house.png", "mimeType": "image/png", "buffer": photo}])
        page.wait_for_selector(".question-container img", timeout=10_000)  # ODK's preview of the photo
        # A GIF, a type the server does not take (BLOB_CONTENT_TYPES): kept on the phone, and said.
        question(page, "Ảnh giấy tờ").locator('input[type=file]:not([capture])').set_input_files(
            files=[{"name": "paper.gif", "mimeType": "image/gif", "buffer": gif}])
        send(page)
        page.wait_for_selector("text=1 phỏng vấn đang chờ gửi")

        context.set_offline(False)
        page.get_by_role("button", name="Đồng bộ").click()
        page.get_by_test_id("sync").click()
        page.wait_for_selector("text=0 phỏng vấn đang chờ gửi", timeout=30_000)
        page.wait_for_selector("text=Máy chủ không nhận 1 tệp", timeout=30_000)
        sha, note = hashlib.sha256(photo).hexdigest(), hashlib.sha256(gif).hexdigest()
        with app.app_context():
            revision = db.session.query(SubmissionRevision).one()
            blob = db.session.get(Blob, sha)
            assert sorted(revision.blobs) == sorted([sha, note]), "the operation names its files by sha256"
            assert db.session.get(Blob, note) is None
            assert revision.answers["house"] == "12A" and revision.answers["photo"], revision.answers
            assert blob is not None and blob.complete and blob.size == len(photo)
            assert blob.content_type == "image/png"
            db.session.remove()
        download = app.test_client().get(f"/api/v1/blobs/{sha}", headers=accounts.headers("coordinator"))
        assert download.status_code == 200 and download.data == photo
        assert errors == []
    finally:
        context.close()

