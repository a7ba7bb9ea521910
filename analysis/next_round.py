"""The next round's sample, planned from the last round's uncertainty, and still a probability sample.

Design (``propose``)
--------------------
Strata: the districts. In district h, n_h communes are visited (the team's capacity,
``PlanParameters.communes``). Communes the planner forces in (``certain``) are certainty units
(pi = 1). The other visits are drawn by randomised systematic PPS (Hartley & Rao 1962, as
:func:`analysis.simulation.design.select_communes` draws the fixed design) on a measure of size

    x_i = adults_i × tilt_i,
    tilt_i = min(max_tilt, 1 + a_u·4p(1−p) + a_t·p + a_m·[model] + a_r·[reached] + a_s·(√(1 + d²/s²) − 1))

with p = the commune's P(top k) in the last round (:func:`analysis.priority.prioritise`): ``4p(1−p)``
is 1 at p = ½ and 0 at p ∈ {0, 1} (its tier is uncertain), ``p`` keeps the likely top communes
measured (unmeasured, their estimate falls back to the model's and their tier becomes uncertain
again), ``[model]`` marks communes without interviews (or fewer than ``min_n``) last round, and
``[reached]`` communes newly reached by outreach since that round (their change is to be measured), and
d the commune's last-round knowledge less its district's, s² the district's median variance of a commune
estimate (:func:`_spread`): the need terms raise one side of the district's mean only, which cost the
district and city figures precision; this term raises both sides, as the districts' own variance asks.
Every tilt lies in [1, max_tilt], so the largest over the smallest is at most ``max_tilt``: the
weights M_i / (pi_i m_i) of a district vary by at most that factor times the takes' spread, which
bounds the loss on district and city figures; the default cap of 2 is measured (``docs/analysis.md``:
with 3, Hartley–Rao's variance fell short and district intervals lost coverage). pi_i = n' x_i / X'
(n' visits left after the certainty units, X' the rest's total size); a commune with n' x_i ≥ X' is
peeled off as a certainty unit first (repeated), as ``select_communes`` does, so every drawn pi < 1.
Without a last round (empty ``communes``) every tilt is 1: the fixed design's PPS on adults.

Takes: district h gets a share of the budget proportional to v_h^(1−a) · M_h^a (v_h its visits, M_h its
adults, a = ``district_power``): a = 0 is the fixed design's share (equal takes across the city), a = 1
proportional to adults (the city's figure at its best), and the default a = ½ is Kish's compromise
(square-root allocation: the city's variance 1.04 × the proportional one's where equal shares give 1.15, for
district intervals 1% wider on average, on Cần Thơ's districts); the district's share is then split among its
visited communes in proportion to ``1 + take_tilt · min(1, 4p(1−p) + p)`` (more
where the tier is uncertain or the commune likely in the top), each at least ``min_take``, rounded by
largest remainders so the takes add up to the budget exactly. A planner's ``takes`` replace the
proposal's for those communes, and the rest of the budget is spread over the others.

Estimation: unchanged. :func:`design_columns` records pi_commune and the measure of size (mos, the
district's mos_total and mos_sumsq over its PPS-drawn communes) on the respondents of a planned
round; :func:`analysis.weights.design_weights` weights them M_i / (pi_i · attempted_i), times the
commune's response adjustment, and the reports' Hartley–Rao first stage
(:class:`analysis.survey.PpsSizes`) uses the recorded sizes, certainty units contributing no
first-stage variance.

Expected gain (``Plan.gain``), approximate
------------------------------------------
Communes: ``before`` is the last round's 95% interval width; ``after`` the width the plan's take
would give: the Fay–Herriot posterior variance ``A V / (A + V)`` with ``V = s²_h / take`` (A, the
area variance, from the model-only communes' MSEs; s²_h, the within-commune variance per interview,
from the sampled communes' shrinkage: ``V_i = A (1 − gamma_i) / gamma_i``, ``s² = V_i n_i``), so
ignoring the uncertainty of the fitted model. Chance of a wrong tier (top-k call): before
``min(p, 1 − p)``; after the preposterior ``E[Φ(−|D| / se_1)]`` with the commune's distance to the
top-k boundary ``D ~ N(d, se_0² − se_1²)``, ``d / se_0 = Φ⁻¹(p)``. Districts and city: the
expected width under the fixed design with the same budget (``before``: equal takes, PPS on
adults) and under this plan (``after``): ``V = A Σ (1 − pi_i) M_i² / pi_i / M_h² + s²_h Σ_sel
(M_i / pi_i)² / m_i / M_h²`` (first stage over every commune, second over the drawn ones), the city's
``Σ (M_h / M)² V_h``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import DesignInvalid
from analysis.next_round_gain import expected_gain
from analysis.population import communes as census_communes

__all__ = ["PlanParameters", "Plan", "propose", "design_columns", "DESIGN_COLUMNS"]

#: Columns :func:`design_columns` adds to respondent rows (NaN on rounds of the fixed design).
DESIGN_COLUMNS = ["pi_commune", "mos", "mos_total", "mos_sumsq"]

#: Plan.frame columns and their dtypes (also the JSON schema of ``Plan.to_json``).
FRAME_COLUMNS = {"district_code": "str", "commune_key": "str", "adults": "float64", "size": "float64",
                 "pi": "float64", "certainty": "bool", "selected": "bool", "take": "int64", "reason": "str",
                 "reason_vi": "str", "p_top_k": "float64", "tier": "str", "tilt": "float64"}
DISTRICT_COLUMNS = {"district_code": "str", "communes": "int64", "interviews": "int64"}
GAIN_COLUMNS = {"measure": "str", "place": "str", "level": "str", "before": "float64", "after": "float64"}

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class PlanParameters:
    """What the planner asks for, and the tuning of the proposal (every field documented).

    interviews: budget of interviews of the round, all districts (refusals included).
    communes: communes a district's team can visit (one number for all, or per district code).
    min_take: fewest interviews planned in a visited commune.
    k: the top-k the tiers are about (P(top k) of the last round).
    seed: seed of the random draw (recorded: the draw can be repeated exactly).
    tilt_uncertain: a_u, weight of 4p(1−p) (a tier near the boundary) in the tilt.
    tilt_top: a_t, weight of p (a likely top commune, kept measured).
    tilt_model: a_m, for a commune with no interviews (or fewer than ``min_n``) last round.
    tilt_reached: a_r, for a commune newly reached by outreach (its change is to be measured).
    tilt_spread: a_s, weight of √(1 + d²/s²) − 1, d the commune's last-round knowledge less its district's
        (adult-weighted) and s² the district's median variance of a commune estimate: a commune far from its
        district's mean adds most to the district figure's variance when undersampled.
    max_tilt: cap of the tilt (tilts lie in [1, max_tilt]: the largest over the smallest is at most this).
    district_power: a in a district's share of the budget, v_h^(1−a) · adults_h^a (0: the fixed design's
        share by visits; 1: proportional to adults; ½: square-root, Kish's compromise between district and
        city figures).
    take_tilt: how much more a visited commune's take grows with its stake min(1, 4p(1−p) + p): an uncertain
        tier or a likely top commune (0: equal takes in a district).
    min_n: interviews below which last round's commune estimate counts as model-only.
    certain_top: communes with a last-round P(top k) at least this are visited with certainty (a certainty
        stratum: their tier is nearly settled, and unmeasured it would become uncertain again), at most the
        district's visits minus one so the rest is still drawn; None: none.
    """

    interviews: int
    communes: int | Mapping[str, int] = 4
    min_take: int = 15
    k: int = 10
    seed: int = 0
    tilt_uncertain: float = 1.5
    tilt_top: float = 1.0
    tilt_model: float = 0.25
    tilt_reached: float = 1.0
    tilt_spread: float = 1.5
    max_tilt: float = 2.0
    take_tilt: float = 1.0
    district_power: float = 0.5
    min_n: int = 10
    certain_top: float | None = None

    def visits(self, district: str, available: int) -> int:
        """n_h of a district (its capacity, at most its communes)."""
        per_district = isinstance(self.communes, Mapping)
        wanted = self.communes.get(str(district)) if per_district else self.communes
        if wanted is None:
            raise DesignInvalid(f"no capacity (communes) given for district {district}",
                                district=str(district))
        return min(int(wanted), int(available))

    def to_json(self) -> dict:
        """JSON-able dict."""
        out = asdict(self)
        out["communes"] = dict(self.communes) if isinstance(self.communes, Mapping) else int(self.communes)
        return out

    @classmethod
    def from_json(cls, data) -> PlanParameters:
        """Inverse of :meth:`to_json`."""
        # plans stored before the spread term were drawn without it: they restore as drawn
        return cls(**{"tilt_spread": 0.0, **data})


@dataclass(frozen=True)
class Plan:
    """A proposed (or approved) round: the census communes with their pi, the draw, takes and the gain."""

    year: int
    params: PlanParameters
    frame: pd.DataFrame = field(repr=False)
    districts: pd.DataFrame = field(repr=False)
    gain: pd.DataFrame = field(repr=False)

    def to_json(self) -> dict:
        """Everything needed to restore the plan exactly (NaN as null: valid JSON for any database)."""
        return {"year": int(self.year), "params": self.params.to_json(),
                "frame": _records(self.frame, FRAME_COLUMNS),
                "districts": _records(self.districts, DISTRICT_COLUMNS),
                "gain": _records(self.gain, GAIN_COLUMNS)}

    @classmethod
    def from_json(cls, data) -> Plan:
        """Inverse of :meth:`to_json` (a dict, or its JSON text)."""
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        return cls(year=int(data["year"]), params=PlanParameters.from_json(data["params"]),
                   frame=_table(data["frame"], FRAME_COLUMNS),
                   districts=_table(data["districts"], DISTRICT_COLUMNS),
                   gain=_table(data["gain"], GAIN_COLUMNS))


def _records(table: pd.DataFrame, schema: dict) -> dict:
    """Column-wise lists of plain Python values (floats keep every digit; NaN becomes None)."""
    out = {}
    for column, kind in schema.items():
        values = table[column].tolist() if column in table.columns else [None] * len(table)
        if kind == "float64":
            values = [None if v is None or np.isnan(float(v)) else float(v) for v in values]
        elif kind == "int64":
            values = [int(v) for v in values]
        elif kind == "bool":
            values = [bool(v) for v in values]
        else:
            values = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
        out[column] = values
    return out


def _table(columns: dict, schema: dict) -> pd.DataFrame:
    out = {}
    for column, kind in schema.items():
        values = columns[column]
        if kind == "float64":
            out[column] = np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
        elif kind == "str":
            out[column] = pd.Series(values, dtype=object)
        else:
            out[column] = np.array(values, dtype=kind)
    return pd.DataFrame(out, columns=list(schema))


# ----------------------------------------------------------------------------- reasons
#: The spread term's part of a tilt from which the reasons name it (half of what a tilt capped at 2 can rise).
SPREAD_SAID = 0.5
PHRASES = {
    "forced": ("chosen by the planner: always visited", "do người lập kế hoạch chọn: luôn được khảo sát"),
    "uncertain": ("tier uncertain (P(top {k}) = {p})", "chưa chắc thuộc nhóm nào (P(top {k}) = {p})"),
    "top": ("likely in the top {k} (P = {p}): kept measured",
            "có thể thuộc top {k} (P = {p}): cần tiếp tục đo"),
    "top_certain": ("likely in the top {k} (P = {p}): always visited, so its tier stays measured",
                    "có thể thuộc top {k} (P = {p}): luôn được khảo sát để tiếp tục đo"),
    "model": ("no interviews last round: model estimate only",
              "vòng trước không có phỏng vấn: chỉ có ước lượng theo mô hình"),
    "reached": ("newly reached by outreach: its change is to be measured",
                "mới được truyền thông tiếp cận: cần đo sự thay đổi"),
    "spread": ("its figure last round lay far from its district's: measured to keep the district's precise",
               "vòng trước khác xa mức chung của quận/huyện: cần đo để số liệu quận/huyện chính xác"),
    "adults": ("drawn in proportion to its adults", "chọn theo tỉ lệ số người lớn"),
    "tilt": ("chance raised ×{tilt}", "khả năng được chọn tăng ×{tilt}"),
    "big": ("large enough to be visited with certainty", "đủ lớn để chắc chắn được khảo sát"),
    "chance": ("visited with probability {pi}", "xác suất được khảo sát {pi}"),
}


def _reason(row, k: int, reached: bool, forced: bool) -> tuple[str, str]:
    parts = []
    if forced:
        parts.append(PHRASES["forced"])
    else:
        p = row["p_top_k"]
        fields = {"k": k, "p": f"{p:.2f}" if np.isfinite(p) else "", "tilt": f"{row['tilt']:.1f}",
                  "pi": f"{row['pi']:.2f}"}
        if row["_top"]:
            parts.append(PHRASES["top_certain"])
        elif np.isfinite(p) and 4 * p * (1 - p) >= 0.5:
            parts.append(PHRASES["uncertain"])
        elif np.isfinite(p) and p > 0.5:
            parts.append(PHRASES["top"])
        if row["_model"]:
            parts.append(PHRASES["model"])
        if reached:
            parts.append(PHRASES["reached"])
        if row["_spread"] >= SPREAD_SAID:
            parts.append(PHRASES["spread"])
        if not row["_top"]:
            parts.append(PHRASES["tilt"] if row["tilt"] > 1.0 + 1e-9 else PHRASES["adults"])
            parts.append(PHRASES["big"] if row["certainty"] else PHRASES["chance"])
        parts = [(en.format(**fields), vi.format(**fields)) for en, vi in parts]
    return "; ".join(en for en, _ in parts), "; ".join(vi for _, vi in parts)


# ----------------------------------------------------------------------------- the draw
def _systematic(rng, sizes: np.ndarray, n: int) -> np.ndarray:
    """Positions (into ``sizes``) drawn by systematic PPS in the given order (random start, fixed step)."""
    cum = np.cumsum(sizes)
    step = cum[-1] / n
    points = rng.uniform(0, step) + step * np.arange(n)
    return np.searchsorted(cum, points, side="right")


def inclusion(sizes: np.ndarray, n: int, forced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pi of each commune of a district and its certainty flag: forced units, then peeled large ones."""
    certain = forced.copy()
    if certain.sum() > n:
        raise DesignInvalid(f"{int(certain.sum())} communes forced into a district that can visit {n}")
    while True:  # peel certainty units until the rest can be drawn with pi < 1
        left = n - int(certain.sum())
        rest = ~certain
        if left <= 0 or not rest.any():
            break
        big = rest & (sizes * left >= sizes[rest].sum())
        if not big.any():
            break
        certain |= big
    left = n - int(certain.sum())
    if left == 0 and not certain.all():
        raise DesignInvalid(f"the forced communes fill the district's {n} visits: its other communes could "
                            "never be drawn (not a probability sample); raise its capacity or force fewer")
    pi = np.where(certain, 1.0, 0.0)
    if left > 0:
        rest = ~certain
        pi[rest] = left * sizes[rest] / sizes[rest].sum()
    return pi, certain


def draw(rng, sizes: np.ndarray, pi: np.ndarray, certain: np.ndarray) -> np.ndarray:
    """Selected flags: certainty units, plus randomised systematic PPS among the rest (order shuffled)."""
    selected = certain.copy()
    left = int(round(pi[~certain].sum()))
    if left > 0:
        rest = np.flatnonzero(~certain)
        order = rest[rng.permutation(len(rest))]
        picked = order[_systematic(rng, sizes[order], left)]
        if len(set(picked.tolist())) != left:  # impossible when every pi < 1; guard the invariant
            raise DesignInvalid("systematic PPS drew a commune twice")
        selected[picked] = True
    return selected


# ----------------------------------------------------------------------------- takes
def _integer_split(total: int, shares: np.ndarray, floor: int, *, visits=None) -> np.ndarray:
    """Integers >= ``floor`` (× ``visits``, each element's visits, where given: a district's floor is
    ``floor`` for each of its visits) adding up to ``total`` in proportion to ``shares`` (largest
    remainders)."""
    n = len(shares)
    if n == 0:
        return np.zeros(0, dtype="int64")
    count = np.ones(n, dtype="int64") if visits is None else np.asarray(visits, dtype="int64")
    floors = floor * count
    if total < floors.sum():
        communes = int(count.sum())
        raise DesignInvalid(f"{total} interviews cannot give {communes} communes at least {floor} each",
                            interviews=int(total), communes=communes)
    shares = np.asarray(shares, dtype="float64")
    ideal = total * shares / shares.sum()
    fixed = np.zeros(n, dtype=bool)
    for _ in range(n):  # those below their floor are set to it; the rest share what is left
        if fixed.all():  # only when the total is exactly the floors' sum and rounding put each just under
            ideal = floors.astype("float64")
            break
        free_total = total - floors[fixed].sum()
        ideal = np.where(fixed, floors, free_total * shares / shares[~fixed].sum())
        # a tolerance: at a total equal to the floors' sum, float rounding leaves some ideals a hair below
        low = ~fixed & (ideal < floors - 1e-9)
        if not low.any():
            break
        fixed |= low
    base = np.floor(ideal).astype("int64")
    remainder = ideal - base
    extra = total - base.sum()
    base[np.argsort(-remainder, kind="stable")[:extra]] += 1
    return base


def _takes(plan: pd.DataFrame, params: PlanParameters, overrides: Mapping[str, int] | None) -> np.ndarray:
    """Interviews per commune (0 where not selected): each district its share, uncertainty-weighted."""
    take = np.zeros(len(plan), dtype="int64")
    selected = plan["selected"].to_numpy()
    overrides = {str(k): int(v) for k, v in (overrides or {}).items()}
    keys = plan["commune_key"].astype(str).to_numpy()
    fixed = selected & np.isin(keys, list(overrides))
    for key in keys[np.isin(keys, list(overrides)) & ~selected]:
        raise DesignInvalid(f"a take was given for commune {key}, which the plan does not visit", commune=key)
    if any(v < 1 for v in overrides.values()):
        raise DesignInvalid("a planner's take must be at least 1 interview")
    take[fixed] = [overrides[k] for k in keys[fixed]]
    budget = int(params.interviews) - int(take.sum())
    free = selected & ~fixed
    if free.sum() == 0:
        if budget != 0:
            raise DesignInvalid(f"the planner's takes add up to {int(take.sum())}, not the budget of "
                                f"{params.interviews} interviews", interviews=int(params.interviews))
        return take
    p = plan["p_top_k"].fillna(0.0).to_numpy()
    weight = 1.0 + params.take_tilt * np.minimum(1.0, 4 * p * (1 - p) + p)
    # each district's share of the free budget: its free visits, each weighted by (adults per visit)^a, so
    # a = 0 keeps the fixed design's equal takes across the city and a = 1 is proportional to adults; within
    # a district, more interviews where the tier is uncertain
    districts = plan["district_code"].astype(str).to_numpy()
    codes = sorted(set(districts[free]))
    adults = plan["adults"].to_numpy(dtype="float64")
    per_visit = {c: adults[districts == c].sum() / np.sum(selected & (districts == c)) for c in codes}
    power = params.district_power
    free_visits = np.array([np.sum(free & (districts == c)) for c in codes])
    shares = free_visits * np.array([per_visit[c] ** power for c in codes])
    per_district = _integer_split(budget, shares, params.min_take, visits=free_visits)
    for code, total in zip(codes, per_district, strict=True):
        rows = np.flatnonzero(free & (districts == code))
        take[rows] = _integer_split(int(total), weight[rows], params.min_take)
    return take


# ----------------------------------------------------------------------------- propose
def _capacity(places: pd.DataFrame, params: PlanParameters) -> dict:
    sizes = places.groupby("district_code").size()
    out = {}
    for code, count in sizes.items():
        n = params.visits(code, count)
        if n < 1:
            raise DesignInvalid(f"district {code} must visit at least one commune", district=str(code))
        out[str(code)] = n
    return out


def _last_round(communes: pd.DataFrame | None, places: pd.DataFrame, params: PlanParameters) -> pd.DataFrame:
    """The priority columns the plan reads, one row per census commune (NaN/"" without a last round)."""
    base = pd.DataFrame({"commune_key": places["commune_key"].astype(str)})
    if communes is None or len(communes) == 0:
        return base.assign(p_top_k=np.nan, tier="", _model=False, knowledge=np.nan, knowledge_se=np.nan,
                           knowledge_width=np.nan, shrinkage=np.nan, n_last=0.0)
    if "commune_key" not in communes.columns or "p_top_k" not in communes.columns:
        raise DesignInvalid("communes must be analysis.priority.prioritise(..., level='commune') output "
                            "(commune_key, p_top_k, tier, ...)")
    c = communes.assign(commune_key=communes["commune_key"].astype(str)).drop_duplicates("commune_key")
    get = lambda name, default: c[name] if name in c.columns else pd.Series(default, index=c.index)  # noqa: E731
    n = pd.to_numeric(get("n", np.nan), errors="coerce")
    source = get("source", "").astype(str)
    se = pd.to_numeric(get("knowledge_se", np.nan), errors="coerce")
    width = pd.to_numeric(get("knowledge_high", np.nan), errors="coerce") - pd.to_numeric(
        get("knowledge_low", np.nan), errors="coerce")
    last = pd.DataFrame({"commune_key": c["commune_key"],
                         "p_top_k": pd.to_numeric(c["p_top_k"], errors="coerce"),
                         "tier": get("tier", "").fillna("").astype(str),
                         "_model": (source == "model") | (n.fillna(0) < params.min_n),
                         "knowledge": pd.to_numeric(get("knowledge", np.nan), errors="coerce"),
                         "knowledge_se": se, "knowledge_width": width.fillna(2 * Z95 * se),
                         "shrinkage": pd.to_numeric(get("knowledge_shrinkage", np.nan), errors="coerce"),
                         "n_last": n.fillna(0.0)})
    out = base.merge(last, on="commune_key", how="left")
    out["tier"] = out["tier"].fillna("")
    out["_model"] = out["_model"].fillna(False).astype(bool)
    out["n_last"] = out["n_last"].fillna(0.0)
    return out


def _likely_top(last: pd.DataFrame, districts: np.ndarray, forced: np.ndarray, capacity: dict,
                params: PlanParameters) -> np.ndarray:
    """Communes taken with certainty for a last-round P(top k) >= ``certain_top`` (most likely first), leaving
    each district at least one drawn visit when it has more communes than visits."""
    out = np.zeros(len(last), dtype=bool)
    if params.certain_top is None:
        return out
    p = last["p_top_k"].fillna(0.0).to_numpy(dtype="float64")
    for code, n in capacity.items():
        rows = np.flatnonzero(districts == code)
        room = n - int(forced[rows].sum()) - (1 if len(rows) > n else 0)
        candidates = rows[(p[rows] >= params.certain_top) & ~forced[rows]]
        candidates = candidates[np.argsort(-p[candidates], kind="stable")][:max(room, 0)]
        out[candidates] = True
    return out


def _spread(last: pd.DataFrame, districts: np.ndarray, adults: np.ndarray) -> np.ndarray:
    """√(1 + d²/s²) − 1 per commune (0 where unknown): how far its last-round knowledge lay from its
    district's, in units of a commune estimate's standard error.

    Why: a district's ratio estimator has a first-stage variance of about Σ M_i² d_i² / π_i, which under
    Σ π_i = n′ is least when π_i ∝ M_i |d_i| (Cauchy–Schwarz); with each commune's own sampling variance s²
    beside d_i², the size that serves the district's figure grows with √(d_i² + s²). The need terms raise
    one side of the district's mean only (low knowledge); this term raises both."""
    k = last["knowledge"].to_numpy(dtype="float64")
    var = last["knowledge_se"].to_numpy(dtype="float64") ** 2
    out = np.zeros(len(k))
    for code in np.unique(districts):
        rows = np.flatnonzero((districts == code) & np.isfinite(k) & np.isfinite(var))
        if len(rows) < 2:
            continue
        mean = np.average(k[rows], weights=adults[rows])
        s2 = float(np.median(var[rows]))
        if s2 > 0:
            out[rows] = np.sqrt(1.0 + (k[rows] - mean) ** 2 / s2) - 1.0
    return out


def tilts(last: pd.DataFrame, reached: np.ndarray, spread: np.ndarray, params: PlanParameters) -> np.ndarray:
    """The tilt of each commune's size (see the module docstring), in [1, max_tilt]; ``spread``: each
    commune's :func:`_spread`."""
    if params.max_tilt < 1:
        raise DesignInvalid(f"max_tilt must be at least 1, got {params.max_tilt}")
    p = last["p_top_k"].to_numpy(dtype="float64")
    known = np.isfinite(p)
    p = np.where(known, p, 0.0)
    raw = (1.0 + params.tilt_uncertain * 4 * p * (1 - p) + params.tilt_top * p
           + params.tilt_model * (last["_model"].to_numpy(dtype=bool) & known)
           + params.tilt_reached * reached + params.tilt_spread * spread)
    return np.clip(raw, 1.0, params.max_tilt)


def propose(communes: pd.DataFrame | None, *, year: int, params: PlanParameters, reached: Iterable[str] = (),
            population: pd.DataFrame | None = None, certain: Iterable[str] = (),
            takes: Mapping[str, int] | None = None) -> Plan:
    """Propose the next round's sample (see the module docstring); raises DesignInvalid if impossible.

    ``communes``: :func:`analysis.priority.prioritise` (``level="commune"``) of the last round, or empty
    (then the fixed design's PPS on adults); ``reached``: communes newly reached by outreach since that
    round; ``certain``: communes the planner forces in (pi = 1); ``takes``: the planner's interviews per
    drawn commune, replacing the proposal's.
    """
    places = census_communes() if population is None else population
    if params.interviews < 1 or params.min_take < 1:
        raise DesignInvalid("the budget of interviews and min_take must be positive")
    if not 0.0 <= params.district_power <= 1.0:
        raise DesignInvalid("district_power must lie between 0 and 1", district_power=params.district_power)
    places = places.sort_values(["district_code", "commune_key"], kind="stable").reset_index(drop=True)
    keys = places["commune_key"].astype(str)
    unknown = sorted((set(map(str, certain)) | set(map(str, reached))) - set(keys))
    if unknown:
        raise DesignInvalid(f"commune(s) not in the census list: {unknown[:5]}", communes=unknown)
    capacity = _capacity(places, params)
    last = _last_round(communes, places, params)
    is_reached = keys.isin(set(map(str, reached))).to_numpy()
    forced = keys.isin(set(map(str, certain))).to_numpy()
    districts = places["district_code"].astype(str).to_numpy()
    likely_top = _likely_top(last, districts, forced, capacity, params)
    adults = places["adult_population"].to_numpy(dtype="float64")
    spread = _spread(last, districts, adults)
    tilt = tilts(last, is_reached, spread, params)
    size = adults * tilt
    pi = np.zeros(len(places))
    certainty = np.zeros(len(places), dtype=bool)
    selected = np.zeros(len(places), dtype=bool)
    rng = np.random.default_rng(params.seed)
    for code in sorted(capacity):
        rows = np.flatnonzero(districts == code)
        pi[rows], certainty[rows] = inclusion(size[rows], capacity[code], forced[rows] | likely_top[rows])
        selected[rows] = draw(rng, size[rows], pi[rows], certainty[rows])
    total_visits = int(selected.sum())
    if params.interviews < params.min_take * total_visits and not takes:
        raise DesignInvalid(f"{params.interviews} interviews cannot give {total_visits} communes at least "
                            f"{params.min_take} each", interviews=int(params.interviews))
    frame = pd.DataFrame({"district_code": districts, "commune_key": keys.to_numpy(), "adults": adults,
                          "size": size, "pi": pi, "certainty": certainty, "selected": selected,
                          "p_top_k": last["p_top_k"].to_numpy(dtype="float64"),
                          "tier": last["tier"].to_numpy(),
                          "tilt": tilt, "_model": last["_model"].to_numpy()})
    frame["take"] = _takes(frame, params, takes)
    frame["_top"] = likely_top
    frame["_spread"] = params.tilt_spread * spread
    lines = [_reason(row, params.k, r, f) for (_, row), r, f in zip(frame.iterrows(), is_reached, forced,
                                                                      strict=True)]
    frame["reason"] = [en for en, _ in lines]
    frame["reason_vi"] = [vi for _, vi in lines]
    by = frame[frame["selected"]].groupby("district_code")
    district_table = pd.DataFrame({"district_code": sorted(capacity)})
    codes = district_table["district_code"]
    district_table["communes"] = codes.map(by.size()).fillna(0).astype("int64")
    district_table["interviews"] = codes.map(by["take"].sum()).fillna(0).astype("int64")
    gain = expected_gain(frame, last, params)
    # through the JSON shape once, so a proposal and its stored copy are equal to the last dtype
    return Plan(year=int(year), params=params, frame=_table(_records(frame, FRAME_COLUMNS), FRAME_COLUMNS),
                districts=_table(_records(district_table, DISTRICT_COLUMNS), DISTRICT_COLUMNS),
                gain=_table(_records(gain, GAIN_COLUMNS), GAIN_COLUMNS))


# ----------------------------------------------------------------------------- recorded design
def design_columns(frame: pd.DataFrame, plans: Mapping[int, pd.DataFrame], *, round: str = "round",
                   commune: str = "commune_key") -> pd.DataFrame:
    """Respondents with the recorded design of planned rounds: :data:`DESIGN_COLUMNS` (NaN elsewhere).

    ``plans``: ``{year: Plan.frame}`` of the rounds an approved plan drew. ``mos_total`` and
    ``mos_sumsq`` are the total and sum of squares of the sizes of the district's PPS-drawn communes
    (its non-certainty ones); a certainty unit records pi = 1 and its own size as the total.
    """
    out = frame.copy(deep=False)
    for column in DESIGN_COLUMNS:
        out[column] = np.nan
    if not plans or len(frame) == 0:
        return out
    rounds = pd.to_numeric(out[round], errors="coerce").to_numpy()
    keys = out[commune].astype(str).to_numpy()
    for year, plan in plans.items():
        table = recorded_design(getattr(plan, "frame", plan))  # a Plan or its frame
        rows = np.flatnonzero(rounds == int(year))
        if not len(rows):
            continue
        found = table.reindex(keys[rows])
        missing = sorted(set(keys[rows][found["pi_commune"].isna().to_numpy()]))
        if missing:
            raise DesignInvalid(f"round {year}: respondents in commune(s) the plan does not list: "
                                f"{missing[:5]}", communes=missing)
        for column in DESIGN_COLUMNS:
            values = out[column].to_numpy(dtype="float64").copy()
            values[rows] = found[column].to_numpy(dtype="float64")
            out[column] = values
    return out


def recorded_design(plan: pd.DataFrame) -> pd.DataFrame:
    """Per commune key: pi_commune, mos, mos_total, mos_sumsq of a plan frame."""
    p = plan.assign(commune_key=plan["commune_key"].astype(str),
                    district_code=plan["district_code"].astype(str))
    drawn = p[~p["certainty"].astype(bool)]
    total = drawn.groupby("district_code")["size"].sum()
    sumsq = (drawn["size"] ** 2).groupby(drawn["district_code"]).sum()
    certain = p["certainty"].astype(bool)
    out = pd.DataFrame({"pi_commune": p["pi"].astype("float64").to_numpy(),
                        "mos": p["size"].astype("float64").to_numpy()}, index=p["commune_key"].to_numpy())
    out["mos_total"] = np.where(certain, p["size"], p["district_code"].map(total)).astype("float64")
    out["mos_sumsq"] = np.where(certain, p["size"] ** 2, p["district_code"].map(sumsq)).astype("float64")
    return out
