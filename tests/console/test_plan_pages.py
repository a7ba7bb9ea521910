"""The plan pages' doors: who may open, propose, change and approve (the browser test walks the way in)."""

from __future__ import annotations

import re

from tests.plan_site import PASSWORD
from tests.plan_site import build
from tests.web.conftest import csrf_token
from tests.web.conftest import sign_in


def _browser(app, username):
    client = app.test_client()
    assert sign_in(client, username, PASSWORD).status_code == 303
    return client


def _post(client, path, data):
    token = csrf_token(client.get("/console/plans").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_who_may_open_propose_and_approve_on_the_pages(app):
    site = build(app, interviews=600)
    for name in ("p-analyst", f"enum-{site.districts[0]}"):
        assert _browser(app, name).get("/console/plans").status_code == 403
    coordinator = _browser(app, "coord-a")
    assert coordinator.get("/console/plans").status_code == 200
    assert 'id="propose"' not in coordinator.get("/console/plans").get_data(as_text=True)
    assert _post(coordinator, "/console/plans", {"round": "2019"}).status_code == 403

    planner = _browser(app, "p-planner")
    proposed = _post(planner, "/console/plans", {"round": "2019", "communes": "2"})
    assert proposed.status_code == 303
    plan_path = re.search(r"/console/plans/\d+", proposed.headers["Location"]).group(0)
    # a coordinator sees the plan, the rule on who approves, and no approve button on a city-wide plan
    page = coordinator.get(plan_path + "?lang=en").get_data(as_text=True)
    assert "wholly in their districts" in page and 'id="approve"' not in page
    assert _post(coordinator, plan_path + "/approve", {}).status_code == 403
    # nor may they change the design (their form carries enumerators only)
    assert 'id="plan-design"' not in page
    refused = _post(planner, plan_path, {"interviews": "0"})
    assert refused.status_code == 422 and "plan-error" in refused.get_data(as_text=True)
    approved = _post(planner, plan_path + "/approve", {})
    assert approved.status_code == 303
    again = _post(planner, plan_path + "/approve", {})
    assert again.status_code == 409 and "plan-not-draft" in again.get_data(as_text=True)
