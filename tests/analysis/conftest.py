"""Fixtures for analysis tests: the shared validation data, read in place (never copied)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
VALIDATION = REPO.parent / "shared" / "data" / "validation"


def _load(name: str) -> pd.DataFrame:
    path = VALIDATION / name
    if not path.exists():
        pytest.skip(
            f"validation data {name} not found at {path} "
            "(expected in <repo>/../shared/data/validation)"
        )
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def apistrat() -> pd.DataFrame:
    return _load("apistrat.csv")


@pytest.fixture(scope="session")
def apiclus1() -> pd.DataFrame:
    frame = _load("apiclus1.csv")
    frame["sch_wide_yes"] = (frame["sch.wide"] == "Yes").astype("float64")
    return frame


@pytest.fixture(scope="session")
def nhanes2() -> pd.DataFrame:
    return _load("nhanes2.csv")


@pytest.fixture(scope="session")
def milk() -> pd.DataFrame:
    return _load("milk.csv")
