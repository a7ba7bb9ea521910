"""`flask demo`: a season synced from demo devices, once, with demo users who can log in."""

from sqlalchemy import func
from sqlalchemy import select

from analysis.simulation import generate
from server.extensions import db
from server.models import Assignment
from server.models import Device
from server.models import QuarantinedSubmission
from server.models import SubmissionRevision
from server.models import SyncOp
from server.simulation.fleet import stored_submissions

INTERVIEWS = 160  # the design needs at least one per sampled commune: 36 a round


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_the_season_through_sync_once(app, runner):
    app.config["DEMO_INTERVIEWS"] = INTERVIEWS
    season = generate(seed=2017, interviews=INTERVIEWS, rounds=tuple(app.config["ROUNDS"]))
    expected = {item.sub_id: item for item in season.interviews + season.activities}

    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert f"{INTERVIEWS} interviews and {len(season.activities)} outreach activities" in first.stdout
    stored = stored_submissions(app)
    assert set(stored) == set(expected)
    assert all(s.revisions == 1 and s.answers == expected[k].answers for k, s in stored.items())
    with app.app_context():
        # It came through the protocol: each submission has its op in the ledger, from an enrolled
        # device of an enumerator with assignments.
        assert _count(SyncOp) == len(expected) == _count(SubmissionRevision)
        assert _count(QuarantinedSubmission) == 0
        devices = _count(Device)
        assert devices > 1 and _count(Assignment) > 0
        waiting = select(func.count()).select_from(Device).where(Device.enrolled_at.is_(None))
        assert db.session.scalar(waiting) == 0

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    with app.app_context():
        assert _count(SyncOp) == len(expected) and _count(Device) == devices
    assert stored_submissions(app) == stored

    for line in first.stdout.splitlines()[1:6]:
        username, password, role = line.split()
        token = app.test_client().post("/api/v1/auth/token",
                                       json={"username": username, "password": password})
        assert token.status_code == 201, (role, token.get_json())
