"""Ferry answer documents and pointers ↔ the instance paths ODK's engine uses.

Ferry: ``{"profile": {"age": 30}, "kids": [{"kid_age": 4}]}``, pointers ``/profile/age``,
``/kids/0/kid_age`` (repeat entries counted from 0). Engine: ``/data/profile/age``,
``/data/kids[1]/kid_age`` (XPath positions, from 1), ``/data`` being the form's root element.
"""

from __future__ import annotations

import re
from typing import Any

from forms.values import is_empty

_STEP = re.compile(r"^(?P<name>[^\[\]/]+)(?:\[(?P<index>\d+)\])?$")


def path_of(form, pointer: str) -> str:
    """``/kids/0/kid_age`` → ``/data/kids[1]/kid_age``."""
    out = f"/{form.root_name}"
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        if part.isdigit():
            out += f"[{int(part) + 1}]"
        else:
            out += f"/{part.replace('~1', '/').replace('~0', '~')}"
    return out


def pointer_of(form, path: str) -> str:
    """``/data/kids[1]/kid_age`` → ``/kids/0/kid_age``; ``/data/kids[1]`` → ``/kids/0``."""
    root = f"/{form.root_name}"
    if path != root and not path.startswith(root + "/"):
        raise ValueError(f"{path!r} is not under {root}")
    out = ""
    for step in path[len(root):].strip("/").split("/") if path != root else []:
        m = _STEP.match(step)
        if m is None:
            raise ValueError(f"cannot read step {step!r} of {path!r}")
        out += f"/{m['name']}"
        if m["index"] is not None:
            out += f"/{int(m['index']) - 1}"
    return out


def engine_value(value: Any) -> Any:
    """The value as the engine takes it: text, or a list of choice names."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return [engine_value(v) for v in value]
    return value


def instance_answers(form, doc: dict) -> dict[str, Any]:
    """An answer document as the engine harness's ``answers``: instance path → value.

    Every repeat without ``repeat_count`` gets its instance count (``{"/data/kids": 2}``,
    0 when absent, since the XForm starts with one instance); unanswered values (missing,
    null, ``""``, ``[]``) are left out, except that a question with a default gets ``""``
    (a fresh instance holds the default; the document says the question has no answer);
    keys naming no question are passed on (the engine
    reports them as "no such question"). Objects given where a value belongs cannot be given
    to the engine and are left out.
    """
    out: dict[str, Any] = {}

    def container(questions, values: dict, path: str) -> None:
        known = {q.name: q for q in questions}
        for q in questions:
            here = f"{path}/{q.name}"
            value = values.get(q.name)
            if q.type == "group":
                container(q.children, value if isinstance(value, dict) else {}, here)
            elif q.type == "repeat":
                entries = value if isinstance(value, list) else []
                if not q.repeat_count:
                    out[here] = len(entries)
                for i, entry in enumerate(entries, 1):
                    container(q.children, entry if isinstance(entry, dict) else {},
                              f"{here}[{i}]")
            elif not is_empty(value) and not isinstance(value, dict):
                out[here] = engine_value(value)
            elif q.default and q.type != "calculate":
                out[here] = ""  # unanswered: the form's default is not the answer
        for key, value in values.items():
            if key not in known and not isinstance(value, dict) and not is_empty(value):
                out[f"{path}/{key}"] = engine_value(value)

    container(form.questions, doc, f"/{form.root_name}")
    return out
