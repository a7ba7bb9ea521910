"""The generated acceptor (``forms.acceptor``): "no issues" only where the walk finds none.

``CompiledForm.validate`` returns no issues when the generated code says so and walks the document
otherwise, so a wrong "no issues" would store an invalid submission. Each test holds the acceptor
to the walk (``form.check``, which never consults it) on documents of one kind: valid, mutated,
mangled, real-world forms' random answers, and forms with every construct it leaves to the walk.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from forms.model import Form

from .conftest import md
from .corpus import CORPUS
from .corpus import corpus_files
from .corpus import load_corpus_form
from .strategies import AWARENESS
from .strategies import OUTREACH
from .strategies import awareness_answers
from .strategies import form_answers
from .strategies import leaves
from .strategies import mutation
from .strategies import outreach_answers
from .strategies import put

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
CORPUS_FILES = corpus_files()

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats()
                    | st.text(max_size=12) | st.sampled_from(["", "yes", "no", "a b", "dont_know", "1"]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                   max_size=3),
                    max_leaves=8)


def accepted(form, doc) -> bool:
    """What the acceptor says of ``doc``, held to the walk: never "no issues" where the walk finds one."""
    accept = form.compiled.accept
    assert accept is not None, "the form's acceptor was not generated"
    said = accept(copy.deepcopy(doc))  # a copy: were the acceptor to change it, the walk would not see that
    issues, _ = form.check(doc)
    assert not (said and issues), f"accepted a document with issues: {[str(i) for i in issues]}"
    return said


@SETTINGS
@given(st.one_of(awareness_answers().map(lambda d: ("awareness", d)),
                 outreach_answers().map(lambda d: ("outreach", d))))
def test_valid_answers_to_the_built_in_forms_are_accepted_without_the_walk(case):
    name, doc = case
    form = {"awareness": AWARENESS, "outreach": OUTREACH}[name]
    assert form.check(doc)[0] == []
    assert accepted(form, doc), "a valid document went to the walk"


@SETTINGS
@given(awareness_answers(), st.data())
def test_a_mutated_awareness_document_is_left_to_the_walk(doc, data):
    bad, kind, pointer = data.draw(mutation(AWARENESS, doc, for_engine=data.draw(st.booleans())))
    assert not accepted(AWARENESS, bad)
    assert (kind, pointer) in [(i.code, i.pointer) for i in AWARENESS.validate(bad)]


@SETTINGS
@given(outreach_answers(), st.data())
def test_a_mutated_outreach_document_is_left_to_the_walk(doc, data):
    bad, kind, pointer = data.draw(mutation(OUTREACH, doc))
    assert not accepted(OUTREACH, bad)
    assert (kind, pointer) in [(i.code, i.pointer) for i in OUTREACH.validate(bad)]


@SETTINGS
@given(awareness_answers(), st.data())
def test_any_json_anywhere_in_a_valid_document(doc, data):
    # a leaf, a group or a new key set to any JSON value, once or twice
    for _ in range(data.draw(st.integers(1, 2))):
        pointers = [p for p, _, _ in leaves(doc)] + ["/profile", "/knowledge", "/exposure", "/meta"]
        pointer = data.draw(st.sampled_from(pointers + [p.rsplit("/", 1)[0] + "/extra" for p in pointers]))
        if pointer.count("/") > 1 and not isinstance(doc.get(pointer.split("/")[1]), dict):
            continue
        put(doc, pointer, data.draw(JSON))
    accepted(AWARENESS, doc)


@SETTINGS
@given(JSON)
def test_any_json_as_the_whole_document(doc):
    accepted(AWARENESS, doc)
    accepted(OUTREACH, doc)


# yes/no, and colours with a column for choice filters
CHOICES = """|choices|
||list_name|name|label|colour|
||yn|yes|Yes||
||yn|no|No||
||col|red|Red|yes|
||col|blue|Blue|no|
||col|green|Green|yes|
"""

CONSTRUCTS = """
|survey|
||type|name|label|required|relevant|constraint|calculation|choice_filter|repeat_count|
||integer|n|N|yes||. < 100||||
||calculate|twice|||||${n} * 2|||
||integer|more|More||${twice} > 10|||||
||text|t|Text|||regex(., '^[a-z]+$')||||
||select_one yn|one|One|${n} > 5||||||
||select_multiple col|many|Many|||count-selected(.) <= 2||||
||select_one col|pick|Pick|||||colour=${one}||
||rank col|order|Order|||||||
||note|info|Info|||||||
||begin_group|grp|Group||selected(${many}, 'red')|||||
||text|why|Why|yes||||||
||end_group|||||||||
||begin_repeat|kids|Kids|||||||
||integer|kid_age|Age|yes||. < ${n}||||
||end_repeat|||||||||
||begin_repeat|pets|Pets||||||${n}|
||text|pet|Pet|||||||
||end_repeat|||||||||
""" + CHOICES + """|settings|
||form_id|version|
||constructs|1|"""


@pytest.fixture(scope="module")
def constructs():
    return md(CONSTRUCTS)


@pytest.mark.parametrize("doc", [
    {"n": 3, "pets": [{}, {}, {}]},                        # a repeat with entries, a repeat_count
    {"n": 3, "pets": [{}, {}, {}], "kids": [{"kid_age": 1}]},
    {"n": 3, "t": "abc", "pets": [{}, {}, {}]},           # a regex: elementpath's
    {"n": 7, "one": "yes", "more": 20, "pets": [{}] * 7},  # a calculation read by a relevant
])
def test_what_only_the_walk_decides_is_left_to_it(constructs, doc):
    assert constructs.validate(doc) == []
    assert not accepted(constructs, doc)


PLAIN = """
|survey|
||type|name|label|required|relevant|constraint|choice_filter|
||integer|n|N|yes||. < 100||
||select_one yn|one|One||${n} > 5|||
||integer|k|K|${one} = 'yes'||||
||select_multiple col|many|Many|||not(selected(., 'red') and count-selected(.) > 1)||
||select_one col|pick|Pick||||colour=${one}|
||rank col|order|Order|||||
||note|info|Info|||||
||begin_group|grp|Group||selected(${many}, 'red')|||
||text|why|Why|yes||||
||end_group||||||
""" + CHOICES + """|settings|
||form_id|version|
||plain|1|"""


def test_a_form_whose_every_question_is_plain_is_accepted_on_its_own():
    form = md(PLAIN)
    valid = {"n": 7, "one": "yes", "k": 1, "many": ["red"], "pick": "green", "order": ["blue", "red"],
             "grp": {"why": "because"}}
    assert accepted(form, valid)
    refused = [
        {**valid, "n": 100},                     # constraint
        {**valid, "k": None},                    # required by an expression
        {**valid, "n": 3},                       # an answer to a question no longer relevant
        {**valid, "pick": "blue"},               # outside the choice filter
        {**valid, "pick": "purple"},             # no such choice
        {**valid, "order": ["blue", "blue"]},    # a repeated choice
        {**valid, "order": "blue red"},          # a string where a list belongs
        {**valid, "many": ["red", "blue"]},      # the constraint of a select_multiple
        {**valid, "info": "hello"},              # a note answered
        {**valid, "grp": {"why": ""}},           # required in a relevant group
        {**valid, "grp": ["because"]},           # a group that is not an object
        {**valid, "many": ["blue"]},             # the group's answers, the group no longer relevant
        {**valid, "extra": 1},                   # a key naming no question
        {**valid, "grp": {"why": "x", "who": "y"}},
        {**valid, "n": True},                    # JSON's true is not an integer
        {**valid, "n": 2**31},                   # nor is one past 32 bits
        ["not", "an", "object"],
    ]
    for doc in refused:
        assert form.validate(doc) != [], doc
        assert not accepted(form, doc), doc
    # the group not relevant, with nothing answered in it: no issues, and no walk
    assert accepted(form, {**valid, "many": ["blue"], "grp": {}})


def test_form_text_is_data_not_code():
    # choice names that would end a string literal, or run, if they were written into the source
    hostile = ["x');__import__('os').system('false');('", 'y"\n__import__("os")', "z\\", "{k0}"]
    source = {k: v for k, v in AWARENESS.to_json().items() if k != "content_hash"}
    form = Form.from_json({**source, "choices": {
        **source["choices"], "round": [{"name": name, "label": {"en": name}} for name in hostile]}})
    for name in hostile:
        assert accepted(form, {"round": name, "consent": "no"}), name
    assert not accepted(form, {"round": "2017", "consent": "no"})


def _without_issues(form, doc: dict) -> dict:
    """``doc`` with the answers the walk objects to removed, until none is left to remove."""
    for _ in range(6):
        issues = [i for i in form.check(doc)[0] if i.pointer and i.code != "required"]
        if not issues:
            break
        for issue in reversed(issues):
            *path, last = issue.pointer.strip("/").split("/")
            target = doc
            for part in path:
                target = target[int(part)] if isinstance(target, list) else target.get(part, {})
            if isinstance(target, dict):
                target.pop(last, None)
            elif isinstance(target, list) and last.isdigit() and int(last) < len(target):
                target.pop(int(last))
    return doc


@pytest.mark.skipif(not CORPUS_FILES, reason=f"real-world XLSForm corpus not found at {CORPUS.resolve()}")
@pytest.mark.parametrize("name", CORPUS_FILES or ["(none)"])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_real_world_forms_random_and_settled_answers(name, data):
    form = load_corpus_form(name)
    if form is None:
        return  # pyxform refuses it (tests/forms/test_corpus.py)
    doc = data.draw(form_answers(form))
    accepted(form, doc)
    accepted(form, _without_issues(form, copy.deepcopy(doc)))
