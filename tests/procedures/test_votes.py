"""Votes through the services on the database: snapshot, ballots, replacement, visibility,
permissions and the boundaries of each rule (the pure arithmetic is in test_tally.py)."""
from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from orgs import services as S
from orgs.models import Household, HouseholdPerson
from procedures import subjects, voting
from rules import tally
from workflow import audit
from procedures.voting import Ballot
from tests.procedures.vote_helpers import (
    cast,
    close,
    elevator_issue,
    fire,
    issue,
    make_unit,
    open_issue_vote,
    paper,
    person,
    vote,
)


def ballots(vote_id: int, current_only: bool = False) -> int:
    stmt = select(func.count()).select_from(Ballot).where(Ballot.vote_id == vote_id)
    if current_only:
        stmt = stmt.where(Ballot.is_current.is_(True))
    return db.session.scalar(stmt)


def checks(vote_id: int) -> dict[str, bool]:
    data = json.loads(vote(vote_id).result_json)
    return {c["name"]: c["met"] for c in data["checks"]} | {"passed": data["passed"]}


# --- opening -----------------------------------------------------------------------


def test_elevator_vote_opens_with_the_three_quarters_rule_on_the_issue_unit(app, world):
    with app.app_context():
        unit = make_unit(world, ["80", "90", "100"])
        issue_id = elevator_issue(unit)
        vote_id = open_issue_vote(issue_id)
        opened = vote(vote_id)
        assert issue(issue_id).state == "voting"
        assert (opened.state, opened.rule_name, opened.scope_kind, opened.scope_id) == ("open", "owners_major", "unit", unit.id)
        assert (opened.voter_count, opened.household_count, opened.entitled_area) == (3, 3, Decimal("270.00"))
        assert [e.trigger for e in audit.timeline(opened)] == ["open"]


def test_firing_open_vote_on_the_issue_page_opens_the_vote_with_defaults(app, world):
    with app.app_context():
        unit = make_unit(world, ["80", "90"])
        issue_id = elevator_issue(unit)
        fire("community", issue_id, "open_vote")
        opened = voting.latest_vote("renovation_issue", issue_id)
        assert (opened.scope_kind, opened.rule_name) == ("unit", "owners_major")


def test_a_weaker_rule_than_the_legal_default_is_refused(app, world):
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["80", "90"]))
        with pytest.raises(ValidationError):
            open_issue_vote(issue_id, rule_name="owners_ordinary")
        assert issue(issue_id).state == "consultation"
        assert db.session.scalar(select(func.count()).select_from(voting.Vote)) == 0


def test_a_city_policy_with_a_stricter_elevator_rule_applies(app, world):
    app.config["CITY_POLICY"] = "example-unit-two-thirds"
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["80", "90"]))
        vote_id = open_issue_vote(issue_id)
        assert vote(vote_id).rule_name == "unit_owners_two_thirds"


def test_a_stricter_rule_than_the_default_may_be_chosen(app, world, ordinary_matter):
    with app.app_context():
        opened = voting.open_vote(person("community"), ordinary_matter, _plan_id(world),
                                  voting.VoteOptions(rule_name="owners_major"))
        assert opened.rule_name == "owners_major"


def test_an_empty_electorate_cannot_vote(app, world):
    with app.app_context():
        with write_transaction():
            building = db.session.get(type(world.estate1), world.estate_ids[0]).buildings[0]
            empty = S.add_unit(building, "空单元", sort_key=8)
            db.session.flush()
            empty_id = empty.id
        issue_id = elevator_issue(empty_id)
        with pytest.raises(ValidationError):
            open_issue_vote(issue_id)
        assert issue(issue_id).state == "consultation"


def test_scope_outside_the_items_estate_is_refused(app, world):
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["80"]))
        with pytest.raises(ValidationError):
            open_issue_vote(issue_id, scope_kind="estate", scope_id=world.estate_ids[1])


# --- snapshot ------------------------------------------------------------------------


def test_roster_changes_after_opening_do_not_change_the_open_vote(app, world):
    with app.app_context():
        unit = make_unit(world, ["100", "100", "100"], [["a1"], ["a2"], ["a3"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        with write_transaction():
            sold = db.session.get(Household, unit.households[0])
            sold.area = Decimal("500")
            db.session.execute(HouseholdPerson.__table__.delete().where(HouseholdPerson.household_id == sold.id))
            S.link_household(person("resident"), sold, "owner")
        with pytest.raises(NotPermitted):
            cast("resident", vote_id, "agree")
        cast("a1", vote_id, "agree")
        cast("a2", vote_id, "agree")
        close(vote_id)
        result = voting.stored_result(vote(vote_id))
        assert result.entitled_area == Decimal("300.00")
        assert result.agreeing_area == Decimal("200.00")
        assert vote(vote_id).passed is True


# --- boundaries through the services ---------------------------------------------


def test_exactly_two_thirds_taking_part_and_all_agreeing_passes(app, world):
    with app.app_context():
        unit = make_unit(world, ["100", "100", "100"], [["b1"], ["b2"], ["b3"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        cast("b1", vote_id, "agree")
        cast("b2", vote_id, "agree")
        close(vote_id)
        result = voting.stored_result(vote(vote_id))
        assert result.check("participation_area").value == Fraction(2, 3)
        assert result.check("participation_heads").value == Fraction(2, 3)
        assert checks(vote_id)["passed"] is True


def test_one_square_metre_short_of_two_thirds_of_the_area_fails(app, world):
    with app.app_context():
        unit = make_unit(world, ["100", "99", "101"], [["c1"], ["c2"], ["c3"]])
        issue_id = elevator_issue(unit)
        vote_id = open_issue_vote(issue_id)
        cast("c1", vote_id, "agree")
        cast("c2", vote_id, "agree")
        close(vote_id)
        outcome = checks(vote_id)
        assert outcome["participation_heads"] is True
        assert outcome["participation_area"] is False
        assert outcome["passed"] is False
        assert voting.stored_result(vote(vote_id)).participating_area == Decimal("199.00")
        assert issue(issue_id).state == "planned"


def test_exactly_three_quarters_consent_passes_the_major_rule(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"] * 4, [["d1"], ["d2"], ["d3"], ["d4"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        for name in ("d1", "d2", "d3"):
            cast(name, vote_id, "agree")
        cast("d4", vote_id, "disagree")
        close(vote_id)
        assert voting.stored_result(vote(vote_id)).check("consent_heads").value == Fraction(3, 4)
        assert checks(vote_id)["passed"] is True


def test_abstaining_takes_part_but_does_not_consent(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"] * 3, [["e1"], ["e2"], ["e3"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        cast("e1", vote_id, "agree")
        cast("e2", vote_id, "agree")
        cast("e3", vote_id, "abstain")
        close(vote_id)
        outcome = checks(vote_id)
        assert outcome["participation_heads"] and outcome["participation_area"]
        assert not outcome["consent_heads"] and not outcome["passed"]


@pytest.fixture
def ordinary_matter(app):
    """A target kind whose default is the majority rule (management rules, item 2)."""
    def resolver(ident: int):
        from issues.models import EstatePlan

        plan = db.session.get(EstatePlan, ident)
        if plan is None:
            return None
        return subjects.Target("test_rules", plan.id, plan, plan.estate_id, plan.path, plan.title,
                               tally.SubjectKind.MANAGEMENT_RULES)

    subjects.register_target("test_rules", resolver)
    yield "test_rules"
    subjects._KINDS.pop("test_rules")


def _plan_id(world) -> int:
    from issues.services import plan_for

    with write_transaction():
        return plan_for(db.session.get(type(world.estate1), world.estate_ids[0])).id


def test_exactly_half_consent_is_not_more_than_half(app, world, ordinary_matter):
    with app.app_context():
        unit = make_unit(world, ["90"] * 4, [["f1"], ["f2"], ["f3"], ["f4"]])
        opened = voting.open_vote(person("community"), ordinary_matter, _plan_id(world),
                                  voting.VoteOptions(scope_kind="unit", scope_id=unit.id))
        assert opened.rule_name == "owners_ordinary"
        cast("f1", opened.id, "agree")
        cast("f2", opened.id, "agree")
        cast("f3", opened.id, "disagree")
        cast("f4", opened.id, "disagree")
        close(opened.id)
        outcome = checks(opened.id)
        assert outcome["consent_heads"] is False and outcome["consent_area"] is False
        assert outcome["passed"] is False


def test_owner_of_two_units_counts_once_with_both_areas(app, world):
    with app.app_context():
        unit = make_unit(world, ["60", "70", "100", "100"], [["g1"], ["g1"], ["g2"], ["g3"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        assert vote(vote_id).voter_count == 3
        cast("g1", vote_id, "agree", unit.households[0])
        cast("g1", vote_id, "disagree", unit.households[1])
        cast("g2", vote_id, "agree")
        close(vote_id)
        result = voting.stored_result(vote(vote_id))
        assert (result.disagreeing_heads, result.disagreeing_area) == (1, Decimal("130.00"))
        assert (result.participating_heads, result.entitled_heads) == (2, 3)


def test_unsold_units_count_as_one_developer_entered_on_paper(app, world):
    with app.app_context():
        unit = make_unit(world, ["80", "80", "80", "80"], [["h1"], ["h2"], [], []], unsold=(2, 3))
        vote_id = open_issue_vote(elevator_issue(unit))
        assert vote(vote_id).voter_count == 3
        with pytest.raises(ValidationError):
            paper("grid", vote_id, (unit.households[2], "agree"), (unit.households[3], "agree"))
        assert ballots(vote_id) == 0
        paper("grid", vote_id, (unit.households[3], "agree"))
        cast("h1", vote_id, "agree")
        close(vote_id)
        result = voting.stored_result(vote(vote_id))
        assert (result.agreeing_heads, result.agreeing_area) == (2, Decimal("240.00"))
        assert result.passed is True


# --- ballots ---------------------------------------------------------------------------


def test_a_later_ballot_replaces_the_earlier_and_history_is_kept(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"] * 3, [["k1"], ["k2"], ["k3"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        cast("k1", vote_id, "agree")
        paper("grid", vote_id, (unit.households[0], "disagree"))
        assert (ballots(vote_id), ballots(vote_id, current_only=True)) == (2, 1)
        mine = voting.my_ballots(person("k1"), vote(vote_id))
        assert [(b.choice, b.channel, b.is_current) for b in mine] == [
            ("disagree", "paper", True), ("agree", "online", False)]
        assert mine[0].cast_by_id == person("grid").id and mine[0].evidence_ref
        close(vote_id)
        assert voting.stored_result(vote(vote_id)).disagreeing_heads == 1


def test_ballot_after_close_is_refused_and_nothing_changes(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"] * 2, [["m1"], ["m2"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        cast("m1", vote_id, "agree")
        close(vote_id)
        before = vote(vote_id).result_json
        with pytest.raises(InvalidTransition):
            cast("m2", vote_id, "agree")
        with pytest.raises(InvalidTransition):
            paper("grid", vote_id, (unit.households[1], "agree"))
        assert ballots(vote_id) == 1 and vote(vote_id).result_json == before


def test_ballot_from_outside_the_electorate_is_refused(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"] * 2, [["n1"], ["n2"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        with pytest.raises(NotPermitted):
            cast("resident", vote_id, "agree")
        with pytest.raises(ValidationError):
            paper("grid", vote_id, (world.household_ids[0], "agree"))
        assert ballots(vote_id) == 0


def test_unknown_choice_is_refused(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"], [["p1"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        for bad in ("yes", "", None, ["agree"], 1):
            with pytest.raises(ValidationError):
                cast("p1", vote_id, bad)
        assert ballots(vote_id) == 0


def test_every_ballot_is_chained_into_the_votes_audit_log(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"] * 2, [["q1"], ["q2"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        cast("q1", vote_id, "agree")
        cast("q1", vote_id, "disagree")
        close(vote_id)
        entries = audit.timeline(vote(vote_id))
        assert [e.trigger for e in entries] == ["open", "ballot", "ballot", "close"]
        assert "agree" not in entries[1].payload
        assert entries[-1].data["ballots_digest"] == voting.ballots_digest(vote_id)
        assert audit.verify() == []


# --- visibility ------------------------------------------------------------------------


def test_result_is_refused_before_close(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"], [["r1"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        cast("r1", vote_id, "agree")
        with pytest.raises(InvalidTransition):
            voting.result(person("community"), vote_id)
        assert vote(vote_id).result_json is None and vote(vote_id).passed is None


# --- permissions -----------------------------------------------------------------------


def test_only_community_or_street_officers_open_votes(app, world):
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["90"]))
        for username, error in (("grid", NotPermitted), ("resident", NotFound), ("community2", NotFound)):
            with pytest.raises(error):
                open_issue_vote(issue_id, username=username)
        assert open_issue_vote(issue_id, username="street")


def test_only_officers_close_votes(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"], [["s1"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        for username, error in (("grid", NotPermitted), ("s1", NotPermitted), ("community2", NotFound)):
            with pytest.raises(error):
                close(vote_id, username=username)
        assert vote(vote_id).state == "open"
        assert close(vote_id, username="street").state == "closed"


def test_paper_ballots_only_by_the_grid_worker_of_the_household(app, world):
    with app.app_context():
        unit = make_unit(world, ["90", "90"], [["t1"], ["t2"]])
        vote_id = open_issue_vote(elevator_issue(unit))
        for username, error in (("community", NotPermitted), ("t1", NotPermitted), ("grid2", NotFound)):
            with pytest.raises(error):
                paper(username, vote_id, (unit.households[0], "agree"))
        assert ballots(vote_id) == 0
        assert [b.cast_by_id for b in paper("grid", vote_id, (unit.households[0], "agree"))] == [person("grid").id]


def test_paper_ballot_for_a_household_of_another_grid_is_refused(app, world):
    with app.app_context():
        with write_transaction():
            community = db.session.get(type(world.nodes["C1"]), world.node_ids["C1"])
            grid = S.add_org_node(community, "grid_branch", "C1G2", "第1社区第2网格")
            estate = db.session.get(type(world.estate1), world.estate_ids[0])
            building = S.add_building(estate, "3号楼", org=grid, sort_key=3)
            other = S.add_unit(building, "1单元")
            far = S.add_household(other, "101", Decimal("95"), adult_count=1)
            db.session.flush()
            far_id = far.id
        opened = voting.open_vote(person("community"), "estate_plan", _plan_id(world), voting.VoteOptions())
        assert opened.scope_kind == "estate"
        with pytest.raises(NotPermitted):
            paper("grid", opened.id, (far_id, "agree"), (world.household_ids[1], "agree"))
        assert ballots(opened.id) == 0
        paper("grid", opened.id, (world.household_ids[1], "agree"))
        assert ballots(opened.id) == 1


def test_two_open_votes_on_one_item_are_refused(app, world):
    with app.app_context():
        plan_id = _plan_id(world)
        voting.open_vote(person("community"), "estate_plan", plan_id, voting.VoteOptions())
        with pytest.raises(InvalidTransition):
            voting.open_vote(person("community"), "estate_plan", plan_id, voting.VoteOptions())


# --- property: re-voting replaces, order does not matter --------------------------------

VOTERS = ("z1", "z2", "z3", "z4")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(casts=st.lists(st.tuples(st.sampled_from(range(4)), st.sampled_from(voting.CHOICES)), max_size=12),
       data=st.data())
def test_re_voting_replaces_and_the_order_of_voters_does_not_matter(app, world, casts, data):
    with app.app_context():
        unit = _property_unit(world)
        plan_id = _plan_id(world)
        first = _vote_on(plan_id, unit, casts)
        last = {index: choice for index, choice in casts}
        reordered = data.draw(st.permutations(list(last.items())))
        second = _vote_on(plan_id, unit, reordered)
        assert ballots(first) == len(casts)
        assert ballots(first, current_only=True) == len(last)
        one, two = voting.stored_result(vote(first)), voting.stored_result(vote(second))
        assert (one.agreeing_heads, one.disagreeing_heads, one.abstaining_heads) == (
            sum(c == "agree" for c in last.values()), sum(c == "disagree" for c in last.values()),
            sum(c == "abstain" for c in last.values()))
        assert json.loads(vote(first).result_json) == json.loads(vote(second).result_json)


def _property_unit(world) -> int:
    """The four-owner unit of the property test, made by the first example."""
    if person("z1") is None:
        return make_unit(world, ["61.25", "70.5", "88", "99.99"], [[name] for name in VOTERS], number="性质单元").id
    return db.session.scalar(select(Household.unit_id).join(HouseholdPerson).where(
        HouseholdPerson.person_id == person("z1").id))


def _vote_on(plan_id: int, unit_id: int, casts) -> int:
    opened = voting.open_vote(person("community"), "estate_plan", plan_id,
                              voting.VoteOptions(scope_kind="unit", scope_id=unit_id))
    for index, choice in casts:
        cast(VOTERS[index], opened.id, choice)
    close(opened.id)
    return opened.id
