"""The rules of the house (docs/architecture.md), each with a twin that proves the check can fail.

The rules are read from the sources' import statements (static, so a rule holds for code paths the
tests never run), plus one check in a fresh interpreter that importing the pure packages loads no web stack.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("forms", "sync", "analysis", "server", "tests")
WEB_STACK = ("flask", "flask_sqlalchemy", "flask_migrate", "flask_wtf", "flask_limiter", "werkzeug",
             "sqlalchemy")
#: What a request is, in Flask and Werkzeug: only the HTTP and page layers may touch it.
REQUEST_OBJECTS = {("flask", "request"), ("flask", "session"), ("flask", "g"),
                   ("flask", "has_request_context"), ("flask", "Request"), ("werkzeug", "Request"),
                   ("werkzeug.wrappers", "Request")}
#: The only modules at server/'s root.
SERVER_ROOT = {"__init__.py", "config.py", "extensions.py", "problems.py", "wsgi.py"}


def imports(source: str) -> list[tuple[str, str | None]]:
    """Return (module, name) for every import in ``source``; name is None for ``import module``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append(("." * node.level + (node.module or ""), None))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def is_http_layer(path: str) -> bool:
    """The HTTP and page layers: server/api/, server/web/, any server module named http.py or views.py,
    and server/problems.py (which turns errors into responses)."""
    parts = path.split("/")
    return (parts[0] == "server" and (parts[1] in ("api", "web") or parts[-1] in ("http.py", "views.py"))
            or path == "server/problems.py")


def is_service(path: str) -> bool:
    """A module of server/ below the edges: not the HTTP, page or CLI layers, the factory or wsgi.
    Services are what the edges call, so they never import an edge (the CLI may render a page's document)."""
    parts = path.split("/")
    return (parts[0] == "server" and not is_http_layer(path) and parts[1] != "cli"
            and path not in ("server/__init__.py", "server/wsgi.py"))


def violations(sources: dict[str, str]) -> list[str]:
    """Return every broken rule in ``sources`` (repository path -> Python source)."""
    broken = []
    for path, source in sources.items():
        package = path.split("/")[0]
        for module, name in imports(source):
            if module.startswith("."):
                if package in ("forms", "sync", "analysis", "server"):
                    broken.append(f"{path}: relative import {module!r} (imports are absolute)")
                continue
            root = top(module)
            if package == "forms" and root in OURS and root != "forms":
                broken.append(f"{path}: forms imports nothing of ours, not {module}")
            if package in ("sync", "analysis") and root in OURS and root not in ("forms", package):
                broken.append(f"{path}: {package} may import forms only, not {module}")
            if package in ("forms", "sync", "analysis") and root in WEB_STACK:
                broken.append(f"{path}: only server/ may import {module}")
            if package != "tests" and package != "server" and root == "server":
                broken.append(f"{path}: nothing imports server")
            if package == "server" and not is_http_layer(path):
                if (module, name) in REQUEST_OBJECTS or (root, name) in REQUEST_OBJECTS:
                    broken.append(f"{path}: only the HTTP and page layers import {module}.{name}")
                if is_service(path) and module.split(".")[:2] in (["server", "api"], ["server", "web"]):
                    broken.append(f"{path}: services never import the HTTP or page layers ({module})")
    for path in sources:
        parts = path.split("/")
        if parts[0] == "server" and len(parts) == 2 and parts[1] not in SERVER_ROOT:
            broken.append(f"{path}: server/'s root holds only {', '.join(sorted(SERVER_ROOT))}")
    return broken


def project_sources() -> dict[str, str]:
    sources = {}
    for package in ("forms", "sync", "analysis", "server"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith("server/migrations/"):
                sources[relative] = path.read_text(encoding="utf-8")
    return sources


def test_the_house_keeps_its_rules():
    assert violations(project_sources()) == []


@pytest.mark.parametrize(("path", "source", "rule"), [
    ("forms/x.py", "from sync import engine", "forms imports nothing of ours"),
    ("forms/x.py", "import analysis.tidy", "forms imports nothing of ours"),
    ("sync/x.py", "from analysis import tidy", "sync may import forms only"),
    ("analysis/x.py", "import sync.engine", "analysis may import forms only"),
    ("analysis/x.py", "from server.models import User", "analysis may import forms only"),
    ("sync/x.py", "from flask import Flask", "only server/ may import flask"),
    ("forms/x.py", "import werkzeug", "only server/ may import werkzeug"),
    ("analysis/x.py", "from sqlalchemy.orm import Session", "only server/ may import sqlalchemy.orm"),
    ("server/sync/x.py", "from flask import request", "only the HTTP and page layers import flask.request"),
    ("server/reports/x.py", "from flask import g", "only the HTTP and page layers import flask.g"),
    ("server/models/x.py", "from flask import has_request_context", "only the HTTP and page layers"),
    ("server/x.py", "import os", "server/'s root holds only"),
    ("server/sync/x.py", "from .store import SqlStore", "relative import"),
    ("server/sync/devices.py", "from server.api.access import hash_secret", "services never import"),
    ("server/reports/x.py", "from server.web import tables", "services never import"),
])
def test_each_rule_can_fail(path, source, rule):
    broken = violations({path: source})
    assert any(rule in message for message in broken), broken


@pytest.mark.parametrize(("path", "source"), [
    ("sync/x.py", "from forms import Form"),
    ("analysis/x.py", "from forms.scoring import score"),
    ("server/api/x.py", "from flask import request"),
    ("server/web/x.py", "from flask import session"),
    ("server/openrosa/http.py", "from flask import request"),
    ("server/sync/x.py", "from flask import current_app"),
    ("server/problems.py", "from flask import request"),
    ("server/cli/report.py", "from server.web import documents"),
    ("server/api/x.py", "from server.accounts.secrets import hash_secret"),
])
def test_what_the_rules_allow(path, source):
    assert violations({path: source}) == []


def test_pure_packages_do_not_load_the_web_stack():
    # The static rules above miss imports made by name at run time: import every module and look.
    code = (
        "import sys, pkgutil, importlib\n"
        "import forms, sync, analysis\n"
        "for pkg in (forms, sync, analysis):\n"
        "    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(mod.name)\n"
        "loaded = {'flask', 'flask_sqlalchemy', 'werkzeug', 'server'} & set(sys.modules)\n"
        "print(sorted(loaded))\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_run_time_check_detects_a_web_import():
    # The check above must be able to fail: importing the server loads Flask.
    code = "import sys, server; sys.exit(1 if 'flask' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr


def requirement_problems(text: str) -> list[str]:
    """Each requirement pinned with == and listed once (gunicorn and segno were each listed twice)."""
    seen: set[str] = set()
    problems = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split("==", 1)[0].split("[", 1)[0].strip().lower().replace("_", "-")
        if "==" not in line:
            problems.append(f"{line}: not pinned with ==")
        if name in seen:
            problems.append(f"{name}: listed twice")
        seen.add(name)
    return problems


def test_requirements_are_pinned_once():
    assert requirement_problems((ROOT / "requirements.txt").read_text()) == []
    assert requirement_problems("a==1\n# b\nA==2\nc>=3\n") == ["a: listed twice", "c>=3: not pinned with =="]
