"""Demo data: the task force of 翠湖小区 with members of every party present in the demo,
a progress meeting held last week with signed minutes and two action items, and a
fortnightly series of meetings ahead. Idempotent."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.db import utcnow
from core.extensions import db
from orgs.models import Estate, Person
from rules.calendar import LOCAL
from taskforce import services
from taskforce.models import TaskForceMeeting

ESTATE_CODE = "FSL-E1"
MEMBERS = (
    ("street", "street", "街道城建办"),
    ("community", "community", "专班召集人"),
    ("member", "party_member", "党员志愿监督员"),
    ("resident", "resident_representative", "居民代表"),
    ("owners", "owners_committee", "业委会主任"),
    ("property", "property", "物业项目经理"),
    ("builder", "builder", "施工项目经理"),
    ("supervisor", "supervisor", "总监理工程师"),
)
MINUTES = (
    "一、施工方通报：3号楼、5号楼外墙保温完成80%，雨污分流管网开挖完成两段。\n"
    "二、监理方通报：抽检外墙保温锚栓12处，1处不合格，已要求返工。\n"
    "三、居民代表反映：夜间施工噪声扰民，材料堆放占用消防通道。\n"
    "四、物业反映：改造后新增的电动车充电桩需明确接管时间。"
)
DECISIONS = "1. 22时后禁止噪声作业；2. 三日内清理消防通道；3. 充电桩于竣工验收后移交物业。"


def load() -> str | None:
    estate = db.session.scalar(select(Estate).where(Estate.code == ESTATE_CODE))
    if estate is None or services.task_force_of_estate(estate.id) is not None:
        return None
    people = {p.username: p for p in db.session.scalars(select(Person).where(Person.username.isnot(None)))}
    community = people.get("community")
    if community is None:
        return None
    task_force = services.set_up(community, estate.id, "翠湖小区改造工作专班")
    for username, party, duty in MEMBERS:
        if username in people:
            services.add_member(community, task_force.id, person_id=people[username].id, party=party, duty=duty)
    tomorrow = (datetime.now(LOCAL) + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    held, *_ = services.schedule_meetings(community, task_force.id, services.Schedule(
        title="第一次工作推进会", starts_at=tomorrow.replace(tzinfo=None), location="翠湖社区党群服务中心"))
    # The demo's first meeting took place last week (a meeting is never scheduled in the past).
    last_week = utcnow() - timedelta(days=7)
    db.session.execute(update(TaskForceMeeting).where(TaskForceMeeting.id == held.id).values(
        starts_at=last_week, ends_at=last_week + timedelta(minutes=90)))
    db.session.expire_all()
    members = services.get_task_force(community, task_force.id).active_members
    services.record_attendance(community, held.id, None, [m.id for m in members if m.party != "utility"])
    services.draft_minutes(community, held.id, None, MINUTES, DECISIONS)
    today = datetime.now(LOCAL).date()
    services.add_action_item(community, held.id, title="清理3号楼消防通道堆放材料", kind="dispatch",
                             due_on=today + timedelta(days=3))
    services.add_action_item(community, held.id, title="外墙保温锚栓返工复检", kind="issue", category="basic",
                             subcategory="walls", due_on=today + timedelta(days=10))
    for member in members:
        services.approve_minutes(member.person, held.id, None)
    services.sign_minutes(community, held.id, None)
    services.schedule_meetings(community, task_force.id, services.Schedule(
        title="工作推进会", starts_at=(tomorrow + timedelta(days=7)).replace(tzinfo=None), location="翠湖社区党群服务中心",
        every_days=14, count=6))
    return "task force: 翠湖小区"
