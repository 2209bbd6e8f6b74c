"""Consultation: meeting records with participants and attachments, residents' comments
on the estate plan and the staff's answers."""
from __future__ import annotations

from datetime import date

import pytest

from core.db import write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from procedures import consultation
from procedures.consultation import File, MeetingRecord
from issues.services import plan_for
from tests.procedures.vote_helpers import elevator_issue, make_unit, person

PDF = b"%PDF-1.4 minutes scan"


def plan_id(world) -> int:
    with write_transaction():
        return plan_for(db.session.get(type(world.estate1), world.estate_ids[0])).id


def record(**overrides) -> MeetingRecord:
    fields = dict(
        kind="residents", held_on=date(2026, 3, 2), place="翠湖社区党群服务中心",
        agenda="1号楼1单元加装电梯方案", minutes="居民代表对电梯井位置提出意见。", decisions="请设计院调整电梯井位置后再议。",
        participants=(("community", "李书记"), ("resident", "刘阿姨"), ("design", "设计院张工")),
        attachments=(File("签到表.pdf", "application/pdf", PDF),),
    )
    fields.update(overrides)
    return MeetingRecord(**fields)


def test_a_meeting_is_recorded_with_participants_by_role_and_attachments(app, world):
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["90"]))
        meeting = consultation.record_meeting(person("community"), "renovation_issue", issue_id, record())
        stored = consultation.get_meeting(person("resident"), meeting.id)
        assert [(p.role, p.name) for p in stored.participants] == [
            ("community", "李书记"), ("resident", "刘阿姨"), ("design", "设计院张工")]
        item, data = consultation.attachment(person("grid"), meeting.id, stored.attachments[0].id)
        assert (item.filename, data) == ("签到表.pdf", PDF)
        assert [m.id for m in consultation.meetings_for("renovation_issue", issue_id)] == [meeting.id]


def test_a_meeting_may_concern_the_estate_plan(app, world):
    with app.app_context():
        meeting = consultation.record_meeting(person("street"), "estate_plan", plan_id(world),
                                              record(kind="task_force", attachments=()))
        assert (meeting.target_type, meeting.kind) == ("estate_plan", "task_force")


@pytest.mark.parametrize("overrides", [
    {"kind": "party"}, {"held_on": None}, {"place": " "}, {"minutes": "", "decisions": ""},
    {"participants": (("mayor", "某人"),)}, {"participants": (("resident", ""),)},
    {"attachments": (File("evil.exe", "application/pdf", b"MZ..."),)},
])
def test_an_incomplete_meeting_record_is_refused(app, world, overrides):
    with app.app_context():
        with pytest.raises(ValidationError):
            consultation.record_meeting(person("community"), "estate_plan", plan_id(world), record(**overrides))
        assert db.session.scalar(db.select(db.func.count()).select_from(consultation.Meeting)) == 0


def test_only_officers_record_meetings(app, world):
    with app.app_context():
        target = plan_id(world)
        for username, error in (("grid", NotPermitted), ("resident", NotPermitted), ("community2", NotFound)):
            with pytest.raises(error):
                consultation.record_meeting(person(username), "estate_plan", target, record())


def test_residents_comment_on_the_plan_and_staff_answer_once(app, world):
    with app.app_context():
        target = plan_id(world)
        comment = consultation.add_comment(person("resident"), "estate_plan", target, "希望同步改造单元门禁。")
        with pytest.raises(NotPermitted):
            consultation.answer_comment(person("resident"), comment.id, "自问自答")
        consultation.answer_comment(person("grid"), comment.id, "已纳入方案第二批。")
        with pytest.raises(InvalidTransition):
            consultation.answer_comment(person("community"), comment.id, "再答")
        [stored] = consultation.comments_for("estate_plan", target)
        assert (stored.body, stored.answer, stored.answered_by_id) == (
            "希望同步改造单元门禁。", "已纳入方案第二批。", person("grid").id)


def test_only_residents_of_the_estate_comment(app, world):
    with app.app_context():
        target = plan_id(world)
        with pytest.raises(NotPermitted):
            consultation.add_comment(person("community"), "estate_plan", target, "工作人员不以居民身份评论")
        with pytest.raises(NotFound):
            consultation.add_comment(person("community2"), "estate_plan", target, "别的社区")
        with pytest.raises(ValidationError):
            consultation.add_comment(person("resident"), "estate_plan", target, "")
        with pytest.raises(NotFound):
            consultation.add_comment(person("resident"), "no_such_thing", target, "未知对象")
