"""Vote counting for owners' joint decisions and residents' meetings.

Pure functions over plain records: no database, no Flask app. Vote models and
services build on top of these functions.

Arithmetic is exact: areas are ``Decimal`` square metres, summed in a decimal
context that raises instead of rounding, converted to ``Fraction`` once per sum;
thresholds are ``Fraction``; comparisons are integer cross-multiplications.
Floats are rejected wherever a number comes in. Rounded percentages exist only
in the display text produced by :func:`describe`.

Legal sources:

- Civil Code (民法典) Art. 278 para. 2: "业主共同决定事项，应当由专有部分面积占比三分之二以上的
  业主且人数占比三分之二以上的业主参与表决。决定前款第六项至第八项规定的事项，应当经参与表决专有
  部分面积四分之三以上的业主且参与表决人数四分之三以上的业主同意。决定前款其他事项，应当经参与表决
  专有部分面积过半数的业主且参与表决人数过半数的业主同意。"
- Civil Code Art. 1259: "以上" includes the number itself (>=); "过半数" is read as
  strictly more than half (>).
- Supreme People's Court interpretation on building ownership disputes, Arts. 8-9
  (area: registered, else surveyed, else contract area; one exclusive unit counts as
  one person; units of the developer not yet sold, and several units of one buyer,
  count as one person).
- Urban Residents' Committee Organisation Law (城市居民委员会组织法) Art. 9: the meeting
  needs more than half of the adults / household representatives / group
  representatives present; its decisions need more than half of those present.
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Iterable, Mapping, Sequence, Union

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

HouseholdId = Union[int, str]
Text = Union[str, LazyString]  # rendered with str() in the current locale

# Sums of Decimals are exact here: any rounding raises instead of happening.
_EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.Rounded,
                                          decimal.InvalidOperation])

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


class ElectorateKind(StrEnum):
    """Who votes: owners (Civil Code Art. 278) or residents (Organisation Law Art. 9)."""

    OWNERS = "owners"
    RESIDENTS = "residents"


class Choice(StrEnum):
    """A ballot. Abstaining is taking part in the vote, not consenting."""

    AGREE = "agree"
    DISAGREE = "disagree"
    ABSTAIN = "abstain"


class ResidentMode(StrEnum):
    """How the residents' meeting is composed (Organisation Law Art. 9)."""

    HOUSEHOLD = "household"  # one representative per household
    ADULTS = "adults"  # every resident aged 18 or over


class SubjectKind(StrEnum):
    """What a vote decides; picks the default rule (see :func:`default_rule_for`)."""

    # Civil Code Art. 278 para. 1 items (6)-(8): the 3/4 rule.
    RAISE_MAINTENANCE_FUNDS = "raise_maintenance_funds"  # item (6)
    REBUILDING = "rebuilding"  # item (7)
    ELEVATOR_RETROFIT = "elevator_retrofit"  # item (7): alters the building's facilities
    RENOVATION_PLAN = "renovation_plan"  # item (7): alters buildings and ancillary facilities
    COMMON_PARTS_USE = "common_parts_use"  # item (8)
    # All other items: the majority rule.
    RULES_OF_PROCEDURE = "rules_of_procedure"  # item (1)
    MANAGEMENT_RULES = "management_rules"  # item (2)
    OWNERS_COMMITTEE_ELECTION = "owners_committee_election"  # item (3)
    PROPERTY_MANAGEMENT = "property_management"  # item (4)
    USE_MAINTENANCE_FUNDS = "use_maintenance_funds"  # item (5)
    OTHER = "other"  # item (9)
    # Residents' meeting (Organisation Law Arts. 9 and 15).
    RESIDENTS_CONVENTION = "residents_convention"


class Measure(StrEnum):
    AREA = "area"
    HEADS = "heads"


class Group(StrEnum):
    """Whose area or heads are counted."""

    ENTITLED = "entitled"  # everyone in the electorate
    PARTICIPATING = "participating"  # those who voted: agree, disagree or abstain
    AGREEING = "agreeing"  # those who voted "agree"


class TallyInputError(ValueError):
    """Invalid electorate or ballots; ``message`` is translated text a user can read."""

    def __init__(self, message: Text, **details: object) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.details = details


class UnknownRule(LookupError):
    """No rule of that name in the city's policy nor in the national one."""


class UnknownCity(LookupError):
    """No policy registered under that city code."""


# ---------------------------------------------------------------------------
# Thresholds and rules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A required share: ``inclusive`` for "以上 / at least" (>=), not for "过半数 / more than" (>)."""

    fraction: Fraction
    inclusive: bool

    def __post_init__(self) -> None:
        if not isinstance(self.fraction, Fraction):
            raise TypeError("Threshold.fraction must be a fractions.Fraction")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"threshold {self.fraction} is outside (0, 1]")
        if self.fraction == 1 and not self.inclusive:
            raise ValueError("'more than all' can never be met")

    @property
    def numerator(self) -> int:
        return self.fraction.numerator

    @property
    def denominator(self) -> int:
        return self.fraction.denominator

    def is_met(self, part: Fraction | int, whole: Fraction | int) -> bool:
        """Compare part/whole with the threshold exactly; an empty whole is never met."""
        if whole <= 0:
            return False
        lhs = part * self.fraction.denominator
        rhs = whole * self.fraction.numerator
        return lhs >= rhs if self.inclusive else lhs > rhs


def at_least(numerator: int, denominator: int) -> Threshold:
    """"以上": the boundary counts (Civil Code Art. 1259)."""
    return Threshold(_fraction(numerator, denominator), inclusive=True)


def more_than(numerator: int, denominator: int) -> Threshold:
    """"过半数" and "超过": the boundary does not count."""
    return Threshold(_fraction(numerator, denominator), inclusive=False)


def _fraction(numerator: int, denominator: int) -> Fraction:
    for value in (numerator, denominator):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("threshold numerator and denominator must be integers")
    return Fraction(numerator, denominator)


@dataclass(frozen=True)
class Requirement:
    """One condition of a rule: the ``part`` group's share of the ``whole`` group's
    ``measure`` (area or heads) must reach ``threshold``."""

    name: str
    measure: Measure
    part: Group
    whole: Group
    threshold: Threshold


@dataclass(frozen=True)
class Rule:
    """A named voting rule.

    Owners' rules use the participation and consent fields (consent measured
    against participants, and, for stricter local rules, against all entitled
    owners); the residents' meeting uses ``quorum`` and ``decision``.
    ``title`` and ``legal_basis`` are translatable texts (not compared or hashed:
    their rendering depends on the locale).
    """

    name: str
    kind: ElectorateKind
    title: Text = field(compare=False, hash=False)
    legal_basis: Text = field(compare=False, hash=False)
    participation_area: Threshold | None = None  # of all exclusive area
    participation_heads: Threshold | None = None  # of all owners
    consent_area: Threshold | None = None  # of participating area
    consent_heads: Threshold | None = None  # of participating owners
    entitled_consent_area: Threshold | None = None  # of ALL exclusive area (local rules)
    entitled_consent_heads: Threshold | None = None  # of ALL owners (local rules)
    quorum: Threshold | None = None  # residents: present / entitled
    decision: Threshold | None = None  # residents: agreeing / present

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ElectorateKind(self.kind))
        owner_fields = (
            self.participation_area, self.participation_heads, self.consent_area,
            self.consent_heads, self.entitled_consent_area, self.entitled_consent_heads,
        )
        if self.kind is ElectorateKind.OWNERS:
            if self.quorum or self.decision:
                raise ValueError(f"owners' rule {self.name!r} cannot have quorum/decision")
            if not any(owner_fields[2:]):
                raise ValueError(f"owners' rule {self.name!r} needs a consent threshold")
        elif self.kind is ElectorateKind.RESIDENTS:
            if any(owner_fields):
                raise ValueError(f"residents' rule {self.name!r} takes only quorum/decision")
            if not (self.quorum and self.decision):
                raise ValueError(f"residents' rule {self.name!r} needs quorum and decision")
        else:
            raise ValueError(f"unknown electorate kind {self.kind!r}")

    def requirements(self) -> tuple[Requirement, ...]:
        """Every condition that must hold, in the order they are published."""
        E, P, Y = Group.ENTITLED, Group.PARTICIPATING, Group.AGREEING
        A, H = Measure.AREA, Measure.HEADS
        candidates = (
            ("participation_area", A, P, E, self.participation_area),
            ("participation_heads", H, P, E, self.participation_heads),
            ("quorum", H, P, E, self.quorum),
            ("consent_area", A, Y, P, self.consent_area),
            ("consent_heads", H, Y, P, self.consent_heads),
            ("entitled_consent_area", A, Y, E, self.entitled_consent_area),
            ("entitled_consent_heads", H, Y, E, self.entitled_consent_heads),
            ("decision", H, Y, P, self.decision),
        )
        return tuple(
            Requirement(name, measure, part, whole, threshold)
            for name, measure, part, whole, threshold in candidates
            if threshold is not None
        )


TWO_THIRDS = at_least(2, 3)
THREE_QUARTERS = at_least(3, 4)
MORE_THAN_HALF = more_than(1, 2)

OWNERS_MAJOR = Rule(
    name="owners_major",
    kind=ElectorateKind.OWNERS,
    title=_l("Owners' joint decision on a major matter (three-quarters rule)"),
    legal_basis=_l("Civil Code of the PRC, Article 278, paragraph 2 "
                   "(items 6 to 8 of paragraph 1)"),
    participation_area=TWO_THIRDS,
    participation_heads=TWO_THIRDS,
    consent_area=THREE_QUARTERS,
    consent_heads=THREE_QUARTERS,
)
OWNERS_ORDINARY = Rule(
    name="owners_ordinary",
    kind=ElectorateKind.OWNERS,
    title=_l("Owners' joint decision on an ordinary matter (majority rule)"),
    legal_basis=_l("Civil Code of the PRC, Article 278, paragraph 2 "
                   "(other items of paragraph 1)"),
    participation_area=TWO_THIRDS,
    participation_heads=TWO_THIRDS,
    consent_area=MORE_THAN_HALF,
    consent_heads=MORE_THAN_HALF,
)
RESIDENTS_MEETING = Rule(
    name="residents_meeting",
    kind=ElectorateKind.RESIDENTS,
    title=_l("Residents' meeting decision"),
    legal_basis=_l("Urban Residents' Committee Organisation Law of the PRC, Article 9"),
    quorum=MORE_THAN_HALF,
    decision=MORE_THAN_HALF,
)

# ---------------------------------------------------------------------------
# Per-city policies
# ---------------------------------------------------------------------------

NATIONAL_SUBJECT_RULES: Mapping[SubjectKind, str] = {
    SubjectKind.RAISE_MAINTENANCE_FUNDS: "owners_major",
    SubjectKind.REBUILDING: "owners_major",
    SubjectKind.ELEVATOR_RETROFIT: "owners_major",
    SubjectKind.RENOVATION_PLAN: "owners_major",
    SubjectKind.COMMON_PARTS_USE: "owners_major",
    SubjectKind.RULES_OF_PROCEDURE: "owners_ordinary",
    SubjectKind.MANAGEMENT_RULES: "owners_ordinary",
    SubjectKind.OWNERS_COMMITTEE_ELECTION: "owners_ordinary",
    SubjectKind.PROPERTY_MANAGEMENT: "owners_ordinary",
    SubjectKind.USE_MAINTENANCE_FUNDS: "owners_ordinary",
    SubjectKind.OTHER: "owners_ordinary",
    SubjectKind.RESIDENTS_CONVENTION: "residents_meeting",
}


@dataclass(frozen=True)
class VotingPolicy:
    """A city's voting rules: extra or overriding rules, and subject → rule overrides.
    A city's policy (rules.policy.CityPolicy) names the one it votes by.

    Anything a city does not define falls back to the national ("default") policy.
    """

    code: str
    title: Text = field(compare=False, hash=False)
    rules: Mapping[str, Rule] = field(default_factory=dict)
    subject_rules: Mapping[SubjectKind, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, rule in self.rules.items():
            if name != rule.name:
                raise ValueError(f"policy {self.code!r}: rule registered as {name!r} is {rule.name!r}")


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.name: rule for rule in rules}


DEFAULT_CITY = "default"

# Example local rules. They show the mechanism and are NOT statements of any
# particular city's law: a deployment registers its own city's rules with
# register_voting_policy() and names them in its city's policy (rules/policy.py). Both examples keep the Art. 278 floor and add a
# stricter condition, because a local rule may tighten, not loosen, the Civil Code.
UNIT_OWNERS_TWO_THIRDS = Rule(
    name="unit_owners_two_thirds",
    kind=ElectorateKind.OWNERS,
    title=_l("Stairwell unit decision: two-thirds of all the unit's owners consent"),
    legal_basis=_l("Civil Code of the PRC, Article 278, paragraph 2, and the local "
                   "rule on elevator retrofits (example policy)"),
    participation_area=TWO_THIRDS,
    participation_heads=TWO_THIRDS,
    consent_area=THREE_QUARTERS,
    consent_heads=THREE_QUARTERS,
    entitled_consent_area=TWO_THIRDS,
    entitled_consent_heads=TWO_THIRDS,
)
RENOVATION_PLAN_80 = Rule(
    name="renovation_plan_80",
    kind=ElectorateKind.OWNERS,
    title=_l("Renovation plan approval: 80 percent of participating owners consent"),
    legal_basis=_l("Civil Code of the PRC, Article 278, paragraph 2, and the local "
                   "rule on old-estate renovation plans (example policy)"),
    participation_area=TWO_THIRDS,
    participation_heads=TWO_THIRDS,
    consent_area=at_least(4, 5),
    consent_heads=at_least(4, 5),
)

VOTING_POLICIES: dict[str, VotingPolicy] = {
    DEFAULT_CITY: VotingPolicy(
        code=DEFAULT_CITY,
        title=_l("National rules"),
        rules=_rules(OWNERS_MAJOR, OWNERS_ORDINARY, RESIDENTS_MEETING),
        subject_rules=NATIONAL_SUBJECT_RULES,
    ),
    "example-unit-two-thirds": VotingPolicy(
        code="example-unit-two-thirds",
        title=_l("Example city: elevator retrofits need two-thirds of all unit owners"),
        rules=_rules(UNIT_OWNERS_TWO_THIRDS),
        subject_rules={SubjectKind.ELEVATOR_RETROFIT: "unit_owners_two_thirds"},
    ),
    "example-plan-80": VotingPolicy(
        code="example-plan-80",
        title=_l("Example city: renovation plans need 80 percent approval"),
        rules=_rules(RENOVATION_PLAN_80),
        subject_rules={SubjectKind.RENOVATION_PLAN: "renovation_plan_80"},
    ),
}


def register_voting_policy(policy: VotingPolicy, *, replace: bool = False) -> None:
    """Add a voting policy (at start-up, from the deployment's configuration); a
    city's policy (rules.policy.register_city_policy) then names it."""
    if policy.code == DEFAULT_CITY:
        raise ValueError("the national policy cannot be replaced")
    if policy.code in VOTING_POLICIES and not replace:
        raise ValueError(f"a policy for city {policy.code!r} is already registered")
    for kind, name in policy.subject_rules.items():
        SubjectKind(kind)
        if name not in policy.rules and name not in VOTING_POLICIES[DEFAULT_CITY].rules:
            raise ValueError(f"policy {policy.code!r} maps {kind} to unknown rule {name!r}")
    VOTING_POLICIES[policy.code] = policy


def _policy(city: str) -> VotingPolicy:
    try:
        return VOTING_POLICIES[city]
    except KeyError:
        known = ", ".join(sorted(VOTING_POLICIES))
        raise UnknownCity(f"no voting policy for city {city!r} (known: {known})") from None


def get_rule(name: str, city: str = DEFAULT_CITY) -> Rule:
    """The city's rule of that name, else the national one; unknown names raise."""
    policy = _policy(city)
    rule = policy.rules.get(name) or VOTING_POLICIES[DEFAULT_CITY].rules.get(name)
    if rule is None:
        known = sorted(set(policy.rules) | set(VOTING_POLICIES[DEFAULT_CITY].rules))
        raise UnknownRule(f"no voting rule {name!r} for city {city!r} (known: {', '.join(known)})")
    return rule


def default_rule_for(subject_kind: SubjectKind | str, city: str = DEFAULT_CITY) -> Rule:
    """The rule a vote on this subject uses unless the organiser picks another.

    Civil Code Art. 278: raising maintenance funds (6), rebuilding or altering
    buildings and their facilities (7: elevator retrofits, renovation plans) and
    changing the use of common parts (8) need the three-quarters rule; all other
    owners' matters the majority rule. A residents' convention is adopted by the
    residents' meeting (Organisation Law Art. 15).
    """
    try:
        kind = SubjectKind(subject_kind)
    except ValueError:
        raise UnknownRule(f"unknown subject kind {subject_kind!r}") from None
    policy = _policy(city)
    name = policy.subject_rules.get(kind) or NATIONAL_SUBJECT_RULES[kind]
    return get_rule(name, city)


# ---------------------------------------------------------------------------
# Electorates
# ---------------------------------------------------------------------------

DEVELOPER_KEY = "developer"


def _check_area(area: object, where: object) -> Decimal:
    """Areas are exact: Decimal (or int) square metres, finite and not negative."""
    if isinstance(area, bool) or not isinstance(area, (Decimal, int)):
        raise TallyInputError(
            _l("Household %(household)s: the area must be an exact decimal number of "
               "square metres.", household=where),
            household=where,
        )
    value = Decimal(area)
    if not value.is_finite() or value < 0:
        raise TallyInputError(
            _l("Household %(household)s: the area must be zero or more square metres.",
               household=where),
            household=where,
        )
    return value


def _check_household_id(household_id: object) -> None:
    if isinstance(household_id, bool) or not isinstance(household_id, (int, str)):
        raise TypeError(f"household ids are int or str, not {type(household_id).__name__}")


def _order(household_id: HouseholdId) -> tuple[int, int, str]:
    """A total order over int and str household ids (ints first)."""
    if isinstance(household_id, int):
        return (0, household_id, "")
    return (1, 0, household_id)


@dataclass(frozen=True)
class OwnerUnit:
    """One exclusive unit (专有部分) with its registered area and its owners."""

    household_id: HouseholdId
    area: Decimal
    owner_ids: frozenset = frozenset()
    unsold: bool = False  # unsold, or sold but not yet delivered: still the developer's

    def __post_init__(self) -> None:
        _check_household_id(self.household_id)
        object.__setattr__(self, "area", _check_area(self.area, self.household_id))
        if isinstance(self.owner_ids, (str, bytes)):
            raise TypeError("owner_ids must be a collection of ids, not a string")
        object.__setattr__(self, "owner_ids", frozenset(self.owner_ids))


@dataclass(frozen=True)
class ResidentHousehold:
    """A household and the number of its residents aged 18 or over."""

    household_id: HouseholdId
    adults: int

    def __post_init__(self) -> None:
        _check_household_id(self.household_id)
        if isinstance(self.adults, bool) or not isinstance(self.adults, int) or self.adults < 0:
            raise TallyInputError(
                _l("Household %(household)s: the number of adults must be a whole "
                   "number, zero or more.", household=self.household_id),
                household=self.household_id,
            )


@dataclass(frozen=True)
class Voter:
    """One person for counting purposes: a stable key, an area, a headcount of 1."""

    key: str
    kind: ElectorateKind
    area: Decimal
    household_ids: tuple[HouseholdId, ...]
    owner_ids: frozenset = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise TypeError("a voter key is a non-empty string")
        object.__setattr__(self, "kind", ElectorateKind(self.kind))
        object.__setattr__(self, "area", _check_area(self.area, self.key))
        if not self.household_ids:
            raise ValueError(f"voter {self.key!r} has no household")

    @property
    def heads(self) -> int:
        """Every voter counts as exactly one person."""
        return 1


class _UnionFind:
    """Disjoint sets over 0..n-1 with path halving and union by size."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.size = [1] * size

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]


def _reject_duplicate_households(ids: Iterable[HouseholdId]) -> None:
    seen: set[HouseholdId] = set()
    for household_id in ids:
        if household_id in seen:
            raise TallyInputError(
                _l("Household %(household)s appears more than once in the electorate.",
                   household=household_id),
                household=household_id,
            )
        seen.add(household_id)


def _group_units(units: Sequence[OwnerUnit]) -> dict[int, list[int]]:
    """Unit indices grouped into persons: shared owners join (transitively), unsold join."""
    sets = _UnionFind(len(units))
    first_with_owner: dict[object, int] = {}
    first_unsold: int | None = None
    for index, unit in enumerate(units):
        for owner in unit.owner_ids:
            other = first_with_owner.setdefault(owner, index)
            sets.union(index, other)
        if unit.unsold:
            first_unsold = index if first_unsold is None else first_unsold
            sets.union(index, first_unsold)
    groups: dict[int, list[int]] = {}
    for index in range(len(units)):
        groups.setdefault(sets.find(index), []).append(index)
    return groups


def _owner_voter(members: list[OwnerUnit]) -> Voter:
    """One person from a group of units (call inside the exact decimal context)."""
    if len(members) == 1:
        unit = members[0]
        key = DEVELOPER_KEY if unit.unsold else f"owner:{unit.household_id}"
        return Voter(key, ElectorateKind.OWNERS, unit.area, (unit.household_id,), unit.owner_ids)
    household_ids = tuple(sorted((u.household_id for u in members), key=_order))
    developer = any(u.unsold for u in members)
    key = DEVELOPER_KEY if developer else f"owner:{household_ids[0]}"
    area = sum((u.area for u in members), Decimal(0))
    owners = frozenset().union(*(u.owner_ids for u in members))
    return Voter(key, ElectorateKind.OWNERS, area, household_ids, owners)


def build_owner_electorate(units: Iterable[OwnerUnit]) -> list[Voter]:
    """Owners as counted for Civil Code Art. 278 (SPC interpretation Arts. 8-9).

    "一个专有部分按一人计算。但建设单位尚未出售和虽已出售但尚未交付的部分，以及同一买受人
    拥有一个以上专有部分的，按一人计算。" So: co-owners of one unit are one person; units
    that share any owner (transitively) are one person with their areas summed; all
    unsold units are one person, the developer (key ``"developer"``), joined by any
    unit sharing an owner recorded on them. A sold unit without recorded owners is
    still one person of its own. Other keys are
    ``"owner:<smallest household id of the person>"``. The list is sorted by key.
    """
    unit_list = list(units)
    _reject_duplicate_households(u.household_id for u in unit_list)
    groups = _group_units(unit_list)
    with decimal.localcontext(_EXACT):
        voters = [_owner_voter([unit_list[i] for i in members]) for members in groups.values()]
    voters.sort(key=_voter_order)
    return voters


def _voter_order(voter: Voter) -> tuple[bool, tuple[int, int, str]]:
    """The developer first, then by the person's first household id."""
    return (voter.key != DEVELOPER_KEY, _order(voter.household_ids[0]))


def build_resident_electorate(
    households: Iterable[ResidentHousehold], mode: ResidentMode | str
) -> list[Voter]:
    """Those entitled at a residents' meeting (Organisation Law Art. 9).

    "居民会议由十八周岁以上的居民组成。居民会议可以由全体十八周岁以上的居民或者每户派代表参加".
    ``household`` mode: one representative per household that has an adult
    (key ``"household:<id>"``); a household without adults has nobody to send.
    ``adults`` mode: every adult (keys ``"adult:<id>:<n>"``, n = 1..adults).
    """
    try:
        mode = ResidentMode(mode)
    except ValueError:
        raise TallyInputError(_l("Unknown residents' meeting mode: %(mode)s.", mode=mode)) from None
    household_list = list(households)
    _reject_duplicate_households(h.household_id for h in household_list)
    household_list.sort(key=lambda h: _order(h.household_id))
    zero = Decimal(0)
    kind = ElectorateKind.RESIDENTS
    if mode is ResidentMode.HOUSEHOLD:
        return [
            Voter(f"household:{h.household_id}", kind, zero, (h.household_id,))
            for h in household_list if h.adults > 0
        ]
    return [
        Voter(f"adult:{h.household_id}:{n}", kind, zero, (h.household_id,))
        for h in household_list for n in range(1, h.adults + 1)
    ]


def voter_for_household(voters: Iterable[Voter]) -> dict[HouseholdId, str]:
    """Household id → the key of the voter it belongs to (owners' electorates).

    In an ``adults`` residents' electorate a household has several voters; ask
    for their keys directly instead.
    """
    mapping: dict[HouseholdId, str] = {}
    for voter in voters:
        for household_id in voter.household_ids:
            if household_id in mapping:
                raise TallyInputError(
                    _l("Household %(household)s belongs to more than one voter.",
                       household=household_id),
                    household=household_id,
                )
            mapping[household_id] = voter.key
    return mapping


def ballots_by_voter(
    voters: Iterable[Voter], cast: Iterable[tuple[HouseholdId, Choice | str]]
) -> dict[str, Choice]:
    """Ballots cast per household, in the order cast, → one ballot per voter.

    One owner, one ballot: a later ballot from any household of the same voter
    replaces the earlier one (the caller passes only ballots cast while the vote
    was open).
    """
    owner_of = voter_for_household(voters)
    result: dict[str, Choice] = {}
    for household_id, choice in cast:
        key = owner_of.get(household_id)
        if key is None:
            raise TallyInputError(
                _l("A ballot came from household %(household)s, which is not in the "
                   "electorate.", household=household_id),
                household=household_id,
            )
        result.pop(key, None)  # keep dict order = order of each voter's last ballot
        result[key] = _choice(key, choice)
    return result


# ---------------------------------------------------------------------------
# Tally
# ---------------------------------------------------------------------------

_CHOICES: dict[str, Choice] = {choice.value: choice for choice in Choice}


def _choice(key: str, raw: object) -> Choice:
    try:
        choice = _CHOICES.get(raw)  # type: ignore[arg-type]
    except TypeError:  # unhashable
        choice = None
    if choice is None:
        raise TallyInputError(
            _l("The ballot of %(voter)s has an unknown choice: %(choice)s.",
               voter=key, choice=repr(raw)),
            voter=key, choice=raw,
        )
    return choice


@dataclass(frozen=True)
class Check:
    """One requirement of the rule, evaluated: ``value`` = part / whole (None if whole is 0)."""

    name: str
    measure: Measure
    part_group: Group
    whole_group: Group
    part: Fraction
    whole: Fraction
    threshold: Threshold
    met: bool

    @property
    def value(self) -> Fraction | None:
        return self.part / self.whole if self.whole else None

    @property
    def required(self) -> Fraction:
        return self.threshold.fraction


def _share(part: Fraction | int, whole: Fraction | int) -> Fraction | None:
    return Fraction(part) / whole if whole else None


@dataclass(frozen=True)
class TallyResult:
    """The full count. Areas are exact Decimals; shares are exact Fractions (None: 0/0)."""

    rule: Rule
    entitled_area: Decimal
    entitled_heads: int
    participating_area: Decimal
    participating_heads: int
    agreeing_area: Decimal
    agreeing_heads: int
    disagreeing_area: Decimal
    disagreeing_heads: int
    abstaining_area: Decimal
    abstaining_heads: int
    checks: tuple[Check, ...]
    passed: bool

    @property
    def participation_area_fraction(self) -> Fraction | None:
        return _share(Fraction(self.participating_area), Fraction(self.entitled_area))

    @property
    def participation_heads_fraction(self) -> Fraction | None:
        return _share(self.participating_heads, self.entitled_heads)

    @property
    def consent_area_fraction(self) -> Fraction | None:
        """Agreeing area / participating area."""
        return _share(Fraction(self.agreeing_area), Fraction(self.participating_area))

    @property
    def consent_heads_fraction(self) -> Fraction | None:
        """Agreeing heads / participating heads."""
        return _share(self.agreeing_heads, self.participating_heads)

    def check(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        """JSON-safe snapshot for storing with the vote: Decimals and Fractions as exact strings."""
        totals = {
            name: str(getattr(self, name)) if name.endswith("_area") else getattr(self, name)
            for name in (
                "entitled_area", "entitled_heads", "participating_area", "participating_heads",
                "agreeing_area", "agreeing_heads", "disagreeing_area", "disagreeing_heads",
                "abstaining_area", "abstaining_heads",
            )
        }
        checks = [
            {
                "name": c.name,
                "measure": c.measure.value,
                "part": fraction_text(c.part),
                "whole": fraction_text(c.whole),
                "value": None if c.value is None else fraction_text(c.value),
                "required": fraction_text(c.required),
                "inclusive": c.threshold.inclusive,
                "met": c.met,
            }
            for c in self.checks
        ]
        return {"rule": self.rule.name, **totals, "checks": checks, "passed": self.passed}


def _index_voters(rule: Rule, voters: Iterable[Voter]) -> dict[str, Voter]:
    by_key: dict[str, Voter] = {}
    for voter in voters:
        if voter.kind is not rule.kind:
            raise TallyInputError(
                _l("Voter %(voter)s is not in the kind of electorate that rule %(rule)s "
                   "counts.", voter=voter.key, rule=rule.name),
                voter=voter.key,
            )
        if voter.key in by_key:
            raise TallyInputError(
                _l("Voter %(voter)s appears more than once in the electorate.", voter=voter.key),
                voter=voter.key,
            )
        by_key[voter.key] = voter
    return by_key


def _reject_outsiders(ballots: Mapping[str, object], by_key: Mapping[str, Voter]) -> None:
    outsiders = sorted(str(key) for key in ballots.keys() - by_key.keys())
    if outsiders:
        shown = ", ".join(outsiders[:5]) + (", ..." if len(outsiders) > 5 else "")
        raise TallyInputError(
            _l("Ballots from outside the electorate (%(count)s): %(voters)s.",
               count=len(outsiders), voters=shown),
            voters=tuple(outsiders),
        )


def _sum_ballots(
    ballots: Mapping[str, object], by_key: Mapping[str, Voter]
) -> dict[Choice, tuple[Decimal, int]]:
    areas = {choice: Decimal(0) for choice in Choice}
    heads = {choice: 0 for choice in Choice}
    with decimal.localcontext(_EXACT):
        for key, raw in ballots.items():
            choice = _choice(key, raw)
            areas[choice] += by_key[key].area
            heads[choice] += 1
    return {choice: (areas[choice], heads[choice]) for choice in Choice}


def _evaluate(rule: Rule, counts: Mapping[tuple[Group, Measure], Fraction]) -> tuple[Check, ...]:
    checks = []
    for req in rule.requirements():
        part = counts[(req.part, req.measure)]
        whole = counts[(req.whole, req.measure)]
        met = req.threshold.is_met(part, whole)
        checks.append(Check(req.name, req.measure, req.part, req.whole, part, whole,
                            req.threshold, met))
    return tuple(checks)


def tally(rule: Rule, voters: Iterable[Voter], ballots: Mapping[str, Choice | str]) -> TallyResult:
    """Count ``ballots`` (voter key → choice) against ``rule`` over ``voters``.

    Participation counts everyone who voted, abstentions included; consent counts
    only "agree". Every requirement of the rule must be met; an empty electorate
    or an empty base never meets a requirement. Ballots from keys outside the
    electorate or with unknown choices raise :class:`TallyInputError` (a ValueError).
    The result does not depend on the order of voters or ballots.
    """
    by_key = _index_voters(rule, voters)
    _reject_outsiders(ballots, by_key)
    sums = _sum_ballots(ballots, by_key)
    with decimal.localcontext(_EXACT):
        entitled_area = sum((v.area for v in by_key.values()), Decimal(0))
        agree_area, agree_heads = sums[Choice.AGREE]
        part_area = agree_area + sums[Choice.DISAGREE][0] + sums[Choice.ABSTAIN][0]
    part_heads = sum(count for _, count in sums.values())
    counts = {
        (Group.ENTITLED, Measure.AREA): Fraction(entitled_area),
        (Group.ENTITLED, Measure.HEADS): Fraction(len(by_key)),
        (Group.PARTICIPATING, Measure.AREA): Fraction(part_area),
        (Group.PARTICIPATING, Measure.HEADS): Fraction(part_heads),
        (Group.AGREEING, Measure.AREA): Fraction(agree_area),
        (Group.AGREEING, Measure.HEADS): Fraction(agree_heads),
    }
    checks = _evaluate(rule, counts)
    return TallyResult(
        rule=rule,
        entitled_area=entitled_area,
        entitled_heads=len(by_key),
        participating_area=part_area,
        participating_heads=part_heads,
        agreeing_area=agree_area,
        agreeing_heads=agree_heads,
        disagreeing_area=sums[Choice.DISAGREE][0],
        disagreeing_heads=sums[Choice.DISAGREE][1],
        abstaining_area=sums[Choice.ABSTAIN][0],
        abstaining_heads=sums[Choice.ABSTAIN][1],
        checks=checks,
        passed=bool(checks) and all(check.met for check in checks),
    )


# ---------------------------------------------------------------------------
# Published text
# ---------------------------------------------------------------------------

CHECK_LABELS: Mapping[str, Text] = {
    "participation_area": _l("Participation by exclusive area (share of all area)"),
    "participation_heads": _l("Participation by owners (share of all owners)"),
    "quorum": _l("Attendance (share of all entitled)"),
    "consent_area": _l("Consent by area (share of participating area)"),
    "consent_heads": _l("Consent by owners (share of participating owners)"),
    "entitled_consent_area": _l("Consent by area (share of all area)"),
    "entitled_consent_heads": _l("Consent by owners (share of all owners)"),
    "decision": _l("Approval (share of those present)"),
}


def fraction_text(value: Fraction) -> str:
    """"2/3", "1", "0": the exact value, reduced."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def percent_text(value: Fraction, places: int = 2) -> str:
    """A rounded percentage for display only (half up), e.g. "66.67%"."""
    scaled = value * 100 * 10**places
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    whole, frac = divmod(rounded, 10**places)
    return f"{whole}.{frac:0{places}d}%" if places else f"{whole}%"


def _display_places(value: Fraction, required: Fraction) -> int:
    """Enough decimals that a value unequal to the requirement never looks equal to it."""
    for places in range(2, 9):
        if value == required or percent_text(value, places) != percent_text(required, places):
            return places
    return 8


def _share_text(value: Fraction | None, places: int = 2) -> str:
    if value is None:
        return str(_l("not applicable (nobody to count)"))
    return str(_l("%(fraction)s, about %(percent)s", fraction=fraction_text(value),
                  percent=percent_text(value, places)))


def _threshold_text(threshold: Threshold, places: int) -> str:
    values = {"fraction": fraction_text(threshold.fraction),
              "percent": percent_text(threshold.fraction, places)}
    if threshold.inclusive:
        return str(_l("at least %(fraction)s (%(percent)s)", **values))
    return str(_l("more than %(fraction)s (%(percent)s)", **values))


def area_text(area: Decimal) -> str:
    """Square metres with thousands separators and 2 places (exact when it has ≤ 2)."""
    exponent = area.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return f"{area:,.2f}"
    return f"{area:,f}"


def count_text(check: Check) -> str:
    """What a check counted, as people count it: "11/11" owners or "713.43/926.01 m²" of
    area (the parts, not the reduced fraction), with the share rounded for reading."""
    if check.measure is Measure.HEADS:
        counted = f"{int(check.part)}/{int(check.whole)}"
    else:
        counted = f"{area_text(_exact_decimal(check.part))}/{area_text(_exact_decimal(check.whole))} m²"
    value = check.value
    if value is None:
        return counted
    return f"{counted} ({percent_text(value, _display_places(value, check.required))})"


def threshold_text(check: Check) -> str:
    """The requirement in words: "at least 2/3 (66.67%)"."""
    value = check.value
    places = _display_places(value, check.required) if value is not None else 2
    return _threshold_text(check.threshold, places)


def _exact_decimal(value: Fraction) -> Decimal:
    """An area held as a Fraction back as the Decimal it came from (areas have finite decimals)."""
    with decimal.localcontext(decimal.Context(prec=60)):
        return Decimal(value.numerator) / Decimal(value.denominator)


def _check_line(check: Check) -> str:
    value = check.value
    places = _display_places(value, check.required) if value is not None else 2
    outcome = _l("met") if check.met else _l("not met")
    return str(_l(
        "%(label)s: %(actual)s; required %(required)s: %(outcome)s.",
        label=str(CHECK_LABELS[check.name]),
        actual=_share_text(value, places),
        required=_threshold_text(check.threshold, places),
        outcome=str(outcome),
    ))


def _owner_lines(result: TallyResult) -> list[str]:
    return [
        str(_l("Entitled to vote: %(heads)s owner(s) holding %(area)s m² of exclusive area.",
               heads=result.entitled_heads, area=area_text(result.entitled_area))),
        str(_l("Took part: %(heads)s owner(s) holding %(area)s m²; share of owners "
               "%(heads_share)s; share of area %(area_share)s.",
               heads=result.participating_heads, area=area_text(result.participating_area),
               heads_share=_share_text(result.participation_heads_fraction),
               area_share=_share_text(result.participation_area_fraction))),
        str(_l("Agreed: %(agree_heads)s owner(s) holding %(agree_area)s m²; disagreed: "
               "%(disagree_heads)s owner(s) holding %(disagree_area)s m²; abstained: "
               "%(abstain_heads)s owner(s) holding %(abstain_area)s m². Abstaining counts "
               "as taking part, not as consent.",
               agree_heads=result.agreeing_heads, agree_area=area_text(result.agreeing_area),
               disagree_heads=result.disagreeing_heads,
               disagree_area=area_text(result.disagreeing_area),
               abstain_heads=result.abstaining_heads,
               abstain_area=area_text(result.abstaining_area))),
    ]


def _resident_lines(result: TallyResult) -> list[str]:
    return [
        str(_l("Entitled to attend: %(heads)s.", heads=result.entitled_heads)),
        str(_l("Present: %(heads)s (%(share)s).", heads=result.participating_heads,
               share=_share_text(result.participation_heads_fraction))),
        str(_l("Agreed: %(agree)s; disagreed: %(disagree)s; abstained: %(abstain)s.",
               agree=result.agreeing_heads, disagree=result.disagreeing_heads,
               abstain=result.abstaining_heads)),
    ]


def describe(result: TallyResult) -> list[str]:
    """Plain-language lines for the published result, in the current locale.

    Exact fractions decide; the rounded percentages beside them are for reading
    only (shown with more decimals where two places would blur the boundary).
    """
    rule = result.rule
    lines = [str(_l("%(title)s. Legal basis: %(basis)s.", title=str(rule.title),
                    basis=str(rule.legal_basis)))]
    if rule.kind is ElectorateKind.OWNERS:
        lines += _owner_lines(result)
    else:
        lines += _resident_lines(result)
    lines += [_check_line(check) for check in result.checks]
    lines.append(str(_l("Result: adopted.") if result.passed else _l("Result: not adopted.")))
    return lines
