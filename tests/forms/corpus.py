"""The real-world XLSForm corpus in ../shared (read there, never copied): its files and their forms."""

from __future__ import annotations

import functools
import warnings

from forms.errors import FormError
from forms.xlsform import load_xlsform
from tests.conftest import SHARED

CORPUS = SHARED / "data" / "xlsforms"


def corpus_files() -> list[str]:
    """The corpus's XLSForm files by name; none where ../shared is absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".xlsx", ".xls", ".csv"))


@functools.cache
def load_corpus_form(name: str):
    """A corpus file's form, loaded once; None where Ferry refuses it (``tests/forms/test_corpus.py``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load_xlsform(CORPUS / name)
        except FormError:
            return None
