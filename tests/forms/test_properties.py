"""Property tests: generated valid awareness answers pass; one mutation is pinpointed."""

from __future__ import annotations

import copy
import csv

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from forms import library
from forms.expressions import references

from .conftest import codes

FORM = library.load("awareness")
with open(library.FOLDER / "communes.csv", encoding="utf-8") as f:
    COMMUNES: dict[str, list[str]] = {}
    for row in csv.DictReader(f):
        COMMUNES.setdefault(row["district"], []).append(row["name"])

# instanceName (pyxform's meta calculate) reads round but checks nothing.
REFERENCED = {name for q in FORM.walk() if q.name != "instanceName"
              for column in ("relevant", "constraint", "calculation", "choice_filter")
              for name in references(getattr(q, column))}
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def names(list_name):
    return [c.name for c in FORM.choices[list_name]]


def one(list_name):
    return st.sampled_from(names(list_name))


@st.composite
def answers(draw):
    doc = {"round": draw(one("round")), "consent": draw(one("yes_no"))}
    if doc["consent"] == "no":
        return doc
    district = draw(st.sampled_from(sorted(COMMUNES)))
    profile = {
        "sex": draw(one("sex")), "age": draw(st.integers(15, 80)), "marital": draw(one("marital")),
        "education": draw(one("education")), "occupation": draw(one("occupation")),
        "district": district, "commune": draw(st.sampled_from(COMMUNES[district])),
        "plan_away": draw(one("ynd")), "plan_abroad": draw(one("ynd")),
    }
    knowledge = {}
    for q in FORM.question("knowledge").children:
        if q.type == "select_one":
            knowledge[q.name] = draw(one(q.choices))
    places = [n for n in names("report") if n != "dont_know"]
    knowledge["report_where"] = draw(st.one_of(
        st.just(["dont_know"]), st.lists(st.sampled_from(places), min_size=1, unique=True)))
    risk = {q.name: draw(one("ynd")) for q in FORM.question("risk").children}
    if "yes" not in (profile["plan_away"], profile["plan_abroad"]):
        del risk["risk_broker"]
    exposure = {"heard_any": draw(one("yes_no"))}
    if exposure["heard_any"] == "yes":
        channels = draw(st.lists(one("channel"), min_size=1, unique=True))
        exposure.update(channels=channels, channel_main=draw(st.sampled_from(channels)))
    doc.update(profile=profile, knowledge=knowledge, risk=risk, exposure=exposure)
    return doc


def leaves(doc, prefix=""):
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}/{key}")
        else:
            yield f"{prefix}/{key}", key, value


def put(doc, pointer, value):
    parts = pointer.strip("/").split("/")
    target = doc
    for part in parts[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


_DELETE = object()


@SETTINGS
@given(answers())
def test_generated_valid_answers_pass(doc):
    assert FORM.validate(doc) == []


@SETTINGS
@given(answers(), st.data())
def test_one_mutation_is_reported_at_its_pointer(doc, data):
    free = [(p, k, v) for p, k, v in leaves(doc) if k not in REFERENCED]
    pointer, key, value = data.draw(st.sampled_from(free))
    q = FORM.question(key)
    kinds = ["type", "unknown-field"]
    if q.type.startswith("select"):
        kinds.append("choice")
    if q.required:
        kinds.append("required")
    if key == "age":
        kinds.append("constraint")
    if key == "commune" and len(COMMUNES) > 1:
        kinds.append("choice-filter")
    kind = data.draw(st.sampled_from(kinds))
    bad = copy.deepcopy(doc)
    expected_pointer = pointer
    if kind == "type":
        put(bad, pointer, data.draw(st.sampled_from([{"not": "a scalar"}, True, 12.5, ["a b"]])))
    elif kind == "choice":
        wrong = "no_such_choice"
        if q.type == "select_multiple":
            put(bad, pointer, value + [wrong])
            expected_pointer = f"{pointer}/{len(value)}"
        else:
            put(bad, pointer, wrong)
    elif kind == "required":
        put(bad, pointer, data.draw(st.sampled_from([_DELETE, None, "", []])))
    elif kind == "constraint":
        put(bad, pointer, data.draw(st.one_of(st.integers(-1000, 14), st.integers(81, 10**6))))
    elif kind == "choice-filter":
        district = doc["profile"]["district"]
        elsewhere = [c for d, cs in COMMUNES.items() if d != district for c in cs]
        put(bad, pointer, data.draw(st.sampled_from(elsewhere)))
    else:
        parent = pointer.rsplit("/", 1)[0]
        expected_pointer = f"{parent}/zz_{key}"
        put(bad, expected_pointer, value)
    assert codes(FORM.validate(bad)) == [(kind, expected_pointer)]


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
