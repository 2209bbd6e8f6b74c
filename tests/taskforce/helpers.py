"""Helpers for the task force tests: a task force for estate E1 with members of several parties."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from core.db import utcnow, write_transaction
from core.extensions import db
from rules.calendar import LOCAL
from tests.issues.helpers import person
from taskforce import services
from taskforce.models import TaskForceMeeting

MEMBERS = (("community", "community"), ("street", "street"), ("resident", "resident_representative"),
           ("builder", "builder"), ("supervisor", "supervisor"))


def set_up(world) -> int:
    task_force = services.set_up(person("community"), world.estate_ids[0])
    for username, party in MEMBERS:
        services.add_member(person("community"), task_force.id, person_id=world.person_ids[username], party=party)
    return task_force.id


def tomorrow() -> datetime:
    return (datetime.now(LOCAL) + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0,
                                                             tzinfo=None)


def schedule(task_force_id: int, **changes) -> list[int]:
    fields = dict(title="工作推进会", starts_at=tomorrow(), location="社区会议室")
    fields.update(changes)
    return [m.id for m in services.schedule_meetings(person("community"), task_force_id, services.Schedule(**fields))]


def move_to_past(meeting_id: int, days: int = 1) -> None:
    """What time does: the meeting's start is now behind us."""
    with write_transaction():
        start = utcnow() - timedelta(days=days)
        db.session.execute(update(TaskForceMeeting).where(TaskForceMeeting.id == meeting_id).values(
            starts_at=start, ends_at=start + timedelta(hours=1)))


def meeting(meeting_id: int) -> TaskForceMeeting:
    db.session.expire_all()
    return db.session.get(TaskForceMeeting, meeting_id)


def member_ids(task_force_id: int, *usernames: str) -> list[int]:
    task_force = services.get_task_force(person("community"), task_force_id)
    return [m.id for m in task_force.active_members if m.person.username in usernames]


def held_with_minutes(world, present=("community", "resident", "builder")) -> tuple[int, int]:
    """A task force and a meeting held yesterday with drafted minutes; (task force, meeting)."""
    task_force_id = set_up(world)
    (meeting_id,) = schedule(task_force_id)
    move_to_past(meeting_id)
    services.record_attendance(person("community"), meeting_id, None, member_ids(task_force_id, *present))
    services.draft_minutes(person("community"), meeting_id, None, "施工进度通报：外墙完成80%。", "夜间禁止施工。")
    return task_force_id, meeting_id
