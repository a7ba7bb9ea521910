"""Issue 15: the reference client queued an answer file the server refused, then pushed it forever.

Now it refuses, at ``queue``, what the server would refuse; nothing enters the outbox, and the
outbox it has keeps pushing to a real server on 127.0.0.1.
"""

from __future__ import annotations

import json

import pytest

from server.forms import registry as form_registry
from sync.client import Outbox
from sync.client.__main__ import main
from sync.errors import EnvelopeInvalid
from tests.live_server import live_server
from tests.security.conftest import REFUSAL

BAD_DOCUMENTS = {
    "lone surrogate": '{"round": "2019", "consent": "no", "x": "\\ud83d"}',
    "integer beyond 64 bits": f'{{"round": "2019", "consent": "no", "x": {10**20}}}',
    "deep nesting": '{"round": "2019", "consent": "no", "x": ' + "[" * 40 + "]" * 40 + "}",
    "too deep to parse": '{"x": ' + "[" * 200_000 + "]" * 200_000 + "}",
    "NaN": '{"round": "2019", "consent": "no", "x": NaN}',
}


@pytest.mark.parametrize("name", list(BAD_DOCUMENTS))
def test_queue_refuses_what_the_server_would_refuse_and_push_still_works(
        tmp_path, app, client, accounts, forms_installed, name, capsys):
    version = form_registry.library.load("awareness").version
    username = accounts.user("enumerator")[0]
    code = client.post("/api/v1/devices", json={"username": username},
                       headers=accounts.headers("coordinator")).get_json()["enrolment_code"]
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(REFUSAL), encoding="utf-8")
    bad.write_text(BAD_DOCUMENTS[name], encoding="utf-8")
    db = str(tmp_path / "outbox.sqlite")
    with live_server(app) as url:
        assert main(["--db", db, "enrol", "--server", url, "--code", code]) == 0
        refused = _exit_status(lambda: main(["--db", db, "queue", "--form", "awareness", "--version", version,
                                            str(good), str(bad)]))
        assert refused != 0
        outbox = Outbox(db)
        assert outbox.status()["pending"] == 0  # all or none: the good file waits for the bad one's fix
        outbox.close()
        assert main(["--db", db, "queue", "--form", "awareness", "--version", version, str(good)]) == 0
        capsys.readouterr()
        assert main(["--db", db, "push"]) == 0
        assert json.loads(capsys.readouterr().out) == {"created": 1}


def _exit_status(run) -> int:
    try:
        return run()
    except SystemExit as exc:
        return 1 if exc.code not in (None, 0) else 0


def test_the_outbox_itself_refuses_an_unsendable_operation(tmp_path):
    outbox = Outbox(tmp_path / "o.sqlite")
    with pytest.raises(EnvelopeInvalid) as refused:
        outbox.enqueue({"kind": "create", "sub": "00000000-0000-4000-8000-000000000000", "form": "awareness",
                        "ver": "1", "ans": {"x": "\udfff"}})
    assert refused.value.errors[0]["pointer"] == "/ans/x"
    assert outbox.status()["pending"] == 0
    outbox.close()
