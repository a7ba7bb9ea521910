"""Issue 15: two POSTs adding the same attachment name to one OpenRosa submission at once (Collect
retrying while its first try is still in flight) were a 500 from the unique (submission, file name)
key. The first copy is kept and both are answered 201, as a retry is."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func
from sqlalchemy import select

from server.extensions import db
from server.models import OpenRosaAttachment
from tests.live_server import live_server
from tests.openrosa.collect import Collect


def test_two_phones_adding_the_same_attachment_at_once_both_get_201(app, token):
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = (f'<?xml version="1.0"?><data id="awareness" version="2017.1"><round>2019</round>'
           f"<consent>no</consent><intro>photo.jpg</intro><meta><instanceID>{instance_id}</instanceID>"
           "</meta></data>").encode()
    photo = b"\xff\xd8" + b"p" * 200_000
    with live_server(app) as url:
        phone = Collect(f"{url}/v1/key/{token}/projects/1")
        assert phone.post(xml).status == 201
        answers, start = [], threading.Barrier(2)

        def send():
            start.wait()
            answers.append(phone.post(xml, [("photo.jpg", photo)]))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(a.status for a in answers) == [201, 201], [a.text for a in answers]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OpenRosaAttachment)) == 1
