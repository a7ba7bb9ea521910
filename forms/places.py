"""The Cần Thơ unit list shipped with Ferry: districts and communes of the 2019 census structure."""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from dataclasses import dataclass
from importlib import resources

#: The unit list the 2017–2020 campaign used; later lists (the 2025 reform) get their own version.
UNIT_LIST_2019 = "cantho-2019"


@dataclass(frozen=True)
class Commune:
    """A ward, commune or town: the survey's primary sampling unit."""

    key: str
    code: str | None
    name: str
    kind: str
    district_code: str
    population: int
    urban_population: int
    rural_population: int


@dataclass(frozen=True)
class District:
    """An urban district (quận) or rural district (huyện), the survey's stratum."""

    code: str
    name: str
    kind: str
    communes: tuple[Commune, ...]

    @property
    def population(self) -> int:
        """Return the 2019 population, the sum of its communes."""
        return sum(c.population for c in self.communes)


@dataclass(frozen=True)
class AgeBand:
    """2019 population of one district in one 5-year age band."""

    district_code: str
    age_band: str
    urban: int
    rural: int
    total: int


def slug(text: str) -> str:
    """Return an ASCII slug of a Vietnamese name (``An Cư`` → ``an-cu``)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in ascii_text.lower()).split())


def commune_key(district_code: str, commune_code: str | None, name: str, kind: str,
                shared_code: bool = False) -> str:
    """Return a commune's stable key within the 2019 list.

    The GSO code where it identifies the unit alone. Five Ninh Kiều wards merged in 2020 have no
    code: district code and name slug. Thạnh An town and Thạnh An commune were merged in 2025 and
    both carry the merged unit's code 31240: the code and the kind tell them apart.
    """
    if commune_code is None:
        return f"{district_code}-{slug(name)}"
    return f"{commune_code}-{kind}" if shared_code else commune_code


def _open(name: str):
    return resources.files("forms.reference.cantho").joinpath(name).open(encoding="utf-8", newline="")


def read_districts() -> list[District]:
    """Read the 9 districts and their 85 communes, in the order of the census table."""
    rows: dict[str, list[Commune]] = {}
    meta: dict[str, tuple[str, str]] = {}
    with _open("communes_2019.csv") as fh:
        table = list(csv.DictReader(fh))
    codes = Counter(row["commune_code"] for row in table if row["commune_code"])
    for row in table:
        code = row["district_code"]
        meta.setdefault(code, (row["district_name"], row["district_kind"]))
        rows.setdefault(code, []).append(
            Commune(
                key=commune_key(code, row["commune_code"] or None, row["commune_name"],
                                row["commune_kind"], codes[row["commune_code"]] > 1),
                code=row["commune_code"] or None,
                name=row["commune_name"],
                kind=row["commune_kind"],
                district_code=code,
                population=int(row["population_2019"]),
                urban_population=int(row["urban_population_2019"]),
                rural_population=int(row["rural_population_2019"]),
            )
        )
    return [District(code, *meta[code], communes=tuple(communes)) for code, communes in rows.items()]


def read_age_bands() -> list[AgeBand]:
    """Read the 2019 population by district and age band."""
    with _open("district_age_2019.csv") as fh:
        return [
            AgeBand(r["district_code"], r["age_band"], int(r["urban"]), int(r["rural"]), int(r["total"]))
            for r in csv.DictReader(fh)
        ]
