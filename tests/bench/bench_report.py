"""Benchmark: reports from the database for N respondents (ingestion, bulk load, estimates + ranking).

Figures: submissions indexed per second through the SQL store (the ``respondents`` row is written in
the sync transaction), respondents loaded per second by ``server.analysis_data.load_respondents``,
seconds for indicators (round × district with CIs) plus the commune ranking, peak memory, and the
ratio of the load + estimates time to a bare pandas groupby of the same weighted means over the
already-loaded frame (the floor any database-backed report has to compare with).

Run: python tests/bench/bench_report.py [N]  (default 20,000 interviews; SQLite in a temporary folder;
set FERRY_BENCH_DATABASE_URL for PostgreSQL)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

RUNS = 3
BATCH = 200


def _bench(name, value, unit, target=None, ratio=None, baseline=None):
    print("BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": unit, "target": target,
                                 "ratio": None if ratio is None else round(ratio, 3), "baseline": baseline}))


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    try:
        from analysis.season import generate
        from server import analysis_data
        from server import form_registry
        from server import reports
        from server.extensions import db
        from server.models import utcnow
        from server.sync_store import SqlStore
        from sync.store import Revision
        from sync.store import SubmissionHead
        from tests.conftest import make_app
        from tests.conftest import migrate_to_head

        folder = Path(tempfile.mkdtemp(prefix="ferry-bench-"))
        url = os.environ.get("FERRY_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
        app = make_app(url, folder / "instance")
        migrate_to_head(app)
        season = generate(seed=1, interviews=n, rounds=(2017, 2018))
        with app.app_context():
            form_registry.install_library(db.session)
            db.session.commit()
            store = SqlStore(db.engine)
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1

    start = time.perf_counter()
    for first in range(0, n, BATCH):
        with store.transaction():
            for it in season.interviews[first:first + BATCH]:
                seq = store.next_seq()
                op = "op-" + it.sub_id
                store.insert_revision(Revision(
                    op_id=op, submission_id=it.sub_id, number=1, device_id="bench", kind="create", base=None,
                    form_id=it.form_id, form_version=it.version, answers=it.answers, received_at=utcnow(),
                    seq=seq, device_time=None, skew_s=None, blobs=(), note=None))
                store.save_submission(SubmissionHead(
                    id=it.sub_id, form_id=it.form_id, form_version=it.version, device_id="bench", head=op,
                    revisions=1, deleted=False, seq=seq))
    ingest = time.perf_counter() - start
    print(f"ingestion through the SQL store (revision + head + respondents row, {BATCH} per transaction): "
          f"{n / ingest:,.0f} submissions/s")
    _bench("report.ingest", n / ingest, "submissions/s")

    loads, estimates, bares, peaks = [], [], [], []
    with app.app_context():
        def run():
            t0 = time.perf_counter()
            frame = analysis_data.load_respondents("awareness")
            t1 = time.perf_counter()
            data = reports.Data(frame, reports.load_activities(db.session), [2017, 2018])
            reports.indicators(data)
            reports.priorities(data, round_=2018, level="commune")
            return frame, t0, t1, time.perf_counter()

        tracemalloc.start()  # a separate run: tracing slows allocation, so it is not timed
        run()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
        for _ in range(RUNS):
            frame, t0, t1, t2 = run()
            t3 = time.perf_counter()
            w = frame["weight"] * frame["knowledge"]
            (w.groupby([frame["round"], frame["district_code"]]).sum()
             / frame["weight"].where(frame["knowledge"].notna()).groupby(
                 [frame["round"], frame["district_code"]]).sum())
            bares.append(time.perf_counter() - t3)
            loads.append(t1 - t0)
            estimates.append(t2 - t1)
    respondents = len(frame)
    load, est, bare = statistics.median(loads), statistics.median(estimates), statistics.median(bares)
    print(f"bulk load: {respondents:,} respondents in {load:.3f} s ({respondents / load:,.0f} rows/s)")
    print(f"indicators + commune ranking: {est:.2f} s; peak traced memory {max(peaks):.0f} MiB")
    print(f"bare pandas groupby of the weighted means: {bare * 1000:.1f} ms; "
          f"ratio (load + estimates) / bare = {(load + est) / bare:,.0f}")
    _bench("report.load", respondents / load, "rows/s")
    _bench("report.estimates_and_ranking", est, "s")
    _bench("report.peak_memory", max(peaks), "MiB")
    _bench("report.vs_bare_groupby", load + est, "s", ratio=(load + est) / bare, baseline=round(bare, 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
