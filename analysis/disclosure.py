"""Small-cell suppression: aggregates of fewer than ``min_n`` respondents are not published.

The survey asks about sensitive matters (brokers, debts, relatives who disappeared) in small
communes; an estimate from a handful of interviews can point at people. Every published
table (report, priority list, channel reach) passes through :func:`suppress_small`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._taylor import require_columns
from analysis.errors import VariableInvalid

__all__ = ["MIN_N", "STAT_VALUES", "suppress_small"]

#: Default minimum unweighted number of respondents behind a published figure.
MIN_N = 10

#: Columns blanked in a suppressed row of a standard estimate table.
STAT_VALUES = ("estimate", "se", "ci_low", "ci_high", "deff", "cv", "n_weighted")


def suppress_small(table, *, n="n", min_n=MIN_N, columns=None) -> pd.DataFrame:
    """Blank the figures of rows whose unweighted count ``n`` is below ``min_n``.

    Parameters
    ----------
    table : pandas.DataFrame
        Aggregates with an unweighted count column.
    n : str
        The count column (kept, so readers see why a row is empty).
    min_n : int
        Minimum count (default 10).
    columns : iterable of str, optional
        Columns to blank; default the standard estimate columns present in ``table``.

    Returns
    -------
    pandas.DataFrame
        A copy with those columns set to NaN where ``n < min_n`` and a boolean
        ``suppressed`` column.
    """
    if not isinstance(min_n, (int, np.integer)) or min_n < 1:
        raise VariableInvalid(f"min_n must be a positive integer, got {min_n!r}")
    require_columns(table, [n])
    columns = [c for c in STAT_VALUES if c in table.columns] if columns is None else list(columns)
    require_columns(table, columns)
    out = table.copy()
    small = (pd.to_numeric(out[n], errors="coerce").fillna(0) < min_n).to_numpy()
    for column in columns:
        if pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].astype("float64").where(~small)
        else:
            out[column] = out[column].astype("object").where(~small, None)
    out["suppressed"] = small
    return out
