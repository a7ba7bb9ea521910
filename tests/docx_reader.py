"""Reading a report's DOCX back with python-docx: its letterhead, its data tables (caption, header, rows)."""

from __future__ import annotations

import io

from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


def letterhead(document) -> tuple[list[str], list[str]]:
    """The lines of the header's left cell (unit, number) and right cell (motto, date)."""
    left, right = document.tables[0].rows[0].cells
    return [p.text for p in left.paragraphs], [p.text for p in right.paragraphs]


def data_tables(document) -> list[dict]:
    """The tables between the letterhead and the signature block, in order, each with the paragraph above
    it (its caption), its header row and its body rows as text."""
    found, previous = [], None
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            previous = Paragraph(child, document).text
        elif child.tag.endswith("}tbl"):
            table = Table(child, document)
            rows = [[cell.text for cell in row.cells] for row in table.rows]
            found.append({"caption": previous, "header": rows[0], "rows": rows[1:]})
            previous = None
    return found[1:-1]  # the letterhead and the signature block are tables too


def texts(document) -> list[str]:
    """Every body paragraph's text (outside the tables)."""
    return [p.text for p in document.paragraphs]
