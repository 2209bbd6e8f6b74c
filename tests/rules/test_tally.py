"""Vote counting: boundaries of every rule, electorate counting, properties.

Plain tests: no Flask app, no database.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from babel.support import Translations
from flask_babel import Domain
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.tally import (
    VOTING_POLICIES,
    DEVELOPER_KEY,
    OWNERS_MAJOR,
    OWNERS_ORDINARY,
    RESIDENTS_MEETING,
    Choice,
    VotingPolicy,
    ElectorateKind,
    OwnerUnit,
    ResidentHousehold,
    Rule,
    SubjectKind,
    TallyInputError,
    Threshold,
    UnknownCity,
    UnknownRule,
    Voter,
    at_least,
    ballots_by_voter,
    build_owner_electorate,
    build_resident_electorate,
    default_rule_for,
    describe,
    get_rule,
    more_than,
    percent_text,
    register_voting_policy,
    tally,
    voter_for_household,
)

ROOT = Path(__file__).resolve().parents[2]
# The catalog the app loads, as `make` compiles it.
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
AGREE, DISAGREE, ABSTAIN = Choice.AGREE, Choice.DISAGREE, Choice.ABSTAIN


def units(*areas: str) -> list[OwnerUnit]:
    """One unit per area, each with its own owner: household ids 1, 2, 3..."""
    return [OwnerUnit(i, Decimal(a), frozenset({f"p{i}"})) for i, a in enumerate(areas, 1)]


def owners(*areas: str) -> list[Voter]:
    return build_owner_electorate(units(*areas))


def votes(*choices: Choice | None) -> dict[str, Choice]:
    """Ballots for owner:1, owner:2, ... in order; None = did not vote."""
    return {f"owner:{i}": c for i, c in enumerate(choices, 1) if c is not None}


def count(rule: Rule, voters: list[Voter], ballots: dict) -> dict[str, bool]:
    result = tally(rule, voters, ballots)
    return {check.name: check.met for check in result.checks} | {"passed": result.passed}


# ---------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------


def test_at_least_includes_the_boundary_more_than_excludes_it():
    assert at_least(2, 3).is_met(2, 3)
    assert not at_least(2, 3).is_met(Fraction(1999, 1000), 3)
    assert not more_than(1, 2).is_met(1, 2)
    assert more_than(1, 2).is_met(Fraction(50001, 100000), 1)


def test_threshold_never_met_on_an_empty_whole():
    assert not at_least(1, 100).is_met(0, 0)
    assert not more_than(1, 2).is_met(0, 0)


def test_threshold_rejects_floats_and_impossible_values():
    with pytest.raises(TypeError):
        at_least(0.5, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Threshold(0.75, True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        more_than(1, 1)
    with pytest.raises(ValueError):
        at_least(0, 1)
    with pytest.raises(ValueError):
        at_least(4, 3)


# ---------------------------------------------------------------------------
# owners_major: participation 2/3 + 2/3, consent 3/4 + 3/4 of participants
# ---------------------------------------------------------------------------


def test_major_exactly_two_thirds_participation_passes():
    voters = owners("100.00", "100.00", "100.00")
    result = tally(OWNERS_MAJOR, voters, votes(AGREE, AGREE, None))
    assert result.participation_area_fraction == Fraction(2, 3)
    assert result.participation_heads_fraction == Fraction(2, 3)
    assert result.passed


def test_major_one_square_metre_short_of_two_thirds_fails():
    voters = owners("100.00", "99.00", "101.00")
    assert count(OWNERS_MAJOR, voters, votes(AGREE, AGREE, None)) == {
        "participation_area": False,
        "participation_heads": True,
        "consent_area": True,
        "consent_heads": True,
        "passed": False,
    }


def test_major_participation_by_heads_short_fails():
    # 3 of 5 owners (< 2/3) holding 90 % of the area take part.
    voters = owners("300.00", "300.00", "300.00", "50.00", "50.00")
    assert count(OWNERS_MAJOR, voters, votes(AGREE, AGREE, AGREE, None, None)) == {
        "participation_area": True,
        "participation_heads": False,
        "consent_area": True,
        "consent_heads": True,
        "passed": False,
    }


def test_major_exactly_three_quarters_consent_passes():
    voters = owners("100.00", "100.00", "100.00", "100.00")
    result = tally(OWNERS_MAJOR, voters, votes(AGREE, AGREE, AGREE, DISAGREE))
    assert result.consent_area_fraction == Fraction(3, 4)
    assert result.consent_heads_fraction == Fraction(3, 4)
    assert result.passed


def test_major_three_quarters_minus_one_hundredth_square_metre_fails():
    voters = owners("100.00", "100.00", "99.99", "100.01")
    assert count(OWNERS_MAJOR, voters, votes(AGREE, AGREE, AGREE, DISAGREE)) == {
        "participation_area": True,
        "participation_heads": True,
        "consent_area": False,
        "consent_heads": True,
        "passed": False,
    }


def test_major_heads_met_but_area_not_fails():
    # Three small owners agree, the large one disagrees: 3/4 heads, 1/4 area.
    voters = owners("50.00", "50.00", "50.00", "450.00")
    assert count(OWNERS_MAJOR, voters, votes(AGREE, AGREE, AGREE, DISAGREE)) == {
        "participation_area": True,
        "participation_heads": True,
        "consent_area": False,
        "consent_heads": True,
        "passed": False,
    }


def test_major_area_met_but_heads_not_fails():
    # The large owner agrees, three small ones disagree: 3/4 area, 1/4 heads.
    voters = owners("50.00", "50.00", "50.00", "450.00")
    assert count(OWNERS_MAJOR, voters, votes(DISAGREE, DISAGREE, DISAGREE, AGREE)) == {
        "participation_area": True,
        "participation_heads": True,
        "consent_area": True,
        "consent_heads": False,
        "passed": False,
    }


# ---------------------------------------------------------------------------
# owners_ordinary: consent more than half of participants
# ---------------------------------------------------------------------------


def test_ordinary_exactly_half_fails():
    voters = owners("100.00", "100.00", "100.00", "100.00")
    result = tally(OWNERS_ORDINARY, voters, votes(AGREE, AGREE, DISAGREE, DISAGREE))
    assert result.consent_area_fraction == Fraction(1, 2)
    assert result.consent_heads_fraction == Fraction(1, 2)
    assert not result.passed


def test_ordinary_exactly_half_of_area_fails_even_with_head_majority():
    voters = owners("150.00", "75.00", "75.00")
    assert count(OWNERS_ORDINARY, voters, votes(DISAGREE, AGREE, AGREE)) == {
        "participation_area": True,
        "participation_heads": True,
        "consent_area": False,
        "consent_heads": True,
        "passed": False,
    }


def test_ordinary_half_plus_one_hundredth_square_metre_passes():
    voters = owners("149.99", "75.01", "75.00")
    result = tally(OWNERS_ORDINARY, voters, votes(DISAGREE, AGREE, AGREE))
    assert result.consent_area_fraction == Fraction(15001, 30000)
    assert result.passed


def test_ordinary_area_majority_without_head_majority_fails():
    voters = owners("200.00", "50.00", "50.00")
    assert count(OWNERS_ORDINARY, voters, votes(AGREE, DISAGREE, DISAGREE)) == {
        "participation_area": True,
        "participation_heads": True,
        "consent_area": True,
        "consent_heads": False,
        "passed": False,
    }


def test_abstentions_count_for_participation_not_consent():
    voters = owners("100.00", "100.00", "100.00")
    result = tally(OWNERS_ORDINARY, voters, votes(AGREE, ABSTAIN, ABSTAIN))
    assert result.participating_heads == 3
    assert result.participating_area == Decimal("300.00")
    assert result.agreeing_heads == 1
    assert result.abstaining_heads == 2
    assert result.check("participation_heads").met
    assert not result.check("consent_heads").met
    assert not result.passed


def test_no_ballots_fails_without_dividing_by_zero():
    voters = owners("100.00", "100.00")
    result = tally(OWNERS_ORDINARY, voters, {})
    assert result.participation_heads_fraction == 0
    assert result.consent_heads_fraction is None
    assert result.consent_area_fraction is None
    assert not result.passed


@pytest.mark.parametrize("rule", [OWNERS_MAJOR, OWNERS_ORDINARY, RESIDENTS_MEETING])
def test_empty_electorate_never_passes(rule):
    result = tally(rule, [], {})
    assert not result.passed
    assert result.entitled_heads == 0 and result.entitled_area == 0
    assert result.participation_area_fraction is None
    assert result.participation_heads_fraction is None
    assert all(not check.met and check.value is None for check in result.checks)
    assert describe(result)[-1] == "Result: not adopted."


def test_zero_area_electorate_never_passes_an_area_requirement():
    voters = owners("0.00", "0.00", "0.00")
    result = tally(OWNERS_ORDINARY, voters, votes(AGREE, AGREE, AGREE))
    assert result.check("consent_heads").met
    assert not result.check("participation_area").met
    assert not result.passed


# ---------------------------------------------------------------------------
# Counting the electorate (SPC interpretation Arts. 8-9)
# ---------------------------------------------------------------------------


def test_co_owners_of_one_unit_are_one_person():
    voters = build_owner_electorate([OwnerUnit(1, Decimal("88.50"), frozenset({"wife", "husband"}))])
    assert len(voters) == 1
    assert voters[0].heads == 1
    assert voters[0].area == Decimal("88.50")


def test_owner_of_several_units_counts_once_with_summed_area():
    voters = build_owner_electorate([
        OwnerUnit(1, Decimal("80.00"), frozenset({"li"})),
        OwnerUnit(2, Decimal("90.25"), frozenset({"li"})),
        OwnerUnit(3, Decimal("70.00"), frozenset({"wang"})),
    ])
    assert [(v.key, v.area, v.household_ids) for v in voters] == [
        ("owner:1", Decimal("170.25"), (1, 2)),
        ("owner:3", Decimal("70.00"), (3,)),
    ]
    result = tally(OWNERS_MAJOR, voters, {"owner:1": AGREE})
    assert result.entitled_heads == 2
    assert result.participating_heads == 1
    assert result.agreeing_area == Decimal("170.25")


def test_units_sharing_owners_are_grouped_transitively():
    voters = build_owner_electorate([
        OwnerUnit(3, Decimal("60.00"), frozenset({"z"})),
        OwnerUnit(1, Decimal("50.00"), frozenset({"x", "y"})),
        OwnerUnit(2, Decimal("40.00"), frozenset({"y", "z"})),
        OwnerUnit(4, Decimal("30.00"), frozenset({"q"})),
    ])
    assert [(v.key, v.area, v.household_ids) for v in voters] == [
        ("owner:1", Decimal("150.00"), (1, 2, 3)),
        ("owner:4", Decimal("30.00"), (4,)),
    ]


def test_all_unsold_units_are_one_person_the_developer():
    voters = build_owner_electorate([
        OwnerUnit(1, Decimal("100.00"), frozenset({"a"})),
        OwnerUnit(2, Decimal("95.00"), unsold=True),
        OwnerUnit(3, Decimal("95.00"), unsold=True),
        OwnerUnit(4, Decimal("120.00"), frozenset({"dev-co"}), unsold=True),
    ])
    developer = voters[0]
    assert developer.key == DEVELOPER_KEY
    assert developer.area == Decimal("310.00")
    assert developer.household_ids == (2, 3, 4)
    assert len(voters) == 2
    result = tally(OWNERS_MAJOR, voters, {DEVELOPER_KEY: AGREE, "owner:1": AGREE})
    assert result.entitled_heads == 2 and result.agreeing_heads == 2


def test_sold_unit_without_recorded_owner_is_its_own_person():
    voters = build_owner_electorate([OwnerUnit(1, Decimal("50.00")), OwnerUnit(2, Decimal("60.00"))])
    assert [v.key for v in voters] == ["owner:1", "owner:2"]


def test_every_household_maps_to_exactly_one_voter():
    voters = build_owner_electorate([
        OwnerUnit("1-1-101", Decimal("80.00"), frozenset({"a"})),
        OwnerUnit("1-1-102", Decimal("80.00"), frozenset({"a"})),
        OwnerUnit("1-1-201", Decimal("80.00"), unsold=True),
        OwnerUnit("1-1-202", Decimal("80.00"), frozenset({"b"})),
    ])
    assert voter_for_household(voters) == {
        "1-1-101": "owner:1-1-101",
        "1-1-102": "owner:1-1-101",
        "1-1-201": DEVELOPER_KEY,
        "1-1-202": "owner:1-1-202",
    }


def test_electorate_rejects_duplicates_floats_and_negative_areas():
    with pytest.raises(TallyInputError):
        build_owner_electorate([OwnerUnit(1, Decimal("1")), OwnerUnit(1, Decimal("2"))])
    with pytest.raises(TallyInputError):
        OwnerUnit(1, 80.5)  # type: ignore[arg-type]
    with pytest.raises(TallyInputError):
        OwnerUnit(1, Decimal("-1.00"))
    with pytest.raises(TallyInputError):
        OwnerUnit(1, Decimal("NaN"))
    with pytest.raises(TypeError):
        OwnerUnit(1, Decimal("1.00"), "owner")  # type: ignore[arg-type]


def test_ballots_by_voter_keeps_the_latest_ballot_across_households_of_one_owner():
    voters = build_owner_electorate([
        OwnerUnit(1, Decimal("80.00"), frozenset({"a"})),
        OwnerUnit(2, Decimal("80.00"), frozenset({"a"})),
        OwnerUnit(3, Decimal("80.00"), frozenset({"b"})),
    ])
    ballots = ballots_by_voter(voters, [(1, "agree"), (3, "abstain"), (2, "disagree")])
    assert ballots == {"owner:1": DISAGREE, "owner:3": ABSTAIN}
    with pytest.raises(TallyInputError):
        ballots_by_voter(voters, [(9, "agree")])


# ---------------------------------------------------------------------------
# Residents' meeting (Organisation Law Art. 9)
# ---------------------------------------------------------------------------


def residents(n: int) -> list[Voter]:
    return build_resident_electorate([ResidentHousehold(i, 2) for i in range(1, n + 1)], "household")


def resident_votes(*choices: Choice | None) -> dict[str, Choice]:
    return {f"household:{i}": c for i, c in enumerate(choices, 1) if c is not None}


def test_residents_quorum_exactly_half_fails():
    result = tally(RESIDENTS_MEETING, residents(10), resident_votes(*[AGREE] * 5))
    assert result.participation_heads_fraction == Fraction(1, 2)
    assert not result.check("quorum").met
    assert result.check("decision").met
    assert not result.passed


def test_residents_quorum_just_over_half_passes():
    result = tally(RESIDENTS_MEETING, residents(10), resident_votes(*[AGREE] * 6))
    assert result.check("quorum").met and result.passed


def test_residents_decision_exactly_half_of_present_fails_just_over_passes():
    present_half = resident_votes(AGREE, AGREE, AGREE, DISAGREE, DISAGREE, ABSTAIN)
    assert not tally(RESIDENTS_MEETING, residents(10), present_half).passed
    present_more = resident_votes(AGREE, AGREE, AGREE, AGREE, DISAGREE, ABSTAIN)
    assert tally(RESIDENTS_MEETING, residents(10), present_more).passed


def test_resident_modes():
    households = [ResidentHousehold(1, 3), ResidentHousehold(2, 0), ResidentHousehold(3, 1)]
    by_household = build_resident_electorate(households, "household")
    assert [v.key for v in by_household] == ["household:1", "household:3"]
    adults = build_resident_electorate(households, "adults")
    assert [v.key for v in adults] == ["adult:1:1", "adult:1:2", "adult:1:3", "adult:3:1"]
    assert all(v.area == 0 and v.heads == 1 for v in adults)
    with pytest.raises(TallyInputError):
        build_resident_electorate(households, "groups")
    with pytest.raises(TallyInputError):
        ResidentHousehold(4, -1)


def test_rule_and_electorate_kinds_must_match():
    with pytest.raises(TallyInputError):
        tally(OWNERS_MAJOR, residents(3), {})
    with pytest.raises(TallyInputError):
        tally(RESIDENTS_MEETING, owners("10.00"), {})


# ---------------------------------------------------------------------------
# Ballot validation
# ---------------------------------------------------------------------------


def test_ballot_from_outside_the_electorate_is_rejected():
    with pytest.raises(ValueError, match="outside the electorate"):
        tally(OWNERS_MAJOR, owners("10.00"), {"owner:1": AGREE, "owner:99": AGREE})


@pytest.mark.parametrize("choice", ["yes", "", None, 1, ["agree"]])
def test_unknown_choice_is_rejected(choice):
    with pytest.raises(ValueError, match="unknown choice"):
        tally(OWNERS_MAJOR, owners("10.00"), {"owner:1": choice})


def test_choices_may_be_given_as_strings():
    voters = owners("10.00", "10.00")
    assert tally(OWNERS_MAJOR, voters, {"owner:1": "agree", "owner:2": "agree"}) == tally(
        OWNERS_MAJOR, voters, votes(AGREE, AGREE)
    )


def test_duplicate_voter_keys_are_rejected():
    voter = owners("10.00")[0]
    with pytest.raises(TallyInputError):
        tally(OWNERS_MAJOR, [voter, voter], {})


# ---------------------------------------------------------------------------
# Rules and city policies
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("subject, rule_name", [
    (SubjectKind.ELEVATOR_RETROFIT, "owners_major"),
    (SubjectKind.REBUILDING, "owners_major"),
    (SubjectKind.COMMON_PARTS_USE, "owners_major"),
    (SubjectKind.RAISE_MAINTENANCE_FUNDS, "owners_major"),
    (SubjectKind.RENOVATION_PLAN, "owners_major"),
    (SubjectKind.MANAGEMENT_RULES, "owners_ordinary"),
    (SubjectKind.PROPERTY_MANAGEMENT, "owners_ordinary"),
    (SubjectKind.USE_MAINTENANCE_FUNDS, "owners_ordinary"),
    (SubjectKind.OTHER, "owners_ordinary"),
    ("residents_convention", "residents_meeting"),
])
def test_default_rule_for_subject(subject, rule_name):
    assert default_rule_for(subject).name == rule_name


def test_every_subject_kind_has_a_national_rule():
    for subject in SubjectKind:
        assert default_rule_for(subject).kind in ElectorateKind


def test_get_rule_falls_back_to_national_and_rejects_unknown_names():
    assert get_rule("owners_major", "example-unit-two-thirds") is OWNERS_MAJOR
    assert get_rule("unit_owners_two_thirds", "example-unit-two-thirds").name == "unit_owners_two_thirds"
    with pytest.raises(UnknownRule, match="unit_owners_two_thirds"):
        get_rule("unit_owners_two_thirds")  # not a national rule
    with pytest.raises(UnknownRule, match="no voting rule 'owners_majr'"):
        get_rule("owners_majr")
    with pytest.raises(UnknownCity):
        get_rule("owners_major", "atlantis")
    with pytest.raises(UnknownRule):
        default_rule_for("launch_rocket")


def test_city_subject_overrides():
    assert default_rule_for(SubjectKind.ELEVATOR_RETROFIT, "example-unit-two-thirds").name == (
        "unit_owners_two_thirds"
    )
    assert default_rule_for(SubjectKind.MANAGEMENT_RULES, "example-unit-two-thirds") is OWNERS_ORDINARY
    assert default_rule_for(SubjectKind.RENOVATION_PLAN, "example-plan-80").name == "renovation_plan_80"


def test_unit_two_thirds_counts_consent_against_all_entitled_owners():
    rule = get_rule("unit_owners_two_thirds", "example-unit-two-thirds")
    voters = owners(*["100.00"] * 12)
    # 8 of 12 take part (2/3), 7 agree: 7/8 of participants (national floor met),
    # but only 7/12 of all owners (< 2/3): fails.
    seven_of_twelve = votes(*[AGREE] * 7, DISAGREE)
    assert count(rule, voters, seven_of_twelve) == {
        "participation_area": True,
        "participation_heads": True,
        "consent_area": True,
        "consent_heads": True,
        "entitled_consent_area": False,
        "entitled_consent_heads": False,
        "passed": False,
    }
    assert tally(OWNERS_MAJOR, voters, seven_of_twelve).passed
    # 8 of 12 agree: exactly 2/3 of all owners, passes.
    assert tally(rule, voters, votes(*[AGREE] * 8)).passed


def test_unit_two_thirds_keeps_the_civil_code_floor():
    rule = get_rule("unit_owners_two_thirds", "example-unit-two-thirds")
    voters = owners(*["100.00"] * 10)
    # 7 of 10 agree (>= 2/3 of all) but only 7/10 of participants (< 3/4).
    result = tally(rule, voters, votes(*[AGREE] * 7, *[DISAGREE] * 3))
    assert result.check("entitled_consent_heads").met
    assert not result.check("consent_heads").met
    assert not result.passed


def test_plan_80_boundary():
    rule = get_rule("renovation_plan_80", "example-plan-80")
    voters = owners(*["100.00"] * 5)
    assert tally(rule, voters, votes(AGREE, AGREE, AGREE, AGREE, DISAGREE)).passed
    assert not tally(rule, voters, votes(AGREE, AGREE, AGREE, DISAGREE, DISAGREE)).passed
    uneven = owners("100.00", "100.00", "100.00", "99.99", "100.01")
    assert not tally(rule, uneven, votes(AGREE, AGREE, AGREE, AGREE, DISAGREE)).passed


def test_register_voting_policy(monkeypatch):
    monkeypatch.setattr("rules.tally.VOTING_POLICIES", dict(VOTING_POLICIES))
    strict = Rule(
        name="owners_major", kind=ElectorateKind.OWNERS, title="strict", legal_basis="local",
        participation_area=at_least(3, 4), participation_heads=at_least(3, 4),
        consent_area=at_least(4, 5), consent_heads=at_least(4, 5),
    )
    register_voting_policy(VotingPolicy("testville", "Testville", {"owners_major": strict}))
    assert get_rule("owners_major", "testville") is strict
    assert get_rule("owners_ordinary", "testville") is OWNERS_ORDINARY
    assert default_rule_for(SubjectKind.ELEVATOR_RETROFIT, "testville") is strict
    with pytest.raises(ValueError):
        register_voting_policy(VotingPolicy("testville", "again"))
    with pytest.raises(ValueError, match="national"):
        register_voting_policy(VotingPolicy("default", "national"), replace=True)
    with pytest.raises(ValueError):
        register_voting_policy(VotingPolicy("other", "x", subject_rules={SubjectKind.OTHER: "nope"}))


def test_rule_validation():
    with pytest.raises(ValueError):
        Rule("r", ElectorateKind.OWNERS, "t", "b", participation_area=at_least(2, 3))
    with pytest.raises(ValueError):
        Rule("r", ElectorateKind.RESIDENTS, "t", "b", quorum=more_than(1, 2))
    with pytest.raises(ValueError):
        Rule("r", ElectorateKind.OWNERS, "t", "b", consent_heads=more_than(1, 2),
             quorum=more_than(1, 2))


# ---------------------------------------------------------------------------
# Published text and translations
# ---------------------------------------------------------------------------


def zh_translations() -> Translations:
    with CATALOG.open("rb") as handle:
        return Translations(fp=handle)


@pytest.fixture
def zh(monkeypatch):
    """Render flask_babel texts in Simplified Chinese without an app."""
    translations = zh_translations()
    monkeypatch.setattr(Domain, "get_translations", lambda self: translations)


def test_describe_owner_result_in_english():
    voters = owners("100.00", "100.00", "100.00")
    lines = describe(tally(OWNERS_MAJOR, voters, votes(AGREE, AGREE, None)))
    assert "Civil Code of the PRC, Article 278" in lines[0]
    assert any("2/3, about 66.67%; required at least 2/3 (66.67%): met" in line for line in lines)
    assert lines[-1] == "Result: adopted."


def test_describe_shows_more_places_where_two_would_blur_the_boundary():
    # 199_999/300_000 is 66.6663 %: it must not read as "66.67%", as 2/3 does at two places.
    voters = owners("1000.00", "999.99", "1000.01")
    lines = describe(tally(OWNERS_MAJOR, voters, votes(AGREE, AGREE, None)))
    line = next(line for line in lines if line.startswith("Participation by exclusive area"))
    assert "199999/300000, about 66.666%" in line
    assert "required at least 2/3 (66.667%): not met" in line


def test_describe_in_chinese_cites_the_civil_code(zh):
    voters = owners("100.00", "100.00", "100.00", "100.00")
    lines = describe(tally(OWNERS_MAJOR, voters, votes(AGREE, AGREE, AGREE, DISAGREE)))
    assert "《民法典》第二百七十八条" in lines[0]
    assert "参与表决：4人，专有部分面积400.00平方米" in lines[2]
    assert "同意的业主人数（占参与表决人数）：3/4，约75.00%；要求3/4以上（含本数，75.00%）：已达到。" in lines
    assert lines[-1] == "表决结果：通过。"


def test_describe_in_chinese_cites_the_organisation_law(zh):
    lines = describe(tally(RESIDENTS_MEETING, residents(10), resident_votes(*[AGREE] * 5)))
    assert "《城市居民委员会组织法》第九条" in lines[0]
    assert "出席人数（占全体应到人员）：1/2，约50.00%；要求超过1/2（不含本数，50.00%）：未达到。" in lines
    assert lines[-1] == "表决结果：未通过。"


def test_error_messages_are_translated(zh):
    with pytest.raises(TallyInputError, match="表决名册以外"):
        tally(OWNERS_MAJOR, owners("10.00"), {"owner:9": AGREE})




def test_percent_text_rounds_half_up_for_display_only():
    assert percent_text(Fraction(2, 3)) == "66.67%"
    assert percent_text(Fraction(1, 8), 1) == "12.5%"
    assert percent_text(Fraction(1, 16), 1) == "6.3%"
    assert percent_text(Fraction(1)) == "100.00%"


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

areas = st.integers(min_value=0, max_value=30_000).map(lambda cents: Decimal(cents).scaleb(-2))


@st.composite
def electorates(draw) -> list[Voter]:
    """Units with a small owner pool (so multi-unit owners and co-owners occur) and unsold ones."""
    n = draw(st.integers(min_value=0, max_value=25))
    pool = [f"o{i}" for i in range(draw(st.integers(min_value=1, max_value=30)))]
    unit_list = []
    for household_id in range(1, n + 1):
        unsold = draw(st.booleans()) and draw(st.booleans())
        unit_owners = frozenset() if unsold else draw(st.frozensets(st.sampled_from(pool), max_size=2))
        unit_list.append(OwnerUnit(household_id, draw(areas), unit_owners, unsold))
    return build_owner_electorate(unit_list)


choices = st.sampled_from(list(Choice))
rules = st.sampled_from([OWNERS_MAJOR, OWNERS_ORDINARY,
                         get_rule("unit_owners_two_thirds", "example-unit-two-thirds"),
                         get_rule("renovation_plan_80", "example-plan-80")])


@st.composite
def cast_ballots(draw, voters: list[Voter]) -> list[tuple[str, Choice]]:
    """A sequence of ballots in casting order, with re-votes."""
    if not voters:
        return []
    keys = st.sampled_from([v.key for v in voters])
    return draw(st.lists(st.tuples(keys, choices), max_size=3 * len(voters)))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rule=rules)
def test_result_does_not_depend_on_ballot_or_voter_order(data, rule):
    voters = data.draw(electorates())
    ballots = dict(data.draw(cast_ballots(voters)))
    reordered = dict(data.draw(st.permutations(list(ballots.items()))))
    shuffled_voters = data.draw(st.permutations(voters))
    expected = tally(rule, voters, ballots)
    assert tally(rule, shuffled_voters, reordered) == expected
    assert describe(tally(rule, shuffled_voters, reordered)) == describe(expected)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rule=rules)
def test_revote_equals_only_the_last_ballot(data, rule):
    voters = data.draw(electorates())
    cast = data.draw(cast_ballots(voters))
    built_in_order: dict[str, Choice] = {}
    for key, choice in cast:
        built_in_order[key] = choice
    last_only = {key: choice for i, (key, choice) in enumerate(cast)
                 if all(k != key for k, _ in cast[i + 1:])}
    assert tally(rule, voters, built_in_order) == tally(rule, voters, last_only)
    # Same through households: the first household of each voter casts.
    first_household = {v.key: v.household_ids[0] for v in voters}
    by_household = [(first_household[key], choice) for key, choice in cast]
    assert ballots_by_voter(voters, by_household) == last_only


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rule=rules)
def test_consent_never_exceeds_participation_never_exceeds_entitlement(data, rule):
    voters = data.draw(electorates())
    result = tally(rule, voters, dict(data.draw(cast_ballots(voters))))
    assert 0 <= result.agreeing_area <= result.participating_area <= result.entitled_area
    assert 0 <= result.agreeing_heads <= result.participating_heads <= result.entitled_heads
    assert result.participating_heads == (
        result.agreeing_heads + result.disagreeing_heads + result.abstaining_heads)
    assert result.participating_area == (
        result.agreeing_area + result.disagreeing_area + result.abstaining_area)
    for check in result.checks:
        assert check.value is None or 0 <= check.value <= 1
    assert result.passed == all(check.met for check in result.checks)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_matches_the_civil_code_formula(data):
    voters = data.draw(electorates())
    ballots = dict(data.draw(cast_ballots(voters)))
    area = {v.key: Fraction(v.area) for v in voters}
    total_area, total_heads = sum(area.values(), Fraction(0)), len(voters)
    part_area = sum((area[k] for k in ballots), Fraction(0))
    agree = [k for k, c in ballots.items() if c is AGREE]
    agree_area = sum((area[k] for k in agree), Fraction(0))
    participation = (total_heads > 0 and total_area > 0 and 3 * part_area >= 2 * total_area
                     and 3 * len(ballots) >= 2 * total_heads)
    major = participation and 4 * agree_area >= 3 * part_area and 4 * len(agree) >= 3 * len(ballots)
    ordinary = participation and 2 * agree_area > part_area and 2 * len(agree) > len(ballots)
    assert tally(OWNERS_MAJOR, voters, ballots).passed == major
    assert tally(OWNERS_ORDINARY, voters, ballots).passed == ordinary


@settings(max_examples=200, deadline=None)
@given(data=st.data(), rule=rules)
def test_one_more_agree_never_turns_a_pass_into_a_fail(data, rule):
    voters = data.draw(electorates())
    ballots = dict(data.draw(cast_ballots(voters)))
    if not voters:
        return
    key = data.draw(st.sampled_from([v.key for v in voters]))
    before = tally(rule, voters, ballots)
    after = tally(rule, voters, {**ballots, key: AGREE})
    assert not before.passed or after.passed


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_electorate_conserves_households_and_area(data):
    n = data.draw(st.integers(min_value=0, max_value=30))
    pool = [f"o{i}" for i in range(data.draw(st.integers(min_value=1, max_value=20)))]
    unit_list = [
        OwnerUnit(i, data.draw(areas), data.draw(st.frozensets(st.sampled_from(pool), max_size=3)),
                  data.draw(st.booleans()))
        for i in range(n)
    ]
    voters = build_owner_electorate(unit_list)
    mapping = voter_for_household(voters)
    assert sorted(mapping) == list(range(n))
    assert sum((v.area for v in voters), Decimal(0)) == sum((u.area for u in unit_list), Decimal(0))
    assert len({v.key for v in voters}) == len(voters)
    assert sum(v.key == DEVELOPER_KEY for v in voters) == (1 if any(u.unsold for u in unit_list) else 0)
    # Units sharing an owner always land on the same voter.
    for a in unit_list:
        for b in unit_list:
            if a.owner_ids & b.owner_ids:
                assert mapping[a.household_id] == mapping[b.household_id]
    assert build_owner_electorate(reversed(unit_list)) == voters


@settings(max_examples=100, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=4), max_size=20), data=st.data())
def test_residents_meeting_matches_article_9(sizes, data):
    voters = build_resident_electorate(
        [ResidentHousehold(i, adults) for i, adults in enumerate(sizes)], "adults")
    assert len(voters) == sum(sizes)
    ballots = dict(data.draw(cast_ballots(voters)))
    present = len(ballots)
    agree = sum(1 for c in ballots.values() if c is AGREE)
    expected = 2 * present > len(voters) and 2 * agree > present
    assert tally(RESIDENTS_MEETING, voters, ballots).passed == expected


def test_as_dict_is_an_exact_json_snapshot():
    import json

    voters = owners("100.00", "100.50", "99.50")
    snapshot = tally(OWNERS_MAJOR, voters, votes(AGREE, AGREE, None)).as_dict()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["rule"] == "owners_major"
    assert snapshot["entitled_area"] == "300.00"
    assert snapshot["checks"][0] == {
        "name": "participation_area", "measure": "area", "part": "401/2", "whole": "300",
        "value": "401/600", "required": "2/3", "inclusive": True, "met": True,
    }
    assert snapshot["passed"] is True


def test_kinds_given_as_strings_are_accepted():
    voter = Voter("x", "owners", Decimal("1.00"), (1,))  # type: ignore[arg-type]
    assert voter.kind is ElectorateKind.OWNERS
    rule = Rule("r", "residents", "t", "b", quorum=more_than(1, 2), decision=more_than(1, 2))  # type: ignore[arg-type]
    assert rule.kind is ElectorateKind.RESIDENTS
