"""Issue 15, lesser items (second part): a draft's title stays the draft's, and an XLSX's rows are
counted while it is read. (Two phones adding the same OpenRosa attachment at once:
tests/openrosa/test_attachment_race.py.)"""

from __future__ import annotations

import io

import pytest

from forms import xlsform
from forms.errors import XLSFormTooLarge
from tests.xlsform_builder import MINI_CHOICES
from tests.xlsform_builder import MINI_SURVEY
from tests.xlsform_builder import mini
from tests.xlsform_builder import xlsform as build_xlsform


def _upload(client, headers, data: bytes, **fields):
    files = {"file": (io.BytesIO(data), "mini.xlsx"), **fields}
    return client.post("/api/v1/forms", data=files, headers=headers, content_type="multipart/form-data")


def _titles(client, headers) -> dict[str, str]:
    versions = client.get("/api/v1/forms", headers=headers).get_json()["versions"]
    return {v["version"]: v["title"] for v in versions if v["form_id"] == "mini"}


def test_a_drafts_new_title_renames_only_the_draft(client, accounts, places):
    coordinator = accounts.headers("coordinator")
    assert _upload(client, coordinator, mini("1", title="Mini")).status_code == 201
    assert client.post("/api/v1/forms/mini/versions/1/publish", headers=coordinator).status_code == 200
    assert _upload(client, coordinator, mini("2", title="Mini, renamed")).status_code == 201
    assert _titles(client, coordinator) == {"1": "Mini", "2": "Mini, renamed"}
    # a draft replaced with yet another title is still only its own title
    assert _upload(client, coordinator, mini("2", title="Mini, again"), replace="true").status_code == 201
    assert _titles(client, coordinator) == {"1": "Mini", "2": "Mini, again"}
    # opening the draft makes its title the form's
    assert client.post("/api/v1/forms/mini/versions/2/publish", headers=coordinator).status_code == 200
    assert _titles(client, coordinator) == {"1": "Mini", "2": "Mini, again"}


def test_an_xlsx_over_the_row_limit_is_refused_while_it_is_read(monkeypatch):
    source = build_xlsform(MINI_SURVEY + [("note", f"n{i}", "x", "", "") for i in range(60)],
                           choices=MINI_CHOICES)
    monkeypatch.setattr(xlsform, "MAX_SURVEY_ROWS", 50)

    def never(*args, **kwargs):  # the limit must stop the read before pyxform sees the workbook
        raise AssertionError("pyxform parsed a workbook over the row limit")

    monkeypatch.setattr(xlsform, "get_xlsform", never)
    with pytest.raises(XLSFormTooLarge, match="more than 50 rows"):
        xlsform.load_xlsform(source, file_type=".xlsx")
