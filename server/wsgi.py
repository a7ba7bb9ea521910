"""The production entry point (`make serve`: gunicorn imports it in each worker)."""

import gc

from server import create_app

app = create_app()

# What the worker has loaded by now (modules, pandas, the app) lives as long as the worker: frozen, the cyclic
# collector's full passes no longer walk it. Those passes cost ~2.5 ms of a ~28 ms push of 100 submissions
# (in-process on SQLite, runs alternated with the collector as it was and frozen: 29.2 and 28.9 against 26.6
# and 26.7 ms).
gc.collect()
gc.freeze()

# The youngest generation is collected after 10,000 more container objects than were freed, not Python's 700.
# A request's objects are freed by reference counting as it ends: at 700 a push of 100 still set off about
# three young passes (one in ten of them a middle one too) over objects about to go, 1.8-2.3 µs of CPU a
# submission in the collector (PostgreSQL, 1,000,000 stored, in-process, timed by gc.callbacks); at 10,000
# none. Objects caught in cycles still go, at the next young pass (when, not measured).
YOUNG_THRESHOLD = 10_000
gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
