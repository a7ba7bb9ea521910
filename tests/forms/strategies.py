"""Hypothesis strategies for answer documents, shared by the property and ODK parity tests.

* ``awareness_answers()`` / ``outreach_answers()``: valid answer sets of the built-in forms
  (every relevant question answered, nothing else).
* ``form_answers(form)``: answers to any form, from its model alone: each answerable question
  gets, or not, a value of its type (choices from its list, ignoring choice_filter); used for
  the real-world corpus, where validity is not the point.
* ``mutation(form, doc, ...)``: one mutation of a valid document, with the issue code and
  pointer Ferry must report for it.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt

from hypothesis import strategies as st

from forms import library
from forms.expressions import references
from forms.values import checker

AWARENESS = library.load("awareness")
OUTREACH = library.load("outreach")

with open(library.FOLDER / "communes.csv", encoding="utf-8") as f:
    COMMUNES: dict[str, list[str]] = {}
    for _row in csv.DictReader(f):
        COMMUNES.setdefault(_row["district"], []).append(_row["name"])

# Types whose value is set by the device (preloads, metadata) or by the form itself: never
# part of a generated answer set.
NOT_ANSWERED = {"calculate", "start", "end", "today", "deviceid", "subscriberid", "simserial",
                "phonenumber", "username", "email", "audit", "uri:deviceid", "imei",
                "start-geopoint", "background-audio", "entity", "xml-external", "note"}
SELECTS = ("select_one", "select_one_external", "select_multiple", "rank")


def referenced(form) -> set[str]:
    """Names other questions' expressions read (instanceName, pyxform's meta, checks nothing)."""
    return {name for q in form.walk() if q.name != "instanceName"
            for column in ("relevant", "required", "constraint", "calculation", "choice_filter",
                           "repeat_count")
            for name in references(getattr(q, column))}


REFERENCED = referenced(AWARENESS)


def names(list_name, form=AWARENESS):
    return [c.name for c in form.choices[list_name]]


def one(list_name, form=AWARENESS):
    return st.sampled_from(names(list_name, form))


@st.composite
def awareness_answers(draw):
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
    for q in AWARENESS.question("knowledge").children:
        if q.type == "select_one":
            knowledge[q.name] = draw(one(q.choices))
    places = [n for n in names("report") if n != "dont_know"]
    knowledge["report_where"] = draw(st.one_of(
        st.just(["dont_know"]), st.lists(st.sampled_from(places), min_size=1, unique=True)))
    risk = {q.name: draw(one("ynd")) for q in AWARENESS.question("risk").children}
    if "yes" not in (profile["plan_away"], profile["plan_abroad"]):
        del risk["risk_broker"]
    exposure = {"heard_any": draw(one("yes_no"))}
    if exposure["heard_any"] == "yes":
        channels = draw(st.lists(one("channel"), min_size=1, unique=True))
        exposure.update(channels=channels, channel_main=draw(st.sampled_from(channels)))
    doc.update(profile=profile, knowledge=knowledge, risk=risk, exposure=exposure)
    return doc


_MEDIA = ("radio_programme", "tv_report", "newspaper_article", "web_post", "loudspeaker")


@st.composite
def outreach_answers(draw):
    def pick(list_name):
        return draw(one(list_name, OUTREACH))

    today = dt.date.today()
    doc = {"activity_date": draw(st.dates(dt.date(2017, 1, 1), today)).isoformat(),
           "level": pick("level")}
    if doc["level"] != "city":
        district = draw(st.sampled_from(sorted(COMMUNES)))
        doc["district"] = district
        if doc["level"] == "commune":
            doc["communes"] = draw(st.lists(st.sampled_from(COMMUNES[district]), min_size=1,
                                            max_size=3, unique=True))
    doc["activity_type"] = pick("activity")
    if doc["activity_type"] == "other":
        doc["activity_other"] = draw(st.text("abc xyz", min_size=1, max_size=40).filter(str.strip))
    doc["target_groups"] = draw(st.lists(one("target", OUTREACH), min_size=1, unique=True))
    doc["people_reached"] = draw(st.integers(0, 2_000_000))
    doc["reach_basis"] = pick("basis")
    if draw(st.booleans()):
        doc["duration_hours"] = draw(st.sampled_from([0.5, 1, 1.5, 2, 3.25, 8, 24, 72]))
    doc["organiser"] = pick("organiser")
    if doc["organiser"] == "other":
        doc["organiser_other"] = draw(st.sampled_from(["Red Cross", "school", "church"]))
    if doc["level"] != "city" and doc["activity_type"] not in _MEDIA and draw(st.booleans()):
        doc["location"] = draw(st.sampled_from(["10.03 105.78", "10.0452 105.7469 5 10"]))
    if draw(st.booleans()):
        doc["remarks"] = draw(st.sampled_from(["ok", "rain; fewer people", "Tết"]))
    return doc


def leaves(doc, prefix=""):
    """(pointer, name, value) of every answer of a document without repeats."""
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}/{key}")
        else:
            yield f"{prefix}/{key}", key, value


DELETE = object()


def put(doc, pointer, value):
    """Set (or, with DELETE, remove) the answer at a JSON pointer, creating groups on the way."""
    parts = pointer.strip("/").split("/")
    target = doc
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


# ---- values of any question, from the form model -------------------------------------------

def value_of(form, q):
    """A strategy for a value of question ``q``'s type (choices from its whole list)."""
    options = form.choices.get(q.choices or q.choices_file) or []
    choices = [c.name for c in options if c.name and " " not in c.name]
    if q.type in ("select_one", "select_one_external"):
        return st.sampled_from(choices) if choices else None
    if q.type == "rank":  # ODK ranks every option
        return st.permutations(choices) if choices else None
    if q.type == "select_multiple":
        return st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique=True) \
            if choices else None
    if q.type == "integer":
        return st.one_of(st.integers(0, 20), st.integers(-5, 200), st.integers(0, 10**6))
    if q.type in ("decimal", "range"):
        if q.type == "range":
            p = q.parameters or {}
            start, end, step = (float(p.get(k, d)) for k, d in (("start", 1), ("end", 10),
                                                               ("step", 1)))
            steps = int((end - start) / step) if step else 0
            return st.integers(0, max(steps, 0)).map(lambda i: start + i * step)
        return st.one_of(st.integers(0, 100), st.sampled_from([0.5, 1.25, 2.5, 37.5, 99.9]))
    if q.type == "date":
        return st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
    if q.type == "time":
        return st.sampled_from(["08:30:00.000+07:00", "17:05:00.000+07:00"])
    if q.type == "datetime":
        return st.sampled_from(["2024-05-01T08:30:00.000+07:00"])
    if q.type == "geopoint":
        return st.sampled_from(["10.03 105.78 0 5", "-1.5 30.25 1200 8"])
    if q.type in ("acknowledge", "trigger"):
        return st.just("OK")
    if q.type in NOT_ANSWERED or q.type in ("group", "repeat"):
        return None
    if q.type in ("text", "barcode", "string"):
        return st.sampled_from(["a", "yes", "Nguyễn Văn A", "12", "x y z"])
    return None  # photo, audio, geotrace, file, osm...: not generated


def answerable(form, q) -> bool:
    return not q.read_only and not q.calculation and value_of(form, q) is not None


@st.composite
def form_answers(draw, form, *, density=0.6, max_repeats=2):
    """Random answers to any form: each answerable question answered with probability density."""

    # Integers that size repeats (repeat_count) stay small: ODK creates that many instances.
    counts = {name for q in form.walk() for name in references(q.repeat_count)}

    def container(questions):
        out = {}
        for q in questions:
            if q.type == "group":
                inner = container(q.children)
                if inner:
                    out[q.name] = inner
            elif q.type == "repeat":
                if q.repeat_count:
                    continue  # the instance count is the form's; left to a later version
                entries = [container(q.children)
                           for _ in range(draw(st.integers(0, max_repeats)))]
                if entries:
                    out[q.name] = entries
            elif answerable(form, q) and draw(st.floats(0, 1)) < density:
                small = q.name in counts and q.type == "integer"
                out[q.name] = draw(st.integers(0, 3) if small else value_of(form, q))
        return out

    return container(form.questions)


# ---- single mutations -----------------------------------------------------------------------

# Values of the wrong JSON type (Ferry: "type"); ENGINE_TYPE_ERRORS are strings ODK's engine can
# be given and refuses (it stores them blank or finds no such choice).
TYPE_ERRORS = [{"not": "a scalar"}, True, 12.5, ["a b"]]
ENGINE_TYPE_ERRORS = {"integer": ["abc", "12x", "1e"], "decimal": ["abc", "1,5"],
                      "date": ["30/07/2020", "yesterday"], "select_one": ["a b"]}

# Answers failing the built-in forms' constraints, by question name.
CONSTRAINT_ERRORS = {
    "age": st.one_of(st.integers(-1000, 14), st.integers(81, 10**6)),
    "report_where": st.just(["dont_know", "police"]),
    "people_reached": st.one_of(st.integers(-100, -1), st.integers(2_000_001, 10**9)),
    "duration_hours": st.sampled_from([0, -1.5, 72.5, 100]),
    "activity_date": st.sampled_from(["2016-12-31", "2001-01-01",
                                      (dt.date.today() + dt.timedelta(days=3)).isoformat()]),
    "activity_other": st.just("x" * 201),
}


def _other_district_communes(doc, pointer):
    district = (doc.get("profile") or {}).get("district") or doc.get("district")
    return [c for d, cs in COMMUNES.items() if d != district for c in cs]


@st.composite
def mutation(draw, form, doc, *, free_only=False, for_engine=False):
    """One mutation of a valid document: ``(bad_doc, kind, pointer)`` where Ferry must report
    ``kind`` at ``pointer`` (for ``free_only`` leaves that no expression reads, that issue
    only). ``for_engine`` keeps to mutations ODK's engine can be given (strings, not JSON
    types), and adds answers to non-relevant questions."""
    relevance = form.relevance(doc)
    off = [p for p, on in relevance.items() if not on and not p.startswith("/meta")
           and answerable(form, form.question(p.rsplit("/", 1)[-1]))]
    options = []  # (kind, pointer, key, value): every mutation this document allows
    for pointer, key, value in leaves(doc):
        if free_only and key in referenced(form):
            continue
        q = form.question(key)
        kinds = ["unknown-field"]
        if not for_engine or q.type in ENGINE_TYPE_ERRORS:
            kinds.append("type")
        if q.type in SELECTS:
            kinds.append("choice")
        if q.required == "true()":
            kinds.append("required")
        if key in CONSTRAINT_ERRORS:
            kinds.append("constraint")
        if key == "channel_main" and len(doc["exposure"]["channels"]) < len(names("channel")):
            kinds.append("constraint")
        if q.choice_filter and len(COMMUNES) > 1:
            kinds.append("choice-filter")
        if for_engine and off:
            kinds.append("not-relevant")
        options += [(kind, pointer, key, value) for kind in kinds]
    # The kind first, so that rare kinds (one constrained question) are drawn as often.
    kind = draw(st.sampled_from(sorted({o[0] for o in options})))
    _, pointer, key, value = draw(st.sampled_from([o for o in options if o[0] == kind]))
    q = form.question(key)
    bad = copy.deepcopy(doc)
    expected_pointer = pointer
    if kind == "type":
        pool = ENGINE_TYPE_ERRORS[q.type] if for_engine else TYPE_ERRORS
        pool = [v for v in pool if checker(q.type)(v) is None]  # 12.5 is a fine decimal
        put(bad, pointer, draw(st.sampled_from(pool)))
    elif kind == "choice":
        wrong = "no_such_choice"
        if isinstance(value, list):
            put(bad, pointer, value + [wrong])
            expected_pointer = f"{pointer}/{len(value)}"
        else:
            put(bad, pointer, wrong)
    elif kind == "required":
        put(bad, pointer, draw(st.sampled_from([DELETE, None, "", []])))
    elif kind == "constraint" and key == "channel_main":
        unused = [c for c in names("channel") if c not in doc["exposure"]["channels"]]
        put(bad, pointer, draw(st.sampled_from(unused)))
    elif kind == "constraint":
        put(bad, pointer, draw(CONSTRAINT_ERRORS[key]))
    elif kind == "choice-filter":
        elsewhere = draw(st.sampled_from(_other_district_communes(doc, pointer)))
        if isinstance(value, list):
            put(bad, pointer, value + [elsewhere])
            expected_pointer = f"{pointer}/{len(value)}"
        else:
            put(bad, pointer, elsewhere)
    elif kind == "not-relevant":
        expected_pointer = draw(st.sampled_from(off))
        target = form.question(expected_pointer.rsplit("/", 1)[-1])
        put(bad, expected_pointer, draw(value_of(form, target)))
    else:
        parent = pointer.rsplit("/", 1)[0]
        expected_pointer = f"{parent}/zz_{key}"
        put(bad, expected_pointer, value)
    return bad, kind, expected_pointer
