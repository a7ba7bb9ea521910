"""Parity with ODK: Ferry's verdicts agree with ODK's own XForms engine (@getodk/xforms-engine).

For each answer set, Ferry's ``Form.check`` (issues and relevance from one walk) is compared
with the engine's state after the harness (``engine.mjs``) entered the same answers, mapped by
``tests.odk.paths`` (``/profile/age`` ↔ ``/data/profile/age``, ``/kids/0/q`` ↔ ``/data/kids[1]/q``).

What is compared, per case, over every group, repeat and question of the form (the engine's
repeat-instance nodes, ``/data/kids[1]``, have no Ferry counterpart and are skipped):

* relevance: Ferry's ``relevance`` == the engine's ``relevant`` (same set of paths, too);
* required: the paths Ferry flags ``required`` == the engine's ``required_violated``;
* constraint: the paths Ferry flags ``constraint`` == the engine's ``constraint_violated``;
* refusals: answers the engine did not take (``unapplied``) are exactly the answers Ferry
  refuses, with these mappings (an answer Ferry refuses is one the engine cannot hold):

  ========================  ===================================================================
  Ferry issue               engine ``unapplied`` reason at the same path
  ========================  ===================================================================
  type (integer, decimal,   "stored blank: not a valid int/decimal/date" (the engine's codec
  date given unreadable     stores the text as blank); a select_one given "a b": "select_one
  text; select "a b")       given 2 values"; a select_multiple item "a b": "not an available
                            choice"
  choice                    "not an available choice: x" (select_multiple: pointer ``/q/2`` →
                            path of ``/q``)
  choice-filter             "not an available choice: x" (filtered out of the options)
  not-relevant              "not relevant" at that path, or under it for a group or repeat
  unknown-field             "no such question"
  not-answerable (a note)   "read-only"
  ========================  ===================================================================

  A refused answer leaves the engine's node blank, so the engine may also flag it
  ``required``: such paths are left out of the required comparison (Ferry reports the refusal,
  not a missing answer). JSON values the engine cannot be given at all (objects, booleans in a
  number) are not generated here; tests/forms covers them.

Real-world forms (``../shared/data/xlsforms``): each form pyxform converts and the engine loads
gets an empty submission, random answers of the right type per question (choices from the whole
list, so some are filtered out or non-relevant: refusals on both sides), and the same answers
with every answer Ferry calls non-relevant removed and repeat_count repeats sized. Questions
whose expressions the server cannot evaluate (``form.compiled.unchecked``: pulldata,
``jr:itext``, SurveyCTO functions...) and every question whose expressions read them, directly
or through calculates, are excluded from the comparison and listed in the test output.

Cases are drawn with hypothesis from fixed seeds, so every run compares the same cases; all
forms go to the engine in one batch split over two Node processes.
"""

from __future__ import annotations

import copy
import os
import re
import sys
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import seed
from hypothesis import settings

from forms import library
from forms.expressions import references
from forms.values import is_empty
from tests.conftest import shared_path
from tests.forms import strategies
from tests.forms.corpus import corpus_files
from tests.forms.corpus import load_corpus_form
from tests.odk import odk_engine
from tests.odk.paths import instance_answers
from tests.odk.paths import path_of
from tests.odk.paths import path_of as _path_of
from tests.odk.paths import pointer_of

pytestmark = pytest.mark.skipif(
    not odk_engine.available(),
    reason="ODK engine not installed (needs node on PATH and "
           "`npm ci --prefix tests/odk --no-audit --no-fund`, which `make test` runs)",
)

BUILTIN_VALID = 100
BUILTIN_MUTATED = 150
CORPUS_RANDOM = {"default": 12, "who_verbal_autopsy_2016.xlsx": 5,
                 "ona_ethiopia_food_security_monitoring.xlsx": 6}

# Engine reasons that answer each Ferry refusal code (see the module docstring).
REFUSALS = {
    "type": ("stored blank: not a valid", "select_one given", "not an available choice"),
    "choice": ("not an available choice",),
    "choice-filter": ("not an available choice",),
    "not-relevant": ("not relevant",),
    "unknown-field": ("no such question",),
    "not-answerable": ("read-only",),
}

# Known disagreements, by (form, path): the reason, shown as an xfail.
KNOWN: dict[tuple[str, str], str] = {}


def draw(strategy, n: int, at: int) -> list:
    """n examples of a strategy, the same on every run."""
    out: list = []

    @seed(at)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value):
        out.append(value)

    collect()
    return out[:n]


# ---- the cases --------------------------------------------------------------------------------

def builtin_cases(name: str) -> list[tuple[str, dict]]:
    form = library.load(name)
    valid = {"awareness": strategies.awareness_answers,
             "outreach": strategies.outreach_answers}[name]()
    mutated = valid.flatmap(lambda doc: strategies.mutation(form, doc, for_engine=True))
    cases = [(f"valid-{i}", doc) for i, doc in enumerate(draw(valid, BUILTIN_VALID, 1))]
    for i, (doc, kind, pointer) in enumerate(draw(mutated, BUILTIN_MUTATED, 2)):
        cases.append((f"mutated-{i}:{kind}:{pointer}", doc))
    return cases


def settle(form, doc: dict) -> dict:
    """Remove the answers Ferry calls non-relevant and size repeat_count repeats, until stable."""
    doc = copy.deepcopy(doc)
    for _ in range(6):
        changed = False
        for issue in reversed(form.validate(doc)):
            if issue.code == "not-relevant":
                _remove(doc, issue.pointer)
                changed = True
            elif issue.code == "repeat-count":
                # The message names the expected count first ("Exactly 3 entries are needed").
                wanted = min(int(re.search(r"\d+", issue.text()).group()), 10)
                entries = _get(doc, issue.pointer) or []
                _set(doc, issue.pointer, (entries + [{}] * wanted)[:wanted])
                changed = True
        if not changed:
            break
    return doc


def _parts(pointer: str) -> list:
    return [int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")]


def _get(doc, pointer):
    target = doc
    for part in _parts(pointer):
        if isinstance(part, str) and part not in target:
            return None
        target = target[part]
    return target


def _set(doc, pointer, value):
    *parents, last = _parts(pointer)
    target = doc
    for part in parents:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[last] = value


def _remove(doc, pointer):
    *parents, last = _parts(pointer)
    target = doc
    for part in parents:
        target = target[part]
    del target[last]


def corpus_cases(form, name: str) -> list[tuple[str, dict]]:
    n = CORPUS_RANDOM.get(name, CORPUS_RANDOM["default"])
    raw = draw(strategies.form_answers(form), n, 3)
    cases = [("empty", {})]
    cases += [(f"random-{i}", doc) for i, doc in enumerate(raw)]
    cases += [(f"settled-{i}", settle(form, doc)) for i, doc in enumerate(raw)]
    return cases


def stub_attachments(form) -> dict[str, str]:
    """The corpus has no media files: the engine gets empty lists of the right format."""
    out = {}
    for name in form.attachments:
        if name.endswith(".geojson"):
            out[name] = '{"type": "FeatureCollection", "features": []}'
        elif name.endswith(".xml"):
            out[name] = "<root/>"
        else:
            out[name] = "name,label\n"
    return out


# ---- running everything once ------------------------------------------------------------------

class Run:
    def __init__(self, name, form, cases, attachments):
        self.name, self.form, self.cases, self.attachments = name, form, cases, attachments
        self.results: list[dict] | None = None
        self.error: str | None = None


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    started = time.monotonic()
    out: dict[str, Run] = {}
    for name in library.NAMES:
        attachments = {k: p.read_text(encoding="utf-8") for k, p in library.attachments().items()}
        out[name] = Run(name, library.load(name), builtin_cases(name), attachments)
    for name in corpus_files():
        form = load_corpus_form(name)
        if form is not None:
            out[name] = Run(name, form, corpus_cases(form, name), stub_attachments(form))
    documents = [{"xform": r.form.xform, "attachments": r.attachments,
                  "cases": [{"id": cid, "answers": instance_answers(r.form, doc)}
                            for cid, doc in r.cases]} for r in out.values()]
    results = odk_engine.evaluate_many(documents, processes=min(2, os.cpu_count() or 1))
    for run, result in zip(out.values(), results, strict=True):
        run.results = result.get("cases")
        run.error = result.get("error")
    print(f"\nODK parity: {sum(len(r.cases) for r in out.values())} cases on {len(out)} forms "
          f"in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return out


# ---- comparing --------------------------------------------------------------------------------

def affected(form) -> set[str]:
    """Questions the server cannot fully evaluate: unchecked, or reading one that is."""
    bad = {u["name"] for u in form.compiled.unchecked}
    columns = ("relevant", "required", "constraint", "calculation", "choice_filter",
               "repeat_count")
    changed = True
    while changed:
        changed = False
        for q in form.walk():
            if q.name not in bad and any(set(references(getattr(q, c))) & bad for c in columns):
                bad.add(q.name)
                changed = True
    # A group's relevance carries down to its children.
    for q in form.walk():
        if q.name in bad:
            bad.update(c.name for c in q.walk())
    return bad


def _question_pointer(issue) -> str:
    # select_multiple choice issues point at the item (/q/2): the engine reports the question.
    if issue.code in ("choice", "choice-filter", "type") and issue.pointer.rsplit("/", 1)[-1].isdigit():
        return issue.pointer.rsplit("/", 1)[0]
    return issue.pointer


def canonical(path: str) -> str:
    """The harness names the first repeat instance without its index: so do we, everywhere."""
    return re.sub(r"\[1\]", "", path)


def _under(path: str, top: str) -> bool:
    return path.startswith(top + "/") or path.startswith(top + "[")


def compare(form, doc: dict, result: dict, skip: set[str]) -> list[str]:  # noqa: C901
    """Every disagreement between Ferry and the engine on one case, as readable lines."""
    issues, relevance = form.check(doc)

    def path_of(pointer: str) -> str:
        return canonical(_path_of(form, pointer))

    nodes = {canonical(p): n for p, n in result["nodes"].items()
             if n["type"] != "repeat-instance"}
    unapplied = {canonical(p): why for p, why in result["unapplied"].items()}
    sent = {canonical(p): v for p, v in instance_answers(form, doc).items()}
    # Ferry reports a repeat_count repeat with the wrong number of entries as repeat-count;
    # the engine sizes it from the form: what lies under it is not compared.
    recount = {path_of(i.pointer) for i in issues if i.code == "repeat-count"}

    def skipped(path: str) -> bool:
        return (any(step.split("[")[0] in skip for step in path.split("/"))
                or any(_under(path, top) for top in recount))

    problems = []
    ferry_rel = {path_of(p): v for p, v in relevance.items()}
    engine_rel = {p: n["relevant"] for p, n in nodes.items()}
    for path in sorted(set(ferry_rel) | set(engine_rel)):
        f, e = ferry_rel.get(path), engine_rel.get(path)
        if f is None:
            # Instances the engine gives a non-relevant repeat_count repeat, which Ferry's
            # document (rightly) lacks: non-relevant like their repeat.
            tops = [p for p in ferry_rel if _under(path, p)]
            if tops and ferry_rel[max(tops, key=len)] is False:
                f = False
        if f != e and not skipped(path):
            problems.append(f"relevance {path}: ferry={f} engine={e}")

    refused = {}
    for issue in issues:
        if issue.code not in REFUSALS:
            continue
        path = path_of(_question_pointer(issue))
        given = [p for p, v in sent.items() if (p == path or _under(p, path)) and v != ""
                 and not isinstance(v, int)]
        if issue.code == "not-relevant" and not given:
            continue  # entries of a non-relevant repeat holding no answers: nothing to refuse
        refused[path] = issue.code
    dropped = {p for p, why in unapplied.items() if why != "not relevant"}
    for code, flag in (("required", "required_violated"), ("constraint", "constraint_violated")):
        ferry = {path_of(i.pointer) for i in issues if i.code == code}
        engine = {p for p, n in nodes.items() if n.get(flag)}
        if code == "required":
            engine -= dropped
        for path in sorted(ferry ^ engine):
            if not skipped(path):
                problems.append(f"{code} {path}: ferry={path in ferry} engine={path in engine}")

    for path, code in refused.items():
        if skipped(path):
            continue
        under = {p: why for p, why in unapplied.items() if p == path or _under(p, path)}
        if not any(why.startswith(REFUSALS[code]) for why in under.values()):
            problems.append(f"refusal {path}: ferry={code} engine took it ({under or 'no note'})")
    for path, why in unapplied.items():
        if sent.get(path) == "":
            continue  # a blank sent to clear a default: nothing was refused
        explained = any(path == p or _under(path, p) for p in refused)
        if not explained and not skipped(path):
            problems.append(f"refusal {path}: engine={why!r} ferry accepted it")
    return problems


def check_run(run: Run, skip: set[str]) -> tuple[int, list[str]]:
    assert run.results is not None, run.error
    assert [r["id"] for r in run.results] == [cid for cid, _ in run.cases]
    failures = []
    for (cid, doc), result in zip(run.cases, run.results, strict=True):
        for problem in compare(run.form, doc, result, skip):
            failures.append(f"{run.name} {cid}: {problem}")
    return len(run.cases), failures


def engine_limits(form) -> dict[str, str]:
    """Questions whose verdicts ODK's engine cannot give, by name, with the reason."""
    return {q.name: "select_one_external: pyxform writes an <input query=...> over an "
                    "itemsets.csv the engine does not read, so the engine takes any text "
                    "where Ferry checks the external_choices list and its choice_filter"
            for q in form.walk() if q.type == "select_one_external"}


def known(run: Run, failures: list[str]) -> tuple[list[str], set[str]]:
    """Split failures into unexplained ones and the KNOWN reasons that explain the rest."""
    left, reasons = [], set()
    limits = engine_limits(run.form)
    for line in failures:
        path = line.split(": ", 2)[1].split()[-1]
        hit = [why for (form, known_path), why in KNOWN.items()
               if form == run.name and path == known_path]
        hit += [why for name, why in limits.items() if path.rsplit("/", 1)[-1] == name]
        if hit:
            reasons.update(hit)
        else:
            left.append(line)
    return left, reasons


def _verdict(run: Run, skip: set[str]):
    count, failures = check_run(run, skip)
    left, reasons = known(run, failures)
    assert not left, f"{len(left)} disagreements on {count} cases:\n" + "\n".join(left[:40])
    if reasons:
        pytest.xfail("; ".join(sorted(reasons)))
    return count


@pytest.mark.parametrize("name", library.NAMES)
def test_builtin_form_agrees_with_odk(runs, name):
    run = runs[name]
    count = _verdict(run, set())
    assert count == BUILTIN_VALID + BUILTIN_MUTATED
    kinds = Counter(cid.split(":")[1] for cid, _ in run.cases if cid.startswith("mutated"))
    print(f"{name}: {count} cases; mutations: {dict(sorted(kinds.items()))}")
    assert set(kinds) >= {"type", "choice", "required", "constraint", "not-relevant",
                          "unknown-field"} | ({"choice-filter"} if name == "awareness" else set())


def test_comparison_sees_a_disagreement(runs):
    """The comparison is not vacuous: a flipped engine verdict is reported."""
    run = runs["awareness"]
    (_cid, doc), result = run.cases[0], copy.deepcopy(run.results[0])
    assert compare(run.form, doc, result, set()) == []
    result["nodes"]["/data/profile/age"]["relevant"] = False
    result["nodes"]["/data/round"]["required_violated"] = True
    result["unapplied"]["/data/consent"] = "not relevant"
    assert compare(run.form, doc, result, set()) == [
        "relevance /data/profile/age: ferry=True engine=False",
        "required /data/round: ferry=False engine=True",
        "refusal /data/consent: engine='not relevant' ferry accepted it",
    ]


@pytest.mark.parametrize("name", corpus_files() or ["(corpus absent)"])
def test_corpus_form_agrees_with_odk(runs, name):
    shared_path("data", "xlsforms", name)
    if name not in runs:
        pytest.skip(f"{name}: pyxform does not convert it (see tests/forms/test_corpus.py)")
    run = runs[name]
    if run.error is not None:
        pytest.skip(f"{name}: ODK's engine does not load it: {run.error.splitlines()[0]}")
    skip = affected(run.form)
    excluded = sorted(skip & {q.name for q in run.form.walk()})
    if excluded:
        print(f"{name}: {len(excluded)} questions excluded (expressions the server cannot "
              f"evaluate, or reading them): {', '.join(excluded)}")
    entities = {q.name for q in run.form.walk() if q.type == "entity"}
    if entities:
        print(f"{name}: entity declarations not compared (Ferry keeps them as one opaque "
              f"meta field; the engine models their children): {', '.join(sorted(entities))}")
        skip |= entities
    count = _verdict(run, skip)
    answered = sum(not is_empty(v) for _, d in run.cases for v in _flat(d))
    print(f"{name}: {count} cases, {answered} answers")


def _flat(doc):
    for value in doc.values() if isinstance(doc, dict) else doc:
        if isinstance(value, (dict, list)) and not (isinstance(value, list)
                                                    and all(isinstance(v, str) for v in value)):
            yield from _flat(value)
        else:
            yield value


def test_paths_round_trip():
    form = library.load("awareness")
    assert path_of(form, "/profile/age") == "/data/profile/age"
    assert path_of(form, "/kids/0/kid_age") == "/data/kids[1]/kid_age"
    assert pointer_of(form, "/data/kids[2]/a/b[1]/c") == "/kids/1/a/b/0/c"
    assert instance_answers(form, {"profile": {"age": 30}, "consent": "yes", "zz": 1.5}) == {
        "/data/consent": "yes", "/data/profile/age": "30", "/data/zz": "1.5"}

