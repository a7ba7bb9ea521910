"""A site ready to plan the next round: two rounds of a generated season stored as submissions, outreach
after the last round, one enumerator per district assigned in that round, and staff with tokens."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

PASSWORD = "correct horse battery"
#: the outreach commune reached after the last stored round (2018)
REACHED = "31171"


@dataclass
class PlanSite:
    app: object
    season: object
    districts: list[str]
    headers: dict = field(default_factory=dict)  # username -> bearer headers

    def enumerator(self, district: str) -> str:
        return f"enum-{district}"


def build(app, *, interviews: int = 1200, seed: int = 11) -> PlanSite:
    """Seed ``app``: places, rounds 2017–2020, built-in forms, the season's 2017 and 2018 rounds, an
    outreach activity in 2019, users (``p-admin``, ``p-planner``, ``p-analyst``, ``coord-a`` for the first
    district, ``coord-all`` for every district, ``enum-<district>``) and 2018 assignments."""
    from analysis.simulation import generate
    from server.accounts import users as accounts
    from server.accounts.secrets import issue_token
    from server.console import scope as console_scope
    from server.extensions import db
    from server.forms import registry
    from server.models import reference
    from server.sync import assignments
    from server.sync.store import SqlStore
    from tests.server.conftest import ingest_season
    from tests.server.conftest import write

    season = generate(seed=seed, interviews=interviews, rounds=(2017, 2018))
    districts = sorted({i.district_code for i in season.interviews})
    site = PlanSite(app, season, districts)
    with app.app_context():
        reference.load_places(db.session)
        reference.ensure_rounds(db.session, [2017, 2018, 2019, 2020])
        registry.install_library(db.session)
        people = [("p-admin", "admin"), ("p-planner", "planner"), ("p-analyst", "analyst"),
                  ("coord-a", "coordinator"), ("coord-all", "coordinator"),
                  *[(site.enumerator(d), "enumerator") for d in districts]]
        for name, role in people:
            user = accounts.create_user(db.session, name, PASSWORD, role)
            secret, _ = issue_token(user=user)
            site.headers[name] = {"Authorization": f"Bearer {secret}"}
        db.session.flush()
        console_scope.grant_districts(db.session, "coord-a", districts[:1])
        console_scope.grant_districts(db.session, "coord-all", districts)
        last = {}
        for interview in season.interviews:
            if interview.round == 2018:
                last.setdefault(interview.district_code, set()).add(interview.commune_key)
        for district, communes in last.items():
            assignments.replace_assignments(db.session, site.enumerator(district), 2018,
                                            [{"commune": c, "quota": 20} for c in sorted(communes)])
        db.session.commit()
        store = SqlStore(db.engine)
        ingest_season(store, season)
        template = next(a for a in season.activities if a.answers.get("level") == "commune")
        answers = dict(template.answers, activity_date="2019-03-01", district="918",
                       communes=[REACHED])
        write(store, "outreach-after-2018", answers, form_id=template.form_id, version=template.version)
        db.session.remove()
    return site
