"""What each page shows: its choices (round, level...) from the query, its tables from the reports service.

A page and its CSV/XLSX downloads call the same :func:`build`, so a download is exactly the table on
screen (withheld cells empty, with the ``suppressed`` column saying why they are empty).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import pandas as pd

from analysis.population import communes
from forms.values import formula_safe
from server.problems import ApiError
from server.reports import service as reports
from server.reports.exports import write_workbook

PAGES = ("overview", "districts", "groups", "change", "priorities", "channels", "yearly")
LEVELS = ("commune", "district")
#: The tables of each page, by name; the first is the one a plain ``.csv`` download gives.
PARTS = {
    "overview": ("city",),
    "districts": ("indicators",),
    "groups": ("groups",),
    "change": ("change",),
    "priorities": ("priorities",),
    "channels": ("channels",),
    "yearly": ("awareness", "outreach_totals", "outreach"),
}


@dataclass(frozen=True)
class Choices:
    """The page's choices, validated: rounds with data, and what the query asked for (or defaults)."""

    rounds: tuple[int, ...]
    round: int | None = None
    a: int | None = None
    b: int | None = None
    level: str = "commune"
    previous: int | None = None

    def query(self, page: str) -> dict:
        """The query parameters that reproduce this choice on ``page`` (for links and downloads)."""
        keys = {"overview": ("round",), "districts": (), "groups": ("round",), "change": ("from", "to"),
                "priorities": ("round", "level"), "channels": ("round",),
                "yearly": ("round", "previous")}[page]
        values = {"round": self.round, "from": self.a, "to": self.b, "level": self.level,
                  "previous": self.previous}
        return {k: values[k] for k in keys if values[k] is not None}


def rounds_with_data(data: reports.Data) -> tuple[int, ...]:
    """The survey rounds that have respondents, oldest first."""
    present = set(int(r) for r in data.respondents["round"].unique()) if len(data.respondents) else set()
    return tuple(r for r in data.rounds if r in present)


def choose(data: reports.Data, args) -> Choices:
    """Read the page's choices from the query; defaults: the latest round, change from the one before."""
    rounds = rounds_with_data(data)
    if not rounds:
        return Choices(rounds=())
    level = args.get("level", "commune")
    if level not in LEVELS:
        raise ApiError("validation-failed", "level must be commune or district.",
                       errors=[{"pointer": "/level", "detail": f"unknown: {level}"}])
    round_ = reports.check_round(data, args.get("round", rounds[-1]))
    earlier = [r for r in rounds if r < round_]
    previous = args.get("previous")
    previous = reports.check_round(data, previous, name="previous") if previous else (
        earlier[-1] if earlier else None)
    b = reports.check_round(data, args.get("to", rounds[-1]), name="to")
    a = args.get("from")
    a = reports.check_round(data, a, name="from") if a else next((r for r in rounds if r != b), None)
    return Choices(rounds=rounds, round=round_, a=a, b=b, level=level, previous=previous)


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


def build(page: str, data: reports.Data, choices: Choices, *, min_n: int, language: str,
          city: str) -> dict[str, pd.DataFrame]:
    """The tables of ``page`` for these choices, by name (see :data:`PARTS`)."""
    if not choices.rounds:
        return {}
    if page == "overview":
        table = reports.indicators(data, round_=choices.round, min_n=min_n)
        tables = {"city": table[table["district_code"] == "all"].reset_index(drop=True)}
    elif page == "districts":
        tables = {"indicators": reports.indicators(data, min_n=min_n)}
    elif page == "groups":
        tables = {"groups": reports.groups(data, round_=choices.round, min_n=min_n, language=language)}
    elif page == "change":
        if choices.a is None:
            return {}
        tables = {"change": reports.changes(data, a=choices.a, b=choices.b, min_n=min_n)}
    elif page == "priorities":
        tables = {"priorities": reports.priorities(data, round_=choices.round, level=choices.level,
                                                   min_n=min_n)}
    elif page == "channels":
        tables = {"channels": reports.channels(data, round_=choices.round, min_n=min_n)}
    elif page == "yearly":
        report = reports.yearly(data, round_=choices.round, previous=choices.previous, min_n=min_n)
        tables = {"awareness": report.awareness, "outreach_totals": report.outreach_totals,
                  "outreach": report.outreach}
    else:
        raise ApiError("not-found", f"No report page {page!r}.")
    return {name: _named(frame, city) for name, frame in tables.items()}


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV; withheld cells are empty (never 0) and ``suppressed`` says so."""
    shown = frame.astype("object").map(formula_safe).rename(columns=lambda c: formula_safe(str(c)))
    return shown.to_csv(index=False, lineterminator="\n").encode("utf-8")


def to_xlsx(tables: dict[str, pd.DataFrame]) -> bytes:
    """An XLSX workbook with one sheet per table."""
    buffer = io.BytesIO()
    write_workbook(tables, buffer)
    return buffer.getvalue()
