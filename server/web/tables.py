"""What each page shows: its choices (round, level...) from the query, its tables from the reports service.

A page and its CSV/XLSX downloads call the same :func:`build`, so a download is exactly the table on
screen (withheld cells empty, with the ``suppressed`` column saying why they are empty).
"""

from __future__ import annotations

import io
from dataclasses import replace
from functools import cache

import pandas as pd

from analysis.boundary_map import boundary_map
from analysis.boundary_map import can_draw
from analysis.population import communes
from analysis.report_map import tile_map
from analysis.report_tables import write_workbook
from server.problems import ApiError
from server.reports import plans
from server.reports import service as reports
from server.reports.boundaries import LoadedMap
from server.reports.exports import csv_chunks
from server.reports.request import ReportRequest
from server.reports.request import parse

PAGES = ("overview", "districts", "groups", "change", "priorities", "channels", "yearly")
#: The tables of each page, by name; the first is the one a plain ``.csv`` download gives.
PARTS = {
    "overview": ("city",),
    "districts": ("indicators",),
    "groups": ("groups",),
    "change": ("change",),
    "priorities": ("priorities",),
    "channels": ("channels",),
    "yearly": ("awareness", "outreach_totals", "outreach", "outreach_plan"),
}


def choose(data: reports.Data, args, *, min_cell: int, language: str) -> ReportRequest:
    """The page's choices from the query (:func:`server.reports.request.parse`), in the page's language.

    Defaults: the latest round with respondents, change to it from the first other, previous the one before.
    """
    return parse(data, {**dict(args.items()), "language": language}, min_cell=min_cell, latest=True)


def query(choices: ReportRequest, page: str) -> dict:
    """The query parameters that reproduce these choices on ``page`` (for links and downloads)."""
    if not choices.rounds:
        return {}
    keys = {"overview": ("round",), "districts": (), "groups": ("round",), "change": ("from", "to"),
            "priorities": ("round", "level"), "channels": ("round",), "yearly": ("round", "previous")}[page]
    values = {"round": choices.round, "from": choices.a, "to": choices.b, "level": choices.level,
              "previous": choices.previous}
    return {k: values[k] for k in keys if values[k] is not None}


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    places = communes()
    districts = dict(zip(places["district_code"], places["district_name"], strict=False))
    communes_ = dict(zip(places["commune_key"].astype(str), places["commune_name"], strict=False))
    return districts, communes_


def district_name(code, city: str) -> str:
    """The name of a district code; ``city`` for ``all`` (the whole city)."""
    return city if code == "all" else _names()[0].get(str(code), str(code))


def _named(frame: pd.DataFrame, city: str) -> pd.DataFrame:
    """``frame`` with ``district_name`` after ``district_code`` (where there is one and none yet)."""
    if "district_code" not in frame.columns or "district_name" in frame.columns:
        return frame
    out = frame.copy()
    at = out.columns.get_loc("district_code") + 1
    out.insert(at, "district_name", [district_name(c, city) for c in out["district_code"]])
    return out


def build(page: str, data: reports.Data, choices: ReportRequest, *, city: str) -> dict[str, pd.DataFrame]:
    """The tables of ``page`` for these choices, by name (see :data:`PARTS`)."""
    if not choices.rounds:
        return {}
    if page == "overview":
        table = reports.indicators(data, choices)
        tables = {"city": table[table["district_code"] == "all"].reset_index(drop=True)}
    elif page == "districts":
        tables = {"indicators": reports.indicators(data, replace(choices, round=None))}
    elif page == "groups":
        tables = {"groups": reports.groups(data, choices)}
    elif page == "change":
        if choices.a is None:
            return {}
        tables = {"change": reports.changes(data, choices)}
    elif page == "priorities":
        tables = {"priorities": reports.priorities(data, choices)}
    elif page == "channels":
        tables = {"channels": reports.channels(data, choices)}
    elif page == "yearly":
        report = reports.yearly(data, choices)
        tables = {"awareness": report.awareness, "outreach_totals": report.outreach_totals,
                  "outreach": report.outreach, "outreach_plan": plans.review_frame(report.outreach_review)}
    else:
        raise ApiError("not-found", f"No report page {page!r}.")
    return {name: _named(frame, city) for name, frame in tables.items()}


def map_svg(page: str, frames: dict[str, pd.DataFrame], choices: ReportRequest, *, text,
            loaded: LoadedMap | None = None) -> str:
    """The page's map (priorities: tiers; districts: knowledge in the latest round), SVG; '' for others.

    A boundary map (:func:`analysis.boundary_map.boundary_map`) where an admin loaded boundaries that
    can show the level, else a tile map (one tile per commune, grouped by district:
    :func:`analysis.report_map.tile_map`).
    """
    labels = {"tiers": {t: text("tier_" + t) for t in ("highest", "high", "medium", "lower")},
              "missing": text("map_missing"), "value": lambda v: f"{100 * v:.0f}%",
              "model_only": text("map_model_only")}

    def draw(values, *, key, value, kind, title, **title_args):
        # boundary maps are titled "Map: …" (bmap_*), tile maps "Tile map: …" (map_*)
        if can_draw(loaded and loaded.boundaries, key):
            return boundary_map(loaded.boundaries, values, key=key, value=value, kind=kind, labels=labels,
                                title=text("b" + title, **title_args))
        return tile_map(values, key=key, value=value, kind=kind, labels=labels,
                        title=text(title, **title_args))

    if page == "priorities" and "priorities" in frames:
        return draw(frames["priorities"], key=_map_key(page, choices), value="tier", kind="tier",
                    title="map_tiers", round=choices.round, level=text("level_" + choices.level))
    if page == "districts" and "indicators" in frames:
        table = frames["indicators"]
        latest = table[(table["round"] == choices.rounds[-1]) & (table["indicator"] == "knowledge")
                       & (table["district_code"] != "all")]
        return draw(latest, key=_map_key(page, choices), value="estimate", kind="share",
                    title="map_knowledge", round=choices.rounds[-1])
    return ""


def _map_key(page: str, choices: ReportRequest) -> str:
    """The places a page's map shows: communes on the commune-level priorities, else districts."""
    return "commune_key" if page == "priorities" and choices.level == "commune" else "district_code"


def draws_boundaries(page: str, choices: ReportRequest, loaded: LoadedMap | None) -> bool:
    """Whether :func:`map_svg` draws ``page`` from the loaded boundaries (its caption says whose)."""
    return can_draw(loaded and loaded.boundaries, _map_key(page, choices))


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark (Excel on Windows reads Vietnamese right); formulas as text."""
    return "".join(csv_chunks(frame)).encode("utf-8")


def to_xlsx(tables: dict[str, pd.DataFrame]) -> bytes:
    """An XLSX workbook with one sheet per table."""
    buffer = io.BytesIO()
    write_workbook(tables, buffer)
    return buffer.getvalue()
