"""The command-line tools: help with an example for each, and what each does."""

import pytest
from sqlalchemy import func
from sqlalchemy import select

from server.cli.commands import leaf_commands
from server.extensions import db
from server.models import Commune
from server.models import EnrolmentCode
from server.models import User


@pytest.mark.parametrize("invocation, command", list(leaf_commands()),
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help_with_an_example(runner, invocation, command):
    result = runner.invoke(args=[*invocation.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"flask --app server {invocation}" in result.output


def test_init_loads_places_and_is_idempotent(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["init"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Commune.id))) == 85


def test_create_user_prompts_for_password(app, runner):
    result = runner.invoke(args=["create-user", "lan", "--role", "coordinator"],
                           input="a good password\na good password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.username == "lan")) == "coordinator"
    again = runner.invoke(args=["create-user", "lan", "--role", "analyst"],
                          input="a good password\na good password\n")
    assert again.exit_code == 1 and "taken" in again.output


def test_create_user_refuses_short_password(runner):
    result = runner.invoke(args=["create-user", "lan", "--role", "analyst"], input="short\nshort\n")
    assert result.exit_code == 1 and "10 characters" in result.output


def test_enroll_device_prints_a_one_time_code_stored_hashed(app, runner, accounts):
    username, _, _ = accounts.user("enumerator")
    result = runner.invoke(args=["enroll-device", username, "--label", "Phone 3"])
    assert result.exit_code == 0, result.output
    code = result.stdout.strip().rsplit(" ", 1)[-1]
    assert len(code) == 17 and code.count("-") == 2
    with app.app_context():
        hashes = db.session.scalars(select(EnrolmentCode.code_hash)).all()
        assert len(hashes) == 1 and code not in hashes[0]


def test_enroll_device_refuses_non_enumerators(runner, accounts):
    username, _, _ = accounts.user("analyst")
    result = runner.invoke(args=["enroll-device", username])
    assert result.exit_code == 1 and "enumerator" in result.output
    assert runner.invoke(args=["enroll-device", "ghost"]).exit_code == 1


def test_demo_creates_one_user_per_role_and_keeps_their_credentials(app, runner):
    app.config["DEMO_INTERVIEWS"] = 0  # the season: tests/server/test_demo.py
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for role in ("admin", "coordinator", "enumerator", "analyst", "planner"):
        assert f"demo-{role}" in first.output
    again = runner.invoke(args=["demo"])
    assert again.stdout == first.stdout
    username, password = first.stdout.splitlines()[1].split()[:2]
    response = app.test_client().post("/api/v1/auth/token",
                                      json={"username": username, "password": password})
    assert response.status_code == 201


def test_sync_commands_show_the_queue_revalidate_and_start_a_new_epoch(app, runner, accounts):
    import uuid

    from server.sync import runtime as sync_runtime
    from sync import engine
    from sync.protocol import PROTOCOL
    from sync.protocol import PushRequest
    from sync.store import DeviceRef

    device_id, _ = accounts.device()
    with app.app_context():
        store = sync_runtime.store()
        op = {"id": str(uuid.uuid4()), "kind": "create", "sub": str(uuid.uuid4()), "form": "nowhere",
              "ver": "1", "ans": {}}
        request = PushRequest.from_wire({"protocol": PROTOCOL, "device_id": str(device_id), "ops": [op]})
        from server.models import utcnow

        engine.push(store, DeviceRef(str(device_id), 1), request, now=utcnow())
        with store.snapshot():
            before = store.epoch()
    listing = runner.invoke(args=["sync", "quarantine"])
    assert listing.exit_code == 0 and op["id"] in listing.stdout and "form-unknown" in listing.stdout
    assert "0 conflict(s)." in runner.invoke(args=["sync", "conflicts"]).stdout
    # The form still does not exist: the item stays in quarantine, stored whole.
    assert "Accepted 0; still quarantined 1." in runner.invoke(args=["sync", "revalidate"]).stdout
    assert str(device_id) in runner.invoke(args=["sync", "devices"]).stdout
    assert runner.invoke(args=["sync", "new-epoch"], input="n\n").exit_code == 1
    assert runner.invoke(args=["sync", "new-epoch", "--yes"]).exit_code == 0
    with app.app_context():
        with sync_runtime.store().snapshot():
            assert sync_runtime.store().epoch() != before
