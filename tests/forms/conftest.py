"""Helpers: compact inline forms written as pyxform markdown tables."""

from __future__ import annotations

import textwrap

import pytest

from forms.xlsform import load_xlsform


def md(text: str, **kwargs):
    """Load a form written as a pyxform markdown table."""
    return load_xlsform(textwrap.dedent(text).strip().encode("utf-8"), **kwargs)


@pytest.fixture(scope="session")
def awareness():
    from forms import library

    return library.load("awareness")


@pytest.fixture(scope="session")
def outreach():
    from forms import library

    return library.load("outreach")


def codes(issues) -> list[tuple[str, str]]:
    """(code, pointer) pairs, the part of an issue tests compare."""
    return [(i.code, i.pointer) for i in issues]
