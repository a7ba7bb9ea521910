"""The packed analysis row ingestion stores: the same values as the extraction it packs."""

from __future__ import annotations

import copy
import math

import numpy as np
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from analysis import tidy
from analysis.errors import AnalysisError
from analysis.respondent_rows import MISSING_CHOICE
from analysis.respondent_rows import respondent_row
from analysis.respondent_rows import row_from_record
from analysis.respondent_rows import row_plan
from analysis.simulation import generate
from forms import library
from forms.model import Form


def test_points_and_choices_pack_the_records_values_in_layout_order():
    form = library.load("awareness")
    layout = tidy.respondent_layout(form)
    season = generate(seed=3, interviews=300, rounds=(2017,))
    checked, missing, chosen, unchosen, unanswered = 0, 0, 0, 0, 0
    for interview in season.interviews:
        if interview.form_id != "awareness":
            continue
        record = tidy.respondent_record(form, interview.answers)
        row = respondent_row(form, interview.answers)
        points = np.frombuffer(row["points"], dtype="<f4")
        assert len(points) == len(layout.items)
        for name, packed in zip(layout.items, points, strict=True):
            value = record[name]
            missing += value is None
            assert math.isnan(packed) if value is None else packed == np.float32(value), name
        expected = [MISSING_CHOICE if record[c] is None else int(bool(record[c]))
                    for c in layout.choice_columns]
        assert list(row["choices"]) == expected
        chosen, unchosen = chosen + expected.count(1), unchosen + expected.count(0)
        unanswered += expected.count(MISSING_CHOICE)
        checked += 1
    # every kind of value was packed at least once (seed 3: 300 rows, 644 missing points, 168 unanswered)
    assert checked > 200 and missing and chosen and unchosen and unanswered


# --------------------------------------------------------------------------- the plan against the reference
_AWARENESS = library.load("awareness")
_SEASON = [it.answers for it in generate(seed=5, interviews=400, rounds=(2017, 2018)).interviews
           if it.form_id == "awareness"]


def _outcome(build, form, answers):
    """A row's values, or the fact that it could not be built (what ingestion then stores: no row)."""
    try:
        return build(form, answers)
    except (AnalysisError, ValueError, TypeError):
        return "unplaceable"


def _variant(change) -> Form:
    """The awareness form with its serialised questions changed by ``change`` (in place)."""
    data = _AWARENESS.to_json()
    del data["content_hash"]
    change(data["questions"])
    return Form.from_json(data)


def _question(questions, name):
    for q in questions:
        if q["name"] == name:
            return q
        found = _question(q.get("children", []), name)
        if found is not None:
            return found
    return None


def test_the_awareness_form_has_a_plan_and_it_builds_the_references_rows():
    assert row_plan(_AWARENESS) is not None
    for answers in _SEASON:
        assert respondent_row(_AWARENESS, answers) == row_from_record(_AWARENESS, answers)


_JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "yes", "no", "true", "false", "2017", "2017.5", "9", "x" * 101, "police",
                     "dont_know", "newspaper", "CT01", "female"]),
    st.text(max_size=5))
_JSON = st.recursive(_JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(["police", "yes", "a", "heard"]), inner, max_size=3),
                     max_leaves=8)


def _places(answers) -> list[tuple[str, ...]]:
    """Every key path of a document down to its groups' answers."""
    paths = []
    for key, value in answers.items():
        paths.append((key,))
        if isinstance(value, dict):
            paths.extend((key, inner) for inner in value)
    return paths


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_the_plan_builds_the_references_row_for_mangled_answers(data):
    # answers a device should never send (ingestion validates first), and answers stored before a form
    # changed (``report reindex``): wrong types, missing groups, groups that are no object, odd values
    answers = copy.deepcopy(data.draw(st.sampled_from(_SEASON)))
    for _ in range(data.draw(st.integers(1, 6))):
        path = data.draw(st.sampled_from(_places(answers) or [("consent",)]))
        container = answers
        for key in path[:-1]:
            container = container[key]
        if data.draw(st.booleans()):
            container.pop(path[-1], None)
        else:
            container[path[-1]] = data.draw(_JSON)
    expected = _outcome(row_from_record, _AWARENESS, answers)
    assert _outcome(respondent_row, _AWARENESS, answers) == expected


def test_a_value_item_and_other_forms_rows_match_the_reference():
    def age_scored(questions):
        _question(questions, "age")["ferry"] = {"domain": "profile", "score": "value"}

    valued = _variant(age_scored)
    assert [s.method for s in valued.scoring].count("value") == 1
    assert row_plan(valued) is not None
    profiled = [a for a in _SEASON if isinstance(a.get("profile"), dict)]
    ages = [dict(a, profile={**a["profile"], "age": age}) for a, age in
            zip(profiled, [31, 40.5, "40", None, True, 2**70] * 20, strict=False)]
    assert len(ages) == 120
    for answers in _SEASON[:50] + ages:
        assert _outcome(respondent_row, valued, answers) == _outcome(row_from_record, valued, answers)

    def repeated(questions):
        questions.append({"name": "visits", "type": "repeat",
                          "children": [{"name": "visit_place", "type": "text"}]})

    def clashing(questions):  # a question named like a choice column of the record
        questions.append({"name": "channels_newspaper", "type": "integer"})

    for form in (_variant(repeated), _variant(clashing)):
        assert row_plan(form) is None  # only the reference is exact: respondent_row takes it
        for answers in _SEASON[:20]:
            assert respondent_row(form, answers) == row_from_record(form, answers)


_ODD = ["police", "police dont_know", "dont_know", ["police"], ["police", "hotline"], ["hotline", "police"],
        {"police": 1}, 5, 1.5, -0.0, True, False, [1, "a"], [[1]], "", [], {}, None, "2017", 2017.9, "yes",
        "x" * 101, 2**70, "true", ["true"], "newspaper"]


def test_every_answer_the_row_reads_given_odd_values_matches_the_reference():
    # each answer the row reads, and each group, set in turn to values of every JSON type
    base = next(a for a in _SEASON if a.get("consent") == "yes")
    layout = tidy.respondent_layout(_AWARENESS)
    names = {"round", "district", "commune", "consent", *(n for n, _ in layout.profile), *layout.items}
    where = {q.name: group.name for group in _AWARENESS.questions if group.children for q in group.children}
    compared = unplaceable = 0
    for name in sorted(names) + sorted(set(where.values())):
        for odd in _ODD:
            answers = copy.deepcopy(base)
            if name in where:
                answers[where[name]][name] = odd
            else:
                answers[name] = odd
            expected = _outcome(row_from_record, _AWARENESS, answers)
            assert _outcome(respondent_row, _AWARENESS, answers) == expected, (name, odd)
            compared += 1
            unplaceable += expected == "unplaceable"
    assert compared > 1000 and 0 < unplaceable < compared
