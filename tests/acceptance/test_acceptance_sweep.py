"""The deadline sweep covers joint inspections: one left past its deadline (checking,
signing or a rectification round) is referred to the org above with a fresh deadline,
once, as the system actor, in its audit chain and on its page; one already at the top
stays where it is."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import update

from core.db import utcnow, write_transaction
from core.extensions import db
from tests.acceptance.acceptance_helpers import finished_issue, inspection_of, pass_inspection, record, submit
from tests.issues.helpers import person, sweep_counts
from acceptance import services as acceptance
from workflow import audit
from acceptance.models import JointInspection
from rules.calendar import add_working_days
from rules.policy import DEFAULT_DEADLINES

REFERRED_TO_STREET = "超过办理期限，已提请测试街道党工委督办。"
NOTHING = {"inspection_escalated": 0, "inspection_at_top": 0}


def inspection(inspection_id: int) -> JointInspection:
    db.session.expire_all()
    return db.session.get(JointInspection, inspection_id)


def snapshot(inspection_id: int) -> tuple:
    """What a sweep may change: state, who answers for it, deadline, version, audit entries."""
    current = inspection(inspection_id)
    return (current.state, current.responsible_org.code, current.due_at, current.version,
            len(audit.timeline(current)))


def signing(world) -> int:
    """Finished work whose items all passed: the inspection awaits the parties' sign-offs."""
    inspection_id = inspection_of(finished_issue(world)).id
    record(inspection_id)
    submit(inspection_id)
    return inspection_id


def make_overdue(app, inspection_id: int) -> None:
    with app.app_context(), write_transaction():
        db.session.execute(update(JointInspection).where(JointInspection.id == inspection_id)
                           .values(due_at=utcnow() - timedelta(hours=1)))


def test_an_inspection_overdue_in_signing_is_referred_to_the_street_with_a_fresh_deadline(app, world):
    with app.app_context():
        inspection_id = signing(world)
        before = inspection(inspection_id)
        assert (before.state, before.responsible_org.code) == ("signing", "C1")
        later = before.due_at + timedelta(minutes=1)
        version, entries = before.version, len(audit.timeline(before))

        assert acceptance.sweep(now=later) == {"inspection_escalated": 1, "inspection_at_top": 0}

        after = inspection(inspection_id)
        assert (after.state, after.responsible_org.code) == ("signing", "S1")
        assert after.due_at == add_working_days(later, DEFAULT_DEADLINES["joint_inspection"]["signing"])
        assert after.version == version + 1
        timeline = audit.timeline(after)
        assert len(timeline) == entries + 1
        last = timeline[-1]
        assert (last.trigger, last.actor_name, last.actor_id) == ("overdue_escalation", "system", None)
        assert (last.from_state, last.to_state, last.org.code) == ("signing", "signing", "S1")
        assert last.reason == REFERRED_TO_STREET
        assert audit.verify() == []


def test_a_rectification_round_past_its_deadline_is_referred_up_and_keeps_its_date(app, world):
    with app.app_context():
        inspection_id = inspection_of(finished_issue(world)).id
        record(inspection_id, {0: "fail"})
        submit(inspection_id)
        before = inspection(inspection_id)
        rectify_by = before.current_round.rectification_due_at
        assert before.state == "rectification" and rectify_by == before.due_at
        later = rectify_by + timedelta(minutes=1)

        assert acceptance.sweep(now=later) == {"inspection_escalated": 1, "inspection_at_top": 0}

        after = inspection(inspection_id)
        assert (after.state, after.responsible_org.code) == ("rectification", "S1")
        assert after.due_at == add_working_days(later, DEFAULT_DEADLINES["joint_inspection"]["rectification"])
        assert after.current_round.rectification_due_at == rectify_by
        assert audit.timeline(after)[-1].reason == REFERRED_TO_STREET
        assert audit.verify() == []


def test_sweeping_again_at_once_changes_nothing(app, world):
    with app.app_context():
        inspection_id = signing(world)
        later = inspection(inspection_id).due_at + timedelta(minutes=1)
        acceptance.sweep(now=later)
        swept = snapshot(inspection_id)

        assert acceptance.sweep(now=later) == NOTHING
        assert snapshot(inspection_id) == swept
        assert audit.verify() == []


def test_two_sweeps_at_the_same_moment_refer_the_inspection_up_once(app, world, monkeypatch):
    with app.app_context():
        inspection_id = signing(world)
        later = inspection(inspection_id).due_at + timedelta(minutes=1)
        entries = len(audit.timeline(inspection(inspection_id)))
        db.session.remove()
    # Both sweeps have read the overdue inspection before either refers it up.
    both_read = threading.Barrier(2)
    refer_up = acceptance._refer_up

    def refer_up_when_both_have_read(*args):
        both_read.wait(timeout=30)
        return refer_up(*args)

    monkeypatch.setattr(acceptance, "_refer_up", refer_up_when_both_have_read)

    def sweep_in_own_context() -> dict[str, int]:
        with app.app_context():
            try:
                return acceptance.sweep(now=later)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [future.result(timeout=60) for future in [pool.submit(sweep_in_own_context) for _ in range(2)]]
    assert sorted(result["inspection_escalated"] for result in results) == [0, 1]
    assert [result["inspection_at_top"] for result in results] == [0, 0]
    with app.app_context():
        after = inspection(inspection_id)
        assert after.responsible_org.code == "S1"
        assert [e.trigger for e in audit.timeline(after)[entries:]] == ["overdue_escalation"]
        assert audit.verify() == []


def test_an_inspection_not_yet_due_is_left_alone(app, world):
    with app.app_context():
        inspection_id = inspection_of(finished_issue(world)).id
        before = snapshot(inspection_id)
        assert before[:2] == ("checking", "C1")

        assert acceptance.sweep(now=inspection(inspection_id).due_at - timedelta(minutes=1)) == NOTHING
        assert snapshot(inspection_id) == before


def test_an_inspection_already_at_the_top_is_counted_and_left_where_it_is(app, world):
    with app.app_context():
        inspection_id = signing(world)
        acceptance.sweep(now=inspection(inspection_id).due_at + timedelta(minutes=1))
        at_street = snapshot(inspection_id)
        assert at_street[1] == "S1"
        much_later = at_street[2] + timedelta(minutes=1)

        assert acceptance.sweep(now=much_later) == {"inspection_escalated": 0, "inspection_at_top": 1}
        assert snapshot(inspection_id) == at_street
        assert audit.verify() == []


def test_an_accepted_inspection_is_never_swept(app, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection_id = pass_inspection(world, issue_id)
        accepted = inspection(inspection_id)
        assert (accepted.state, accepted.due_at) == ("accepted", None)
        entries = len(audit.timeline(accepted))

        assert acceptance.sweep(now=utcnow() + timedelta(days=400)) == NOTHING
        assert len(audit.timeline(inspection(inspection_id))) == entries


def test_flask_workflow_sweep_prints_the_inspection_counts(app, world, runner):
    with app.app_context():
        inspection_id = signing(world)
    make_overdue(app, inspection_id)

    first = runner.invoke(args=["workflow", "sweep"])
    assert first.exit_code == 0, first.output
    counts = sweep_counts(first.output)
    assert (counts["inspection_escalated"], counts["inspection_at_top"]) == (1, 0)
    assert {"escalated", "raised_to_parent", "at_top", "dispatch_escalated"} <= set(counts)
    with app.app_context():
        assert inspection(inspection_id).responsible_org.code == "S1"

    second = runner.invoke(args=["workflow", "sweep"])
    assert second.exit_code == 0, second.output
    again = sweep_counts(second.output)
    assert (again["inspection_escalated"], again["inspection_at_top"]) == (0, 0)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_the_pages_show_the_overdue_inspection_and_then_the_referral(app, world, runner, client, auth):
    with app.app_context():
        inspection_id = signing(world)
        issue_id = inspection(inspection_id).issue_id
    make_overdue(app, inspection_id)
    auth.login("community")
    page = client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
    assert 'class="tag overdue" id="inspection-overdue">已超期<' in page
    assert 'id="inspection-handled-by">第1社区党委<' in page
    panel = client.get(f"/issues/{issue_id}").get_data(as_text=True).split('id="acceptance-panel"')[1]
    assert "已超期" in panel.split("</section>")[0]

    assert runner.invoke(args=["workflow", "sweep"]).exit_code == 0

    page = client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
    assert "inspection-overdue" not in page
    assert 'id="inspection-handled-by">测试街道党工委<' in page
    timeline = page.split('id="timeline"')[1].split("</section>")[0]
    assert "超期后自动上报" in timeline and "系统" in timeline
    assert REFERRED_TO_STREET in timeline


def test_a_step_that_stays_in_its_state_keeps_the_referral_and_the_deadline(app, world):
    """Recording an item in checking does not enter checking anew: the street the
    sweep referred the inspection to stays responsible, with the deadline it was given."""
    with app.app_context():
        inspection_id = inspection_of(finished_issue(world)).id
        current = inspection(inspection_id)
        first_check = current.checks()[0]
        later = current.due_at + timedelta(minutes=1)
        assert acceptance.sweep(now=later)["inspection_escalated"] == 1
        referred = inspection(inspection_id)
        assert (referred.state, referred.responsible_org.code) == ("checking", "S1")
        version, due_at, entered_at = referred.version, referred.due_at, referred.state_entered_at
        acceptance.record_item(person("supervisor"), inspection_id, None, item_id=first_check.item_id,
                               result="pass", notes="")
        after = inspection(inspection_id)
        assert after.version == version + 1
        assert (after.state, after.responsible_org.code, after.due_at, after.state_entered_at) == (
            "checking", "S1", due_at, entered_at)
        assert audit.timeline(after)[-1].trigger == "record_item"
        assert audit.verify() == []
