"""The outreach plan beside the sample plan: which channels reach which target groups where the gaps are.

:func:`propose_outreach` reads the channels × groups table of the last round
(:func:`analysis.priority.channel_reach`: design-based shares with CIs, small cells withheld) and the
communes' needs (:func:`analysis.priority.prioritise` at commune level: tiers, need) and proposes, for each
district, the target groups to reach next year, the channels that reach them best and the communes where
the gaps are. :func:`compare_outreach` sets an approved plan beside the outreach log of its year.

Choices
-------
* Where the gaps are: a district's communes in the ``highest`` and ``high`` tiers (read the tiers, not
  the order within them); a district with none gets its commune of largest need, and its reason says so.
* Which groups: the groups the channels reach least (the lowest best-channel share): the gap in
  reach. Groups defined on rural residence are proposed only where a target commune is rural.
  Combination groups made with ``any_of`` (such as "any target group of Plan 136") are not targets.
* Which channels: only channels that outreach activities can be planned and logged on
  (:data:`CHANNEL_ACTIVITIES`); family and friends or social media are how people heard, not
  activities a district organises. Channels are ranked by their estimated share of the group; when the
  next channel's 95% interval overlaps the best one's, the reason says they are as likely the best.
* Withheld cells (fewer than ``min_n`` respondents) are never used: their estimate is not shown, so
  a plan resting on it could not be explained.
* Done: an activity counts for the channel of its type (:data:`CHANNEL_ACTIVITIES`) in every district
  and commune it covered, as in the yearly report; a planned group counts as reached by the channel when
  an activity of that channel named one of its target groups (:data:`GROUP_TARGETS`).
"""

from __future__ import annotations

import math

import pandas as pd

from analysis._taylor import require_columns
from analysis.errors import VariableInvalid
from analysis.groups import load_groups
from analysis.labels import channel as channel_label
from analysis.labels import group as group_label

__all__ = ["CHANNEL_ACTIVITIES", "GROUP_TARGETS", "PLAN_COLUMNS", "COMPARE_COLUMNS", "propose_outreach",
           "compare_outreach", "activity_channel"]

#: Channels of the awareness form (how people heard) that outreach activities run on, with the outreach
#: form's activity types that are that channel.
CHANNEL_ACTIVITIES: dict[str, tuple[str, ...]] = {
    "mobile_team": ("mobile_team",),
    "commune_meeting": ("commune_meeting",),
    "loudspeaker": ("loudspeaker",),
    "event": ("day_30_july",),
    "legal_bookshelf": ("legal_bookshelf",),
    "city_radio_tv": ("radio_programme", "tv_report"),
    "newspaper": ("newspaper_article",),
    "web_portal": ("web_post",),
}

#: The outreach form's target groups (``target_groups``) that name each survey group.
GROUP_TARGETS: dict[str, tuple[str, ...]] = {
    "women_marriage_age": ("women_marriage_age",),
    "rural": ("rural_remote",),
    "low_education": ("low_education",),
    "young_people": ("youth",),
    "rural_women_marriage_age": ("women_marriage_age", "rural_remote"),
    "rural_low_education": ("rural_remote", "low_education"),
    "limited_legal_knowledge": ("general_public",),
}

PLAN_COLUMNS = ["year", "district_code", "group", "channel", "communes", "reach", "reach_low", "reach_high",
                "reason", "reason_vi"]
COMPARE_COLUMNS = ["district_code", "channel", "planned", "groups_planned", "communes_planned", "activities",
                   "people_reached", "communes_reached", "groups_reached"]

_GAP_TIERS = ("highest", "high")

# English and Vietnamese phrases of the reasons (``{}`` fields filled per row)
_PHRASES = {
    "tiers": ("{n} commune(s) in the top tiers ({names})", "{n} xã/phường ở nhóm ưu tiên cao ({names})"),
    "no_tier": ("no commune in the top tiers; the one of largest need ({names})",
                "không có xã/phường ở nhóm ưu tiên cao; nơi có nhu cầu lớn nhất ({names})"),
    "group": ("{group} is among the least reached groups",
              "{group} là một trong các nhóm ít được tiếp cận nhất"),
    "best": ("{channel} reached {est} [{low}–{high}] of them last round, the most of any channel",
             "{channel} đã tiếp cận {est} [{low}–{high}] nhóm này ở vòng trước, nhiều nhất trong các kênh"),
    "second_tie": ("{channel} reached {est} [{low}–{high}]: its interval overlaps the best one's, as likely "
                   "the best", "{channel} tiếp cận {est} [{low}–{high}]: khoảng tin cậy trùng với kênh tốt "
                   "nhất, có thể tốt ngang nhau"),
    "second": ("{channel} reached {est} [{low}–{high}], the next best", "{channel} tiếp cận {est} "
               "[{low}–{high}], đứng thứ hai"),
}


def _pct(x: float, language: str) -> str:
    text = f"{100 * x:.0f}%"
    return text.replace(".", ",") if language == "vi" else text


def activity_channel(activity_type: str) -> str:
    """The channel an activity type runs on (``other`` for a type no planned channel covers)."""
    for channel, types in CHANNEL_ACTIVITIES.items():
        if activity_type in types:
            return channel
    return "other"


def _rural_groups(definitions) -> set[str]:
    """Groups defined on rural residence, directly or through an ``all_of`` combination."""
    rural = {g["name"] for g in definitions if g.get("where", {}).get("area") in (["rural"], "rural")}
    for g in definitions:
        if set(g.get("all_of", ())) & rural:
            rural.add(g["name"])
    return rural


def _candidates(channel_reach, definitions, channels_per_group):
    """Per group, its best plannable channels (shown cells only), least reached groups first."""
    require_columns(channel_reach, ["group", "channel", "estimate", "ci_low", "ci_high"])
    unions = {g["name"] for g in definitions if "any_of" in g}
    cells = channel_reach[channel_reach["channel"].isin(CHANNEL_ACTIVITIES)
                          & ~channel_reach["group"].isin({"all", *unions})
                          & channel_reach["estimate"].notna()]
    if "suppressed" in cells.columns:
        cells = cells[~cells["suppressed"].fillna(False).astype(bool)]
    best = {}
    for group, part in cells.groupby("group", sort=True):
        ranked = part.sort_values(["estimate", "channel"], ascending=[False, True])
        best[group] = ranked.head(channels_per_group)
    order = sorted(best, key=lambda g: (best[g]["estimate"].iloc[0], g))
    return [(g, best[g]) for g in order]


def _target_communes(part):
    """The district's communes in the top tiers, or its commune of largest need; and whether tiered."""
    ranked = part.sort_values(["p_top_k", "need"], ascending=False, na_position="last", kind="stable")
    gaps = ranked[ranked["tier"].isin(_GAP_TIERS)]
    return (gaps, True) if len(gaps) else (ranked.head(1), False)


def _reason(place_phrase, names, group, chosen, i, language):
    pick = 0 if language == "en" else 1
    where = _PHRASES["tiers" if place_phrase else "no_tier"][pick]
    parts = [where.format(n=len(names), names=", ".join(names)),
             _PHRASES["group"][pick].format(group=group_label(group, language))]
    row = chosen.iloc[i]
    fields = {"channel": channel_label(row["channel"], language), "est": _pct(row["estimate"], language),
              "low": _pct(row["ci_low"], language), "high": _pct(row["ci_high"], language)}
    if i == 0:
        parts.append(_PHRASES["best"][pick].format(**fields))
    else:
        tie = row["ci_high"] >= chosen.iloc[0]["ci_low"]
        parts.append(_PHRASES["second_tie" if tie else "second"][pick].format(**fields))
    return "; ".join(parts)


def propose_outreach(channel_reach: pd.DataFrame, districts: pd.DataFrame, communes: pd.DataFrame, *,
                     year: int, groups=None, groups_per_district: int = 3,
                     channels_per_group: int = 2) -> pd.DataFrame:
    """Per district: target group, channel, communes (where the gaps are), with reasons in English and
    Vietnamese (see the module docstring).

    ``channel_reach``: :func:`analysis.priority.channel_reach` of the last round; ``districts``:
    :func:`analysis.priority.prioritise` at district level (its order is the plan's); ``communes``: the same
    at commune level (``district_code, commune_key, commune_name, area, tier, p_top_k, need``); ``year``: the
    year the plan is for. Returns :data:`PLAN_COLUMNS`, ``communes`` a tuple of commune keys.
    """
    if groups_per_district < 1 or channels_per_group < 1:
        raise VariableInvalid("groups_per_district and channels_per_group must be at least 1")
    require_columns(districts, ["district_code"])
    require_columns(communes, ["district_code", "commune_key", "commune_name", "area", "tier", "p_top_k",
                               "need"])
    definitions = groups if isinstance(groups, list) else load_groups(groups)
    rural = _rural_groups(definitions)
    candidates = _candidates(channel_reach, definitions, channels_per_group)
    rows = []
    for code in districts["district_code"]:
        part = communes[communes["district_code"] == code]
        if part.empty:
            continue
        targets, tiered = _target_communes(part)
        any_rural = bool((targets["area"] == "rural").any())
        names = list(targets["commune_name"].astype(str))
        chosen_groups = [(g, c) for g, c in candidates if any_rural or g not in rural][:groups_per_district]
        for group, chosen in chosen_groups:
            for i, (_, cell) in enumerate(chosen.iterrows()):
                rows.append({"year": int(year), "district_code": code, "group": group,
                             "channel": cell["channel"],
                             "communes": tuple(targets["commune_key"].astype(str)),
                             "reach": float(cell["estimate"]), "reach_low": float(cell["ci_low"]),
                             "reach_high": float(cell["ci_high"]),
                             "reason": _reason(tiered, names, group, chosen, i, "en"),
                             "reason_vi": _reason(tiered, names, group, chosen, i, "vi")})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _as_tuple(value) -> tuple:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.split() if v)
    return tuple(value)


def compare_outreach(plan: pd.DataFrame, activities: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Planned against done per district × channel in ``year`` (:data:`COMPARE_COLUMNS`).

    ``plan``: rows ``district_code, group, channel, communes`` (an approved plan); ``activities``:
    :func:`analysis.tidy.activities` (any years). Done: distinct activities of the channel logged in the
    district that year, the people they reached (the district's share), how many of the planned communes
    they covered, and which planned groups they named. Channels done but not planned appear with
    ``planned`` False, so the comparison shows what was done instead.
    """
    require_columns(plan, ["district_code", "group", "channel", "communes"])
    require_columns(activities, ["activity_id", "year", "district_code", "commune_key", "activity_type",
                                 "people_reached"])
    done = activities[activities["year"] == int(year)]
    done = done.assign(channel=done["activity_type"].map(activity_channel))
    targets = done["target_groups"] if "target_groups" in done.columns else pd.Series([()] * len(done))
    done = done.assign(_targets=[_as_tuple(t) for t in targets])
    keys = sorted({*zip(plan["district_code"], plan["channel"], strict=True),
                   *zip(done["district_code"], done["channel"], strict=True)})
    rows = []
    for district, channel in keys:
        planned = plan[(plan["district_code"] == district) & (plan["channel"] == channel)]
        acts = done[(done["district_code"] == district) & (done["channel"] == channel)]
        communes = sorted({c for value in planned["communes"] for c in _as_tuple(value)})
        groups = sorted(set(planned["group"]))
        named = {t for value in acts["_targets"] for t in value}
        rows.append({"district_code": district, "channel": channel, "planned": len(planned) > 0,
                     "groups_planned": tuple(groups), "communes_planned": len(communes),
                     "activities": int(acts["activity_id"].nunique()),
                     "people_reached": float(acts["people_reached"].sum()),
                     "communes_reached": len(set(communes) & set(acts["commune_key"].astype(str))),
                     "groups_reached": tuple(g for g in groups if set(GROUP_TARGETS.get(g, ())) & named)})
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)
