"""Benchmark: the awareness-gap report from the database for 1,000,000 respondents over 4 rounds.

Target (issue 6): the full report (estimates, change, DiD, small areas, risk model, ranking, HTML)
on 1,000,000 respondents of rounds 2017-2020 in <= 60 s and <= 4 GiB peak memory on the 2-core
machine, starting from the database (``server.reports.data.load_respondents``), not from a
prepared frame.

Setup (not judged): a generated season (``analysis.simulation.generate``) of ``--season`` interviews;
its outreach log and the first ``--ingest`` interviews go through the SQL store (revision + head +
``respondents`` row in the sync transaction; timed, the ingestion figure), the other interviews
are indexed with the same extraction (``analysis.respondent_rows.respondent_row``) and their
``respondents`` rows replicated in bulk under new submission ids (executemany on SQLite, COPY on
PostgreSQL) until the table holds ``--respondents`` consenting respondents (refusals in proportion).
The replicas keep the design: same rounds, districts and communes, more interviews per commune.
Each replica gets a ``submissions`` row (its head) too: a ``respondents`` row is keyed by its head's seq.

Measured (each run in a fresh child process, so its peak memory is the report's alone): load
(respondents + outreach log), then every stage with its seconds (levels per round × district,
groups, change, DiD, small areas, risk model CV + projection, ranking, channels, yearly tables,
HTML, XLSX), the total, and the peak memory as the child's peak resident set size
(``resource.getrusage``: it counts everything the process holds, numpy buffers and database
driver memory included, at no cost to the timing; tracemalloc would slow allocation and miss
the drivers' C buffers). The report is :func:`analysis.gap_report.build_gap_report` (its parts'
seconds printed beneath it), rendered by ``render_html`` in Vietnamese and English and written as
XLSX. The ratio is the
total over a bare pandas groupby computing the same weighted means (round × district knowledge)
on the loaded frame. Figures are medians over ``--runs`` runs (peak memory: the largest).

Measured (2026-11-28, quiet 2-core machine, medians of 3 runs, 1,000,000 respondents):
SQLite: load 6.1 s (163,000 rows/s), report 5.0 s, HTML 0.9 s (vi) + 0.5 s (en), XLSX 0.1 s; total
12.8 s; peak 1,715 MiB; ratio to the bare groupby (86 ms) 148. PostgreSQL: load 7.4 s, total 14.0 s,
peak 1,825 MiB, ratio 160. Before the column-wise load and the estimator work: 113-115 s, 3.4-3.5 GiB.

Run: python tests/bench/bench_report.py [--respondents 1000000] [--runs 3]
(SQLite in a temporary folder; set FERRY_BENCH_DATABASE_URL for PostgreSQL, an empty database;
``--reuse`` skips the setup when that database already holds the bench's rows)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = (2017, 2018, 2019, 2020)
YEAR, PREVIOUS = 2020, 2019
BATCH = 200
CHUNK = 50_000
TOTAL_TARGET_S = 60.0
MEMORY_TARGET_MIB = 4096.0
_COLUMNS = ("submission_id", "form_id", "form_version", "seq", "round", "district_code", "commune_key",
            "consented", "sex", "age", "marital", "education", "occupation", "plan_away", "plan_abroad",
            "heard_any", "channel_main", "extra", "points", "choices")
_HEAD_COLUMNS = ("id", "form_id", "form_version", "device_id", "head", "revisions", "deleted", "seq")


def _bench(name, value, unit, target=None, ratio=None, baseline=None):
    print("BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": unit, "target": target,
                                 "ratio": None if ratio is None else round(ratio, 3), "baseline": baseline}),
          flush=True)


def _app(url, folder):
    from tests.conftest import make_app

    return make_app(url, folder / "instance")


# ------------------------------------------------------------------------------------------ setup
def _respondent_count(app) -> int:
    import sqlalchemy as sa

    from server.extensions import db

    with app.app_context():
        if not sa.inspect(db.engine).has_table("respondents"):
            return 0
        return db.session.execute(sa.text("SELECT count(*) FROM respondents WHERE consented")).scalar()


def setup(app, *, respondents: int, season_size: int, ingest: int) -> float | None:
    """Fill the database (see the module docstring); return submissions/s of the SQL store."""
    from analysis.respondent_rows import respondent_row
    from analysis.simulation import generate
    from server.extensions import db
    from server.forms import registry as form_registry
    from server.models import utcnow
    from server.sync.store import SqlStore
    from sync import submissions
    from sync.store import Revision
    from sync.store import SubmissionHead
    from tests.conftest import migrate_to_head

    migrate_to_head(app)
    started = time.perf_counter()
    season = generate(seed=1, interviews=season_size, rounds=ROUNDS)
    print(f"setup: season of {season_size:,} interviews generated in {time.perf_counter() - started:.1f} s",
          flush=True)
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
        store = SqlStore(db.engine)

        def save(items):
            with store.transaction():
                for it in items:
                    seq = store.next_seq()
                    op = "op-" + it.sub_id
                    store.insert_revision(Revision(
                        op_id=op, submission_id=it.sub_id, number=1, device_id="bench", kind="create",
                        base=None, form_id=it.form_id, form_version=it.version, answers=it.answers,
                        received_at=utcnow(), seq=seq, device_time=None, skew_s=None, blobs=(), note=None))
                    head = SubmissionHead(
                        id=it.sub_id, form_id=it.form_id, form_version=it.version, device_id="bench", head=op,
                        revisions=1, deleted=False, seq=seq)
                    store.save_submission(head)
                    store.save_analysis_row(it.sub_id, submissions.analysis_row(store, head, it.answers))

        for first in range(0, len(season.activities), BATCH):
            save(season.activities[first:first + BATCH])
        start = time.perf_counter()
        for first in range(0, ingest, BATCH):
            save(season.interviews[first:min(first + BATCH, ingest)])
        rate = ingest / (time.perf_counter() - start) if ingest else None

        form = form_registry.load_form(form_registry.get_version(db.session, "awareness", "2017.1"))
        base = []
        for it in season.interviews[ingest:]:
            values = respondent_row(form, it.answers)
            base.append((it.sub_id, "awareness", it.version, 0, *(values[c] for c in _COLUMNS[4:])))
        db.session.remove()
    seq = 10**9  # after every seq the store gave: the replicas come last in commit order
    consenting = sum(1 for it in season.interviews[:ingest] if it.answers.get("consent") == "yes")
    base_consenting = sum(1 for row in base if row[7])
    wanted = respondents - consenting
    copies = -(-wanted // base_consenting) if wanted > 0 else 0
    start = time.perf_counter()
    # each replica's head first: a respondents row is its head's (a foreign key on seq)
    _bulk_insert(app, "submissions", _HEAD_COLUMNS,
                 ((row[0], row[1], row[2], "bench-replica", f"op-{row[0]}", 1, False, row[3])
                  for row in _replicas(base, copies, wanted, seq)))
    written = _bulk_insert(app, "respondents", _COLUMNS, _replicas(base, copies, wanted, seq))
    print(f"setup: {written:,} respondents rows replicated in {time.perf_counter() - start:.1f} s",
          flush=True)
    return rate


def _replicas(base, copies, wanted, seq):
    """Rows of ``copies`` copies of ``base`` under new ids, stopping at ``wanted`` consenting rows."""
    import random

    rng = random.Random(6)
    left = wanted
    for copy in range(copies):
        rows = base
        if copy == copies - 1:  # a random subset, so the last copy keeps every round and commune
            rows = rng.sample(base, len(base))
        for row in rows:
            if left <= 0:
                return
            left -= 1 if row[7] else 0
            seq += 1
            yield (f"{row[0]}-{copy}", row[1], row[2], seq, *row[4:])


def _bulk_insert(app, table, columns, rows) -> int:
    import itertools

    from server.extensions import db

    written = 0
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            names = ", ".join(columns)
            if db.engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
            else:
                marks = ", ".join("?" * len(columns))
                while chunk := list(itertools.islice(rows, CHUNK)):
                    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk)
                    written += len(chunk)
            raw.commit()
            if db.engine.dialect.name == "postgresql":
                cursor.execute(f"ANALYZE {table}")
                raw.commit()
        finally:
            raw.close()
    return written


# ------------------------------------------------------------------------------------------ measure
def _stages(data, state):
    """The report's stages as (name, function) pairs, on the loaded ``data``: the whole awareness-gap
    report (levels, groups, change, DiD, small areas, risk model, ranking, channels, the yearly
    tables; :func:`analysis.gap_report.build_gap_report`), its HTML in both languages and its XLSX."""
    from analysis.gap_report import build_gap_report
    from analysis.report_html import render_html
    from analysis.report_tables import write_xlsx

    def gap():
        state["report"] = build_gap_report(data.respondents, data.activities, year=YEAR, previous=PREVIOUS,
                                           min_n=10)

    def html(language):
        state[f"html_{language}"] = len(render_html(state["report"], language=language))

    return [("gap_report", gap), ("html_vi", lambda: html("vi")), ("html_en", lambda: html("en")),
            ("xlsx", lambda: write_xlsx(state["report"], io.BytesIO(), language="vi"))]


def measure(url: str, folder: Path) -> dict:
    """One run from the database (in this process): seconds per stage, peak RSS, the bare groupby."""
    from server.extensions import db
    from server.reports import data as analysis_data
    from server.reports import service as reports

    app = _app(url, folder)
    seconds = {}
    with app.app_context():
        start = time.perf_counter()
        frame = analysis_data.load_respondents("awareness")
        seconds["load"] = time.perf_counter() - start
        start = time.perf_counter()
        activities = reports.load_activities(db.session)
        seconds["load_activities"] = time.perf_counter() - start
        data = reports.Data(frame, activities, list(ROUNDS))
        state = {}
        for name, stage in _stages(data, state):
            start = time.perf_counter()
            stage()
            seconds[name] = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    bares = []
    for _ in range(5):
        start = time.perf_counter()
        keys = [frame["round"], frame["district_code"]]
        weighted = (frame["weight"] * frame["knowledge"]).groupby(keys).sum()
        weighted / frame["weight"].where(frame["knowledge"].notna()).groupby(keys).sum()
        bares.append(time.perf_counter() - start)
    parts = {name: float(value) for name, value in state["report"].timings.items()}
    return {"rows": len(frame), "seconds": seconds, "parts": parts, "peak_mib": peak,
            "bare": statistics.median(bares)}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--season", type=int, default=100_000, help="interviews generated and indexed")
    parser.add_argument("--ingest", type=int, default=5_000, help="interviews through the SQL store (timed)")
    parser.add_argument("--runs", type=int, default=3, help="report runs (0: only the setup)")
    parser.add_argument("--reuse", action="store_true", help="keep a database that already holds the rows")
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)  # one run, in a child
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ferry-bench-"))
    try:
        return _run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the default SQLite database too (~0.5 GB)


def _run(args, folder: Path) -> int:
    if args.measure:
        print(json.dumps(measure(args.measure, folder)))
        return 0
    url = os.environ.get("FERRY_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    try:
        app = _app(url, folder)
        have = _respondent_count(app)
        rate = None
        if not (args.reuse and have >= args.respondents):
            if have:
                raise RuntimeError(f"the database already holds {have:,} respondents; give an empty one")
            rate = setup(app, respondents=args.respondents, season_size=min(args.season, args.respondents),
                         ingest=args.ingest)
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    if rate is not None:
        print(f"ingestion through the SQL store (revision + head + respondents row, {BATCH} per "
              f"transaction): {rate:,.0f} submissions/s")
        _bench("report.ingest", rate, "submissions/s")

    if args.runs < 1:
        return 0
    runs = []
    for _ in range(args.runs):
        child = subprocess.run([sys.executable, __file__, "--measure", url], capture_output=True, text=True,
                               cwd=ROOT)
        if child.returncode != 0:
            print(f"could not run: {child.stderr[-2000:]}", file=sys.stderr)
            return 1
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    rows = runs[0]["rows"]
    names = list(runs[0]["seconds"])
    median = {name: statistics.median(r["seconds"][name] for r in runs) for name in names}
    totals = [sum(r["seconds"].values()) for r in runs]
    total = statistics.median(totals)
    peak = max(r["peak_mib"] for r in runs)
    bare = statistics.median(r["bare"] for r in runs)
    backend = url.split(":", 1)[0]
    print(f"{backend}: {rows:,} respondents over rounds {ROUNDS[0]}-{ROUNDS[-1]}, median of {len(runs)} runs")
    print(f"  load: {median['load']:.2f} s ({rows / median['load']:,.0f} rows/s)")
    for name in names[1:]:
        print(f"  {name}: {median[name]:.2f} s")
        if name == "gap_report":
            for part in runs[0]["parts"]:
                print(f"    {part}: {statistics.median(r['parts'][part] for r in runs):.2f} s")
    each = ", ".join(f"{t:.1f}" for t in totals)
    print(f"  total: {total:.1f} s (target {TOTAL_TARGET_S:.0f} s; runs {each})")
    print(f"  peak memory (resident set of the report process): {peak:,.0f} MiB "
          f"(target {MEMORY_TARGET_MIB:,.0f})")
    print(f"  bare pandas groupby of the same weighted means: {bare * 1000:.1f} ms; ratio total / bare = "
          f"{total / bare:,.0f}")
    _bench("report.load_rate", rows / median["load"], "rows/s")
    for name in names:
        _bench(f"report.{name}", median[name], "s")
    _bench("report.total", total, "s", target=TOTAL_TARGET_S, ratio=TOTAL_TARGET_S / total)
    _bench("report.peak_memory", peak, "MiB", target=MEMORY_TARGET_MIB, ratio=MEMORY_TARGET_MIB / peak)
    _bench("report.vs_bare_groupby", total, "s", ratio=total / bare, baseline=round(bare, 4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
