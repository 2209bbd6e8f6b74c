"""Helpers for the vote, notice and consultation tests: stairwell units with chosen
areas and owners, an elevator issue ready for its vote, and short service calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from core.db import write_transaction
from core.extensions import db
from orgs import roles as R
from orgs import services as S
from orgs.models import Household, OrgNode, Person, StairwellUnit
from tests.conftest import PASSWORD
from issues import services
from procedures import notice, demo as procedure_demo, voting
from issues.models import RenovationIssue


def person(username: str) -> Person:
    return db.session.scalar(select(Person).where(Person.username == username))


@dataclass
class Unit:
    """A stairwell unit built for a test: household ids in order, and owner usernames."""

    id: int
    households: list[int]
    owners: dict[str, list[int]] = field(default_factory=dict)


def make_unit(world, areas: list[str], owners: list[list[str]] | None = None, *, unsold: tuple[int, ...] = (),
              adults: int = 2, building_index: int = 0, number: str = "9单元") -> Unit:
    """A new stairwell unit in estate E1 with one household per area.

    owners[i] lists the usernames owning household i (accounts are created once, so
    the same username on two households is one owner of two units)."""
    owners = owners or [[f"o{number}{i}"] for i in range(len(areas))]
    with write_transaction():
        estate = db.session.get(type(world.estate1), world.estate_ids[0])
        building = estate.buildings[building_index]
        unit = S.add_unit(building, number, sort_key=9)
        rows = [S.add_household(unit, f"{i + 1}01", Decimal(area), adult_count=adults, unsold=i in unsold,
                                sort_key=i) for i, area in enumerate(areas)]
        db.session.flush()
        made: dict[str, list[int]] = {}
        for row, names in zip(rows, owners):
            for name in names:
                _link_owner(row, name, made)
        db.session.flush()
        return Unit(unit.id, [row.id for row in rows], made)


def _link_owner(household: Household, username: str, made: dict[str, list[int]]) -> None:
    someone = person(username)
    if someone is None:
        someone = S.add_person(f"业主{username}", username=username, password=PASSWORD)
        node = db.session.scalar(select(OrgNode).where(OrgNode.code == "C1G1B1"))
        S.grant_role(someone, node, R.RESIDENT)
        db.session.flush()
    S.link_household(someone, household, "owner")
    made.setdefault(username, []).append(household.id)


def elevator_issue(unit: Unit | int, subcategory: str = "elevator") -> int:
    """A plan item launched by the community for the unit, in consultation."""
    category = "improvement" if subcategory in ("elevator", "ebike_shed", "parking") else "basic"
    item = services.launch_task(person("community"), title="加装电梯", description="9单元加装电梯",
                                category=category, subcategory=subcategory, place_kind="unit",
                                place_id=unit if isinstance(unit, int) else unit.id)
    fire("community", item.id, "start_consultation")
    return item.id


def issue(issue_id: int) -> RenovationIssue:
    db.session.expire_all()
    return db.session.get(RenovationIssue, issue_id)


def fire(username: str, issue_id: int, trigger: str, **data):
    return services.fire_issue(person(username), issue_id, trigger, issue(issue_id).version, **data)


def open_issue_vote(issue_id: int, username: str = "community", **options) -> int:
    vote = voting.open_vote(person(username), "renovation_issue", issue_id, voting.VoteOptions(**options),
                            issue(issue_id).version)
    return vote.id


def vote(vote_id: int) -> voting.Vote:
    db.session.expire_all()
    return db.session.get(voting.Vote, vote_id)


def cast(username: str, vote_id: int, choice: str, household_id: int | None = None) -> voting.Ballot:
    return voting.cast_ballot(person(username), vote_id, choice, household_id)


def paper(username: str, vote_id: int, *entries: tuple[int, str]) -> list[voting.Ballot]:
    return voting.enter_paper_ballots(person(username), vote_id, [
        voting.PaperBallot(household_id=hid, choice=choice, evidence_ref=f"纸质表决票 {hid}") for hid, choice in entries
    ])


def close(vote_id: int, username: str = "community", **kwargs) -> voting.Vote:
    return voting.close_vote(person(username), vote_id, vote(vote_id).version, **kwargs)


def pass_vote(issue_id: int) -> voting.Vote:
    """The grid worker enters an "agree" paper ballot for every voter; the community closes."""
    return procedure_demo.unanimous_paper_vote(issue_id, person("community"), person("grid"))


def end_notice_period(issue_id: int) -> None:
    """Move the issue's notice into the past, as if its period had run."""
    procedure_demo.notice_period_passed(issue_id)


def unit_households(unit_id: int) -> list[int]:
    return list(db.session.scalars(select(Household.id).where(Household.unit_id == unit_id).order_by(Household.id)))


def unit_row(unit_id: int) -> StairwellUnit:
    return db.session.get(StairwellUnit, unit_id)
