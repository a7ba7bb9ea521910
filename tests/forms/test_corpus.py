"""Real-world XLSForms (read from ../shared, never copied): pyxform's XForm, or a FormError."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from forms.errors import FormError
from forms.errors import XLSFormInvalid
from forms.model import Form
from forms.xlsform import load_xlsform

from .corpus import CORPUS
from .corpus import corpus_files

FILES = corpus_files()

pytestmark = pytest.mark.skipif(
    not FILES, reason=f"real-world XLSForm corpus not found at {CORPUS.resolve()}")


def _pyxform(path: Path):
    from pyxform.xls2xform import convert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return convert(xlsform=str(path), validate=False).xform, None
        except Exception as err:  # noqa: BLE001 - any pyxform failure means "rejects"
            return None, err


@pytest.mark.parametrize("name", FILES or ["(none)"])
def test_corpus_form(name):
    path = CORPUS / name
    reference, rejected = _pyxform(path)
    if reference is None:
        with pytest.raises(XLSFormInvalid) as err:
            load_xlsform(path)
        assert err.value.detail and str(rejected).split("]")[-1].strip()[:30] in err.value.detail
        return
    form = load_xlsform(path)
    assert form.xform == reference
    again = Form.from_json(form.to_json())
    assert again.content_hash == form.content_hash
    # Validation never raises, whatever the form; an empty document yields issues, not errors.
    for issue in form.validate({}):
        assert issue.code in ("required", "repeat-count")
    assert again.validate({}) == form.validate({})


def test_corpus_has_the_expected_mix():
    outcomes = {}
    for name in FILES:
        try:
            load_xlsform(CORPUS / name)
            outcomes[name] = "ok"
        except FormError as err:
            outcomes[name] = err.code
    assert sum(v == "ok" for v in outcomes.values()) == 16
    assert outcomes["odk_unknown_type_INVALID.xlsx"] == "xlsform-invalid"
    assert outcomes["liberia_coverage_survey_round1.xlsx"] == "xlsform-invalid"
