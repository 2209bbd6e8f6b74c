"""Per-city policy for workflows: working-day deadlines per state and notice periods.

Rules differ by city; they are named policies chosen with CITY_POLICY, never
constants buried in code. This is the one registry of city policies: each names the
voting rules it uses (`voting`, a policy of rules/tally.py, which keeps the vote
arithmetic free of configuration). An unknown CITY_POLICY stops the application at
start-up (check_configured), not at the first transition.

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

from flask import Flask, current_app

from rules import tally

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
    """Who signs a joint acceptance (联合验收), by party code (acceptance/models.py).

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
    voting: str = tally.DEFAULT_CITY  # the code of its voting policy (rules/tally.py)


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
    # Cities whose local voting rules are stricter (the examples of rules/tally.py).
    "example-unit-two-thirds": CityPolicy(
        "example-unit-two-thirds", "example city: elevator retrofits need two-thirds of all unit owners",
        voting="example-unit-two-thirds",
    ),
    "example-plan-80": CityPolicy(
        "example-plan-80", "example city: renovation plans need 80 percent approval", voting="example-plan-80",
    ),
}


def register_city_policy(policy: CityPolicy, *, replace: bool = False) -> None:
    """Add a city's policy (at start-up, from the deployment's configuration). Its
    voting policy must be registered first (tally.register_voting_policy)."""
    if policy.code == "default":
        raise ValueError("the national policy cannot be replaced")
    if policy.code in POLICIES and not replace:
        raise ValueError(f"a policy for city {policy.code!r} is already registered")
    if policy.voting not in tally.VOTING_POLICIES:
        raise ValueError(f"city {policy.code!r} names unknown voting policy {policy.voting!r} "
                         f"(known: {', '.join(sorted(tally.VOTING_POLICIES))})")
    POLICIES[policy.code] = policy


def check_configured(app: Flask) -> None:
    """Refuse to start with a CITY_POLICY no policy answers to."""
    code = app.config.get("CITY_POLICY", "default")
    if code not in POLICIES:
        raise RuntimeError(f"CITY_POLICY={code!r} is not a known city policy (known: {', '.join(sorted(POLICIES))})")


def current_policy() -> CityPolicy:
    code = current_app.config.get("CITY_POLICY", "default")
    try:
        return POLICIES[code]
    except KeyError:
        raise RuntimeError(f"CITY_POLICY={code!r} is not a known policy: {sorted(POLICIES)}") from None


def voting_city() -> str:
    """The code of the voting policy (rules/tally.py) of the configured city."""
    return current_policy().voting
