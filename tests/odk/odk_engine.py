"""Run ODK's own XForms engine (@getodk/xforms-engine) from Python tests.

Install the engine once with ``npm ci --prefix tests/odk --no-audit --no-fund``.

``evaluate(xform_xml, cases, attachments)`` starts ``node engine.mjs`` once for the
whole batch. Each case is ``{"id": ..., "answers": {path: value}}``, where path is an
instance path (``/data/group/q``; ``/data/rep[2]/q`` for the second repeat instance,
an omitted index meaning the first; ``{"/data/rep": 3}`` sets a repeat's instance
count). Values are strings or numbers; a select_multiple takes a list or a
space-separated string. Answers are applied in document order to relevant,
writable questions, retrying skipped ones until nothing changes.

Each result is::

    {"id": ...,
     "nodes": {"/data/q": {"type": "input", "relevant": True, "value": "15",
                           "value_type": "int", "required": True, "readonly": False,
                           "constraint_violated": True, "required_violated": False,
                           # selects only: "selected": ["a", "b"]
                           }, ...},
     "violations": [{"path": "/data/q", "condition": "constraint"}],
     "unapplied": {"/data/x": "not relevant"},  # answers not taken as given
     "instance_xml": "<data ...>...</data>"}
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINE_SCRIPT = HERE / "engine.mjs"
ENGINE_PACKAGE = HERE / "node_modules" / "@getodk" / "xforms-engine"
TIMEOUT_SECONDS = 300


class OdkEngineError(RuntimeError):
    """The Node process running ODK's engine failed."""


def _node() -> str | None:
    return shutil.which("node")


def available() -> bool:
    """True when node is on PATH and the engine is installed under tests/odk."""
    return _node() is not None and (ENGINE_PACKAGE / "package.json").is_file()


def evaluate(
    xform_xml: str, cases: list[dict], attachments: dict[str, str] | None = None
) -> list[dict]:
    """Evaluate every case against the form in one Node process; see module doc."""
    document = {"xform": xform_xml, "cases": cases, "attachments": attachments or {}}
    proc, results = _run([document])
    if proc.returncode != 0:
        raise OdkEngineError(
            f"node engine.mjs exited with {proc.returncode}:\n{proc.stderr.strip()}"
        )
    return results[0]["cases"]


def evaluate_many(documents: list[dict], processes: int = 1) -> list[dict]:
    """Evaluate several forms: each document is ``{"xform", "cases", "attachments"}``.

    Returns one ``{"cases": [...]}`` per document, in order, or ``{"error": message}`` for a
    form the engine could not load or run. The documents are shared out, largest first, among
    ``processes`` Node processes running at once (each loads jsdom and the engine once).
    """
    processes = max(1, min(processes, len(documents)))
    order = sorted(range(len(documents)), key=lambda i: -_cost(documents[i]))
    shares: list[list[int]] = [[] for _ in range(processes)]
    loads = [0] * processes
    for i in order:
        k = loads.index(min(loads))
        shares[k].append(i)
        loads[k] += _cost(documents[i])
    results: list[dict] = [{}] * len(documents)
    with ThreadPoolExecutor(processes) as pool:
        runs = pool.map(lambda share: _run([documents[i] for i in share]), shares)
        for share, (_, out) in zip(shares, runs, strict=True):
            for i, result in zip(share, out, strict=True):
                results[i] = result
    return results


def _cost(document: dict) -> int:
    return len(document["xform"]) * (10 + len(document.get("cases", ())))


def _run(documents: list[dict]):
    node = _node()
    if node is None or not available():
        raise OdkEngineError(
            "ODK engine not installed: run `npm ci --prefix tests/odk --no-audit --no-fund`"
        )
    proc = subprocess.run(
        [node, str(ENGINE_SCRIPT)],
        input="\n".join(json.dumps(d) for d in documents),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    lines = proc.stdout.splitlines()
    if len(lines) != len(documents):
        raise OdkEngineError(
            f"expected {len(documents)} JSON lines from engine.mjs, got {len(lines)} "
            f"(exit {proc.returncode});\nstderr:\n{proc.stderr}"
        )
    return proc, [json.loads(line) for line in lines]
