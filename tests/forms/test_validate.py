"""Answer validation: every question type and every issue code, on compact inline forms."""

from __future__ import annotations

import json

import pytest

from forms.model import Form
from forms.validate import CODES
from forms.validate import Issue

from .conftest import codes
from .conftest import md

TYPES_FORM = """
|survey|
||type|name|label::vi|label::en|required|relevant|constraint|constraint_message::vi|constraint_message::en|calculation|
||integer|n|Số|Number|yes||. < 100|Phải nhỏ hơn 100|Must be under 100||
||decimal|x|Thập phân|Decimal|||. >= 0.5||||
||text|t|Chữ|Text|||regex(., '^[a-z]+$')|Chỉ chữ thường|Lower-case letters only||
||select_one yn|one|Một|One|||||||
||select_multiple col|many|Nhiều|Many|||count-selected(.) <= 2||||
||date|d|Ngày|Date|||. <= today()||||
||geopoint|g|Vị trí|Place|||||||
||note|info|Ghi chú|Note|||||||
||calculate|twice||||||||${n} * 2|
||integer|more|Thêm|More||${twice} > 10|||||
||begin_group|grp|Nhóm|Group||selected(${many}, 'red')|||||
||text|why|Tại sao|Why|yes||||||
||end_group||||||||||
||begin_repeat|kids|Trẻ|Children|||||||
||integer|kid_age|Tuổi|Age|yes||. < ${n}||||
||end_repeat||||||||||
|choices|
||list_name|name|label::vi|label::en|
||yn|yes|Có|Yes|
||yn|no|Không|No|
||col|red|Đỏ|Red|
||col|blue|Xanh|Blue|
||col|green|Lục|Green|
|settings|
||form_id|version|default_language|
||types|1|vi|"""


@pytest.fixture(scope="module")
def form():
    return md(TYPES_FORM)


VALID = {
    "n": 7, "x": 1.5, "t": "abc", "one": "yes", "many": ["red", "blue"], "d": "2020-07-30",
    "g": "10.03 105.78 5 10", "more": 3, "grp": {"why": "because"},
    "kids": [{"kid_age": 1}, {"kid_age": 2}],
}


def test_valid_document_has_no_issues(form):
    assert form.validate(VALID) == []


def test_empty_document_reports_only_required(form):
    assert codes(form.validate({})) == [("required", "/n")]


@pytest.mark.parametrize("key, value", [
    ("n", "7"), ("n", 7.5), ("n", True), ("n", 2**40),
    ("x", "1.5"), ("x", False), ("t", 5), ("one", ["yes"]), ("one", 1),
    ("many", "red"), ("many", ["red", "red"]), ("many", [1]), ("d", "30/07/2020"),
    ("d", "2020-02-30"), ("g", "north"), ("g", "91 10"), ("g", "1 2 3 -4"), ("g", [1, 2]),
])
def test_wrong_json_type_is_type(form, key, value):
    # Other questions may react to the bad value through expressions; this one must say "type".
    found = [c for c in codes(form.validate({**VALID, key: value})) if c[1] == f"/{key}"]
    assert found == [("type", f"/{key}")]


def test_group_and_repeat_shapes_are_checked(form):
    assert codes(form.validate({**VALID, "grp": "x"})) == [("type", "/grp")]
    assert codes(form.validate({**VALID, "kids": {"kid_age": 1}})) == [("type", "/kids")]
    assert codes(form.validate([VALID])) == [("type", "")]


def test_choice_not_in_list(form):
    assert codes(form.validate({**VALID, "one": "maybe"})) == [("choice", "/one")]
    assert codes(form.validate({**VALID, "many": ["red", "pink"]})) == [("choice", "/many/1")]


def test_constraints_and_their_messages_in_both_languages(form):
    issues = form.validate({**VALID, "n": 150})
    assert codes(issues) == [("constraint", "/n")]
    assert issues[0].message == {"vi": "Phải nhỏ hơn 100",
                                 "en": "Must be under 100"}
    assert codes(form.validate({**VALID, "x": 0.1})) == [("constraint", "/x")]
    issue = form.validate({**VALID, "x": 0.1})[0]
    assert issue.message["en"] == "The answer is not allowed."
    assert issue.message["vi"] == "Câu trả lời không hợp lệ."
    assert codes(form.validate({**VALID, "t": "ABC"})) == [("constraint", "/t")]
    assert codes(form.validate({**VALID, "many": ["red", "blue", "green"]})) == [
        ("constraint", "/many")]
    assert codes(form.validate({**VALID, "d": "2999-01-01"})) == [("constraint", "/d")]


def test_constraint_reads_other_answers_inside_repeats(form):
    assert codes(form.validate({**VALID, "kids": [{"kid_age": 9}]})) == [
        ("constraint", "/kids/0/kid_age")]
    assert codes(form.validate({**VALID, "kids": [{}]})) == [("required", "/kids/0/kid_age")]


def test_relevance_from_a_calculate(form):
    # twice = n * 2 is computed by the server when the device did not send it.
    assert codes(form.validate({**VALID, "n": 4})) == [("not-relevant", "/more")]
    assert codes(form.validate({**VALID, "n": 4, "twice": "8"})) == [("not-relevant", "/more")]


def test_answer_in_a_non_relevant_group_and_required_inside_it(form):
    without_red = {**VALID, "many": ["blue"]}
    assert codes(form.validate(without_red)) == [("not-relevant", "/grp/why")]
    del without_red["grp"]
    assert form.validate(without_red) == []  # required 'why' is not required: group not relevant
    assert codes(form.validate({**VALID, "grp": {}})) == [("required", "/grp/why")]


def test_note_takes_no_answer(form):
    assert codes(form.validate({**VALID, "info": "hello"})) == [("not-answerable", "/info")]
    assert form.validate({**VALID, "info": None}) == []


def test_unknown_fields_at_every_level(form):
    doc = {**VALID, "extra": 1, "grp": {"why": "x", "nope": 2}, "kids": [{"kid_age": 1, "z": 0}]}
    assert codes(form.validate(doc)) == [
        ("unknown-field", "/extra"), ("unknown-field", "/grp/nope"),
        ("unknown-field", "/kids/0/z")]


def test_null_empty_string_and_empty_list_are_unanswered(form):
    # With n unanswered, twice is NaN (so 'more' is not relevant) and 'kid_age < n' is false.
    assert codes(form.validate({**VALID, "n": None})) == [
        ("required", "/n"), ("not-relevant", "/more"),
        ("constraint", "/kids/0/kid_age"), ("constraint", "/kids/1/kid_age")]
    assert form.validate({**VALID, "t": "", "many": [], "x": None, "grp": None}) == []


def test_issue_is_readable():
    issue = Issue("required", "/a", {"en": "This question is required."})
    assert str(issue) == "/a: required: This question is required."
    assert issue.to_json()["pointer"] == "/a"


REPEAT_COUNT = """
| survey |
|        | type         | name  | label | repeat_count | required |
|        | integer      | n     | N     |              | yes      |
|        | begin_repeat | r     | R     | ${n}         |          |
|        | text         | t     | T     |              |          |
|        | end_repeat   |       |       |              |          |
"""


def test_repeat_count():
    form = md(REPEAT_COUNT)
    assert form.validate({"n": 2, "r": [{"t": "a"}, {"t": "b"}]}) == []
    issues = form.validate({"n": 2, "r": [{"t": "a"}]})
    assert codes(issues) == [("repeat-count", "/r")]
    assert issues[0].message == {"default": "Exactly 2 entries are needed, but there are 1."}


CASCADE = """
| survey |
|        | type             | name     | label    | choice_filter          | required |
|        | select_one dist  | district | District |                        | yes      |
|        | select_one comm  | commune  | Commune  | district=${district}   | yes      |
|        | select_multiple comm | visited | Visited | district=${district} |          |
| choices |
|         | list_name | name | label | district |
|         | dist      | d1   | D1    |          |
|         | dist      | d2   | D2    |          |
|         | comm      | c1   | C1    | d1       |
|         | comm      | c2   | C2    | d2       |
"""


def test_cascading_choice_filter():
    form = md(CASCADE)
    assert form.validate({"district": "d1", "commune": "c1", "visited": ["c1"]}) == []
    assert codes(form.validate({"district": "d1", "commune": "c2"})) == [
        ("choice-filter", "/commune")]
    assert codes(form.validate({"district": "d1", "commune": "c1", "visited": ["c1", "c2"]})) == [
        ("choice-filter", "/visited/1")]
    assert codes(form.validate({"district": "d1", "commune": "c9"})) == [("choice", "/commune")]


DYNAMIC_REQUIRED = """
| survey |
|        | type    | name | label | required      | required_message |
|        | integer | a    | A     |               |                  |
|        | text    | b    | B     | ${a} > 5      | B is needed when A is over 5 |
"""


def test_dynamic_required_and_its_message():
    form = md(DYNAMIC_REQUIRED)
    assert form.validate({"a": 3}) == []
    issues = form.validate({"a": 7})
    assert codes(issues) == [("required", "/b")]
    assert issues[0].text() == "B is needed when A is over 5"


def test_every_code_is_documented_and_exercised():
    import forms.validate as module

    for code in CODES:
        assert f"| {code} " in module.__doc__


def test_flatten_maps_names_to_values(form):
    flat = form.flatten(VALID)
    assert flat["why"] == "because" and flat["kid_age"] == [1, 2] and flat["n"] == 7


def test_relevance_reports_every_question_with_repeats_per_entry(form):
    relevance = form.relevance(VALID)
    assert relevance["/grp"] is True and relevance["/grp/why"] is True
    assert relevance["/more"] is True  # ${twice} = 2 * 7 > 10
    assert form.relevance({"n": 3})["/more"] is False
    assert [p for p in relevance if p.startswith("/kids")] == [
        "/kids", "/kids/0/kid_age", "/kids/1/kid_age"]
    assert form.check(VALID) == ([], relevance)


def test_relevance_of_a_non_relevant_group_covers_its_children(form):
    relevance = form.relevance({"n": 7, "many": ["blue"], "grp": {"why": "x"}})
    assert relevance["/grp"] is False and relevance["/grp/why"] is False
    assert form.relevance({"n": 7, "many": ["red"]})["/grp/why"] is True
    assert form.relevance([]) == {}


# Found by the ODK parity tests on ona_ethiopia_food_security_monitoring (c32cTot: a decimal
# whose calculation sums percentages and whose constraint wants 100): ODK checks a
# constraint on a calculated value, and a required question with a calculated value is
# answered.
CALCULATED = """
| survey |
|        | type    | name  | label | calculation   | constraint | required |
|        | integer | a     | A     |               |            |          |
|        | integer | b     | B     |               |            |          |
|        | decimal | total | Total | ${a} + ${b}   | . = 100    | yes      |
"""


def test_constraint_and_required_apply_to_a_calculated_value():
    form = md(CALCULATED)
    assert codes(form.validate({"a": 40, "b": 60})) == []
    assert codes(form.validate({"a": 40, "b": 50})) == [("constraint", "/total")]
    # '' + '' is NaN, which ODK stores as blank: then the question is unanswered.
    assert codes(form.validate({})) == [("required", "/total")]


def test_a_repeat_entry_reads_its_own_answers_never_another_entrys():
    # Found by ODK parity on a real-world form: an entry without the answer read the list of every
    # entry's answers, and XPath compares a node-set as "any of them".
    from forms import load_xlsform
    from tests.xlsform_builder import xlsform

    form = load_xlsform(xlsform([
        ("type", "name", "label", "relevant", "required"),
        ("begin_repeat", "stumps", "Stumps", "", ""),
        ("integer", "girth", "Girth", "", ""),
        ("text", "photo", "Photo", "${girth} >= 220", "yes"),
        ("end_repeat", "", "", "", ""),
    ]))
    answers = {"stumps": [{"girth": 300, "photo": "a.jpg"}, {}]}
    relevance = form.relevance(answers)
    assert relevance["/stumps/0/photo"] is True
    assert relevance["/stumps/1/photo"] is False
    assert form.validate(answers) == []
    answers = {"stumps": [{}, {"girth": 300}]}
    assert [(i.code, i.pointer) for i in form.validate(answers)] == [("required", "/stumps/1/photo")]


SPACED_FORM = """
|survey|
||type|name|label::en|relevant|constraint|
||select_one yn|consent|Consent|||
||integer|age|Age|${consent} = 'yes'|. < ${limit}|
||integer|limit|Limit|||
|choices|
||list_name|name|label::en|
||yn|yes|Yes|
||yn|no|No|
|settings|
||form_id|version|default_language|
||spaced|1|en|"""


def test_a_reference_written_with_spaces_reads_the_answer():
    # ``${ consent }`` names the answer ``consent`` as the compiler reads it: the validator binds only
    # answers that expressions read, so it must read the name the same way. pyxform refuses the spaces; a
    # serialised form (``Form.from_json``) can still carry them.
    data = md(SPACED_FORM).to_json()
    del data["content_hash"]
    text = json.dumps(data).replace("${consent}", "${ consent }").replace("${limit}", "${ limit }")
    form = Form.from_json(text)
    assert "${ consent }" in form.question("age").relevant
    assert form.validate({"consent": "yes", "age": 30, "limit": 40}) == []
    assert codes(form.validate({"consent": "yes", "age": 50, "limit": 40})) == [("constraint", "/age")]
    assert codes(form.validate({"consent": "no", "age": 30, "limit": 40})) == [("not-relevant", "/age")]
