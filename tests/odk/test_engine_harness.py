"""The ODK engine harness reports the verdicts ODK semantics prescribe.

Forms are written as XLSForm markdown tables and converted with pyxform, as
pyxform's own tests do; each test sends several answer sets in one engine run.
"""

import pytest
from pyxform.xls2xform import convert

from tests.odk import odk_engine

pytestmark = pytest.mark.skipif(
    not odk_engine.available(),
    reason="ODK engine not installed: npm ci --prefix tests/odk --no-audit --no-fund",
)


def xform(md: str) -> str:
    return convert(xlsform=md, file_type=".md", form_name="data").xform


def run(md: str, *answer_sets: dict, attachments=None) -> list[dict]:
    cases = [{"id": i, "answers": a} for i, a in enumerate(answer_sets)]
    results = odk_engine.evaluate(xform(md), cases, attachments=attachments)
    assert [r["id"] for r in results] == list(range(len(answer_sets)))
    return [r["nodes"] for r in results]


def verdict(node: dict) -> str:
    if node["constraint_violated"]:
        return "constraint"
    if node["required_violated"]:
        return "required"
    return "ok"


def test_required_blank_is_violated_and_answered_is_not():
    md = """
    | survey |
    |        | type | name  | label | required |
    |        | text | name  | Name  | yes      |
    |        | text | notes | Notes |          |
    """
    blank, answered = run(md, {}, {"/data/name": "Ann"})
    assert verdict(blank["/data/name"]) == "required"
    assert verdict(blank["/data/notes"]) == "ok"
    assert verdict(answered["/data/name"]) == "ok"
    assert answered["/data/name"]["value"] == "Ann"


def test_constraint_on_integer():
    md = """
    | survey |
    |        | type    | name | label | constraint |
    |        | integer | age  | Age   | . >= 18    |
    """
    young, adult, blank = run(md, {"/data/age": 15}, {"/data/age": "18"}, {})
    assert verdict(young["/data/age"]) == "constraint"
    assert young["/data/age"]["value"] == "15"
    assert verdict(adult["/data/age"]) == "ok"
    # A constraint is not evaluated on a blank value.
    assert verdict(blank["/data/age"]) == "ok"


def test_relevant_on_a_question_controls_its_required():
    md = """
    | survey |
    |        | type              | name    | label   | required | relevant           |
    |        | select_one yes_no | consent | Consent | yes      |                    |
    |        | text              | reason  | Why not | yes      | ${consent} = 'no'  |
    | choices |
    |         | list_name | name | label |
    |         | yes_no    | yes  | Yes   |
    |         | yes_no    | no   | No    |
    """
    yes, no, no_reason = run(
        md,
        {"/data/consent": "yes", "/data/reason": "ignored"},
        {"/data/consent": "no"},
        {"/data/consent": "no", "/data/reason": "busy"},
    )
    assert yes["/data/reason"]["relevant"] is False
    assert verdict(yes["/data/reason"]) == "ok"
    assert no["/data/reason"]["relevant"] is True
    assert verdict(no["/data/reason"]) == "required"
    assert verdict(no_reason["/data/reason"]) == "ok"


def test_answer_to_non_relevant_question_is_reported_unapplied():
    md = """
    | survey |
    |        | type    | name | label | relevant     |
    |        | integer | n    | N     |              |
    |        | text    | t    | T     | ${n} > 5     |
    """
    cases = [{"id": "x", "answers": {"/data/n": 1, "/data/t": "hello"}}]
    (result,) = odk_engine.evaluate(xform(md), cases)
    assert result["unapplied"] == {"/data/t": "not relevant"}
    assert result["nodes"]["/data/t"]["value"] == ""
    assert "<t" not in result["instance_xml"]  # non-relevant nodes are not submitted


def test_non_relevant_group_makes_its_required_children_non_relevant():
    md = """
    | survey |
    |        | type        | name    | label   | required | relevant    |
    |        | integer     | age     | Age     |          |             |
    |        | begin group | job     | Job     |          | ${age} >= 18 |
    |        | text        | company | Company | yes      |             |
    |        | end group   | job     |         |          |             |
    """
    child, adult = run(md, {"/data/age": 12}, {"/data/age": 30})
    assert child["/data/job"]["relevant"] is False
    assert child["/data/job/company"]["relevant"] is False
    assert verdict(child["/data/job/company"]) == "ok"
    assert adult["/data/job/company"]["relevant"] is True
    assert verdict(adult["/data/job/company"]) == "required"


def test_relevance_depending_on_a_later_question_still_takes_the_answer():
    md = """
    | survey |
    |        | type    | name | label | relevant  |
    |        | text    | why  | Why   | ${n} > 5  |
    |        | integer | n    | N     |           |
    """
    (nodes,) = run(md, {"/data/why": "because", "/data/n": 9})
    assert nodes["/data/why"] == nodes["/data/why"] | {"relevant": True, "value": "because"}


CASCADE = """
| survey |
|        | type              | name     | label    | choice_filter          |
|        | select_one prov   | province | Province |                        |
|        | select_one dist   | district | District | province=${province}   |
| choices |
|         | list_name | name     | label    | province |
|         | prov      | ct       | Can Tho  |          |
|         | prov      | hg       | Hau Giang|          |
|         | dist      | ninhkieu | Ninh Kieu| ct       |
|         | dist      | cairang  | Cai Rang | ct       |
|         | dist      | vithanh  | Vi Thanh | hg       |
"""


def test_select_one_with_choice_filter():
    cases = [
        {"id": "in", "answers": {"/data/province": "ct", "/data/district": "cairang"}},
        {"id": "out", "answers": {"/data/province": "ct", "/data/district": "vithanh"}},
    ]
    inside, outside = odk_engine.evaluate(xform(CASCADE), cases)
    assert inside["nodes"]["/data/district"]["selected"] == ["cairang"]
    assert inside["unapplied"] == {}
    # A district of another province is not among the filtered choices.
    assert outside["nodes"]["/data/district"]["selected"] == []
    assert outside["unapplied"] == {"/data/district": "not an available choice: vithanh"}


def test_select_multiple_with_selected_in_relevance():
    md = """
    | survey |
    |        | type                | name   | label  | required | relevant                     |
    |        | select_multiple fr  | fruits | Fruits |          |                              |
    |        | integer             | apples | Apples | yes      | selected(${fruits}, 'apple') |
    | choices |
    |         | list_name | name   | label  |
    |         | fr        | apple  | Apple  |
    |         | fr        | pear   | Pear   |
    |         | fr        | banana | Banana |
    """
    listed, spaced, without = run(
        md,
        {"/data/fruits": ["pear", "apple"]},
        {"/data/fruits": "apple banana", "/data/apples": 3},
        {"/data/fruits": ["pear"]},
    )
    assert sorted(listed["/data/fruits"]["selected"]) == ["apple", "pear"]
    assert listed["/data/apples"]["relevant"] is True
    assert verdict(listed["/data/apples"]) == "required"
    assert verdict(spaced["/data/apples"]) == "ok"
    assert spaced["/data/apples"]["value"] == "3"
    assert without["/data/apples"]["relevant"] is False


def test_integer_decimal_and_date_types():
    md = """
    | survey |
    |        | type    | name   | label  | constraint                   |
    |        | integer | count  | Count  | . < 100                      |
    |        | decimal | weight | Weight | . <= 10.5                    |
    |        | date    | when   | When   | . >= date('2020-01-01')      |
    """
    good, bad, coerced = run(
        md,
        {"/data/count": "99", "/data/weight": "10.5", "/data/when": "2024-02-29"},
        {"/data/count": 100, "/data/weight": 10.6, "/data/when": "2019-12-31"},
        {"/data/count": "abc", "/data/weight": "2.50"},
    )
    for path in ("/data/count", "/data/weight", "/data/when"):
        assert verdict(good[path]) == "ok", path
        assert verdict(bad[path]) == "constraint", path
    assert good["/data/count"]["value_type"] == "int"
    assert good["/data/weight"]["value_type"] == "decimal"
    assert good["/data/when"] == good["/data/when"] | {"value_type": "date", "value": "2024-02-29"}
    # The engine's int codec turns text it cannot read into a blank.
    assert coerced["/data/count"]["value"] == ""
    assert float(coerced["/data/weight"]["value"]) == 2.5


def test_required_question_in_repeat_instances():
    md = """
    | survey |
    |        | type         | name   | label  | required |
    |        | begin repeat | member | Member |          |
    |        | text         | mname  | Name   | yes      |
    |        | end repeat   | member |        |          |
    """
    (nodes,) = run(md, {"/data/member[1]/mname": "An", "/data/member[3]/mname": "Binh"})
    assert verdict(nodes["/data/member[1]/mname"]) == "ok"
    assert verdict(nodes["/data/member[2]/mname"]) == "required"
    assert nodes["/data/member[3]/mname"]["value"] == "Binh"
    assert "/data/member[4]" not in nodes


def test_select_one_from_file_uses_the_attachment():
    md = """
    | survey |
    |        | type                              | name    | label   | required |
    |        | select_one_from_file communes.csv | commune | Commune | yes      |
    """
    csv = "name,label\nan_binh,An Binh\nan_khanh,An Khanh\n"
    known, unknown = run(
        md,
        {"/data/commune": "an_khanh"},
        {"/data/commune": "hanoi"},
        attachments={"communes.csv": csv},
    )
    assert known["/data/commune"]["selected"] == ["an_khanh"]
    assert verdict(known["/data/commune"]) == "ok"
    assert unknown["/data/commune"]["selected"] == []
    assert verdict(unknown["/data/commune"]) == "required"


def test_missing_attachment_fails_with_the_engine_message():
    md = """
    | survey |
    |        | type                              | name    | label   |
    |        | select_one_from_file communes.csv | commune | Commune |
    """
    with pytest.raises(odk_engine.OdkEngineError, match="communes.csv"):
        odk_engine.evaluate(xform(md), [{"id": 1, "answers": {}}])


def test_malformed_form_raises_with_stderr():
    with pytest.raises(odk_engine.OdkEngineError, match="could not load the form"):
        odk_engine.evaluate("<h:html>not a form", [{"id": 1, "answers": {}}])


def test_unparseable_number_is_stored_blank_and_reported():
    md = """
    | survey |
    |        | type    | name  | label | required |
    |        | integer | count | Count | yes      |
    """
    (result,) = odk_engine.evaluate(xform(md), [{"id": 1, "answers": {"/data/count": "12x"}}])
    assert result["unapplied"] == {"/data/count": "stored blank: not a valid int"}
    assert verdict(result["nodes"]["/data/count"]) == "required"


def test_repeat_count_driven_repeat_follows_the_form():
    md = """
    | survey |
    |        | type         | name | label | required | repeat_count |
    |        | integer      | n    | N     |          |              |
    |        | begin repeat | kid  | Kid   |          | ${n}         |
    |        | integer      | kage | Age   | yes      |              |
    |        | end repeat   | kid  |       |          |              |
    """
    (nodes,) = run(md, {"/data/n": 2, "/data/kid[2]/kage": 4})
    assert verdict(nodes["/data/kid[1]/kage"]) == "required"
    assert nodes["/data/kid[2]/kage"]["value"] == "4"
    assert "/data/kid[3]" not in nodes
