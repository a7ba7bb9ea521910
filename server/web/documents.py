"""The reports as Word documents (DOCX) in the administrative format, with the page's own figures.

The 12 November report's document is made of the yearly page's tables as the page shows them
(:func:`server.web.shown.shown`: the same cells, labels, rounding and number format), under the
headings and notes the page prints; the full report's is the blocks its HTML page is made of
(:func:`analysis.report_docx.gap_report_docx`). The letterhead (issuing unit, signer, recipients) comes
from the ``REPORT_UNIT`` setting (default :data:`analysis.report_docx.DEFAULT_UNIT`). Both run in the
current language (:func:`server.web.i18n.in_language` for a command).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from flask import current_app

from analysis.report_blocks import Heading
from analysis.report_blocks import Items
from analysis.report_blocks import Paragraph
from analysis.report_blocks import Table
from analysis.report_docx import Letterhead
from analysis.report_docx import gap_report_docx
from analysis.report_docx import letterhead
from analysis.report_docx import write_docx
from analysis.yearly_report import HEADINGS
from server.reports.request import ReportRequest
from server.web.i18n import current_language
from server.web.i18n import role_label
from server.web.i18n import text as t
from server.web.shown import shown

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def head(date: dt.date, number: str | None = None) -> Letterhead:
    """The letterhead of the configured unit in the current language."""
    return letterhead(current_language(), date, current_app.config.get("REPORT_UNIT"), number=number)


def _table(name: str, caption: str, frame: pd.DataFrame) -> Table:
    rows = tuple(tuple(str(v) for v in row) for row in frame.itertuples(index=False, name=None))
    return Table(name, caption, tuple(str(c) for c in frame.columns), rows)


def yearly_blocks(frames: dict[str, pd.DataFrame], choices: ReportRequest, letter: Letterhead) -> list:
    """The 12 November report as blocks: the yearly page's headings, tables (as shown) and notes."""
    index = 0 if current_language() == "vi" else 1
    cells = shown(frames, choices)
    blocks = [Heading(HEADINGS["title"][index].format(year=choices.round), 1),
              Paragraph(t("yearly_intro", unit=letter.name, year=choices.round)),
              Heading(f"1. {t('yearly_outreach')}")]
    if not len(frames["outreach"]):
        blocks.append(Paragraph(t("no_outreach_year", year=choices.round), "note"))
    else:
        blocks.append(_table("outreach_totals", f"{t('yearly_outreach')}, {choices.round}",
                             cells["outreach_totals"]))
        blocks.append(Heading(t("yearly_types"), 3))
        blocks.append(_table("outreach", f"{t('yearly_types')}, {choices.round}", cells["outreach"]))
    span = f" ({choices.previous} → {choices.round})" if choices.previous else ""
    blocks.append(Heading(f"2. {t('yearly_awareness')}{span}"))
    awareness = cells["awareness"]
    first = awareness.columns[0]  # the indicator: one table per indicator, as on the page
    for position, (label, part) in enumerate(awareness.groupby(first, sort=False)):
        blocks.append(_table(f"awareness_{position + 1}", str(label), part.drop(columns=first)))
    notes = [t("change_unit")] if choices.previous else []
    notes.append(t("ci_note"))
    min_cell = choices.min_cell
    notes.append(t("withheld_note", min=min_cell) if min_cell > 1 else
                 t("withheld_none", min=current_app.config["REPORT_MIN_CELL"]))
    blocks.append(Items(tuple(notes)))
    blocks.append(Heading(f"3. {t('yearly_plan', year=choices.round)}"))
    plan = frames["outreach_plan"]
    if not len(plan):
        blocks.append(Paragraph(t("yearly_plan_none", year=choices.round), "note"))
    else:
        first = plan.iloc[0]
        blocks.append(Paragraph(t("yearly_plan_approved", date=first["approved_on"],
                                  role=role_label(first["approved_by"])), "note"))
        caption = t("yearly_plan_table", year=choices.round)
        blocks.append(_table("outreach_plan", caption, cells["outreach_plan"]))
    return blocks


def yearly_docx(frames: dict[str, pd.DataFrame], choices: ReportRequest, *, date: dt.date,
                number: str | None = None) -> bytes:
    """The 12 November report of the yearly page's tables as a DOCX document, in the current language."""
    letter = head(date, number)
    buffer = io.BytesIO()
    write_docx(yearly_blocks(frames, choices, letter), buffer, language=current_language(), head=letter)
    return buffer.getvalue()


def full_docx(report, *, date: dt.date, number: str | None = None) -> bytes:
    """The full awareness-gap report as a DOCX document, in the current language."""
    buffer = io.BytesIO()
    gap_report_docx(report, buffer, language=current_language(), head=head(date, number))
    return buffer.getvalue()
