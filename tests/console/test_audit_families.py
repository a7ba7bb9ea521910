"""Every action the server writes to the audit log can be found with the console's family filter."""

from __future__ import annotations

import re
from pathlib import Path

from server.console.audit_log import FAMILIES

ROOT = Path(__file__).resolve().parents[2]
# audit(session, "action", ...), audit_read(...), f"quarantine.{action}" and "a" if x else "b"
WRITTEN = re.compile(r'\baudit(?:_read)?\(\s*[\w.]+,\s*f?"([a-z_.\-]+)(?:\{[^"]*\})?"'
                     r'(?:\s+if\s+\w+\s+else\s+"([a-z_.\-]+)")?')


def _written_actions() -> set[str]:
    found = set()
    for path in (ROOT / "server").rglob("*.py"):
        for match in WRITTEN.finditer(path.read_text(encoding="utf-8")):
            found.update(a for a in match.groups() if a)
    return found


def _in_a_family(action: str) -> bool:
    return any(action.startswith(p) if p.endswith(".") else action == p
               for prefixes in FAMILIES.values() for p in prefixes)


def test_every_written_action_belongs_to_a_family():
    actions = _written_actions()
    # the scan must see the kinds of call it claims to (a literal, an f-string prefix, a conditional)
    assert {"user.login-failed", "quarantine.", "attachment.view", "attachment.download",
            "outreach_plan.approve", "token.use"} <= actions, sorted(actions)
    assert sorted(a for a in actions if not _in_a_family(a)) == []


def test_a_family_prefix_is_not_a_typo():
    actions = _written_actions()
    for family, prefixes in FAMILIES.items():
        for prefix in prefixes:
            assert any(a.startswith(prefix) if prefix.endswith(".") else a == prefix for a in actions), \
                (family, prefix)
