"""Generated survey seasons with known truth: ``generate(seed, interviews, rounds, params)``.

Design (per round, independent samples)
---------------------------------------
Strata: the 9 districts. PSUs: communes, ``n_h = communes_per_district`` per district drawn by
randomised systematic PPS on the adult (15–79) population M_i of ``analysis.population``:
``pi_i = n_h M_i / M_h`` (a commune with ``n_h M_i >= M_h`` would be a certainty unit,
``pi_i = 1``; none is with the default n_h = 4). A fixed take of ``m_i`` people approached per
commune (the interviews of a round split as equally as possible), drawn as a simple random
sample of the commune's adults. Refusal probability depends on the area of the commune only
(urban 12%, rural 6% by default), so refusals are missing at random within commune. Weight of
a respondent: ``M_i / (pi_i r_i)`` with r_i the commune's respondents (the base weight
``1 / (pi_i m_i / M_i)`` times ``m_i / r_i``); a district's weights add up to M_h exactly.

A round may instead be drawn by a plan (``generate(..., designs={year: Plan.frame})``,
:mod:`analysis.next_round`): its selected communes, takes and recorded pi; everything else is unchanged.

Population and answer model
---------------------------
Profiles follow the 2019 census: the commune's area, its district's urban/rural age structure
(single years uniform within bands), sex 50/50, education by area and age group, marital status
by sex and age group (see ``Parameters``). Knowledge ability on the logit scale::

    theta = beta_0 + gamma (r - 2017) + g_rural [rural] + g_edu[education] + g_w [woman 18-30]
            + g_60 [age >= 60] + d_district + u_commune + delta(channel, group) [campaign year <= r]
            + eps,   eps ~ N(0, person_sd^2),  d ~ N(0, district_sd^2),  u ~ N(0, commune_sd^2)

Item j is answered correctly with ``expit(theta - b_j)`` (a wrong answer is "don't know" half the
time, else a wrong choice); each place of "where to report" is ticked with
``expit(theta - b_place)``. Risk propensity ``rho = rho_0 + tau (r - 2017) + gaps + eta``; risk
answer k is "yes" with ``expit(rho - c_k)`` (``risk_broker`` only asked of people with a plan).
Exposure: heard anything with ``expit(h0 + h1 (r - 2017) + h2 [campaign this year])``.

Outreach: per district a share of communes (25% in 2018, 25% in 2019) runs one campaign of one
channel (mobile team, commune meeting, loudspeaker, legal bookshelf, 30 July event), logged as
2–4 ``outreach`` submissions dated before that year's field period; from then on every adult of
the commune gains ``delta = effect[channel] + sum of effect_extra[channel][group]`` on the
ability scale.

Truth
-----
Exact (Gauss–Hermite quadrature over the person effect, population-weighted over census types;
:mod:`analysis.simulation.truth`): population means by round × {city, district, commune, target
group, district × group}; the true outreach effect = mean knowledge score of the treated
communes' population with minus without their campaign, by round × channel (× group).
"""

from analysis.simulation.parameters import Parameters
from analysis.simulation.season import Activity
from analysis.simulation.season import Interview
from analysis.simulation.season import Season
from analysis.simulation.season import generate

__all__ = ["generate", "Season", "Parameters", "Interview", "Activity"]
