"""Fixtures of the console tests: a fresh site with two districts' coordinators, their enumerators and
phones enrolled through the API, and real interviews to push through sync."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

import pytest

from sync.protocol import PROTOCOL
from tests.web.conftest import PASSWORD
from tests.web.conftest import sign_in

ROLES_DENIED = ("analyst", "planner", "enumerator")


@dataclass
class ConsoleSite:
    app: object
    client: object
    #: district code -> a generated, valid awareness interview's answers in that district (round 2017)
    interviews: dict = field(default_factory=dict)
    #: enumerator -> (device_id, headers)
    phones: dict = field(default_factory=dict)
    district_a: str = ""
    district_b: str = ""

    def browser(self, username: str):
        client = self.app.test_client()
        response = sign_in(client, username)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    def push(self, enumerator: str, answers: dict, *, sub: str | None = None) -> dict:
        import uuid

        device_id, headers = self.phones[enumerator]
        op = {"id": str(uuid.uuid4()), "kind": "create", "sub": sub or str(uuid.uuid4()), "form": "awareness",
              "ver": "2017.1", "ans": answers, "at": "2017-06-01T08:00:00+07:00"}
        body = {"protocol": PROTOCOL, "device_id": device_id, "ops": [op]}
        response = self.client.post("/api/v1/sync/push", json=body, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"][0] | {"sub": op["sub"]}

    def pull(self, enumerator: str) -> dict:
        device_id, headers = self.phones[enumerator]
        response = self.client.post("/api/v1/sync/pull", json={"protocol": PROTOCOL, "device_id": device_id},
                                    headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def build(app) -> ConsoleSite:
    """Seed the site: places, rounds, built-in forms, users per role, two districts, two phones."""
    from analysis.simulation import generate
    from server.accounts import users as accounts
    from server.console import scope as console_scope
    from server.extensions import db
    from server.forms import registry
    from server.models import reference
    from server.sync import assignments

    client = app.test_client()
    site = ConsoleSite(app, client)
    by_district = defaultdict(list)
    for interview in generate(seed=5, interviews=200, rounds=(2017,)).interviews:
        profile = interview.answers.get("profile") or {}
        if profile.get("district") and interview.version == "2017.1":
            by_district[profile["district"]].append(interview.answers)
    a, b = sorted(by_district)[:2]
    site.district_a, site.district_b = a, b
    site.interviews = {a: by_district[a], b: by_district[b]}
    with app.app_context():
        reference.load_places(db.session)
        reference.ensure_rounds(db.session, app.config["ROUNDS"])
        registry.install_library(db.session)
        for role in ("admin", "analyst", "planner"):
            accounts.create_user(db.session, f"c-{role}", PASSWORD, role)
        for name in ("coord-a", "coord-b"):
            accounts.create_user(db.session, name, PASSWORD, "coordinator")
        for name in ("enum-a", "enum-b"):
            accounts.create_user(db.session, name, PASSWORD, "enumerator")
        db.session.flush()
        console_scope.grant_districts(db.session, "coord-a", [a])
        console_scope.grant_districts(db.session, "coord-b", [b])
        for name, district in (("enum-a", a), ("enum-b", b)):
            commune = site.interviews[district][0]["profile"]["commune"]
            assignments.replace_assignments(db.session, name, 2017, [{"commune": commune, "quota": 5}])
        db.session.commit()
    for name in ("enum-a", "enum-b"):
        site.phones[name] = _enrol(site, name)
    return site


def _enrol(site: ConsoleSite, username: str):
    from datetime import timedelta

    from server.accounts import users as accounts
    from server.extensions import db

    with site.app.app_context():
        _, code = accounts.enroll_device(db.session, username, "phone", timedelta(hours=1))
        db.session.commit()
    body = site.client.post("/api/v1/devices/enroll", json={"protocol": PROTOCOL, "code": code})
    assert body.status_code == 200, body.get_json()
    enrolment = body.get_json()
    return enrolment["device_id"], {"Authorization": f"Bearer {enrolment['token']}"}


@pytest.fixture
def console(app):
    """A fresh console site (see :func:`build`)."""
    return build(app)
