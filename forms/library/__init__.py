"""The built-in forms, shipped as .xlsx with the place lists their selects read.

Choice names for places: the GSO code of the district or commune; the five Ninh Kiều wards
merged in 2020 have no code and use ``<district code>-<ascii slug>`` (e.g. ``916-an-cu``).
Regenerate the .xlsx and CSVs from ``forms/library/source.py`` with
``python -m forms.library.source``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from forms.errors import FormUnknown

FOLDER = Path(__file__).parent
NAMES = ("awareness", "outreach")
ATTACHMENTS = ("districts.csv", "communes.csv")


def path(name: str) -> Path:
    """The .xlsx file of a built-in form."""
    if name not in NAMES:
        raise FormUnknown(f"no built-in form named {name!r}; known: {', '.join(NAMES)}",
                          name=name)
    return FOLDER / f"{name}.xlsx"


def attachments() -> dict[str, Path]:
    """The CSV files the built-in forms' selects read, by file name."""
    return {filename: FOLDER / filename for filename in ATTACHMENTS}


@lru_cache(maxsize=None)
def load(name: str):
    """Load a built-in form (cached: a Form is immutable once loaded)."""
    from forms.xlsform import load_xlsform

    return load_xlsform(path(name), attachments=attachments())
