"""Where a push's CPU goes, in-process (issue 13): the benchmark's bodies through the real app, profiled.

Not a benchmark (no gunicorn, no other workers): a profile of one worker's path, so that a
change to ingestion can say what it gave. It prints microseconds of CPU per submission for the whole request
and for the stages named in ``STAGES``, and with ``--top N`` cProfile's N costliest functions.

``--stored N`` first stores N submissions set-based, as the benchmark seeds them, so that a profile is taken
on a database of the benchmark's size. ``--database-url`` names a scratch database to use instead of a
temporary SQLite file: the profile's device and pushes are written into it and stay there.

On SQLite it also prints the WAL frames each checkpoint of the unprofiled pushes found and copied;
``--checkpoint-every N`` sets ``server.sync.write_turns.CHECKPOINT_EVERY`` for the run.

Run: python tests/bench/profile_sync_push.py [--batches N] [--top N] [--stored N] [--database-url URL]
                                             [--checkpoint-every N]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests" / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench_sync_push as bench  # noqa: E402

# (label, file suffix, function name): cumulative time of each, per submission
STAGES = [
    ("prepare (decide each operation)", "sync/batch.py", "prepare"),
    ("  validation", "forms/validate.py", "validate"),
    ("  analysis row", "server/sync/store.py", "analysis_values"),
    ("apply (the batch's transaction)", "sync/batch.py", "apply"),
    ("  SQL batch", "server/sync/store.py", "write_batch"),
]


def _cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    return sum(row[3] for (file, _, func), row in stats.stats.items()
               if func == name and file.endswith(suffix))


def alone(templates, count: int = 400) -> dict[str, float]:
    """µs per submission of three per-operation steps timed alone (best of 7, no profiler): the hostile-value
    check of the operation, validating its answers and computing its analysis row."""
    import timeit

    from analysis.respondent_rows import respondent_row
    from forms import library
    from sync.transport import OP_BOUNDS
    from sync.transport import value_problems

    form = library.load("awareness")
    answers = [a for _, a in templates[:count]]
    ops = [{"id": "op", "kind": "create", "sub": "sub", "form": "awareness", "ver": v, "ans": a}
           for v, a in templates[:count]]
    steps = {"hostile-value check": lambda: [value_problems(op, OP_BOUNDS) for op in ops],
             "validation": lambda: [form.validate(a) for a in answers],
             "analysis row": lambda: [respondent_row(form, a) for a in answers]}
    return {name: min(timeit.repeat(step, number=3, repeat=7)) / 3 / len(answers) * 1e6
            for name, step in steps.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--sort", default="cumulative", help="cProfile's order for --top (e.g. tottime)")
    parser.add_argument("--stored", type=int, default=0, help="submissions stored before the profile")
    parser.add_argument("--database-url", default=None,
                        help="a scratch database (written into, left so); default: a temporary SQLite file")
    parser.add_argument("--checkpoint-every", type=int, default=None, help="SQLite: write turns a checkpoint")
    args = parser.parse_args()
    from server.extensions import db
    from server.forms import registry as form_registry
    from server.sync import store as store_module
    from server.sync import write_turns
    from tests.conftest import make_app
    from tests.conftest import migrate_to_head

    templates = bench._templates()
    with tempfile.TemporaryDirectory(prefix="ferry-profile-push-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'profile.sqlite'}"
        app = make_app(url, Path(tmp) / "instance")
        migrate_to_head(app)
        with app.app_context():
            form_registry.install_library(db.session)
            db.session.commit()
        if args.stored:
            seconds = bench.seed(app, args.stored, templates)
            print(f"{args.stored:,} submissions stored first, set-based, in {seconds:.0f} s")
        device, = bench.enrol(app, 1)
        warm, _ = bench.bodies(device, 2, templates, 0)
        work, subs = bench.bodies(device, args.batches, templates, 10_000)
        client = app.test_client()
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
                   "Authorization": f"Bearer {device.token}"}

        def push(body):
            response = client.post("/api/v1/sync/push", data=body, headers=headers)
            assert response.status_code == 200, response.data[:300]
            return response

        for body in warm:
            push(body)
        # The collector set as server/wsgi.py sets each gunicorn worker's: frozen, its full passes walk only
        # what the pushes leave. In a script of this set-up (PostgreSQL, 100,000 seeded, ~330,000 objects
        # tracked) a full pass took 137-150 ms unfrozen: one fell in a window of 6,000 submissions (25 µs
        # each), none in others. Where it falls, the workers would not have paid it.
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, *gc.get_threshold()[1:])  # server.wsgi.YOUNG_THRESHOLD
        if args.checkpoint_every:
            write_turns.CHECKPOINT_EVERY = args.checkpoint_every
        checkpoints = []  # SQLite's answer to each: (busy, frames in the WAL, frames copied)
        checkpoint = store_module.checkpoint_after
        store_module.checkpoint_after = lambda engine: checkpoints.append(checkpoint(engine))
        started = time.process_time()
        for body in work:
            push(body)
        plain = (time.process_time() - started) / len(subs) * 1e6
        store_module.checkpoint_after = checkpoint
        work, subs = bench.bodies(device, args.batches, templates, 20_000)
        profiler = cProfile.Profile()
        profiler.enable()
        for body in work:
            push(body)
        profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"{len(subs)} submissions in batches of {bench.BATCH}: {plain:.0f} µs of CPU each, unprofiled")
    total = stats.total_tt
    if checkpoints:
        print(f"checkpoints every {write_turns.CHECKPOINT_EVERY} write turns, WAL frames each: "
              + ", ".join(str(frames) for _, frames, _ in checkpoints))
    print(f"profiled: {total / len(subs) * 1e6:.0f} µs each (cProfile's overhead included); of which")
    for label, suffix, name in STAGES:
        print(f"  {label:<34} {_cumulative(stats, suffix, name) / len(subs) * 1e6:6.0f} µs")
    print("timed alone, without the profiler:")
    for name, micros in alone(templates).items():
        print(f"  {name:<34} {micros:6.1f} µs")
    if args.top:
        stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
