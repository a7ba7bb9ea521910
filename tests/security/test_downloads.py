"""Issue 15: a Vietnamese file name broke a download (``Content-Disposition`` not encoded; gunicorn 500).

The source of an uploaded XLSForm keeps the name it was uploaded with; under gunicorn it now
downloads with an RFC 6266 ``filename*`` that decodes back to that name.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
import uuid

from server.api.body import attachment
from tests.security.gunicorn_server import gunicorn
from tests.xlsform_builder import mini

NAME = "Khảo sát Ninh Kiều — đợt 2019.xlsx"


def _filename_star(header: str) -> str:
    value = header.split("filename*=", 1)[1].split(";", 1)[0]
    assert value.startswith("UTF-8''")
    return urllib.parse.unquote(value[len("UTF-8''"):], encoding="utf-8")


def test_attachment_header_values():
    assert attachment("report.csv") == "attachment; filename=report.csv"
    header = attachment(NAME)
    header.encode("latin-1")  # what gunicorn (and HTTP/1.1) can carry
    assert 'filename="Khao sat Ninh Kieu' in header and _filename_star(header) == NAME
    assert "\r" not in attachment("a\r\nSet-Cookie: x=1.csv") and "\n" not in attachment("a\r\nb")
    shown = attachment(NAME, inline=True)
    assert shown.startswith("inline; ") and _filename_star(shown) == NAME


def test_a_vietnamese_file_name_downloads_under_gunicorn(app, database_url, tmp_path, accounts):
    headers = accounts.headers("coordinator")
    with gunicorn(database_url, tmp_path / "gunicorn-instance") as url:
        boundary, data = uuid.uuid4().hex, mini("1")
        quoted = urllib.parse.quote(NAME)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"; "
                f"filename*=UTF-8''{quoted}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
            + data + f"\r\n--{boundary}--\r\n".encode()
        upload = urllib.request.Request(f"{url}/api/v1/forms", data=body, method="POST", headers={
            **headers, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(upload, timeout=30) as answer:
            assert answer.status == 201
        download = urllib.request.Request(f"{url}/api/v1/forms/mini/versions/1/source", headers=headers)
        with urllib.request.urlopen(download, timeout=30) as source:
            assert source.status == 200
            assert _filename_star(source.headers["Content-Disposition"]) == NAME
            assert source.read() == data
