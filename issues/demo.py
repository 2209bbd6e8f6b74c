"""Demo renovation issues at every stage, so that a newcomer can click through each
journey (loaded by `flask demo load` after the org tree)."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from orgs.models import Household, LiaisonHousehold, OrgNode, Person
from procedures import demo as procedure_demo
from workflow import engine
from issues.models import RenovationIssue
from issues.services import launch_task, raise_issue

# (title, category, subcategory, description, triggers to fire with the acting account)
DEMANDS = [
    ("3号楼楼道灯不亮", "basic", "stairs", "2单元楼道灯坏了一个多月，晚上老人上下楼不安全。", []),
    ("小区主路坑洼积水", "basic", "roads", "下雨后主路积水严重，希望重新铺设路面。",
     [("member", "escalate"), ("group", "escalate")]),
    ("飞线充电隐患", "improvement", "ebike_shed", "不少住户从楼上拉线给电动车充电，存在火灾隐患，希望建设电动车棚。",
     [("member", "escalate"), ("group", "escalate"), ("grid", "escalate")]),
    ("1号楼加装电梯", "improvement", "elevator", "1号楼1单元多为老年住户，希望加装电梯。",
     [("member", "escalate"), ("group", "escalate"), ("grid", "escalate"), ("community", "include_in_plan"),
      ("community", "start_consultation"), ("community", "open_vote")]),
    ("雨水管破损", "basic", "drainage", "4号楼北侧雨水管断裂。",
     [("member", "escalate"), ("group", "resolve", {"reason": "已联系物业更换雨水管，3天内完成。"})]),
]
TASKS = [
    ("小区外墙保温改造", "basic", "walls", "按街道改造计划，对1-6号楼外墙进行保温改造。",
     [("community", "start_consultation"), ("community", "skip_vote", {"reason": "属于基础类改造，不涉及业主共同决定事项。"}),
      ("community", "notice_period_passed"), ("community", "start_construction"),
      ("builder", "report_progress", {"progress": "60", "reason": "1-4号楼外墙保温层已完成，5-6号楼正在施工。"})]),
]


def _person(username: str) -> Person:
    return db.session.scalar(select(Person).where(Person.username == username))


def _run(issue: RenovationIssue, steps) -> None:
    for step in steps:
        username, trigger, *rest = step
        data = rest[0] if rest else {}
        if trigger in procedure_demo.STEPS:
            procedure_demo.STEPS[trigger](issue, _person(username), _person, **data)
            continue
        engine.fire(RenovationIssue, issue.id, trigger, _person(username), issue.version, **data)


def load() -> str | None:
    if db.session.scalar(select(RenovationIssue.id).limit(1)) is not None:
        return None
    member_org = db.session.scalar(select(OrgNode).where(OrgNode.code == "FSL-C1-G1-B1-M1"))
    neighbours = db.session.scalars(
        select(Household).join(LiaisonHousehold, LiaisonHousehold.household_id == Household.id)
        .where(LiaisonHousehold.org_id == member_org.id).order_by(Household.id)
    ).all()
    created = []
    for index, (title, category, subcategory, description, steps) in enumerate(DEMANDS):
        issue = raise_issue(_person("member"), title=title, description=description, category=category,
                            subcategory=subcategory, place_kind="household",
                            place_id=neighbours[index % len(neighbours)].id)
        _run(issue, steps)
        created.append(issue)
    estate_building = neighbours[0].unit.building
    for title, category, subcategory, description, steps in TASKS:
        issue = launch_task(_person("community"), title=title, description=description, category=category,
                            subcategory=subcategory, place_kind="estate", place_id=estate_building.estate_id)
        _run(issue, steps)
        created.append(issue)
    return f"{len(created)} renovation issues"
