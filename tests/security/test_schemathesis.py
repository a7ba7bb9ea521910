"""Schemathesis against a live server: every operation of /api/v1/openapi.json, called by a staff role with
generated requests (valid ones, and ones that break the schema), never answers 500, and every answer
matches the status codes and schemas the description declares.

The server is real (werkzeug on 127.0.0.1, the app's own database, seeded with places, the built-in forms,
an enrolled device and a pushed submission); schemathesis loads the description over HTTP like any client.
``FERRY_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and mode (default 10: a few minutes on
2 cores).
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.live_server import live_server
from tests.security.conftest import enrol
from tests.security.conftest import op
from tests.security.conftest import push_text

EXAMPLES = int(os.environ.get("FERRY_SCHEMATHESIS_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
#: Operations left out, each because it would end the run's own session rather than test the API:
SKIPPED = {
    # signs the caller out: every later request of the run would be a 401 that tests nothing
    ("DELETE", "/api/v1/auth/token"),
}


def _seed(client, accounts) -> dict:
    """A device that synced once, so lists, exports and reports have rows to show; return the path
    parameters that name what was seeded."""
    username = accounts.user("enumerator")[0]
    device_id, headers = enrol(client, accounts, username)
    created = op()
    answer = push_text(client, device_id, headers, json.dumps([created]))
    assert answer.status_code == 200, answer.get_json()
    return {"form_id": "awareness", "version": created["ver"], "fmt": "csv", "username": username,
            "device_id": device_id}


def _operations(schema):
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIPPED:
            yield operation


def _run(operation, mode, url, headers, known=None) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
    def check(case):
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=60)

    check()


def _passes(operation, known):
    """Generated path parameters (mostly names of nothing), then, where every one can name a seeded
    thing, the seeded names: so the answers with bodies, and their schemas, are checked too."""
    yield schemathesis.GenerationMode.POSITIVE, None
    yield schemathesis.GenerationMode.NEGATIVE, None
    names = [p.name for p in operation.path_parameters]
    if names and all(name in known for name in names):
        yield schemathesis.GenerationMode.POSITIVE, {name: known[name] for name in names}


# admins and coordinators run the console and the API; analysts are the readers of the reports
@pytest.mark.parametrize("role", ["admin", "coordinator", "analyst"])
def test_schemathesis_finds_no_server_error_and_no_schema_break(app, client, accounts, forms_installed, role):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    known = _seed(client, accounts)
    headers = accounts.headers(role)
    failures = []
    with live_server(app) as url:
        schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
        operations = list(_operations(schema))
        assert len(operations) > 40
        for operation in operations:
            for mode, fixed in _passes(operation, known):
                try:
                    _run(operation, mode, url, headers, fixed)
                except Unsatisfiable:
                    pass  # nothing of this operation can be made invalid (no body, no declared parameter)
                except Exception as failure:  # noqa: BLE001 - gather every operation's failure, then report
                    where = f"{operation.method.upper()} {operation.path} ({mode.value}, {fixed})"
                    failures.append(f"{where}: {str(failure)[:3000]}")
    assert not failures, "\n\n".join(failures)
