"""``flask --app server report ...``: report tables to CSV, XLSX or Markdown files, the reports as Word
documents (DOCX), and the reindex."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from flask import current_app
from flask.cli import with_appcontext

from analysis.report_html import render_html
from analysis.report_tables import write_csv_zip
from analysis.report_tables import write_workbook
from analysis.report_tables import write_xlsx
from analysis.yearly_report import render_markdown
from server.cli.support import fail_on_api_error
from server.extensions import db
from server.models.errors import ServerError
from server.reports import boundaries
from server.reports import data as analysis_data
from server.reports import service as reports
from server.reports.exports import csv_chunks
from server.reports.request import SMALL_AREA_INDICATORS
from server.reports.request import ReportRequest
from server.reports.request import document_date
from server.reports.request import parse
from server.web import documents
from server.web import tables as pages
from server.web.i18n import in_language
from server.web.i18n import text

FORMATS = (".csv", ".xlsx", ".md")


def _out_path(out: str, formats=FORMATS, fmt: str | None = None) -> Path:
    """The output file; its extension says the format, unless ``--format`` does (then they must agree)."""
    path = Path(out)
    if fmt is not None and path.suffix.lower() != f".{fmt}":
        raise click.ClickException(f"--out must end in .{fmt} for --format {fmt}, got {path.name!r}")
    if path.suffix.lower() not in formats:
        raise click.ClickException(f"--out must end in {', '.join(formats)} (the format), got {path.name!r}")
    return path


def _date(value: str | None):
    try:
        return document_date(value)
    except ServerError as exc:
        raise click.ClickException(exc.detail) from None


def _min_cell(value: int | None) -> int:
    return int(current_app.config["REPORT_MIN_CELL"]) if value is None else max(int(value), 1)


def _markdown_table(frame: pd.DataFrame) -> str:
    shown = frame.astype("object").where(frame.notna(), "")

    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_tables(path: Path, tables: dict[str, pd.DataFrame], *, title: str) -> None:
    """Write named tables: CSV (the first table; UTF-8 with BOM), XLSX (one sheet each) or Markdown."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text("".join(csv_chunks(next(iter(tables.values())))), encoding="utf-8")
    elif suffix == ".xlsx":
        write_workbook(tables, path)
    else:
        parts = [f"# {title}\n"]
        for name, table in tables.items():
            parts.append(f"\n## {name}\n\n" + _markdown_table(table))
        path.write_text("".join(parts), encoding="utf-8")


def _request(**args) -> tuple[reports.Data, ReportRequest]:
    """The stored data and the command's options as one report request (rounds checked there)."""
    data = reports.load(db.session, current_app.config["ROUNDS"])
    min_cell = args.pop("min_cell")
    return data, parse(data, {k: v for k, v in args.items() if v is not None}, min_cell=_min_cell(min_cell))


_round = click.option("--round", "round_", type=int, required=True, help="The survey round (year).")
_out = click.option("--out", "-o", "out", required=True, help="Output file: .csv, .xlsx or .md.")
_date_option = click.option("--date", "date", default=None,
                            help="DOCX: the day the document bears, YYYY-MM-DD (default today).")
_number = click.option("--number", default=None,
                       help="DOCX: the document's number (default blank, for the clerk who registers it).")
_min = click.option("--min-cell", type=int, default=None,
                    help="Withhold figures from fewer respondents (default REPORT_MIN_CELL).")


@click.group("report")
def report_group():
    """Write report tables (CSV, XLSX or Markdown, by the --out extension) from the stored data.

    Example:

    \b
        flask --app server report yearly --round 2019 --out bao-cao-2019.md
    """


@report_group.command("yearly")
@_round
@click.option("--out", "-o", "out", required=True, help="Output file: .csv, .xlsx, .md or .docx.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "md", "docx"]), default=None,
              help="The format (default: the --out extension).")
@_min
@click.option("--previous", type=int, default=None, help="Round to compare with (default: the one before).")
@click.option("--language", type=click.Choice(["vi", "en", "both"]), default="vi",
              help="Language of the Markdown or the DOCX (vi or en).")
@_date_option
@_number
@with_appcontext
@fail_on_api_error
def yearly_command(round_: int, out: str, fmt: str | None, min_cell: int | None, previous: int | None,
                   language: str, date: str | None, number: str | None):
    """The 12 November report of a round: outreach and awareness per district, with change.

    As a Word document in the administrative format (.docx), the same tables as the yearly page.

    Example:

    \b
        flask --app server report yearly --round 2019 --out report-2019.xlsx
        flask --app server report yearly --round 2019 --format docx -o bao-cao-2019.docx
    """
    path = _out_path(out, (*FORMATS, ".docx"), fmt)
    if path.suffix.lower() == ".docx":
        if language == "both":
            raise click.ClickException("--language must be vi or en for a DOCX document.")
        day = _date(date)
        data, req = _request(round=round_, previous=previous, min_cell=min_cell)
        with in_language(language):
            frames = pages.build("yearly", data, req, city=text("city"))
            path.write_bytes(documents.yearly_docx(frames, req, date=day, number=number))
        click.echo(f"Wrote {path}.")
        return
    report = reports.yearly(*_request(round=round_, previous=previous, min_cell=min_cell))
    if path.suffix.lower() == ".md":
        path.write_text(render_markdown(report, language=language), encoding="utf-8")
    else:
        write_tables(path, {"awareness": report.awareness, "outreach_totals": report.outreach_totals,
                            "outreach": report.outreach}, title=f"Report {round_}")
    click.echo(f"Wrote {path}.")


@report_group.command("priorities")
@_round
@_out
@_min
@click.option("--level", type=click.Choice(["commune", "district"]), default="commune",
              help="Rank communes or districts.")
@with_appcontext
@fail_on_api_error
def priorities_command(round_: int, out: str, min_cell: int | None, level: str):
    """Places ranked by need for the next outreach, with reasons.

    Example:

    \b
        flask --app server report priorities --round 2019 --level district --out priorities-2019.csv
    """
    path = _out_path(out)
    table = reports.priorities(*_request(round=round_, level=level, min_cell=min_cell))
    write_tables(path, {"priorities": table}, title=f"Priorities {round_} ({level})")
    click.echo(f"Wrote {len(table)} places to {path}.")


@report_group.command("small-areas")
@_round
@_out
@_min
@click.option("--indicator", type=click.Choice(list(SMALL_AREA_INDICATORS)), default="knowledge",
              help="The indicator to estimate per commune.")
@with_appcontext
@fail_on_api_error
def small_areas_command(round_: int, out: str, min_cell: int | None, indicator: str):
    """Benchmarked small-area (Fay–Herriot) estimates of one indicator for every commune.

    Example:

    \b
        flask --app server report small-areas --round 2019 --indicator hotline_aware --out communes-2019.csv
    """
    path = _out_path(out)
    table = reports.small_areas(*_request(round=round_, indicator=indicator, min_cell=min_cell))
    write_tables(path, {"small_areas": table}, title=f"Small-area estimates {round_} ({indicator})")
    click.echo(f"Wrote {len(table)} communes to {path}.")


@report_group.command("indicators")
@_round
@_out
@_min
@with_appcontext
@fail_on_api_error
def indicators_command(round_: int, out: str, min_cell: int | None):
    """Knowledge, signs and hotline indicators per district with 95% CIs.

    Example:

    \b
        flask --app server report indicators --round 2019 --out indicators-2019.md
    """
    path = _out_path(out)
    table = reports.indicators(*_request(round=round_, min_cell=min_cell))
    write_tables(path, {"indicators": table}, title=f"Indicators {round_}")
    click.echo(f"Wrote {len(table)} rows to {path}.")


@report_group.command("reindex")
@with_appcontext
def reindex_command():
    """Rebuild the analysis-ready respondents table from the stored submissions.

    Example:

    \b
        flask --app server report reindex
    """
    count = analysis_data.reindex(db.session)
    db.session.commit()
    click.echo(f"Indexed {count} submissions for analysis.")


# ----------------------------------------------------------------------------- the awareness-gap report
_language = click.option("--language", type=click.Choice(["vi", "en"]), default="vi",
                         help="Language of headings, labels and column names.")
_previous = click.option("--previous", type=int, default=None,
                         help="Round the changes are measured from (default: the one before).")


def _gap_report(round_: int, previous: int | None, min_cell: int | None):
    return reports.gap_report(*_request(round=round_, previous=previous, min_cell=min_cell))


@report_group.command("html")
@_round
@click.option("--out", required=True, help="Output file (.html).")
@_min
@_previous
@_language
@with_appcontext
@fail_on_api_error
def html_command(round_: int, out: str, min_cell: int | None, previous: int | None, language: str):
    """The awareness-gap report as one self-contained HTML file (charts inline, no network needed).

    Example:

    \b
        flask --app server report html --round 2019 --language vi --out bao-cao-2019.html
    """
    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm"):
        raise click.ClickException(f"--out must end in .html, got {path.name!r}")
    report = _gap_report(round_, previous, min_cell)
    path.write_text(render_html(report, language=language, **boundaries.report_args(db.session)),
                    encoding="utf-8")
    click.echo(f"Wrote {path}.")


@report_group.command("full")
@_round
@click.option("--out", "-o", "out", required=True, help="Output file: .docx or .html.")
@click.option("--format", "fmt", type=click.Choice(["docx", "html"]), default=None,
              help="The format (default: the --out extension).")
@_min
@_previous
@_language
@_date_option
@_number
@with_appcontext
@fail_on_api_error
def full_command(round_: int, out: str, fmt: str | None, min_cell: int | None, previous: int | None,
                 language: str, date: str | None, number: str | None):
    """The whole awareness-gap report as a Word document in the administrative format (or HTML).

    Example:

    \b
        flask --app server report full --round 2019 --format docx -o bao-cao-day-du-2019.docx
    """
    path = _out_path(out, (".docx", ".html"), fmt)
    day = _date(date)
    report = _gap_report(round_, previous, min_cell)
    if path.suffix.lower() == ".html":
        path.write_text(render_html(report, language=language, date=day), encoding="utf-8")
    else:
        with in_language(language):
            path.write_bytes(documents.full_docx(report, date=day, number=number))
    click.echo(f"Wrote {path}.")


@report_group.command("tables")
@_round
@click.option("--out", required=True, help="Output file: .xlsx (one sheet per table) or .zip (CSV files).")
@_min
@_previous
@_language
@click.option("--codes", is_flag=True, help="The tidy tables (codes, full-precision figures), for analysis.")
@with_appcontext
@fail_on_api_error
def tables_command(round_: int, out: str, min_cell: int | None, previous: int | None, language: str,
                   codes: bool):
    """The awareness-gap report's tables as its page shows them: levels, groups, change, DiD, priorities,
    channels, communes, risk, outreach (``--codes``: the tidy tables behind them).

    Example:

    \b
        flask --app server report tables --round 2019 --out tables-2019.xlsx
    """
    path = Path(out)
    writers = {".xlsx": write_xlsx, ".zip": write_csv_zip}
    if path.suffix.lower() not in writers:
        raise click.ClickException(f"--out must end in .xlsx or .zip, got {path.name!r}")
    report = _gap_report(round_, previous, min_cell)
    with open(path, "wb") as handle:
        writers[path.suffix.lower()](report, handle, language=language, codes=codes)
    click.echo(f"Wrote the tables of the {round_} report to {path}.")
