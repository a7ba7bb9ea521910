"""Benchmark: the offline web form's first load, in bytes and in time to the first question on 2G.

Run: python tests/bench/bench_webform_load.py [--runs 3]   (needs the built app: make collect)

A fresh phone opens the enrolment link on a simulated 2G link (Chromium's network throttling through
CDP: 300 ms latency, 250 kbit/s down, 50 kbit/s up, the "Regular 2G" preset), enrols, syncs, opens
the awareness form and waits for its first question. Measured per run, with a cold browser cache:

* ``webform.first_load_bytes``: bytes the server sent for ``/collect/`` (the shell, ODK Web Forms and
  its engine, Vue, Ferry's code, gzipped as served) until the first question shows. Target: 1 MB.
* ``webform.first_question_2g_s``: seconds from opening the link to the first question. The issue sets
  no target; 60 s is this benchmark's own yardstick.
* The bytes of the API calls on the way (enrolment, sync, the XForms and their CSV attachments), and
  once, unthrottled, what the service worker downloads on top to precache the whole app shell (the
  map component, loaded by the page only for geo questions) so later loads need no network.

The timed runs block the service worker: CDP throttles the page's requests only, and an unthrottled
precache running alongside would flatter the result; on a real link it competes with the page.
Bytes are counted at the server (response bodies as sent, without HTTP headers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGET_BYTES = 1_000_000
TARGET_SECONDS = 60.0
TWO_G = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 50_000 / 8}


class Counter:
    """WSGI middleware counting the body bytes sent per request path."""

    def __init__(self, app):
        self.app, self.lock, self.sent = app, threading.Lock(), []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for chunk in self.app(environ, start_response):
            with self.lock:
                self.sent.append((path, len(chunk)))
            yield chunk

    def take(self) -> dict:
        with self.lock:
            sent, self.sent = self.sent, []
        return {"collect": sum(n for p, n in sent if p.startswith("/collect/")),
                "api": sum(n for p, n in sent if p.startswith("/api/")),
                "requests": len({p for p, _ in sent})}


def site():
    from server.accounts import users as accounts
    from server.extensions import db
    from tests.conftest import make_app
    from tests.conftest import migrate_to_head
    from tests.web import collect_support

    folder = Path(tempfile.mkdtemp(prefix="ferry-bench-webform-"))
    app = make_app(f"sqlite:///{folder}/ferry.sqlite", folder / "instance")
    migrate_to_head(app)
    collect_support.seed(app)

    def new_code() -> str:
        with app.app_context():
            _, code = accounts.enroll_device(db.session, collect_support.USERNAME, "bench",
                                             dt.timedelta(hours=1))
            db.session.commit()
            return code

    return app, new_code


def first_question(browser, url: str, code: str, *, throttle: bool, service_workers: str) -> float:
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="vi-VN",
                                  service_workers=service_workers)
    try:
        page = context.new_page()
        if throttle:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", TWO_G)
        start = time.perf_counter()
        page.goto(f"{url}/collect/#code={code}", timeout=600_000)
        page.locator("button[data-form=awareness]").click(timeout=600_000)
        page.get_by_text("Vòng khảo sát", exact=True).wait_for(timeout=600_000)
        seconds = time.perf_counter() - start
        if service_workers == "allow":
            page.evaluate("navigator.serviceWorker.ready")
            page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=120_000)
        return seconds
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
        from werkzeug.serving import make_server

        from server.collect.views import BUILD
        from tests.browsers import ARGS
        from tests.web.collect_support import chromium_path

        if not (BUILD / "index.html").is_file():
            raise RuntimeError("the web form is not built: run make collect")
        app, new_code = site()
        counter = Counter(app)
        server = make_server("127.0.0.1", 0, counter, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        runs = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=ARGS)
            for run in range(args.runs):
                counter.take()
                seconds = first_question(browser, url, new_code(), throttle=True, service_workers="block")
                sent = counter.take()
                runs.append((seconds, sent))
                print(f"run {run + 1}: first question after {seconds:.1f} s on 2G; /collect/ "
                      f"{sent['collect']:,} B, API {sent['api']:,} B")
            counter.take()
            first_question(browser, url, new_code(), throttle=False, service_workers="allow")
            with_worker = counter.take()
            browser.close()
        server.shutdown()
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    seconds = statistics.median(s for s, _ in runs)
    shell = statistics.median(sent["collect"] for _, sent in runs)
    api = statistics.median(sent["api"] for _, sent in runs)
    print(f"first load of /collect/ to the first question: median {shell:,.0f} B gzipped "
          f"(ODK Web Forms and its engine included); target {TARGET_BYTES:,} B")
    print(f"API on the way (enrol, sync, XForms, CSV attachments): median {api:,.0f} B")
    print(f"with the service worker precaching the whole shell: /collect/ {with_worker['collect']:,} B "
          "in all (unthrottled run)")
    print(f"time to the first question on 2G (300 ms, 250/50 kbit/s): median {seconds:.1f} s over "
          f"{len(runs)} runs (min {min(s for s, _ in runs):.1f}, max {max(s for s, _ in runs):.1f}); "
          f"target {TARGET_SECONDS:.0f} s")
    figures = (("webform.first_load_bytes", shell, "B", TARGET_BYTES),
               ("webform.first_question_2g_s", round(seconds, 1), "s", TARGET_SECONDS))
    for name, value, unit, target in figures:
        print("BENCH " + json.dumps({"name": name, "value": value, "unit": unit, "target": target,
                                     "ratio": round(value / target, 3), "baseline": None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
