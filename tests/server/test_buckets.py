"""Pull-bucket feeds: forms, places, assignments and settings land in bucket_changes in commit order."""

import io

import pytest
from sqlalchemy import select

from server.extensions import db
from server.forms import registry as form_registry
from server.models import BucketChange
from server.models import Counter
from server.models import Device
from server.models import Round
from server.models import reference
from server.sync import buckets
from server.sync.store import SqlStore
from sync import engine
from sync.protocol import Cursor
from sync.protocol import PullRequest
from sync.store import DeviceRef
from sync.testing.fakes import T0
from tests.xlsform_builder import mini


def bucket_rows(app, bucket: str) -> list[tuple[str, int, dict | None]]:
    """Return (key, seq, data) of a bucket in seq order."""
    with app.app_context():
        rows = db.session.scalars(select(BucketChange).where(BucketChange.bucket == bucket)
                                  .order_by(BucketChange.seq)).all()
        return [(r.key, r.seq, r.data) for r in rows]


def counter(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Counter.value).where(Counter.name == "changes")) or 0


def upload(client, headers, data: bytes):
    files = {"file": (io.BytesIO(data), "mini.xlsx")}
    return client.post("/api/v1/forms", data=files, headers=headers, content_type="multipart/form-data")


# -- the writer ------------------------------------------------------------------------------------
def test_put_and_remove_take_the_store_seq_and_skip_what_devices_already_have(app):
    with app.app_context():
        first = buckets.put(db.session, "b", "k", {"x": (1, 2)})
        assert buckets.put(db.session, "b", "k", {"x": [1, 2]}) is None  # the same JSON
        second = buckets.put(db.session, "b", "other", {"x": 1})
        third = buckets.remove(db.session, "b", "k")
        assert buckets.remove(db.session, "b", "k") is None
        assert buckets.remove(db.session, "b", "never-sent") is None
        db.session.commit()
    assert first < second < third
    assert bucket_rows(app, "b") == [("other", second, {"x": 1}), ("k", third, None)]
    # One counter for everything: the SQL store continues after the feed's seqs.
    store = SqlStore(_engine(app))
    with store.transaction():
        assert store.next_seq() == third + 1


def _engine(app):
    with app.app_context():
        return db.engine


def test_a_rolled_back_change_leaves_no_bucket_row(app):
    with app.app_context():
        buckets.put(db.session, "b", "k", {"x": 1})
        db.session.rollback()
    assert bucket_rows(app, "b") == []


# -- forms -----------------------------------------------------------------------------------------
def test_forms_feed_follows_the_state_of_each_version(app, client, accounts):
    coordinator = accounts.headers("coordinator")
    assert upload(client, coordinator, mini("1")).status_code == 201
    assert bucket_rows(app, "forms") == []  # a draft is nobody's business but coordinators'
    client.post("/api/v1/forms/mini/versions/1/publish", headers=coordinator)
    [(key, opened, data)] = bucket_rows(app, "forms")
    with app.app_context():
        version = form_registry.get_version(db.session, "mini", "1")
        content_hash = version.content_hash
    assert key == "mini@1"
    assert data == {"form_id": "mini", "version": "1", "title": "Mini", "state": "open",
                    "content_hash": content_hash, "url": "/api/v1/forms/mini/versions/1", "attachments": []}
    # The URL in the summary is what a device downloads, with the hash as its ETag.
    device = accounts.device()[1]
    response = client.get(data["url"], headers=device)
    assert response.status_code == 200 and response.headers["ETag"] == f'"{content_hash}"'

    state_url = "/api/v1/forms/mini/versions/1/state"
    client.put(state_url, json={"state": "closing"}, headers=coordinator)
    [(_, closing, data)] = bucket_rows(app, "forms")
    assert closing > opened and data["state"] == "closing"
    client.put(state_url, json={"state": "closed"}, headers=coordinator)
    assert [(k, d) for k, _, d in bucket_rows(app, "forms")] == [("mini@1", None)]


def test_built_in_forms_are_published_with_their_attachments_once(app):
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
    rows = bucket_rows(app, "forms")
    assert {k.split("@")[0] for k, _, _ in rows} == {"awareness", "outreach"}
    awareness = next(d for k, _, d in rows if k.startswith("awareness@"))
    assert awareness["state"] == "open" and awareness["attachments"]
    for attachment in awareness["attachments"]:
        assert len(attachment["sha256"]) == 64
        assert attachment["url"] == f"{awareness['url']}/attachments/{attachment['filename']}"
    with app.app_context():
        form_registry.install_library(db.session)
        db.session.commit()
    assert bucket_rows(app, "forms") == rows


# -- places ----------------------------------------------------------------------------------------
def test_places_feed_has_each_district_and_commune_once(app, places):
    rows = {k: d for k, _, d in bucket_rows(app, "places")}
    assert len(rows) == 9 + 85
    assert rows["d:916"]["name"] == "Ninh Kiều" and rows["d:916"]["kind"] == "urban"
    assert rows["d:916"]["population"] == sum(d["population"] for k, d in rows.items()
                                              if k.startswith("c:") and d["district"] == "916")
    commune = rows["c:31117"]
    assert set(commune) == {"key", "code", "name", "kind", "district", "population"}
    assert (commune["key"], commune["code"], commune["name"], commune["district"]) == (
        "31117", "31117", "Cái Khế", "916")
    assert commune["population"] > 0
    assert (rows["c:916-an-cu"]["key"], rows["c:916-an-cu"]["district"]) == ("916-an-cu", "916")
    # Loading again re-sends nothing: same rows, same seqs, no seq spent.
    before, seq = bucket_rows(app, "places"), counter(app)
    with app.app_context():
        reference.load_places(db.session)
        db.session.commit()
    assert bucket_rows(app, "places") == before and counter(app) == seq


# -- settings --------------------------------------------------------------------------------------
def test_device_settings_carry_the_language_and_the_latest_round(app, accounts):
    device_id, _ = accounts.device()
    bucket = f"settings:{device_id}"
    with app.app_context():
        device = db.session.get(Device, device_id)
        buckets.publish_device_settings(db.session, device)
        db.session.commit()
    assert [(k, d) for k, _, d in bucket_rows(app, bucket)] == [("language", {"value": "vi"})]
    with app.app_context():
        reference.ensure_rounds(db.session, [2019, 2020])
        assert buckets.publish_device_settings(db.session, db.session.get(Device, device_id))
        db.session.commit()
    assert bucket_rows(app, bucket)[-1][0::2] == ("round", {"year": 2020, "kind": "follow-up",
                                                             "name": "Follow-up 2020"})
    with app.app_context():  # nothing new: nothing re-sent
        assert buckets.publish_device_settings(db.session, db.session.get(Device, device_id)) == []
        db.session.commit()
        assert db.session.scalar(select(Round.year).order_by(Round.year.desc()).limit(1)) == 2020


def test_bucket_names_match_the_engine(app, accounts):
    device_id, _ = accounts.device()
    names = engine.buckets_for(DeviceRef(id=str(device_id), user_id=42))
    assert names == [buckets.FORMS, buckets.PLACES, buckets.assignments_bucket(42),
                     buckets.settings_bucket(device_id)]


# -- a device pulling through the engine -----------------------------------------------------------
def _pull(store, device, cursor=None):
    """Pull every page; return {bucket: {key: data}} of changes seen (None = deleted) and the cursor."""
    seen: dict[str, dict] = {}
    while True:
        page = engine.pull(store, device, PullRequest(device_id=str(device.id), cursor=cursor,
                                                      max_bytes=4096), now=T0)
        for name, changes in page.buckets.items():
            for item in changes.changes:
                seen.setdefault(name, {})[item["key"]] = item.get("d") if item["op"] == "put" else None
        cursor = Cursor.decode(page.cursor)
        if not page.has_more:
            return seen, cursor


def test_a_device_pulls_forms_places_its_assignments_and_settings(app, client, accounts, places):
    coordinator = accounts.headers("coordinator")
    # communes in several districts: an admin assigns them (a coordinator only in their own districts)
    admin = accounts.headers("admin")
    username, _, _ = accounts.user("enumerator")
    other, _, _ = accounts.user("enumerator")
    device_id, _ = accounts.device(username)
    with app.app_context():
        form_registry.install_library(db.session)
        device = db.session.get(Device, device_id)
        buckets.publish_device_settings(db.session, device)
        user_id = device.user_id
        db.session.commit()
    for name, communes in ((username, [{"commune": "31117", "quota": 40}, {"commune": "31120", "quota": 25}]),
                           (other, [{"commune": "31123", "quota": 30}])):
        response = client.put(f"/api/v1/users/{name}/assignments", json={"round": 2019, "communes": communes},
                              headers=admin)
        assert response.status_code == 200, response.get_json()

    store = SqlStore(_engine(app))
    ref = DeviceRef(id=str(device_id), user_id=user_id)
    seen, cursor = _pull(store, ref)
    assert set(seen) == {"forms", "places", f"assignments:{user_id}", f"settings:{device_id}"}
    assert {d["form_id"] for d in seen["forms"].values()} == {"awareness", "outreach"}
    assert len(seen["places"]) == 94
    assert seen[f"assignments:{user_id}"] == {
        "2019:31117": {"round": 2019, "commune": "31117", "commune_name": "Cái Khế", "district": "916",
                       "quota": 40},
        "2019:31120": {"round": 2019, "commune": "31120", "commune_name": "An Hòa", "district": "916",
                       "quota": 25}}
    assert seen[f"settings:{device_id}"]["language"] == {"value": "vi"}

    # Closing a version leaves it on phones; closing it for good deletes it on the next pull.
    awareness = next(k for k in seen["forms"] if k.startswith("awareness@"))
    version = awareness.split("@", 1)[1]
    for state in ("closing", "closed"):
        client.put(f"/api/v1/forms/awareness/versions/{version}/state", json={"state": state},
                   headers=coordinator)
    client.put(f"/api/v1/users/{username}/assignments",
               json={"round": 2019, "communes": [{"commune": "31117", "quota": 45}]}, headers=admin)
    later, cursor = _pull(store, ref, cursor)
    assert later == {"forms": {awareness: None},
                     f"assignments:{user_id}": {"2019:31117": {**seen[f"assignments:{user_id}"]["2019:31117"],
                                                               "quota": 45},
                                                "2019:31120": None}}
    # Nothing else has changed: the next pull is empty.
    assert _pull(store, ref, cursor)[0] == {}


@pytest.mark.parametrize("writes", [["forms", "places"], ["places", "forms"]])
def test_seqs_follow_commit_order_across_feeds(app, writes):
    """Each feed's rows take seqs when its transaction runs, so a later commit has higher seqs."""
    with app.app_context():
        for feed in writes:
            if feed == "forms":
                form_registry.install_library(db.session)
            else:
                reference.load_places(db.session)
            db.session.commit()
    forms_seqs = [s for _, s, _ in bucket_rows(app, "forms")]
    places_seqs = [s for _, s, _ in bucket_rows(app, "places")]
    first, second = (forms_seqs, places_seqs) if writes[0] == "forms" else (places_seqs, forms_seqs)
    assert max(first) < min(second)
