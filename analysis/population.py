"""The survey's target population from the 2019 census structure (``forms.places``).

Target population
-----------------
The awareness form interviews people aged 15 to 80. The census tables come in 5-year
bands, so the target population is taken as the bands ``15-19`` to ``75-79`` (ages
15–79): the 80-84 band cannot be split and age 80 alone is well under 1% of adults.
Respondents aged 80 keep their commune's weight (they are in the sample, not in the
frame total); the bias this introduces in the weight totals is nil, since weights are
built to sum to the 15–79 totals exactly.

Commune adult population
------------------------
The census gives communes only their total, urban and rural population; age bands exist
per district and urban/rural. A commune's adult population is therefore
``M_i = urban_i * a_h(urban) + rural_i * a_h(rural)`` where ``a_h(kind)`` is the share of
ages 15–79 in district h's urban (rural) population. Summed over a district this gives the
district's adult population exactly (the commune urban/rural totals add up to the
district's age-band totals; a test checks it).

Urban/rural of a respondent
---------------------------
Wards (phường) and towns (thị trấn) are urban, communes (xã) rural: the census counts
every ward and town as urban and every commune as rural (checked on the shipped table).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from forms.places import read_age_bands
from forms.places import read_districts

__all__ = [
    "TARGET_BANDS",
    "AREA_OF_KIND",
    "communes",
    "census_cells",
    "band_ages",
]

#: Census age bands counted in the target population (ages 15–79).
TARGET_BANDS = tuple(f"{a}-{a + 4}" for a in range(15, 80, 5))

#: Commune kind → urban/rural, as the census classifies them.
AREA_OF_KIND = {"ward": "urban", "town": "urban", "commune": "rural"}


def band_ages(band: str) -> range:
    """Single years of age in a census band (``"15-19"`` → 15..19)."""
    low, high = band.split("-")
    return range(int(low), int(high) + 1)


@lru_cache(maxsize=1)
def _communes() -> pd.DataFrame:
    bands = pd.DataFrame([b.__dict__ for b in read_age_bands()])
    target = bands[bands["age_band"].isin(TARGET_BANDS)].groupby("district_code")[["urban", "rural"]].sum()
    whole = bands.groupby("district_code")[["urban", "rural"]].sum()
    share = (target / whole.where(whole > 0)).fillna(0.0)
    rows = []
    for district in read_districts():
        for c in district.communes:
            rows.append({
                "district_code": district.code,
                "district_name": district.name,
                "district_kind": district.kind,
                "commune_key": c.key,
                "commune_name": c.name,
                "commune_kind": c.kind,
                "area": AREA_OF_KIND[c.kind],
                "population": c.population,
                "urban_population": c.urban_population,
                "rural_population": c.rural_population,
                "adult_population": c.urban_population * share.loc[district.code, "urban"]
                + c.rural_population * share.loc[district.code, "rural"],
            })
    return pd.DataFrame(rows)


def communes() -> pd.DataFrame:
    """One row per 2019 commune: district, kind, area, population and adult (15–79) population.

    Returns
    -------
    pandas.DataFrame
        ``district_code, district_name, district_kind, commune_key, commune_name,
        commune_kind, area, population, urban_population, rural_population,
        adult_population`` (the last is a float: see the module docstring).
    """
    return _communes().copy()


@lru_cache(maxsize=1)
def _cells() -> pd.DataFrame:
    bands = pd.DataFrame([b.__dict__ for b in read_age_bands()])
    long = bands.melt(id_vars=["district_code", "age_band"], value_vars=["urban", "rural"],
                      var_name="area", value_name="people")
    whole = long.groupby(["district_code", "area"])["people"].transform("sum")
    long = long[long["age_band"].isin(TARGET_BANDS) & (whole > 0)].copy()
    # share of each target band in the district's (urban or rural) whole population
    long["share"] = long["people"] / whole[long.index]
    places = _communes().melt(
        id_vars=["district_code", "commune_key"], value_vars=["urban_population", "rural_population"],
        var_name="area", value_name="area_population",
    )
    places["area"] = places["area"].str.removesuffix("_population")
    cells = places.merge(long[["district_code", "area", "age_band", "share"]],
                         on=["district_code", "area"], how="inner")
    cells["population"] = cells["area_population"] * cells["share"]
    cells = cells[cells["population"] > 0]
    order = {band: i for i, band in enumerate(TARGET_BANDS)}
    cells = cells.assign(_o=cells["age_band"].map(order))
    cells = cells.sort_values(["district_code", "commune_key", "area", "_o"])
    return cells[["district_code", "commune_key", "age_band", "area", "population"]].reset_index(drop=True)


def census_cells() -> pd.DataFrame:
    """Adults (15–79) per commune × age band × urban/rural, both sexes (floats).

    Each commune's urban (rural) adults are spread over age bands in the proportions of its
    district's urban (rural) population; summed over bands they give ``communes()``'s
    ``adult_population``. The census tables have no sex split (see ``analysis.risk``).
    """
    return _cells().copy()
