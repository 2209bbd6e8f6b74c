"""City policies: everything that differs by city, in one object per city.

Rules differ by city; they are named policies chosen with CITY_POLICY, never constants
buried in code. A `CityPolicy` holds, for one city: the working-day deadlines of every
workflow's states (keyed by workflow, then state), the voting rules it votes by (a
`tally.VotingPolicy`, which keeps the vote arithmetic free of configuration), the public
notice period, who signs a joint acceptance, and its renovation sub-categories as records
(label, acceptance checklist, the kind of matter put to the vote, notice days:
rules/categories.py). A deployment adds its own in instance/config.py (CITY_POLICIES, see
README "City policy"). An unknown CITY_POLICY stops the application at start-up
(check_configured), not at the first transition.

Default deadlines (working days, China's official calendar):

| workflow | state | days | why |
|---|---|---|---|
| renovation_issue | review_household | 2 | a member household passes a neighbour's demand on quickly |
| | review_building | 3 | first check and merging duplicates by the building group |
| | review_grid | 5 | the grid worker verifies on site |
| | review_community | 10 | the community decides or includes it in the estate plan |
| | review_street | 15 | the street approves plans and budgets |
| | planned | 30 | the plan item is prepared for consultation |
| | consultation / voting | 15 / 15 | |
| | public_notice | none | the notice period itself (calendar days) governs |
| | construction | none | the construction schedule governs |
| | acceptance / rectification | 10 / 20 | |
| | negotiation / mediation | 10 / 30 | |
| dispatch_assignment | sent / acknowledged | 2 / 5 | tasks sent down the levels |
| | forwarded / done | 10 / 2 | the levels below report; figures go up |
| joint_inspection | checking / signing | 5 / 5 | items checked on site, then the parties sign |
| | rectification | 20 | |
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from rules import categories, checklists, tally

DEFAULT_DEADLINES: dict[str, dict[str, int]] = {
    "renovation_issue": {
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
    },
    "dispatch_assignment": {"sent": 2, "acknowledged": 5, "forwarded": 10, "done": 2},
    "joint_inspection": {"checking": 5, "signing": 5, "rectification": 20},
}


def deadlines(**changes: dict[str, int]) -> dict[str, dict[str, int]]:
    """The default deadlines with some workflows' states changed, e.g.
    deadlines(renovation_issue={"review_grid": 3})."""
    return {workflow: {**states, **changes.get(workflow, {})} for workflow, states in DEFAULT_DEADLINES.items()}


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
    deadlines: dict[str, dict[str, int]] = field(default_factory=deadlines)
    notice_days_default: int = 7  # calendar days; a sub-category may ask for more
    acceptance: AcceptancePolicy = field(default_factory=AcceptancePolicy)
    voting: tally.VotingPolicy = field(default_factory=lambda: tally.VOTING_POLICIES[tally.DEFAULT_CITY])
    subcategories: tuple[categories.Subcategory, ...] = categories.NATIONAL

    def __post_init__(self) -> None:
        known = {sub.code for sub in self.subcategories}
        if len(known) != len(self.subcategories):
            raise ValueError(f"city {self.code!r}: a sub-category code is listed twice")
        unknown = [sub.code for sub in self.subcategories if sub.category not in categories.CATEGORIES]
        if unknown:
            raise ValueError(f"city {self.code!r}: sub-categories {unknown} name no national category")
        object.__setattr__(self, "_subcategories", categories.by_code(self.subcategories))
        object.__setattr__(self, "_item_labels", checklists.labels(self.subcategories))

    def deadline(self, workflow: str, state: str) -> int | None:
        """Working days allowed in a workflow's state; None: no deadline."""
        return self.deadlines.get(workflow, {}).get(state)

    # --- sub-categories ------------------------------------------------------------

    def subcategory(self, code: str) -> categories.Subcategory | None:
        return self._subcategories.get(code)  # type: ignore[attr-defined]

    def subcategories_of(self, category: str) -> list[categories.Subcategory]:
        return [sub for sub in self.subcategories if sub.category == category]

    def category_of(self, subcategory: str) -> str:
        """The national category a sub-category belongs to ("" if the city has no such one)."""
        found = self.subcategory(subcategory)
        return found.category if found is not None else ""

    def valid(self, category: str, subcategory: str) -> bool:
        found = self.subcategory(subcategory)
        return found is not None and found.category == category

    def subcategory_label(self, code: str) -> str:
        found = self.subcategory(code)
        return str(found.label) if found is not None else code

    def vote_kind(self, subcategory: str) -> tally.SubjectKind:
        found = self.subcategory(subcategory)
        return found.vote_kind if found is not None else tally.SubjectKind.RENOVATION_PLAN

    def notice_days(self, subcategory: str = "") -> int:
        found = self.subcategory(subcategory)
        days = found.notice_days if found is not None else None
        return days if days is not None else self.notice_days_default

    def checklist(self, category: str, subcategory: str) -> list[str]:
        """The acceptance items of work in this category and sub-category."""
        return checklists.template(category, self.subcategory(subcategory))

    def specific_checklist(self, category: str, subcategory: str) -> list[str]:
        return checklists.specific(category, self.subcategory(subcategory))

    def item_label(self, code: str) -> str:
        return str(self._item_labels.get(code, code))  # type: ignore[attr-defined]


POLICIES: dict[str, CityPolicy] = {
    "default": CityPolicy("default", "national defaults"),
    # An example of a city with faster first-level handling (接诉即办 style).
    "fast_response": CityPolicy(
        "fast_response",
        "fast response city",
        deadlines=deadlines(renovation_issue={"review_household": 1, "review_building": 2, "review_grid": 3}),
        acceptance=AcceptancePolicy(
            street_categories=frozenset({"basic", "improvement", "upgrade"}), resident_representatives=3,
        ),
    ),
    # Cities whose local voting rules are stricter (the examples of rules/tally.py).
    "example-unit-two-thirds": CityPolicy(
        "example-unit-two-thirds", "example city: elevator retrofits need two-thirds of all unit owners",
        voting=tally.VOTING_POLICIES["example-unit-two-thirds"],
    ),
    "example-plan-80": CityPolicy(
        "example-plan-80", "example city: renovation plans need 80 percent approval",
        voting=tally.VOTING_POLICIES["example-plan-80"],
    ),
}


def register_city_policy(policy: CityPolicy, *, replace: bool = False) -> None:
    """Add a city's policy (at start-up, from the deployment's configuration), with the
    voting rules it names."""
    if policy.code == "default":
        raise ValueError("the national policy cannot be replaced")
    if policy.code in POLICIES and not replace:
        raise ValueError(f"a policy for city {policy.code!r} is already registered")
    if tally.VOTING_POLICIES.get(policy.voting.code) is not policy.voting:
        tally.register_voting_policy(policy.voting, replace=replace)
    POLICIES[policy.code] = policy


def configure(app: Flask) -> None:
    """Register the deployment's own policies (CITY_POLICIES in instance/config.py: a list
    of CityPolicy), then refuse to start with a CITY_POLICY no policy answers to."""
    for policy in app.config.get("CITY_POLICIES", ()):
        if POLICIES.get(policy.code) is not policy:
            register_city_policy(policy, replace=policy.code in POLICIES)
    check_configured(app)


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
    return current_policy().voting.code
