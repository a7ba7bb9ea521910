"""A report as a Word document (DOCX) in the Vietnamese administrative format, or the same in English.

The layout follows Decree 30/2020/NĐ-CP (Appendix I), as the city's own documents do (Plan 136/KH-UBND):
A4, margins 2 cm top and bottom, 3 cm left, 2 cm right; Times New Roman, body 14 pt, notes 13 pt, tables
12 pt; a two-column header with the issuing unit (its parent body above it), a rule and the document's number
("Số: …/BC-…") on the left, and the national motto ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do -
Hạnh phúc"), a rule and the place and date ("Cần Thơ, ngày 12 tháng 11 năm 2026") on the right; the kind
of document ("BÁO CÁO") and its title centred in bold; the sections; then the recipients ("Nơi nhận:") on the
left and the signature block on the right. Days below 10 and the months January and February take a leading
zero, as the decree asks.

The body is the report's blocks (:mod:`analysis.report_blocks`), the same the HTML page shows: table cells are
written as they are, so the document holds the page's figures in the reader's number format. Charts and maps
(SVG) are left out: each has its numbers in the table beside it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.shared import Pt

from analysis import labels
from analysis.report_blocks import Figure
from analysis.report_blocks import Heading
from analysis.report_blocks import Items
from analysis.report_blocks import Paragraph
from analysis.report_blocks import Table
from analysis.report_html import report_blocks

__all__ = ["MOTTO", "DEFAULT_UNIT", "Letterhead", "dated", "letterhead", "write_docx", "gap_report_docx"]

FONT = "Times New Roman"
BODY, NOTE, TABLE, SMALL = Pt(14), Pt(13), Pt(12), Pt(11)
_AFTER = Pt(6)
#: The national motto, two lines (Vietnamese, English).
MOTTO = {"vi": ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"),
         "en": ("SOCIALIST REPUBLIC OF VIET NAM", "Independence - Freedom - Happiness")}
_WORDS = {"vi": {"number": "Số", "report": "BÁO CÁO", "recipients": "Nơi nhận:"},
          "en": {"number": "No.", "report": "REPORT", "recipients": "Recipients:"}}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_RULE = "\u2500" * 8

#: The unit Ferry's reports go out under unless the server's ``REPORT_UNIT`` says otherwise: the Department
#: of Information and Communications, which collects the units' results for the city (Plan 136/KH-UBND).
DEFAULT_UNIT = {
    "vi": {"parent": "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ", "issuer": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
           "name": "Sở Thông tin và Truyền thông",
           "place": "Cần Thơ", "signer_title": "GIÁM ĐỐC",
           "recipients": ("UBND thành phố (để báo cáo);", "Lưu: VT.")},
    "en": {"parent": "CẦN THƠ CITY PEOPLE'S COMMITTEE",
           "issuer": "DEPARTMENT OF INFORMATION AND COMMUNICATIONS",
           "name": "the Department of Information and Communications",
           "place": "Cần Thơ", "signer_title": "DIRECTOR",
           "recipients": ("The City People's Committee (for information);", "Archived: Office.")},
    "abbreviation": "STTTT", "number": "", "signer_name": "",
}


@dataclass(frozen=True)
class Letterhead:
    """Who issues the document, where and when, and who signs it (words in the document's language):
    ``issuer`` as the header writes it (capitals), ``name`` as a sentence does."""

    parent: str
    issuer: str
    name: str
    abbreviation: str
    place: str
    date: dt.date
    number: str = ""
    signer_title: str = ""
    signer_name: str = ""
    recipients: tuple[str, ...] = field(default_factory=tuple)


def letterhead(language: str, date: dt.date, unit: dict | None = None, *,
               number: str | None = None) -> Letterhead:
    """The letterhead of ``unit`` (:data:`DEFAULT_UNIT`'s shape; missing keys from it) in ``language``."""
    lang = labels.check_language(language)
    unit = unit or {}
    words = {**DEFAULT_UNIT[lang], **unit.get(lang, {})}
    common = {key: unit.get(key, DEFAULT_UNIT[key]) for key in ("abbreviation", "number", "signer_name")}
    number = common["number"] if number is None else number
    return Letterhead(parent=words["parent"], issuer=words["issuer"], name=words["name"],
                      abbreviation=common["abbreviation"], place=words["place"], date=date, number=number,
                      signer_title=words["signer_title"], signer_name=common["signer_name"],
                      recipients=tuple(words["recipients"]))


def dated(place: str, date: dt.date, language: str) -> str:
    """The place and date line: 'Cần Thơ, ngày 05 tháng 9 năm 2017' or 'Cần Thơ, 5 September 2017'."""
    if labels.check_language(language) == "en":
        return f"{place}, {date.day} {_MONTHS[date.month - 1]} {date.year}"
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return f"{place}, ngày {date.day:02d} tháng {month} năm {date.year}"


def _text(paragraph, text, *, size=BODY, bold=False, italic=False, align=None):
    run = paragraph.add_run(text)
    run.font.size = size
    if bold:  # only what differs from the style: each property is an element in the XML
        run.bold = True
    if italic:
        run.italic = True
    if align is not None:
        paragraph.alignment = align
    return run


def _para(container, text="", *, size=BODY, bold=False, italic=False, align=None, after=_AFTER, indent=None):
    paragraph = container.add_paragraph()
    paragraph.paragraph_format.space_after = after
    paragraph.paragraph_format.space_before = Pt(0)
    if indent is not None:
        paragraph.paragraph_format.first_line_indent = indent
    if text:
        _text(paragraph, text, size=size, bold=bold, italic=italic, align=align)
    elif align is not None:
        paragraph.alignment = align
    return paragraph


def _setup(document, language):
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, BODY
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):  # Vietnamese diacritics in every script slot
        fonts.set(qn(key), FONT)
    lang = style.element.get_or_add_rPr().find(qn("w:lang"))
    if lang is None:
        lang = style.element.get_or_add_rPr().makeelement(qn("w:lang"), {})
        style.element.get_or_add_rPr().append(lang)
    lang.set(qn("w:val"), "vi-VN" if language == "vi" else "en-GB")


def _cell(cell, first=False):
    """The cell's first paragraph (a new cell has one, empty) or a new one after it."""
    if first:
        paragraph = cell.paragraphs[0]
        paragraph.paragraph_format.space_after = Pt(0)
        return paragraph
    return _para(cell, after=Pt(0))


def _header(document, head: Letterhead, language):
    table = document.add_table(rows=1, cols=2)  # no style: no borders
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _text(_cell(left, True), head.parent.upper(), size=NOTE, align=centre)
    _text(_cell(left), head.issuer.upper(), size=NOTE, bold=True, align=centre)
    _text(_cell(left), _RULE, size=SMALL, align=centre)
    number = head.number or "\u00a0" * 6  # left blank for the clerk who registers the document
    line = f"{_WORDS[language]['number']}: {number}/BC-{head.abbreviation}"
    _text(_cell(left), line, size=NOTE, align=centre)
    first, second = MOTTO[language]
    _text(_cell(right, True), first, size=NOTE, bold=True, align=centre)
    _text(_cell(right), second, size=BODY, bold=True, align=centre)
    _text(_cell(right), _RULE * 2, size=SMALL, align=centre)
    _text(_cell(right), dated(head.place, head.date, language), size=BODY, italic=True, align=centre)


def _table(document, block: Table):
    _para(document, block.caption, size=NOTE, bold=True, after=Pt(3), align=WD_ALIGN_PARAGRAPH.LEFT)
    table = document.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, block.header, strict=True):
        _text(_cell(cell, True), text, size=TABLE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    header_row = table.rows[0]._tr.get_or_add_trPr()  # the header row repeats on every page of a long table
    header_row.append(header_row.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
    for row, values in zip(table.rows[1:], block.rows, strict=True):
        for i, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            figure = i >= block.numeric_from and text[:1] in "0123456789+-–▲▼"
            _text(_cell(cell, True), text, size=TABLE,
                  align=WD_ALIGN_PARAGRAPH.RIGHT if figure else WD_ALIGN_PARAGRAPH.LEFT)
    _para(document, after=Pt(3))


def _body(document, blocks):
    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    for block in blocks:
        if isinstance(block, Heading):
            if block.level > 1:  # the title (level 1) is already under the kind of document
                _para(document, block.text, bold=True, italic=block.level > 2, after=Pt(6))
        elif isinstance(block, Paragraph):
            size = BODY if block.style == "body" else NOTE
            _para(document, block.text, size=size, italic=block.style == "meta", align=justify, indent=Cm(1))
        elif isinstance(block, Items):
            size = BODY if block.style == "body" else NOTE
            for item in block.items:
                _para(document, f"- {item}", size=size, align=justify, indent=Cm(1), after=Pt(3))
        elif isinstance(block, Table):
            _table(document, block)
        elif isinstance(block, Figure):
            continue  # SVG has no place in a Word document; its numbers are in the table beside it


def _signature(document, head: Letterhead, language):
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    left, right = table.rows[0].cells
    left.width, right.width = Cm(8), Cm(8)
    _text(_cell(left, True), _WORDS[language]["recipients"], size=TABLE, bold=True, italic=True)
    for line in head.recipients:
        _text(_cell(left), f"- {line}", size=SMALL)
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _text(_cell(right, True), head.signer_title.upper(), size=BODY, bold=True, align=centre)
    for _ in range(4):  # room for the signature and the seal
        _cell(right)
    if head.signer_name:
        _text(_cell(right), head.signer_name, size=BODY, bold=True, align=centre)


def _subject(title: str, language: str) -> str:
    """The title under "BÁO CÁO" / "REPORT" without saying "report" twice ("Báo cáo kết quả…": "Kết quả…")."""
    word = "báo cáo " if language == "vi" else "report "
    if title.lower().startswith(word):
        rest = title[len(word):]
        return rest[:1].upper() + rest[1:]
    return title


def write_docx(blocks, file, *, language: str, head: Letterhead, title: str | None = None) -> None:
    """Write ``blocks`` as a DOCX report under ``head`` to ``file`` (a path or a binary file object).

    ``title``: the report's title under "BÁO CÁO" (default: the first level-1 heading of ``blocks``).
    """
    lang = labels.check_language(language)
    if title is None:
        title = _subject(next((b.text for b in blocks if isinstance(b, Heading) and b.level == 1), ""), lang)
    document = Document()
    _setup(document, lang)
    _header(document, head, lang)
    _para(document, after=Pt(12))
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(document, _WORDS[lang]["report"], bold=True, align=centre, after=Pt(0))
    _para(document, title, bold=True, align=centre, after=Pt(0))
    _para(document, _RULE, size=SMALL, align=centre, after=Pt(12))
    _body(document, blocks)
    _signature(document, head, lang)
    document.core_properties.title = title
    document.core_properties.author = head.issuer
    document.core_properties.language = "vi-VN" if lang == "vi" else "en-GB"
    document.save(file)


def gap_report_docx(report, file, *, language: str, head: Letterhead) -> None:
    """The whole awareness-gap report (:class:`analysis.gap_report.GapReport`) as DOCX: the blocks its HTML
    page shows (:func:`analysis.report_html.report_blocks`), charts left out."""
    write_docx(report_blocks(report, language=language, date=head.date, figures=False), file,
               language=language, head=head)
