"""Per-city policy for workflows: working-day deadlines per state and notice periods.

Rules differ by city; they are named policies chosen with CITY_POLICY, never
constants buried in code. Vote thresholds live with the vote arithmetic
(workflow/tally.py) under the same city codes.

Default deadlines (working days, China's official calendar):

| state | days | why |
|---|---|---|
| review_household | 2 | a member household passes a neighbour's demand on quickly |
| review_building | 3 | first check and merging duplicates by the building group |
| review_grid | 5 | the grid worker verifies on site |
| review_community | 10 | the community decides or includes it in the estate plan |
| review_street | 15 | the street approves plans and budgets |
| planned | 30 | the plan item is prepared for consultation |
| consultation | 15 | |
| voting | 15 | |
| public_notice | none | the notice period itself (calendar days) governs |
| construction | none | the construction schedule governs |
| acceptance | 10 | |
| rectification | 20 | |
| negotiation | 10 | |
| mediation | 30 | |
| sent / acknowledged (dispatch) | 2 / 5 | tasks sent down the levels |
| checking / signing (joint inspection) | 5 / 5 | items checked on site, then the parties sign |
| forwarded / done (dispatch) | 10 / 2 | the levels below report; figures go up |
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

DEFAULT_DEADLINES: dict[str, int] = {
    "review_household": 2,
    "review_building": 3,
    "review_grid": 5,
    "review_community": 10,
    "review_street": 15,
    "planned": 30,
    "consultation": 15,
    "voting": 15,
    "acceptance": 10,
    "rectification": 20,
    "negotiation": 10,
    "mediation": 30,
    "sent": 2,
    "acknowledged": 5,
    "checking": 5,
    "signing": 5,
    "forwarded": 10,
    "done": 2,
}


@dataclass(frozen=True)
class AcceptancePolicy:
    """Who signs a joint acceptance (联合验收), by party code (workflow/acceptance.py).

    `parties` always sign; the street committee also signs for the issue categories in
    `street_categories` and for whole estate plans when `street_signs_plans`; at least
    `resident_representatives` owners or residents of the estate must approve."""

    parties: tuple[str, ...] = (
        "community_committee", "supervision_company", "construction_company", "property_company",
    )
    street_categories: frozenset[str] = frozenset({"basic"})
    street_signs_plans: bool = True
    resident_representatives: int = 2


@dataclass(frozen=True)
class CityPolicy:
    code: str
    name: str
    deadlines: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    notice_days_default: int = 7
    notice_days_by_subcategory: dict[str, int] = field(default_factory=lambda: {"elevator": 15})
    acceptance: AcceptancePolicy = field(default_factory=AcceptancePolicy)


POLICIES: dict[str, CityPolicy] = {
    "default": CityPolicy("default", "national defaults"),
    # An example of a city with faster first-level handling (接诉即办 style).
    "fast_response": CityPolicy(
        "fast_response",
        "fast response city",
        deadlines={**DEFAULT_DEADLINES, "review_household": 1, "review_building": 2, "review_grid": 3},
        acceptance=AcceptancePolicy(
            street_categories=frozenset({"basic", "improvement", "upgrade"}), resident_representatives=3,
        ),
    ),
}


def current_policy() -> CityPolicy:
    code = current_app.config.get("CITY_POLICY", "default")
    try:
        return POLICIES[code]
    except KeyError:
        raise RuntimeError(f"CITY_POLICY={code!r} is not a known policy: {sorted(POLICIES)}") from None
