"""Issue 15: after a restore, devices re-sent what the server lost only if an operator remembered
``flask sync new-epoch``.

Now the reference client compares the server's ``ack`` (the highest operation number it holds from
the device) with the acknowledgements in its sent archive and queues again what the server lost,
with no operator. A restore that kept its epoch is simulated by removing, in the real database, what
the server stored after the "backup".
"""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from sync.client import HttpTransport
from sync.client import Outbox
from sync.client import SyncClient
from tests.live_server import live_server
from tests.security.conftest import op

REFUSAL = {"round": "2019", "consent": "no"}


def _forget_after_backup(app, lost_ops: list[str], lost_subs: list[str], kept_op: str, kept_n: int) -> None:
    """Make the database look restored from a backup taken before ``lost_ops`` arrived."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM respondents WHERE submission_id IN :s").bindparams(
            sa.bindparam("s", expanding=True)), {"s": lost_subs})
        for table, column, values in (("submission_revisions", "op_id", lost_ops),
                                      ("submissions", "id", lost_subs), ("sync_ops", "op_id", lost_ops)):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} IN :v").bindparams(
                sa.bindparam("v", expanding=True)), {"v": values})
        conn.execute(sa.text("UPDATE device_sync SET last_op = :op, last_n = :n"),
                     {"op": kept_op, "n": kept_n})


def _stored(app, subs) -> int:
    with app.app_context():
        return db.session.execute(sa.text("SELECT count(*) FROM submissions WHERE id IN :s").bindparams(
            sa.bindparam("s", expanding=True)), {"s": subs}).scalar_one()


def test_the_client_re_sends_what_a_restore_lost(tmp_path, app, client, accounts, forms_installed):
    username = accounts.user("enumerator")[0]
    code = client.post("/api/v1/devices", json={"username": username},
                       headers=accounts.headers("coordinator")).get_json()["enrolment_code"]
    version = op()["ver"]
    with live_server(app) as url:
        outbox = Outbox(tmp_path / "outbox.sqlite")
        agent = SyncClient(outbox, HttpTransport(url, timeout=30), sleep=lambda s: None)
        agent.enrol(code)
        subs = [agent.create("awareness", version, REFUSAL) for _ in range(3)]
        assert agent.push() == {"created": 3}
        archive = sorted(outbox.export(), key=lambda o: o["n"])
        _forget_after_backup(app, [o["id"] for o in archive[1:]], subs[1:], archive[0]["id"], archive[0]["n"])
        assert _stored(app, subs) == 1
        # the device has nothing new to send; its next sync notices the loss and re-sends
        counts = agent.sync()
        assert counts == {"requeued": 2, "created": 2}
        assert _stored(app, subs) == 3
        # and a later sync sends nothing again
        assert agent.sync() == {}
        outbox.close()


def test_the_idle_probe_is_best_effort_offline(tmp_path, app, client, accounts, forms_installed):
    username = accounts.user("enumerator")[0]
    code = client.post("/api/v1/devices", json={"username": username},
                       headers=accounts.headers("coordinator")).get_json()["enrolment_code"]
    outbox = Outbox(tmp_path / "outbox.sqlite")
    with live_server(app) as url:
        agent = SyncClient(outbox, HttpTransport(url, timeout=5), sleep=lambda s: None)
        agent.enrol(code)
        agent.create("awareness", op()["ver"], REFUSAL)
        assert agent.push() == {"created": 1}
    # the server is gone: with nothing queued, push is quiet, as it was before the probe existed
    assert agent.push() == {}
    outbox.close()
