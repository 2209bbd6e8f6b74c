"""Helpers for the joint acceptance tests: finished work awaiting inspection, a second
resident representative, and inspections walked step by step."""
from __future__ import annotations

from sqlalchemy import select

from core.db import write_transaction
from core.extensions import db
from orgs import roles as R
from orgs import services as S
from orgs.models import Household, OrgNode, Person
from tests.conftest import PASSWORD
from acceptance import services as acceptance
from issues import services
from procedures import demo as procedure_demo
from acceptance.models import JointInspection
from issues.models import RenovationIssue
from issues.renovation import WORKFLOW as ISSUE_WORKFLOW

SIGNERS = [("community", "community_committee"), ("street", "street_committee"),
           ("supervisor", "supervision_company"), ("builder", "construction_company"),
           ("property", "property_company"), ("resident", "resident_representative"),
           ("resident2", "resident_representative")]


def person(username: str) -> Person:
    return db.session.scalar(select(Person).where(Person.username == username))


def issue(issue_id: int) -> RenovationIssue:
    db.session.expire_all()
    return db.session.get(RenovationIssue, issue_id)


def inspection_of(issue_id: int) -> JointInspection:
    db.session.expire_all()
    return acceptance.covering_inspection(db.session.get(RenovationIssue, issue_id))


def fire(username: str, issue_id: int, trigger: str, **data) -> RenovationIssue:
    return services.fire_issue(person(username), issue_id, trigger, issue(issue_id).version, **data)


def add_resident(username: str, household_id: int, relation: str = "resident") -> int:
    """An account living in a household, with the resident role on its building group."""
    with write_transaction():
        household = db.session.get(Household, household_id)
        someone = S.add_person(f"居民{username}", username=username, password=PASSWORD)
        S.link_household(someone, household, relation)
        group = household.unit.building.org or db.session.get(OrgNode, household.estate.org_id)
        S.grant_role(someone, group, R.RESIDENT)
    return someone.id


def finished_issue(world, *, category: str = "basic", subcategory: str = "stairs", household_index: int = 0,
                   username: str = "resident") -> int:
    """A demand walked up, planned, through notice and construction: the joint inspection
    opens when the construction company reports it finished."""
    issue_id = services.raise_issue(
        person(username), title="楼道扶手松动", description="2单元扶手松动", category=category,
        subcategory=subcategory, place_kind="household", place_id=world.household_ids[household_index],
    ).id
    for reviewer in ("member", "group", "grid"):
        if ISSUE_WORKFLOW.allowed(issue(issue_id), person(reviewer), "escalate"):
            fire(reviewer, issue_id, "escalate")
    fire("community", issue_id, "include_in_plan")
    fire("community", issue_id, "start_consultation")
    fire("community", issue_id, "skip_vote", reason="基础类改造")
    procedure_demo.notice_period_passed(issue_id)
    fire("community", issue_id, "start_construction")
    fire("builder", issue_id, "finish_construction")
    return issue_id


def with_second_representative(world) -> None:
    if person("resident2") is None:
        add_resident("resident2", world.household_ids[5])


def record(inspection_id: int, results: dict[int, str] | None = None, default: str = "pass",
           username: str = "supervisor") -> None:
    """Record every item of the current round (results by item position), then submit."""
    db.session.expire_all()
    current = db.session.get(JointInspection, inspection_id)
    for check in current.checks():
        result = (results or {}).get(check.item.position, default)
        acceptance.record_item(person(username), inspection_id, None, item_id=check.item_id, result=result,
                               notes="需整改" if result == "fail" else "")


def submit(inspection_id: int, username: str = "supervisor") -> JointInspection:
    return acceptance.submit_findings(person(username), inspection_id, None)


def sign_all(inspection_id: int, skip: tuple[str, ...] = ()) -> None:
    for username, party in SIGNERS:
        if username not in skip:
            acceptance.sign(person(username), inspection_id, None, party=party, decision="approve", comment="同意")


def pass_inspection(world, issue_id: int, skip: tuple[str, ...] = ()) -> int:
    """Every item passes and every party approves (except `skip`): returns the inspection id."""
    with_second_representative(world)
    inspection_id = inspection_of(issue_id).id
    record(inspection_id)
    submit(inspection_id)
    sign_all(inspection_id, skip)
    return inspection_id
