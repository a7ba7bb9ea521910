"""Every number of the season model in one frozen dataclass, and its rendering as Markdown."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from dataclasses import field

__all__ = ["Parameters", "EDUCATION", "CHANNELS", "MODEL_GROUPS"]

#: Education levels of the awareness form, lowest first.
EDUCATION = ("none", "primary", "lower_secondary", "upper_secondary", "vocational", "university")
#: Commune-level outreach channels (outreach form ``activity`` choices) the model gives an effect.
CHANNELS = ("mobile_team", "commune_meeting", "loudspeaker", "legal_bookshelf", "day_30_july")
#: Profile groups the model's gaps and effect modifiers refer to.
MODEL_GROUPS = ("rural", "low_education", "women_18_30")


def _d(**values):
    return field(default_factory=lambda: dict(values))


@dataclass(frozen=True)
class Parameters:
    """Parameters of the season model (all knowledge/risk effects on the logit scale).

    ====================================  ==========================================================
    parameter                             meaning
    ====================================  ==========================================================
    communes_per_district                 n_h: communes (PSUs) drawn per district and round (PPS)
    field_start, field_days               field period: ``(month, day)`` of the round year + length
    days_per_commune                      consecutive field days a team spends in one commune
    refusal_urban, refusal_rural          P(refuse) of a person approached in a ward/town, commune;
                                          constant within a commune, so refusals are missing at
                                          random within commune and the weights' commune-level
                                          adjustment removes their bias exactly
    female_share                          P(female) at every age (the census has no sex split)
    education_by_age                      P(education | area, age group): rows per area and lower
                                          age bound, columns in :data:`EDUCATION` order
    marital_by_age                        P(single, married, widowed, separated | sex, age group)
    knowledge_intercept                   beta_0: ability of an urban, upper-secondary man in 2017
    knowledge_trend                       secular change of ability per year after the baseline
                                          (city-wide media, schooling): gamma · (round − 2017)
    knowledge_gap_rural                   added to ability of residents of communes (xã)
    knowledge_gap_education               added by education level (upper secondary = 0)
    knowledge_gap_women_18_30             added for women aged 18–30 (Plan 136's target group)
    knowledge_gap_age_60                  added for people aged 60 and over
    district_sd, commune_sd               sd of the district and commune random effects (drawn
                                          once per seed: part of the realised population)
    person_sd                             sd of the person effect epsilon ~ N(0, sd²)
    item_difficulty                       b_j: P(item j correct) = expit(theta − b_j); the five
                                          ``report_<place>`` entries are the places of the
                                          select-all question, each ticked independently
    dont_know_share                       P("don't know") among wrong answers (the rest pick a
                                          wrong choice uniformly)
    treated_share                         share of communes per district whose outreach campaign
                                          starts in that year (commune-level, drawn per seed);
                                          the rest are never treated
    channel_shares                        P(channel) of a treated commune's campaign
    effect                                delta_c: ability gain of every adult of a treated
                                          commune, from the campaign year on (it persists)
    effect_extra                          extra gain of a channel for a group (added to delta_c
                                          for members of the group; groups in MODEL_GROUPS)
    activities_per_campaign               (min, max) outreach submissions logged per campaign
    risk_intercept                        rho_0: risk propensity of the reference person in 2017
    risk_trend                            change of risk propensity per year
    risk_gap_rural, risk_gap_education,   added to risk propensity (as for knowledge)
    risk_gap_women_18_30
    risk_person_sd                        sd of the person risk effect
    risk_threshold                        c_k: P(yes to risk item k) = expit(rho − c_k);
                                          ``risk_broker`` is asked only of people with a plan
    risk_dont_know                        P("don't know") among the not-yes risk answers
    heard_intercept, heard_trend,         P(heard anything in 12 months) = expit(h0 + h1 (r−2017)
    heard_campaign                        + h2 · [campaign in the commune that year])
    channel_heard                         P(channel ticked | heard), by awareness channel
    campaign_channel_heard                P(the campaign's own channel ticked | heard, campaign)
    ====================================  ==========================================================
    """

    communes_per_district: int = 4
    field_start: tuple[int, int] = (10, 1)
    field_days: int = 56
    days_per_commune: int = 3
    refusal_urban: float = 0.12
    refusal_rural: float = 0.06
    female_share: float = 0.5
    education_by_age: dict = _d(
        urban={15: (0.01, 0.05, 0.50, 0.44, 0.00, 0.00), 20: (0.01, 0.06, 0.22, 0.34, 0.15, 0.22),
               30: (0.02, 0.14, 0.28, 0.26, 0.12, 0.18), 45: (0.05, 0.30, 0.30, 0.19, 0.07, 0.09),
               60: (0.12, 0.42, 0.25, 0.12, 0.04, 0.05)},
        rural={15: (0.02, 0.10, 0.55, 0.33, 0.00, 0.00), 20: (0.03, 0.18, 0.38, 0.26, 0.08, 0.07),
               30: (0.05, 0.32, 0.35, 0.17, 0.07, 0.04), 45: (0.09, 0.46, 0.29, 0.10, 0.04, 0.02),
               60: (0.22, 0.52, 0.18, 0.05, 0.02, 0.01)},
    )
    marital_by_age: dict = _d(
        female={15: (0.90, 0.10, 0.00, 0.00), 20: (0.45, 0.53, 0.00, 0.02), 25: (0.18, 0.78, 0.01, 0.03),
                30: (0.08, 0.86, 0.02, 0.04), 40: (0.04, 0.82, 0.08, 0.06), 60: (0.03, 0.55, 0.38, 0.04)},
        male={15: (0.98, 0.02, 0.00, 0.00), 20: (0.75, 0.24, 0.00, 0.01), 25: (0.35, 0.63, 0.00, 0.02),
              30: (0.10, 0.86, 0.01, 0.03), 40: (0.04, 0.90, 0.02, 0.04), 60: (0.02, 0.82, 0.13, 0.03)},
    )
    knowledge_intercept: float = 0.4
    knowledge_trend: float = 0.12
    knowledge_gap_rural: float = -0.5
    knowledge_gap_education: dict = _d(none=-1.0, primary=-0.65, lower_secondary=-0.3, upper_secondary=0.0,
                                       vocational=0.15, university=0.45)
    knowledge_gap_women_18_30: float = -0.4
    knowledge_gap_age_60: float = -0.3
    district_sd: float = 0.15
    commune_sd: float = 0.25
    person_sd: float = 1.0
    item_difficulty: dict = _d(
        heard=-2.2, sign_job_abroad=-0.5, sign_marriage_broker=-0.2, sign_keep_papers=0.3, sign_debt=0.5,
        form_forced_labour=-0.8, form_marriage=-0.3, form_cross_border=-0.6, form_organ=-1.0,
        form_adoption=0.4, form_legal_export=0.8, law_exists=-0.8, law_victim=0.6, law_punish=-1.2,
        hotline=1.8, hotline_free=1.0, report_police=-1.5, report_commune_committee=-0.5,
        report_border_guard=1.2, report_hotline=1.6, report_mass_organisation=0.6, day=2.0, respond=-0.3,
    )
    dont_know_share: float = 0.5
    treated_share: dict = _d(**{"2018": 0.25, "2019": 0.25})
    channel_shares: dict = _d(mobile_team=0.3, commune_meeting=0.25, loudspeaker=0.2, legal_bookshelf=0.1,
                              day_30_july=0.15)
    effect: dict = _d(mobile_team=0.5, commune_meeting=0.35, loudspeaker=0.2, legal_bookshelf=0.1,
                      day_30_july=0.25)
    effect_extra: dict = _d(
        mobile_team={"rural": 0.15, "low_education": 0.2},
        commune_meeting={"women_18_30": 0.2},
        loudspeaker={"low_education": 0.1},
        legal_bookshelf={"low_education": -0.1},
        day_30_july={"women_18_30": 0.3},
    )
    activities_per_campaign: tuple[int, int] = (2, 4)
    risk_intercept: float = -0.6
    risk_trend: float = -0.05
    risk_gap_rural: float = 0.4
    risk_gap_education: dict = _d(none=0.6, primary=0.4, lower_secondary=0.2, upper_secondary=0.0,
                                  vocational=-0.1, university=-0.3)
    risk_gap_women_18_30: float = 0.5
    risk_person_sd: float = 1.0
    risk_threshold: dict = _d(plan_away=0.6, plan_abroad=2.2, risk_broker=0.5, risk_approached=1.2,
                              risk_papers=1.8, risk_debt=0.8, risk_lost_contact=1.4)
    risk_dont_know: float = 0.05
    heard_intercept: float = -0.3
    heard_trend: float = 0.3
    heard_campaign: float = 1.2
    channel_heard: dict = _d(newspaper=0.15, city_radio_tv=0.45, web_portal=0.08, loudspeaker=0.3,
                             mobile_team=0.08, commune_meeting=0.2, event=0.1, social_media=0.35,
                             legal_bookshelf=0.04, family_friends=0.3, other=0.02)
    campaign_channel_heard: float = 0.7

    def __post_init__(self):
        from analysis.errors import DesignInvalid

        if self.communes_per_district < 2:
            raise DesignInvalid("communes_per_district must be at least 2 (variance needs 2 PSUs)")
        for name in ("refusal_urban", "refusal_rural", "female_share", "dont_know_share"):
            if not 0 <= getattr(self, name) < 1:
                raise DesignInvalid(f"{name} must lie in [0, 1)")
        missing = set(CHANNELS) - set(self.effect) | set(CHANNELS) - set(self.channel_shares)
        if missing:
            raise DesignInvalid(f"effect and channel_shares need every channel; missing {sorted(missing)}")
        if sum(self.treated_share.values()) > 1:
            raise DesignInvalid("treated_share over the years must add up to at most 1")

    def to_dict(self) -> dict:
        """Plain (JSON-able) dict of every parameter."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def markdown(self) -> str:
        """The docstring's table followed by every value, as Markdown."""
        lines = ["| parameter | value |", "|---|---|"]
        for name, value in self.to_dict().items():
            lines.append(f"| `{name}` | `{json.dumps(value, sort_keys=True)}` |")
        return "\n".join(lines)
