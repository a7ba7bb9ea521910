"""The built-in forms: content, round trips, XForms, cascades, consent and scoring keys."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest

from forms import library
from forms.errors import FormUnknown
from forms.library import source
from forms.model import Form
from forms.xlsform import load_xlsform

from .conftest import codes

def commune_in(district: str, other_than: str | None = None) -> str:
    import csv

    with open(library.FOLDER / "communes.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["district"] == district and row["name"] != other_than:
                return row["name"]
    raise LookupError(district)


AWARE = {
    "round": "2019",
    "consent": "yes",
    "profile": {
        "sex": "female", "age": 24, "marital": "single", "education": "lower_secondary",
        "occupation": "factory", "district": "926", "commune": commune_in("926"),
        "plan_away": "yes", "plan_abroad": "no",
    },
    "knowledge": {
        "heard": "yes", "sign_job_abroad": "true", "sign_marriage_broker": "true",
        "sign_keep_papers": "false", "sign_debt": "dont_know", "form_forced_labour": "true",
        "form_marriage": "true", "form_cross_border": "true", "form_organ": "true",
        "form_adoption": "false", "form_legal_export": "false", "law_exists": "yes",
        "law_victim": "true", "law_punish": "true", "hotline": "18001567",
        "hotline_free": "dont_know", "report_where": ["police", "commune_committee"],
        "day": "30_07", "respond": "check",
    },
    "risk": {
        "risk_broker": "no", "risk_approached": "no", "risk_papers": "no", "risk_debt": "yes",
        "risk_lost_contact": "no",
    },
    "exposure": {"heard_any": "yes", "channels": ["loudspeaker", "mobile_team"],
                 "channel_main": "mobile_team"},
}

OUTREACH = {
    "activity_date": "2018-07-30", "level": "commune", "district": "926",
    "communes": [commune_in("926")], "activity_type": "day_30_july",
    "target_groups": ["women_marriage_age", "rural_remote"], "people_reached": 350,
    "reach_basis": "estimated", "duration_hours": 2.5, "organiser": "commune_committee",
    "location": "10.0 105.6",
}


def test_example_documents_are_valid(awareness, outreach):
    assert awareness.validate(AWARE) == []
    assert outreach.validate(OUTREACH) == []


def test_names_and_unknown_name():
    assert library.NAMES == ("awareness", "outreach")
    assert library.path("awareness").suffix == ".xlsx"
    with pytest.raises(FormUnknown) as err:
        library.load("census")
    assert err.value.code == "form-unknown"


@pytest.mark.parametrize("name", library.NAMES)
def test_round_trip_xlsform_model_json_model(name):
    form = library.load(name)
    text = json.dumps(form.to_json(), ensure_ascii=False)
    again = Form.from_json(text)
    assert again.to_json() == form.to_json()
    assert again.content_hash == form.content_hash
    assert again.xform == form.xform
    assert form.languages == ["Tiếng Việt (vi)", "English (en)"]
    assert form.default_language == "Tiếng Việt (vi)"
    assert form.version and form.form_id == name


@pytest.mark.parametrize("name", library.NAMES)
def test_shipped_xlsx_is_what_the_source_builds(name):
    built = load_xlsform(source.workbook_bytes(name), attachments=library.attachments())
    assert built.content_hash == library.load(name).content_hash


def test_shipped_place_lists_are_what_the_source_builds():
    reference = library.FOLDER.parent / "reference" / "cantho" / "communes_2019.csv"
    for filename, text in source.place_csvs(reference).items():
        assert (library.FOLDER / filename).read_text(encoding="utf-8") == text
    assert text.count("\n") == 86  # header + 85 communes
    assert "916-an-cu" in text


@pytest.mark.parametrize("name", library.NAMES)
def test_xform_is_what_stock_pyxform_makes_without_the_ferry_columns(name):
    from pyxform.xls2xform import convert

    form = library.load(name)
    stripped = _strip_ferry(library.path(name).read_bytes())
    assert convert(xlsform=io.BytesIO(stripped), file_type=".xlsx").xform == form.xform


def _strip_ferry(data: bytes) -> bytes:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for column in reversed(range(1, sheet.max_column + 1)):
            if str(sheet.cell(1, column).value or "").startswith("ferry::"):
                sheet.delete_cols(column)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs java")
@pytest.mark.parametrize("name", library.NAMES)
def test_odk_validate_accepts_the_xform(name):
    from pyxform.validators.odk_validate import check_xform

    with tempfile.TemporaryDirectory() as folder:
        xml = os.path.join(folder, f"{name}.xml")
        with open(xml, "w", encoding="utf-8") as f:
            f.write(library.load(name).xform)
        assert check_xform(xml) == []


def test_awareness_size_and_privacy(awareness):
    answerable = [q for q in awareness.walk()
                  if q.type not in ("group", "repeat", "note", "calculate", "start", "end")
                  and q.name != "instanceID"]
    assert 30 <= len(answerable) <= 45
    words = " ".join(json.dumps(q.label, ensure_ascii=False).lower() for q in answerable)
    assert "tên của anh" not in words and "your name" not in words
    assert not any(q.type in ("text", "geopoint") for q in answerable)
    assert awareness.question("round").type == "select_one"


def test_awareness_scoring_covers_every_domain_the_plan_names(awareness):
    domains = {item.domain for item in awareness.scoring}
    assert domains >= {"knowledge.signs", "knowledge.forms", "knowledge.law",
                       "knowledge.hotline", "knowledge.report", "knowledge.day", "risk",
                       "exposure"}
    by_name = {item.name: item for item in awareness.scoring}
    assert by_name["hotline"].keys == ["18001567"]  # from the mark on the choices sheet
    assert by_name["sign_keep_papers"].keys == ["false"]  # from the survey row
    assert by_name["report_where"].method == "count" and by_name["report_where"].max_points == 5
    assert len(by_name["channels"].keys) == 10
    scores = awareness.score(AWARE)
    assert scores["hotline"] == 1.0 and scores["sign_debt"] == 0.0
    assert scores["report_where"] == 2.0 and scores["risk_debt"] == 1.0
    assert scores["channels"] == 2.0


def test_channels_cover_the_plan(awareness):
    names = {c.name for c in awareness.choices["channel"]}
    assert names >= {"newspaper", "city_radio_tv", "web_portal", "loudspeaker", "mobile_team",
                     "commune_meeting", "event", "social_media", "legal_bookshelf",
                     "family_friends"}


def test_refusal_ends_the_interview(awareness):
    refusal = {"round": "2018", "consent": "no"}
    assert awareness.validate(refusal) == []
    issues = awareness.validate({**refusal, "profile": {"age": 30}})
    assert codes(issues) == [("not-relevant", "/profile/age")]
    assert codes(awareness.validate({"consent": "yes", "round": "2018"}))[:2] == [
        ("required", "/profile/sex"), ("required", "/profile/age")]


def test_commune_outside_the_chosen_district_is_rejected(awareness, outreach):
    other = commune_in("916")
    doc = json.loads(json.dumps(AWARE))
    doc["profile"]["commune"] = other
    assert codes(awareness.validate(doc)) == [("choice-filter", "/profile/commune")]
    doc["profile"]["commune"] = "99999"
    assert codes(awareness.validate(doc)) == [("choice", "/profile/commune")]
    assert codes(outreach.validate({**OUTREACH, "communes": [commune_in("926"), other]})) == [
        ("choice-filter", "/communes/1")]


def test_age_constraint_message_in_both_languages(awareness):
    doc = json.loads(json.dumps(AWARE))
    doc["profile"]["age"] = 12
    (issue,) = awareness.validate(doc)
    assert (issue.code, issue.pointer) == ("constraint", "/profile/age")
    assert issue.message == {"Tiếng Việt (vi)": "Khảo sát dành cho người từ 15 đến 80 tuổi.",
                             "English (en)": "The survey is for people aged 15 to 80."}


def test_channel_main_must_be_one_of_the_channels(awareness):
    doc = json.loads(json.dumps(AWARE))
    doc["exposure"]["channel_main"] = "newspaper"
    assert codes(awareness.validate(doc)) == [("constraint", "/exposure/channel_main")]
    doc["exposure"] = {"heard_any": "no", "channels": ["event"]}
    assert codes(awareness.validate(doc)) == [("not-relevant", "/exposure/channels")]


def test_outreach_rules(outreach):
    city = {k: v for k, v in OUTREACH.items() if k not in ("district", "communes", "location")}
    city["level"] = "city"
    city["activity_type"] = "radio_programme"
    assert outreach.validate(city) == []
    assert codes(outreach.validate({**city, "location": "10 105"})) == [
        ("not-relevant", "/location")]
    assert codes(outreach.validate({**OUTREACH, "activity_date": "2016-12-31"})) == [
        ("constraint", "/activity_date")]
    assert codes(outreach.validate({**OUTREACH, "activity_type": "other"})) == [
        ("required", "/activity_other")]
    assert codes(outreach.validate({**OUTREACH, "duration_hours": 0})) == [
        ("constraint", "/duration_hours")]


def test_forms_package_imports_no_web_framework():
    code = ("import sys, forms, forms.library, forms.xlsform, forms.validate, forms.scoring;"
            "forms.library.load('awareness');"
            "bad = [m for m in ('flask', 'flask_sqlalchemy', 'werkzeug', 'server') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_xlsx_parts_are_small():
    with zipfile.ZipFile(library.path("awareness")) as archive:
        assert sum(i.file_size for i in archive.infolist()) < 1_000_000
