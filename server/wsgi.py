"""The production entry point (`make serve`: gunicorn imports it in each worker)."""

import gc

from server import create_app

app = create_app()

# What the worker has loaded by now (modules, pandas, the app) lives as long as the worker: frozen, the cyclic
# collector's full passes no longer walk it. Those passes cost ~2.5 ms of a ~28 ms push of 100 submissions
# (in-process, SQLite; tests/bench/profile_sync_push.py and issue 13's closing note).
gc.collect()
gc.freeze()
