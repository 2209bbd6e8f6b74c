"""`flask audit verify` detects tampering; `flask workflow sweep` escalates overdue issues once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, text, update

from core.db import utcnow, write_transaction
from core.extensions import db
from tests.issues.helpers import fire, issue, raise_demand, sweep_counts
from workflow.audit import AuditEntry
from issues.models import RenovationIssue


def issue_with_history(app, world) -> int:
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "escalate")
        return issue_id


def entry_ids(app, issue_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.subject_type == "renovation_issue", AuditEntry.subject_id == issue_id)
            .order_by(AuditEntry.seq)
        ))


def execute(app, statement) -> None:
    with app.app_context(), write_transaction():
        db.session.execute(statement)


def test_intact_chain_verifies_with_exit_0(app, runner, world):
    issue_with_history(app, world)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 entries" in result.output


def test_changed_reason_fails_naming_the_entry(app, runner, world):
    issue_id = issue_with_history(app, world)
    tampered = entry_ids(app, issue_id)[1]
    execute(app, text("UPDATE audit_entry SET reason = 'nothing happened' WHERE id = :id").bindparams(id=tampered))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"renovation_issue {issue_id}: entry {tampered} (seq 2)" in result.output
    assert "content changed" in result.output


def test_changed_actor_of_the_last_entry_fails(app, runner, world):
    issue_id = issue_with_history(app, world)
    last = entry_ids(app, issue_id)[-1]
    execute(app, update(AuditEntry).where(AuditEntry.id == last).values(actor_name="someone else"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {last} (seq 3)" in result.output


def test_deleted_last_entry_fails_naming_the_issue(app, runner, world):
    issue_id = issue_with_history(app, world)
    execute(app, delete(AuditEntry).where(AuditEntry.id == entry_ids(app, issue_id)[-1]))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"renovation_issue {issue_id}: chain head" in result.output


def test_deleted_middle_entry_fails_naming_the_next_one(app, runner, world):
    issue_id = issue_with_history(app, world)
    first, middle, last = entry_ids(app, issue_id)
    execute(app, delete(AuditEntry).where(AuditEntry.id == middle))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {last} (seq 3): sequence gap" in result.output


def test_deleting_every_entry_of_an_issue_fails(app, runner, world):
    issue_id = issue_with_history(app, world)
    execute(app, delete(AuditEntry).where(AuditEntry.subject_type == "renovation_issue",
                                          AuditEntry.subject_id == issue_id))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"renovation_issue {issue_id}: chain head: all 3 audit entries missing" in result.output


def test_deleting_the_whole_log_fails(app, runner, world):
    issue_with_history(app, world)
    execute(app, delete(AuditEntry))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "audit entries missing" in result.output


def test_deleting_the_only_entry_of_a_vote_fails(app, runner, world):
    from procedures.voting import Vote
    from tests.procedures.vote_helpers import elevator_issue, make_unit, open_issue_vote

    with app.app_context():
        vote_id = open_issue_vote(elevator_issue(make_unit(world, ["90", "90"], [["v1"], ["v2"]])))
    execute(app, delete(AuditEntry).where(AuditEntry.subject_type == "vote", AuditEntry.subject_id == vote_id))
    with app.app_context():
        assert db.session.get(Vote, vote_id).audit_seq == 1
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"vote {vote_id}: chain head: all 1 audit entries missing" in result.output


def test_a_state_changed_behind_the_log_fails(app, runner, world):
    issue_id = issue_with_history(app, world)
    execute(app, update(RenovationIssue).where(RenovationIssue.id == issue_id).values(state="closed"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"renovation_issue {issue_id}: chain head: state closed differs from its last entry's (review_community)" \
        in result.output


def test_rewriting_an_entry_and_recomputing_the_chain_fails(app, runner, world):
    """A database-only attacker rewrites the reason of the first entry and recomputes every
    SHA-256 hash after it and the subject's head: the seal, keyed outside the database, differs."""
    from workflow.audit import GENESIS, entry_hash

    issue_id = issue_with_history(app, world)
    with app.app_context(), write_transaction():
        entries = list(db.session.scalars(select(AuditEntry).where(
            AuditEntry.subject_type == "renovation_issue", AuditEntry.subject_id == issue_id).order_by(AuditEntry.seq)))
        entries[0].reason = "rewritten"
        prev = GENESIS
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = entry_hash(entry)
            prev = entry.hash
        db.session.get(RenovationIssue, issue_id).audit_hash = prev
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"renovation_issue {issue_id}: chain head: chain head seal does not match" in result.output


def test_unsealed_heads_of_an_older_version_are_sealed_once_if_intact(app, runner, world):
    issue_id = issue_with_history(app, world)
    execute(app, update(RenovationIssue).values(audit_mac=None))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "not sealed" in result.output
    assert "sealed 1 chain heads" in runner.invoke(args=["audit", "seal"]).output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        assert db.session.get(RenovationIssue, issue_id).audit_mac is not None


# --- the deadline sweep -------------------------------------------------------------------


def make_overdue(app, issue_id: int) -> None:
    execute(app, update(RenovationIssue).where(RenovationIssue.id == issue_id)
            .values(due_at=utcnow() - timedelta(hours=1)))


def audit_count(app, issue_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.subject_type == "renovation_issue", AuditEntry.subject_id == issue_id))


def test_sweep_escalates_an_overdue_issue_one_level_as_system_once(app, runner, world):
    with app.app_context():
        issue_id = raise_demand(world)
    make_overdue(app, issue_id)
    first = runner.invoke(args=["workflow", "sweep"])
    assert first.exit_code == 0, first.output
    assert sweep_counts(first.output)["escalated"] == 1
    with app.app_context():
        swept = issue(issue_id)
        assert (swept.state, swept.responsible_org.code, swept.version) == ("review_grid", "C1G1", 2)
        assert swept.due_at > utcnow()
        last = db.session.scalar(select(AuditEntry).where(AuditEntry.subject_id == issue_id)
                                 .order_by(AuditEntry.seq.desc()))
        assert (last.actor_name, last.actor_id, last.trigger) == ("system", None, "escalate")
        assert last.reason
    second = runner.invoke(args=["workflow", "sweep"])
    assert second.exit_code == 0
    assert sweep_counts(second.output)["escalated"] == 0
    assert audit_count(app, issue_id) == 2
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_sweep_refers_an_overdue_planned_item_to_the_parent_org(app, runner, world):
    issue_id = issue_with_history(app, world)
    with app.app_context():
        fire("community", issue_id, "include_in_plan")
    make_overdue(app, issue_id)
    first = runner.invoke(args=["workflow", "sweep"])
    assert "raised_to_parent: 1" in first.output
    with app.app_context():
        swept = issue(issue_id)
        assert (swept.state, swept.responsible_org.code, swept.escalations) == ("planned", "S1", 1)
    entries = audit_count(app, issue_id)
    assert "raised_to_parent: 0" in runner.invoke(args=["workflow", "sweep"]).output
    assert audit_count(app, issue_id) == entries


def test_two_sweeps_at_the_same_moment_escalate_an_issue_one_level_only(app, world, monkeypatch):
    """Both sweeps find the issue overdue before either escalates it: the second one's
    escalation is refused as stale instead of sending the issue up a second level."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from issues import services
    from workflow import engine

    with app.app_context():
        issue_id = raise_demand(world)
        db.session.remove()
    make_overdue(app, issue_id)
    both_read = threading.Barrier(2)
    real_fire = engine.fire

    def fire_when_both_have_read(*args, **kwargs):
        both_read.wait(timeout=30)
        return real_fire(*args, **kwargs)

    monkeypatch.setattr(engine, "fire", fire_when_both_have_read)

    def sweep_in_own_context() -> dict[str, int]:
        with app.app_context():
            try:
                return services.sweep()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [future.result(timeout=60) for future in [pool.submit(sweep_in_own_context) for _ in range(2)]]
    assert sorted(result["escalated"] for result in results) == [0, 1]
    assert [result["at_top"] for result in results] == [0, 0]
    with app.app_context():
        swept = issue(issue_id)
        assert (swept.state, swept.responsible_org.code, swept.version) == ("review_grid", "C1G1", 2)
    assert audit_count(app, issue_id) == 2
