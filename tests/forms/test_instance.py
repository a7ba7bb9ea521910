"""ODK instance XML → Ferry answers (forms.instance), on hand-written instances and ODK's own."""

from __future__ import annotations

import pytest

from forms import library
from forms.instance import InstanceFormMismatch
from forms.instance import InstanceInvalid
from forms.instance import answers_from_instance
from forms.instance import instance_uuid
from forms.instance import read_header
from tests.forms.conftest import md
from tests.forms.test_library import AWARE
from tests.forms.test_library import OUTREACH
from tests.odk import odk_engine
from tests.odk.paths import instance_answers

HOUSEHOLD = """
    | survey |
    |        | type                 | name      | label   | required | calculation |
    |        | start                | start     |         |          |             |
    |        | date                 | visit     | Visit   |          |             |
    |        | begin_group          | head      | Head    |          |             |
    |        | integer              | age       | Age     | yes      |             |
    |        | decimal              | income    | Income  |          |             |
    |        | select_multiple yn   | assets    | Assets  |          |             |
    |        | end_group            |           |         |          |             |
    |        | begin_repeat         | kids      | Kids    |          |             |
    |        | text                 | kid_name  | Name    |          |             |
    |        | integer              | kid_age   | Age     |          |             |
    |        | end_repeat           |           |         |          |             |
    |        | geopoint             | where     | Where   |          |             |
    |        | note                 | bye       | Bye     |          |             |
    |        | calculate            | n_kids    |         |          | count(${kids}) |
    | choices |
    |         | list_name | name  | label |
    |         | yn        | radio | Radio |
    |         | yn        | tv    | TV    |
    | settings |
    |          | form_id   | version |
    |          | household | 3       |
"""


@pytest.fixture(scope="module")
def household():
    return md(HOUSEHOLD)


def instance(body: str, *, form_id="household", version="3", meta=None) -> bytes:
    meta = meta if meta is not None else "<instanceID>uuid:6f1c2a9e-0000-4000-8000-000000000001</instanceID>"
    return (f'<?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" '
            f'xmlns:orx="http://openrosa.org/xforms" id="{form_id}" version="{version}">'
            f"{body}<orx:meta>{meta}</orx:meta></data>").encode()


def test_groups_repeats_multiselects_numbers_dates_geopoints(household):
    xml = instance(
        "<start>2026-06-01T08:00:00.000+07:00</start><visit>2026-06-01</visit>"
        "<head><age> 41 </age><income>2.5</income><assets>radio tv</assets></head>"
        "<kids><kid_name> Lan </kid_name><kid_age>4</kid_age></kids>"
        "<kids><kid_name/><kid_age>7</kid_age></kids>"
        "<kids><kid_name/><kid_age/></kids>"
        "<where>10.03 105.77 3.0 5.0</where><bye/><n_kids>3</n_kids>")
    got = answers_from_instance(household, xml)
    assert got.answers == {
        "start": "2026-06-01T08:00:00.000+07:00", "visit": "2026-06-01",
        "head": {"age": 41, "income": 2.5, "assets": ["radio", "tv"]},
        "kids": [{"kid_name": " Lan ", "kid_age": 4}, {"kid_age": 7}, {}],
        "where": "10.03 105.77 3.0 5.0", "n_kids": "3",
    }
    assert (got.form_id, got.version, got.instance_id, got.deprecated_id) == (
        "household", "3", "uuid:6f1c2a9e-0000-4000-8000-000000000001", None)
    assert got.submission_uuid == "6f1c2a9e-0000-4000-8000-000000000001"
    assert household.validate(got.answers) == []


def test_empty_answers_and_groups_are_left_out(household):
    got = answers_from_instance(household, instance("<visit/><head><age/><income/><assets/></head><bye/>"))
    assert got.answers == {}
    assert [i.pointer for i in household.validate(got.answers)] == ["/head/age"]  # required


def test_decimal_written_as_integer_is_an_integer(household):
    got = answers_from_instance(household, instance("<head><age>30</age><income>3</income></head>"))
    assert got.answers["head"] == {"age": 30, "income": 3}


def test_answers_that_do_not_fit_are_kept_for_validation(household):
    xml = instance("<head><age>forty</age><age>41</age></head><ghost>boo</ghost>"
                   "<visit><nested>x</nested></visit>")
    got = answers_from_instance(household, xml)
    assert got.answers == {"head": {"age": ["forty", 41]}, "ghost": "boo", "visit": {"nested": "x"}}
    codes = {(i.code, i.pointer) for i in household.validate(got.answers)}
    assert ("unknown-field", "/ghost") in codes
    assert ("type", "/head/age") in codes and ("type", "/visit") in codes


def test_meta_is_carried_not_answered(household):
    meta = ("<instanceID>uuid:6f1c2a9e-0000-4000-8000-000000000002</instanceID>"
            "<deprecatedID>uuid:6f1c2a9e-0000-4000-8000-000000000001</deprecatedID>"
            "<instanceName>visit 1</instanceName>")
    got = answers_from_instance(household, instance("<visit>2026-06-02</visit>", meta=meta))
    assert got.answers == {"visit": "2026-06-02"}
    assert got.deprecated_id == "uuid:6f1c2a9e-0000-4000-8000-000000000001"
    assert got.instance_name == "visit 1"
    header = read_header(instance("", meta=meta))
    assert (header.form_id, header.version, header.instance_id) == (
        "household", "3", "uuid:6f1c2a9e-0000-4000-8000-000000000002")


def test_instance_ids_that_are_not_uuids_get_a_stable_uuid():
    given = "uuid:6F1C2A9E-0000-4000-8000-000000000001"
    assert instance_uuid(given) == "6f1c2a9e-0000-4000-8000-000000000001"
    derived = instance_uuid("enketo:abc123")
    assert derived == instance_uuid("enketo:abc123") != instance_uuid("enketo:abc124")
    assert len(derived) == 36


@pytest.mark.parametrize("xml, says", [
    (b"<data id='household' version='3'><visit>", "not well-formed"),
    (b"", "not well-formed"),
    (b"<data version='3'><meta><instanceID>uuid:x</instanceID></meta></data>", "'id'"),
    (b"<data id='household' version='3'><visit/></data>", "instanceID"),
    (b"<data id='household' version='3'><meta><instanceID>uuid:a b</instanceID></meta></data>", "without"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
     b"<data id='household' version='3'><visit>&lol2;</visit></data>", "DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     b"<data id='household' version='3'><visit>&xxe;</visit></data>", "DTD"),
])
def test_bad_xml_is_refused(household, xml, says):
    with pytest.raises(InstanceInvalid) as err:
        answers_from_instance(household, xml)
    assert err.value.code == "instance-invalid"
    assert says in err.value.detail


def test_billion_laughs_is_refused_without_expanding(household):
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{entities}]>'
           "<data id='household' version='3'><visit>&l9;</visit></data>").encode()
    with pytest.raises(InstanceInvalid):
        read_header(xml)


def test_another_form_or_version_is_refused(household):
    with pytest.raises(InstanceFormMismatch):
        answers_from_instance(household, instance("", version="4"))
    with pytest.raises(InstanceFormMismatch):
        answers_from_instance(household, instance("", form_id="other"))


@pytest.mark.skipif(not odk_engine.available(), reason="ODK engine not installed (npm ci --prefix tests/odk)")
def test_instances_filled_by_odks_engine_give_the_sync_documents():
    """The built-in forms, filled by ODK's own engine, read back as the documents the sync client sends."""
    for name, doc in (("awareness", AWARE), ("outreach", OUTREACH)):
        form = library.load(name)
        files = {n: p.read_text(encoding="utf-8") for n, p in library.attachments().items()}
        [result] = odk_engine.evaluate(form.xform, [{"id": name, "answers": instance_answers(form, doc)}],
                                       files)
        assert result["unapplied"] == {} and result["violations"] == []
        got = answers_from_instance(form, result["instance_xml"].encode())
        computed = {"start", "end", "signs_correct"}  # filled by the phone, not the interviewer
        answers = {k: v for k, v in got.answers.items() if k not in computed}
        if "knowledge" in answers:
            answers["knowledge"] = {k: v for k, v in answers["knowledge"].items() if k not in computed}
            assert got.answers["knowledge"]["signs_correct"] == "3"
            assert got.answers["start"] <= got.answers["end"]
        assert answers == doc
        assert form.validate(got.answers) == []
        assert got.instance_id.startswith("uuid:") and got.form_id == name
