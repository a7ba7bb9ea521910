"""Benchmark: bytes on the wire, Ferry's sync protocol against OpenRosa, and a new device's first sync.

1. 100 awareness interviews (instances filled by ODK's engine from the XForm Ferry serves) sent the
   way ODK Collect sends them with auto-send on (HEAD + POST per finished form, its headers and
   multipart layout), against the same 100 interviews pushed by the sync protocol in one gzipped
   batch. Target: the sync protocol ≤ 25% of OpenRosa's bytes, in one round trip.
2. A new device's whole first sync: enrol, pull every page, download each form version's JSON and
   each attachment it needs (once per sha256), with ``Accept-Encoding: gzip``, for an enumerator
   assigned to one district. Target ≤ 60 KB. The same without gzip and without the per-hash dedupe
   is printed as the baseline.

Bytes are counted on the wire: request line, headers, body, status line, response headers, body.
Every figure is the median of ``RUNS`` runs, each on a fresh database and a real loopback server.

Run: python tests/bench/bench_sync_bytes.py  (needs the ODK engine: npm ci --prefix tests/odk)
"""

from __future__ import annotations

import gzip
import http.client
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3
INTERVIEWS = 100
PUSH_TARGET = 0.25
FIRST_SYNC_TARGET = 60 * 1024


def _wire(method: str, url: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes, int]:
    """One request; return status, headers, the (unpacked) body and the bytes both ways."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": parts.netloc, **headers}
    if body is not None:
        headers["Content-Length"] = str(len(body))
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    got = {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    sent = len(f"{method} {path} HTTP/1.1\r\n") + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2
    sent += len(body or b"")
    received = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + 2 + len(raw) + sum(
        len(k) + len(v) + 4 for k, v in got.items())
    data = gzip.decompress(raw) if got.get("content-encoding") == "gzip" else raw
    return response.status, got, data, sent + received


class Server:
    """A fresh Ferry on a temporary SQLite database, served on loopback, with one enumerator."""

    def __init__(self, folder: Path):
        from server import create_app
        from tests.live_server import live_server

        self.app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'ferry.sqlite'}",
                               "INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench"})
        with self.app.app_context():
            from server.cli.commands import initialise

            initialise()
        self._serving = live_server(self.app)
        self.url = self._serving.__enter__()

    def close(self) -> None:
        from server.extensions import db

        self._serving.__exit__(None, None, None)
        with self.app.app_context():
            db.engine.dispose()

    def staff(self, role: str) -> tuple[str, dict]:
        from server.accounts import users
        from server.accounts.secrets import issue_token
        from server.extensions import db

        with self.app.app_context():
            name = f"{role}-{uuid.uuid4().hex[:6]}"
            user = users.create_user(db.session, name, "correct horse battery", role)
            secret, _ = issue_token(user=user)
            db.session.commit()
        return name, {"Authorization": f"Bearer {secret}"}

    def app_user(self) -> str:
        from server.accounts import app_users
        from server.extensions import db

        with self.app.app_context():
            _, token = app_users.create(db.session, f"phone-{uuid.uuid4().hex[:6]}",
                                        ["awareness", "outreach"])
            db.session.commit()
        return f"{self.url}/v1/key/{token}/projects/1"

    def device(self, district: str | None = None) -> tuple[str, str, str]:
        """An enumerator (assigned the communes of ``district``), its device and one-time code."""
        from server.extensions import db
        from server.models import Commune

        # an admin: coordinators are held to their own districts, and this one is new
        admin = self.staff("admin")[1]
        enumerator, _ = self.staff("enumerator")
        if district is not None:
            with self.app.app_context():
                communes = [c.key for c in db.session.query(Commune).all() if c.district.code == district]
            body = json.dumps({"round": 2019, "communes": [{"commune": c, "quota": 20} for c in communes]})
            status, *_ = _wire("PUT", f"{self.url}/api/v1/users/{enumerator}/assignments", body.encode(),
                               {"Content-Type": "application/json", **admin})
            assert status == 200, status
        status, _, data, _ = _wire("POST", f"{self.url}/api/v1/devices",
                                   json.dumps({"username": enumerator}).encode(),
                                   {"Content-Type": "application/json", **admin})
        assert status == 201, data
        return enumerator, json.loads(data)["device_id"], json.loads(data)["enrolment_code"]


def enrol(server: Server, code: str) -> tuple[dict, int]:
    body = json.dumps({"protocol": 1, "code": code, "label": "bench"}).encode()
    status, _, data, size = _wire("POST", f"{server.url}/api/v1/devices/enroll", body,
                                  {"Content-Type": "application/json", "Accept-Encoding": "gzip"})
    assert status == 200, data
    return json.loads(data), size


def openrosa_bytes(server: Server, instances: list[bytes]) -> tuple[int, int]:
    """Send each instance as Collect does with auto-send: HEAD then POST; return bytes, round trips."""
    from tests.openrosa.collect import Collect

    phone = Collect(server.app_user())
    for xml in instances:
        answers = phone.send(xml)
        assert [a.status for a in answers] == [201], answers[-1].text
    return sum(entry[3] for entry in phone.log), len(phone.log)


def sync_bytes(server: Server, docs: list[dict]) -> tuple[int, int]:
    """Push the same interviews as one gzipped batch of the sync protocol; return bytes, round trips."""
    from forms import library

    _, device_id, code = server.device()
    enrolment, _ = enrol(server, code)
    version = library.load("awareness").version
    ops = [{"id": str(uuid.uuid4()), "n": i, "kind": "create", "sub": str(uuid.uuid4()), "form": "awareness",
            "ver": version, "at": "2019-06-01T08:00:00+07:00", "ans": doc} for i, doc in enumerate(docs)]
    body = json.dumps({"protocol": 1, "device_id": device_id, "epoch": enrolment["epoch"],
                       "sent_at": "2019-06-01T08:00:00+07:00", "ops": ops},
                      separators=(",", ":"), ensure_ascii=False).encode()
    status, _, data, size = _wire("POST", f"{server.url}/api/v1/sync/push", gzip.compress(body, mtime=0),
                                  {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                   "Accept-Encoding": "gzip", "Authorization": f"Bearer {enrolment['token']}",
                                   "User-Agent": "ferry-sync/1"})
    assert status == 200, data
    results = json.loads(data)["results"]
    assert all(r["status"] == "created" for r in results), results[:2]
    return size, 1


def first_sync_bytes(server: Server, *, gzip_ok: bool, dedupe: bool) -> tuple[int, int]:
    """A new device's whole first sync; return bytes and requests."""
    _, _, code = server.device(district="916")
    enrolment, total = enrol(server, code)
    requests = 1
    auth = {"Authorization": f"Bearer {enrolment['token']}"}
    accept = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    cursor, forms = None, []
    while True:
        body = json.dumps({"protocol": 1, "device_id": enrolment["device_id"], "cursor": cursor}).encode()
        status, _, data, size = _wire("POST", f"{server.url}/api/v1/sync/pull", body,
                                      {"Content-Type": "application/json", **accept, **auth})
        assert status == 200, data
        total += size
        requests += 1
        page = json.loads(data)
        forms += [c["d"] for c in page["buckets"].get("forms", {}).get("changes", []) if c["op"] == "put"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    seen: set[str] = set()
    for form in forms:
        status, _, data, size = _wire("GET", server.url + form["url"], None, {**accept, **auth})
        assert status == 200, data
        total += size
        requests += 1
        for attachment in form["attachments"]:
            if dedupe and attachment["sha256"] in seen:
                continue
            seen.add(attachment["sha256"])
            status, _, data, size = _wire("GET", server.url + attachment["url"], None, {**accept, **auth})
            assert status == 200, data
            total += size
            requests += 1
    return total, requests


def fill_instances(count: int) -> tuple[list[dict], list[bytes]]:
    """Awareness interviews, and their instances filled by ODK's engine from Ferry's XForm."""
    from forms import library
    from tests.bench.bench_forms_validate import documents
    from tests.odk import odk_engine
    from tests.odk.paths import instance_answers

    form = library.load("awareness")
    docs = documents(form, library, count, seed=11)
    docs = [d for d in docs if not form.validate(d)]
    files = {name: path.read_text(encoding="utf-8") for name, path in library.attachments().items()}
    results = odk_engine.evaluate(form.xform, [{"id": i, "answers": instance_answers(form, d)}
                                               for i, d in enumerate(docs)], files)
    return docs, [r["instance_xml"].encode("utf-8") for r in results]


def bench(name: str, value: float, unit: str, target: float, baseline=None) -> None:
    print("BENCH " + json.dumps({"name": name, "value": round(value, 3), "unit": unit, "target": target,
                                 "ratio": round(value / target, 3), "baseline": baseline}))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        from tests.odk import odk_engine

        if not odk_engine.available():
            raise RuntimeError("ODK engine not installed: npm ci --prefix tests/odk")
        docs, instances = fill_instances(INTERVIEWS * RUNS + 40)
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    figures: dict[str, list] = {k: [] for k in ("openrosa", "openrosa_trips", "sync", "sync_trips", "first",
                                                "first_requests", "first_plain", "first_plain_requests")}
    for run in range(RUNS):
        batch = slice(run * INTERVIEWS, (run + 1) * INTERVIEWS)
        with tempfile.TemporaryDirectory() as folder:
            server = Server(Path(folder))
            try:
                size, trips = openrosa_bytes(server, instances[batch])
                figures["openrosa"].append(size)
                figures["openrosa_trips"].append(trips)
                size, trips = sync_bytes(server, docs[batch])
                figures["sync"].append(size)
                figures["sync_trips"].append(trips)
                size, trips = first_sync_bytes(server, gzip_ok=True, dedupe=True)
                figures["first"].append(size)
                figures["first_requests"].append(trips)
                size, trips = first_sync_bytes(server, gzip_ok=False, dedupe=False)
                figures["first_plain"].append(size)
                figures["first_plain_requests"].append(trips)
            finally:
                server.close()
    m = {k: statistics.median(v) for k, v in figures.items()}
    share = m["sync"] / m["openrosa"]
    print(f"{INTERVIEWS} awareness interviews: OpenRosa {m['openrosa'] / 1024:,.1f} KB in "
          f"{m['openrosa_trips']:.0f} round trips; sync protocol {m['sync'] / 1024:,.1f} KB in "
          f"{m['sync_trips']:.0f} round trip(s): {share:.1%} of OpenRosa's bytes "
          f"(target ≤ {PUSH_TARGET:.0%})")
    print(f"new device's first sync (one district, gzip, attachments once per sha256): "
          f"{m['first'] / 1024:,.1f} KB in {m['first_requests']:.0f} requests (target ≤ "
          f"{FIRST_SYNC_TARGET / 1024:.0f} KB); without gzip or dedupe {m['first_plain'] / 1024:,.1f} KB in "
          f"{m['first_plain_requests']:.0f} requests. Medians of {RUNS} runs.")
    bench("sync.push100.bytes_share_of_openrosa", share, "ratio", PUSH_TARGET)
    bench("sync.push100.bytes", m["sync"], "bytes", PUSH_TARGET * m["openrosa"], baseline=m["openrosa"])
    bench("sync.push100.round_trips", m["sync_trips"], "round trips", 1, baseline=m["openrosa_trips"])
    bench("sync.first_sync.bytes", m["first"], "bytes", FIRST_SYNC_TARGET, baseline=m["first_plain"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
