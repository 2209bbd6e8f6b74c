"""Demo data: an elevator retrofit consent (加装电梯意愿征集) sent down from 翠湖社区 to
the member households of 翠湖小区, partly carried out and reported.

Registered with orgs.demo.add_loader by workflow.dispatch; idempotent (returns None
when the dispatch exists already or the demo org tree is missing).
"""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from orgs.models import Estate, OrgNode, Person
from dispatch import services
from dispatch.models import Dispatch, DispatchAssignment, unit_lines

ESTATE_CODE = "FSL-E1"
TITLE = "翠湖小区加装电梯意愿征集"
BODY = (
    "根据《民法典》第二百七十八条，加装电梯需经本单元业主共同决定。请各网格、楼院党小组和党员中心户"
    "在本周内逐户走访联系户，讲清政策和费用分摊方案，按单元统计同意加装的户数并逐级上报。"
)
# (account, org node, triggers) in the order the demo walks them.
STEPS = (
    ("grid", "FSL-C1-G1", ("acknowledge", "forward")),
    ("group", "FSL-C1-G1-B1", ("acknowledge", "forward")),
    ("member", "FSL-C1-G1-B1-M1", ("acknowledge",)),
)
MEMBER_NODE = "FSL-C1-G1-B1-M1"


def load() -> str | None:
    estate = db.session.scalar(select(Estate).where(Estate.code == ESTATE_CODE))
    if estate is None or db.session.scalar(select(Dispatch.id).where(Dispatch.title == TITLE)) is not None:
        return None
    people = {p.username: p for p in db.session.scalars(
        select(Person).where(Person.username.in_(["community", "grid", "group", "member"]))
    )}
    if len(people) < 4:
        return None
    dispatch = services.launch(people["community"], title=TITLE, body=BODY, kind="consent",
                               origin_org_id=estate.org_id, estate_id=estate.id)
    for username, code, triggers in STEPS:
        for trigger in triggers:
            services.fire_assignment(people[username], _assignment(dispatch, code).id, trigger, None)
    _member_reports(dispatch, people["member"])
    return "dispatch: elevator consent"


def _assignment(dispatch: Dispatch, code: str) -> DispatchAssignment:
    return db.session.scalar(
        select(DispatchAssignment).join(OrgNode, OrgNode.id == DispatchAssignment.org_id)
        .where(DispatchAssignment.dispatch_id == dispatch.id, OrgNode.code == code)
    )


def _member_reports(dispatch: Dispatch, member: Person) -> None:
    """The member household visited every household it looks after; about three in
    four consent in each stairwell unit."""
    assignment = _assignment(dispatch, MEMBER_NODE)
    lines = unit_lines(assignment.org, dispatch.estate_id)
    consents = {line.unit_id: line.households * 3 // 4 for line in lines}
    services.complete(member, assignment.id, None, reached=sum(line.households for line in lines),
                      consents=consents, reason="已逐户上门讲解，两户外出务工，电话联系同意。")
    services.report_up(member, assignment.id, None)
