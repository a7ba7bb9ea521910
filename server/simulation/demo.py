"""The demo: one user per role, and a reproducible survey season ingested through the sync protocol.

The season reaches the database the way field data does: enumerators' devices enrol with one-time
codes and push their outboxes with the real sync client, through the whole Flask stack in-process.
Nothing is written to the submission tables directly, so the demo also proves the ingestion path.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from analysis.simulation import generate
from server.accounts import users as accounts
from server.extensions import db
from server.models import ROLES
from server.models import User
from server.simulation.fleet import AppTransport
from server.simulation.fleet import Enumerators
from server.simulation.fleet import stored_submissions
from sync.simulation.fleet import FaultPlan
from sync.simulation.fleet import Verdict
from sync.simulation.fleet import simulate
from sync.simulation.fleet import verify

CREDENTIALS = "demo-credentials.txt"
SEED = 2017
DEVICES = 8
BATCH = 250  # ops per push: well under max_push_bytes for the longest interview


@dataclass
class SeasonLoad:
    """What ``load_season`` found and did."""

    interviews: int
    activities: int
    ingested: int       # submissions pushed by this run (0 when the demo was loaded already)
    seconds: float
    verdict: Verdict


def ensure_users(app: Flask) -> list[tuple[str, str, str]]:
    """Create one demo user per role unless they exist; return ``(username, password, role)`` rows.

    Passwords are random per installation and kept in the instance folder so `make run` can show
    them; a demo database is never a production one.
    """
    path = os.path.join(app.instance_path, CREDENTIALS)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            rows = [tuple(line.split()) for line in fh if line.strip() and not line.startswith("#")]
        if all(db.session.scalar(select(User).where(User.username == u)) for u, _, _ in rows):
            return rows
    rows = []
    for role in ROLES:
        username = f"demo-{role}"
        if db.session.scalar(select(User).where(User.username == username)) is None:
            password = secrets.token_urlsafe(12)
            accounts.create_user(db.session, username, password, role, cli=True)
            rows.append((username, password, role))
    db.session.commit()
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
        fh.write("# demo users: username password role\n")
        fh.writelines(f"{u} {p} {r}\n" for u, p, r in rows)
    return rows


class ProgressLines:
    """Report a sync's progress as a line at each tenth of the way (and at the end)."""

    def __init__(self, write: Callable[[str], None]):
        self.write, self.shown, self.started = write, -1, time.perf_counter()

    def __call__(self, acknowledged: int, total: int) -> None:
        tenth = acknowledged * 10 // max(total, 1)
        if tenth > self.shown:
            self.shown = tenth
            seconds = time.perf_counter() - self.started
            self.write(f"  synced {acknowledged:,} of {total:,} submissions from the demo devices "
                       f"({acknowledged * 100 // max(total, 1)}%, {seconds:.0f} s)")


def load_season(app: Flask, interviews: int, *, seed: int = SEED, devices: int = DEVICES,
                progress: Callable[[str], None] | None = None) -> SeasonLoad:
    """Generate the season and push what the server lacks through the sync protocol; safe to rerun.

    The generator is deterministic, so a rerun finds every submission id stored and pushes
    nothing; an interrupted load resumes with the submissions still missing. ``interviews`` 0
    loads no season. ``progress`` receives a line at each tenth of the sync.
    """
    if interviews <= 0:
        return SeasonLoad(interviews=0, activities=0, ingested=0, seconds=0.0, verdict=verify([], {}))
    season = generate(seed=seed, interviews=interviews, rounds=tuple(app.config["ROUNDS"]))
    items = list(season.interviews) + list(season.activities)
    ids = [item.sub_id for item in items]
    stored = stored_submissions(app, ids)
    missing = [item for item in items if item.sub_id not in stored]
    seconds = 0.0
    if missing:
        transport = AppTransport(app)
        with tempfile.TemporaryDirectory(prefix="ferry-demo-phones-") as phones:
            report = simulate(missing, devices=min(devices, len(missing)),
                              transport_factory=lambda i: transport,
                              new_code=Enumerators(app, prefix="demo-field"), faults=FaultPlan(), seed=seed,
                              outbox_dir=phones, batch_size=BATCH, chunk=(40, 160), sync_chance=0.5,
                              progress=None if progress is None else ProgressLines(progress))
        seconds = report.elapsed_s
        stored = stored_submissions(app, ids)
    verdict = verify(ids, {sub_id: s.revisions for sub_id, s in stored.items()})
    return SeasonLoad(interviews=len(season.interviews), activities=len(season.activities),
                      ingested=len(missing), seconds=seconds, verdict=verdict)
