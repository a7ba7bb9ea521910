"""The direction of imports: the pure packages never load the web stack."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pure_packages_do_not_import_web_stack():
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


def test_the_check_detects_a_web_import():
    # The check above must be able to fail: importing the server loads Flask.
    code = "import sys, server; sys.exit(1 if 'flask' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
