"""Version rules: immutable publishing by content hash, forward-only states."""

from __future__ import annotations

import pytest

from forms import versions
from forms.errors import __doc__ as errors_doc

from .conftest import md

V1 = """
| survey |
|        | type | name | label |
|        | text | a    | {label} |
| settings |
|          | form_id | version |
|          | f       | 1       |
"""


def test_same_version_same_content_is_a_no_op_and_different_content_is_refused():
    form = md(V1.format(label="A"))
    same = md(V1.format(label="A"))
    changed = md(V1.format(label="A changed"))
    assert same.content_hash == form.content_hash
    assert changed.content_hash != form.content_hash
    assert versions.check_publish(form, None) is True
    assert versions.check_publish(same, form.content_hash) is False
    with pytest.raises(versions.VersionConflict) as err:
        versions.check_publish(changed, form.content_hash)
    assert err.value.code == "version-conflict" and err.value.fields["version"] == "1"


@pytest.mark.parametrize("current, target, ok", [
    ("draft", "open", True), ("open", "closing", True), ("closing", "closed", True),
    ("open", "closed", True), ("closed", "open", False), ("closing", "open", False),
    ("draft", "closed", False), ("open", "draft", False), ("nope", "open", False),
])
def test_transitions(current, target, ok):
    if ok:
        versions.check_transition(current, target)
    else:
        with pytest.raises(versions.StateInvalid):
            versions.check_transition(current, target)


def test_codes_documented_and_submission_states():
    assert "| version-conflict " in errors_doc and "| state-invalid " in errors_doc
    assert [s for s in versions.STATES if versions.accepts_submissions(s)] == ["open", "closing"]
