"""Documentation the tests keep honest: every problem code and every CLI command is documented."""

import re
from pathlib import Path

from server.cli.commands import leaf_commands
from server.problems import all_codes

ROOT = Path(__file__).resolve().parents[1]


def _documented_codes() -> dict[str, str]:
    text = (ROOT / "docs" / "problems.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([a-z0-9-]+)` \| (\d{3}|any) \|", text, flags=re.M))


def test_every_problem_code_is_documented_with_its_status():
    documented = _documented_codes()
    codes = all_codes()
    missing = sorted(set(codes) - set(documented))
    stale = sorted(set(documented) - set(codes))
    assert missing == [], f"add to docs/problems.md: {missing}"
    assert stale == [], f"no longer emitted, remove from docs/problems.md: {stale}"
    for code, (status, _) in codes.items():
        if documented[code] != "any":
            assert int(documented[code]) == status, code


def test_every_cli_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for invocation, _ in leaf_commands():
        assert f"flask --app server {invocation}" in readme, invocation


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme


def named_paths(text: str) -> set[str]:
    """Return the repository paths a document names in backticks (``server/api/``, ``sync/store.py``)."""
    return {token for token in re.findall(r"`([\w./-]+)`", text)
            if "/" in token and not token.startswith(("/", "POST", "GET")) and "." not in token.split("/")[0]}


def test_every_path_the_architecture_page_names_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    paths = named_paths(text)
    assert len(paths) > 30  # the page walks the tree; an extractor that finds nothing would pass anything
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


def test_a_missing_path_is_caught():
    assert named_paths("see `server/nowhere.py` and `forms/`, not `/api/v1/x` or `a.b`") == {
        "server/nowhere.py", "forms/"}
    assert not (ROOT / "server/nowhere.py").exists()
