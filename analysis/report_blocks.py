"""A report as blocks (headings, paragraphs, lists, tables, figures): built once, rendered many ways.

The full gap report builds its blocks once (:func:`analysis.report_html.report_blocks`); the HTML page, the
DOCX document (:mod:`analysis.report_docx`) and the spreadsheets (:mod:`analysis.report_tables`) each render
the same blocks, so every download holds the page's cells, words and rounding. Table cells are text already
formatted in the reader's language (:func:`number`: 1.809 and 0,5 in Vietnamese; 1,809 and 0.5 in English).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

__all__ = ["Heading", "Paragraph", "Items", "Table", "Figure", "number", "tables"]


@dataclass(frozen=True)
class Heading:
    """A heading: ``level`` 1 is the title, 2 a section, 3 a subsection."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``style``: ``body``, ``note`` (small print: method notes) or ``meta`` (round, date)."""

    text: str
    style: str = "body"


@dataclass(frozen=True)
class Items:
    """A bulleted list (``style`` as a paragraph's)."""

    items: tuple[str, ...]
    style: str = "note"


@dataclass(frozen=True)
class Table:
    """A table as the reader sees it: ``name`` (a stable key: sheet and file names), ``caption``, ``header``
    and ``rows`` of text; the first cell of each row names the row; cells from ``numeric_from`` on that are
    figures align right."""

    name: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric_from: int = 1


@dataclass(frozen=True)
class Figure:
    """A chart or map (inline SVG) with its caption; its numbers are in a table beside it."""

    svg: str
    caption: str
    extra: dict = field(default_factory=dict)


def number(value: float, digits: int = 0, *, language: str, sign: bool = False) -> str:
    """``value`` with ``digits`` decimals and the language's separators: vi 1.809 and 0,5; en 1,809 and 0.5.

    ``sign``: a leading + for positive values. A value that rounds to zero never shows a sign ("-0").
    """
    out = f"{value:{'+' if sign else ''},.{digits}f}"
    if not out.strip("+-0.,"):
        out = out.lstrip("+-")
    if language == "vi":
        out = out.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return out


def tables(blocks) -> list[Table]:
    """The tables among ``blocks``, in reading order."""
    return [block for block in blocks if isinstance(block, Table)]
