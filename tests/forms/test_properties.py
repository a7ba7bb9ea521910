"""Property tests: generated valid answers to the built-in forms pass; one mutation is pinpointed."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from .conftest import codes
from .strategies import AWARENESS as FORM
from .strategies import OUTREACH
from .strategies import awareness_answers as answers
from .strategies import mutation
from .strategies import outreach_answers

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(answers())
def test_generated_valid_answers_pass(doc):
    assert FORM.validate(doc) == []


@SETTINGS
@given(answers(), st.data())
def test_one_mutation_is_reported_at_its_pointer(doc, data):
    bad, kind, pointer = data.draw(mutation(FORM, doc, free_only=True))
    assert codes(FORM.validate(bad)) == [(kind, pointer)]


@SETTINGS
@given(outreach_answers())
def test_generated_valid_outreach_answers_pass(doc):
    assert OUTREACH.validate(doc) == []


@SETTINGS
@given(outreach_answers(), st.data())
def test_one_outreach_mutation_is_reported_at_its_pointer(doc, data):
    bad, kind, pointer = data.draw(mutation(OUTREACH, doc, free_only=True))
    assert codes(OUTREACH.validate(bad)) == [(kind, pointer)]


@SETTINGS
@given(answers())
def test_answer_to_a_non_relevant_question_is_reported(doc):
    bad = copy.deepcopy(doc)
    if doc["consent"] == "no":
        bad["risk"] = {"risk_debt": "yes"}
        expected = "/risk/risk_debt"
    elif "channels" not in doc["exposure"]:
        bad["exposure"]["channels"] = ["event"]
        expected = "/exposure/channels"
    elif "risk_broker" not in doc["risk"]:
        bad["risk"]["risk_broker"] = "no"
        expected = "/risk/risk_broker"
    else:
        bad["consent"] = "no"
        issues = codes(FORM.validate(bad))
        assert issues and {c for c, _ in issues} == {"not-relevant"}
        assert ("not-relevant", "/profile/age") in issues
        return
    assert codes(FORM.validate(bad)) == [("not-relevant", expected)]


@SETTINGS
@given(answers())
def test_json_round_trip_validates_identically(doc):
    again = _FROM_JSON
    mutated = copy.deepcopy(doc)
    mutated["round"] = "1999"
    assert again.validate(doc) == FORM.validate(doc)
    assert again.validate(mutated) == FORM.validate(mutated)


from forms.model import Form  # noqa: E402

_FROM_JSON = Form.from_json(FORM.to_json())
