"""The console's operations on the command line: ``forms list`` (a header, aligned), coordinator districts."""

from __future__ import annotations

from server.extensions import db
from server.forms import registry


def test_forms_list_has_a_header_and_aligned_columns(app, runner, places):
    with app.app_context():
        registry.install_library(db.session)
        db.session.commit()
    lines = runner.invoke(args=["forms", "list"]).output.splitlines()
    assert lines[0].split() == ["FORM", "VERSION", "STATE", "HASH", "SUBMISSIONS", "TITLE"]
    starts = {line.index("open") for line in lines[1:]}
    assert len(lines) == 3 and starts == {lines[0].index("STATE")}


def test_coordinator_districts(app, runner, places, accounts):
    username = accounts.user("coordinator")[0]
    result = runner.invoke(args=["coordinator-districts", username, "916", "917"])
    assert result.exit_code == 0 and "916, 917" in result.output
    wrong = runner.invoke(args=["coordinator-districts", username, "999"])
    assert wrong.exit_code != 0 and "999" in wrong.output
    enumerator = accounts.user("enumerator")[0]
    assert runner.invoke(args=["coordinator-districts", enumerator, "916"]).exit_code != 0
