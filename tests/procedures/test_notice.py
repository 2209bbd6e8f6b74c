"""Public notice: the period from the city policy, objections and their answers, and the
conditions that keep an issue on notice; the issue following its vote's result."""
from __future__ import annotations

from datetime import datetime

import pytest

from core.db import write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from orgs import services as S
from procedures import notice, voting
from rules import tally
from issues.renovation import WORKFLOW
from tests.procedures.vote_helpers import (
    cast,
    close,
    elevator_issue,
    end_notice_period,
    fire,
    issue,
    make_unit,
    open_issue_vote,
    pass_vote,
    person,
)


def on_notice(world, subcategory: str = "elevator") -> int:
    """An issue whose vote passed: now on public notice."""
    unit = make_unit(world, ["90", "90"], [["w1"], ["w2"]])
    issue_id = elevator_issue(unit, subcategory)
    open_issue_vote(issue_id)
    pass_vote(issue_id)
    return issue_id


def latest(issue_id: int) -> notice.Notice:
    db.session.expire_all()
    return notice.latest_notice("renovation_issue", issue_id)


def objection_by(username: str, issue_id: int, text: str = "电梯井占用消防通道") -> int:
    return notice.file_objection(person(username), latest(issue_id).id, text).id


def test_a_passed_vote_puts_the_issue_on_notice_with_the_result(app, world):
    with app.app_context():
        issue_id = on_notice(world)
        published = latest(issue_id)
        assert issue(issue_id).state == "public_notice"
        assert published.days == 15  # elevator retrofits
        closed = voting.latest_vote("renovation_issue", issue_id)
        assert published.vote_id == closed.id
        assert all(line in published.body for line in tally.describe(voting.stored_result(closed)))


def test_other_items_get_the_default_seven_days(app, world):
    with app.app_context():
        assert latest(on_notice(world, "ebike_shed")).days == 7


def test_skipping_the_vote_publishes_the_notice_with_the_reason(app, world):
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["90"]), "roof")
        fire("community", issue_id, "skip_vote", reason="屋面防水属于维修，不需要表决")
        published = latest(issue_id)
        assert published.days == 7 and "屋面防水属于维修" in published.body


def test_the_period_ends_at_midnight_local_time_of_its_last_day():
    # Published 2026-03-01 10:00 in Shanghai (02:00 UTC): day 1 is March 2, day 7 is March 8.
    end = notice.period_end(datetime(2026, 3, 1, 2, 0), 7)
    assert end == datetime(2026, 3, 8, 15, 59, 59)


def test_construction_waits_for_the_end_of_the_notice_period(app, world):
    with app.app_context():
        issue_id = on_notice(world)
        assert not WORKFLOW.allowed(issue(issue_id), person("community"), "start_construction")
        with pytest.raises(InvalidTransition):
            fire("community", issue_id, "start_construction")
        assert issue(issue_id).state == "public_notice"
        end_notice_period(issue_id)
        fire("community", issue_id, "start_construction")
        assert issue(issue_id).state == "construction"


def test_an_unanswered_objection_keeps_the_issue_on_notice(app, world):
    with app.app_context():
        issue_id = on_notice(world)
        objection_id = objection_by("w1", issue_id)
        end_notice_period(issue_id)
        with pytest.raises(InvalidTransition):
            fire("community", issue_id, "start_construction")
        notice.answer_objection(person("community"), objection_id, "电梯井位置已请设计院复核，不占用消防通道。")
        fire("community", issue_id, "start_construction")
        assert issue(issue_id).state == "construction"


def test_a_withdrawn_objection_no_longer_blocks(app, world):
    with app.app_context():
        issue_id = on_notice(world)
        objection_id = objection_by("w2", issue_id)
        with pytest.raises(NotPermitted):
            notice.withdraw_objection(person("w1"), objection_id)
        notice.withdraw_objection(person("w2"), objection_id)
        end_notice_period(issue_id)
        fire("community", issue_id, "start_construction")
        assert issue(issue_id).state == "construction"


def test_objections_only_from_residents_of_the_estate_during_the_period(app, world):
    with app.app_context():
        issue_id = on_notice(world)
        with write_transaction():
            outsider = S.add_person("外小区居民", username="outsider")
            S.link_household(outsider, db.session.get(type(world.households[0]), world.household_ids[20]), "owner")
            S.grant_role(outsider, db.session.get(type(world.nodes["C2"]), world.node_ids["C2G1B1"]), "resident")
        with pytest.raises(NotFound):
            objection_by("outsider", issue_id)
        with pytest.raises(NotPermitted):
            objection_by("community", issue_id)
        with pytest.raises(ValidationError):
            objection_by("resident", issue_id, "   ")
        objection_by("resident", issue_id)
        end_notice_period(issue_id)
        with pytest.raises(InvalidTransition):
            objection_by("resident", issue_id)
        assert len(latest(issue_id).objections) == 1


def test_only_community_officers_answer_objections_and_only_once(app, world):
    with app.app_context():
        issue_id = on_notice(world)
        objection_id = objection_by("w1", issue_id)
        for username in ("grid", "w1", "street"):
            with pytest.raises(NotPermitted):
                notice.answer_objection(person(username), objection_id, "答复")
        with pytest.raises(NotFound):
            notice.answer_objection(person("community2"), objection_id, "答复")
        with pytest.raises(ValidationError):
            notice.answer_objection(person("community"), objection_id, "")
        notice.answer_objection(person("community"), objection_id, "已复核")
        with pytest.raises(InvalidTransition):
            notice.answer_objection(person("community"), objection_id, "再次答复")
        assert [(o.status, o.answer) for o in latest(issue_id).objections] == [("answered", "已复核")]


def test_a_failed_vote_sends_the_plan_back_with_the_reason_for_residents(app, world):
    with app.app_context():
        unit = make_unit(world, ["90", "90", "90"], [["x1"], ["x2"], ["x3"]])
        issue_id = elevator_issue(unit)
        vote_id = open_issue_vote(issue_id)
        cast("x1", vote_id, "agree")
        close(vote_id, reason="将调整方案后重新表决。")
        item = issue(issue_id)
        assert item.state == "planned" and item.open
        assert "将调整方案后重新表决。" in item.public_note
        assert notice.latest_notice("renovation_issue", issue_id) is None


def test_a_failed_vote_may_close_the_item_instead(app, world):
    with app.app_context():
        unit = make_unit(world, ["90", "90"], [["y1"], ["y2"]])
        issue_id = elevator_issue(unit)
        vote_id = open_issue_vote(issue_id)
        cast("y1", vote_id, "disagree")
        cast("y2", vote_id, "disagree")
        close(vote_id, on_failure="withdraw", reason="多数业主不同意，本单元暂不加装。")
        item = issue(issue_id)
        assert (item.state, item.open) == ("closed", False)
        assert "多数业主不同意" in item.public_note


def test_the_issue_cannot_record_a_result_its_vote_did_not_reach(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"], [["v1"]])
        issue_id = elevator_issue(unit)
        open_issue_vote(issue_id)
        for trigger, data in (("vote_passed", {}), ("vote_failed", {"reason": "不通过"})):
            with pytest.raises(InvalidTransition):
                fire("community", issue_id, trigger, **data)
        assert issue(issue_id).state == "voting"


def test_withdrawing_an_issue_cancels_its_open_vote(app, world):
    with app.app_context():
        unit = make_unit(world, ["90"], [["u1"]])
        issue_id = elevator_issue(unit)
        vote_id = open_issue_vote(issue_id)
        fire("community", issue_id, "withdraw", reason="资金未落实")
        cancelled = voting.latest_vote("renovation_issue", issue_id)
        assert (cancelled.id, cancelled.state, cancelled.public_note) == (vote_id, "cancelled", "资金未落实")
        with pytest.raises(InvalidTransition):
            cast("u1", vote_id, "agree")
