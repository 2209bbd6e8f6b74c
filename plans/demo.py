"""Demo data: 翠湖小区's plan for this year in public and its demand collection campaign.

As in the seed article (浮山路街道): demands were collected before design (问需于民) -
road paving, charging, overhead wires underground, elevators - and the plan (一小区一方案)
is published with its budget, items and progress bulletins. Runs after the issues'
demo (their demands are linked to the campaign, the planned ones listed as items);
idempotent (None when the estate's plan has its record already, or the demo tree is missing).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db
from orgs.models import Estate, Household, LiaisonHousehold, OrgNode, Person
from workflow import engine
from issues.models import RenovationIssue, plan_for
from issues.services import raise_issue
from plans import services
from plans.models import PlanRecord

ESTATE_CODE = "FSL-E1"
SUMMARY = (
    "按照“一小区一方案”，在充分征集居民需求的基础上，对翠湖小区实施基础类、完善类改造："
    "外墙保温、雨污分流、飞线入地、道路铺设、电动车棚和加装电梯。改造工作专班定期召开推进会并通报进展。"
)
# (title, category, state, progress, days until the deadline, level, budget)
ITEMS = [
    ("小区道路重新铺设", "basic", "in_progress", 40, 45, "community_committee", "620000.00"),
    ("雨污分流管网改造", "basic", "planned", 0, 120, "street_committee", "980000.00"),
    ("强弱电飞线入地", "basic", "in_progress", 25, 90, "community_committee", "450000.00"),
    ("电动车棚及充电设施", "improvement", "planned", 0, 75, "grid_branch", "210000.00"),
    ("楼道照明更换", "basic", "done", 100, -10, "building_group", "36000.00"),
]
BUDGET = {"total": "3860000.00", "government": "2600000.00", "owners": "860000.00", "social": "400000.00"}
BULLETINS = [
    ("第一次工作推进会召开", "街道、社区、党员、居民代表、业委会、物业、施工方、监理方参加，确定道路施工分三段进行，避开早晚高峰。"),
    ("楼道照明更换完成", "全部24个单元楼道灯已更换为声控LED灯，请居民监督使用情况。"),
    ("道路铺设第一段完工", "1-3号楼前道路已完成铺设，第二段施工期间请车辆绕行北门。"),
]


# More demands the member household collected door to door during the campaign, as in the
# seed (路面铺设、充电桩规划、飞线入地、加装电梯...): (title, category, subcategory, outcome, reason).
DEMANDS = [
    ("北门路面破损", "basic", "roads", None, ""),
    ("增设电动自行车充电桩", "improvement", "ebike_shed", None, ""),
    ("楼前飞线太多，希望入地", "basic", "wires", None, ""),
    ("2号楼加装电梯", "improvement", "elevator", None, ""),
    ("单元门禁损坏", "basic", "stairs", "resolve", "物业已更换门禁，当天修复。"),
    ("把小区绿地改成停车位", "improvement", "parking", "reject",
     "绿地属于规划绿化用地，不能改为停车位；已在方案中增加北侧停车位。"),
]
MEMBER_NODE = "FSL-C1-G1-B1-M1"
RESIDENT_DEMAND = ("希望在小区里建一个快递柜", "improvement", "parcel_lockers",
                   "快递柜由快递企业投放，社区已与物业联系选址，本次改造不列入。")


def _person(username: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.username == username))


def load() -> str | None:
    estate = db.session.scalar(select(Estate).where(Estate.code == ESTATE_CODE))
    community, builder = _person("community"), _person("builder")
    if estate is None or community is None or builder is None:
        return None
    plan = plan_for(estate)
    if db.session.scalar(select(PlanRecord.id).where(PlanRecord.plan_id == plan.id)) is not None:
        return None
    plan.summary = SUMMARY
    record = services.create_plan(community, estate_id=estate.id, year=plan.year)
    services.set_budget(community, record.id, None, **BUDGET)
    services.import_plan_issues(community, record.id, None)
    today = services.local_today()
    for title, category, state, progress, days, level, budget in ITEMS:
        services.add_item(community, record.id, None, {
            "title": title, "category": category, "state": state, "progress": progress,
            "deadline": (today + timedelta(days=days)).isoformat(), "level": level, "budget": budget,
        })
    for index, (title, body) in enumerate(BULLETINS):
        services.post_bulletin(builder if index == 2 else community, record.id, title=title, body=body)
    services.fire(community, record.id, "publish", None)
    campaign = services.create_campaign(
        community, estate_id=estate.id, title="翠湖小区改造问需于民",
        description="改造设计前，请各位居民提出最关心的改造需求：路面、充电、飞线、电梯、绿化……党员中心户将逐户走访收集。",
        opens_on=(today - timedelta(days=30)).isoformat(), closes_on=(today + timedelta(days=14)).isoformat(),
    )
    _campaign_demands(estate)
    linked = services.collect(community, campaign.id)
    items = len(services.items(record))
    return f"estate plan with {items} items, campaign with {linked} demands"


def _campaign_demands(estate: Estate) -> None:
    """Demands raised during the campaign: by the member household for its neighbours,
    one by the demo resident, which the building group turns down with a reason she reads."""
    member = _person("member")
    node = db.session.scalar(select(OrgNode).where(OrgNode.code == MEMBER_NODE))
    if member is None or node is None:
        return
    neighbours = db.session.scalars(
        select(Household).join(LiaisonHousehold, LiaisonHousehold.household_id == Household.id)
        .where(LiaisonHousehold.org_id == node.id, Household.estate_id == estate.id).order_by(Household.id)
    ).all()
    for index, (title, category, subcategory, outcome, reason) in enumerate(DEMANDS):
        if not neighbours:
            break
        issue = raise_issue(member, title=title, description=title, category=category, subcategory=subcategory,
                            place_kind="household", place_id=neighbours[index % len(neighbours)].id)
        if outcome:
            engine.fire(RenovationIssue, issue.id, outcome, member, issue.version, reason=reason)
    resident = _person("resident")
    if resident is not None and resident.household_ids:
        title, category, subcategory, reason = RESIDENT_DEMAND
        issue = raise_issue(resident, title=title, description=title, category=category, subcategory=subcategory,
                            place_kind="household", place_id=min(resident.household_ids))
        actor = {"review_household": member, "review_building": _person("group")}.get(issue.state)
        if actor is not None:
            engine.fire(RenovationIssue, issue.id, "reject", actor, issue.version, reason=reason)
