"""The response facts kept on each issue (first_due_at, responded_at, responded_on_time)
are what its audit trail says: written with the entries by the real transitions (an
answer on time, a late one, one by the raiser, one by the deadline sweep, none yet), and
computed the same from the trail by the migration that filled them in."""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from core.db import utcnow, write_transaction
from core.extensions import db
from core.photos import Photo
from issues import measures, services
from issues.models import RenovationIssue
from orgs.models import Household
from workflow.audit import AuditEntry
from tests.issues.helpers import fire, person, raise_demand, raised_earlier

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "dash_0002_response_facts.py"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def walked(app, world):
    with app.app_context():
        swept = raised_earlier(world, 30, title="单元门禁损坏")
        assert services.sweep()["escalated"] == 1  # the system answers for no one: late
        on_time = raise_demand(world, title="楼道灯不亮")
        fire("group", on_time, "escalate")
        late = raised_earlier(world, 30, title="楼道扶手松动")
        fire("group", late, "resolve", reason="已修好")
        fire("resident", late, "rate", satisfaction="5")  # later entries change nothing
        by_raiser = raise_demand(world, title="外墙脱落")
        services.add_photos(person("resident"), by_raiser, [Photo("墙.png", "image/png", _png())])
        unanswered = raise_demand(world, title="雨水管堵塞", category="basic", subcategory="drainage")
        building_id = db.session.get(Household, world.household_ids[0]).unit.building_id
        task = services.launch_task(person("community"), title="1号楼楼道扶手更换", description="1号楼全部单元",
                                    category="basic", subcategory="stairs", place_kind="building",
                                    place_id=building_id).id
        fire("community", task, "start_consultation")  # the launcher's own next step
        db.session.remove()
    return {"swept": swept, "on_time": on_time, "late": late, "by_raiser": by_raiser, "unanswered": unanswered,
            "task": task}


def _kept() -> dict[int, tuple]:
    return {row.id: (row.first_due_at, row.responded_at, row.responded_on_time) for row in db.session.execute(
        sa.select(RenovationIssue.id, RenovationIssue.first_due_at, RenovationIssue.responded_at,
                  RenovationIssue.responded_on_time))}


def _from_trail() -> dict[int, tuple]:
    """The facts read from each issue's first two audit entries, in Python."""
    facts = {}
    for issue in db.session.scalars(sa.select(RenovationIssue)):
        entries = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.subject_type == "renovation_issue", AuditEntry.subject_id == issue.id, AuditEntry.seq <= 2)
            .order_by(AuditEntry.seq)).all()
        first, second = entries[0], entries[1] if len(entries) > 1 else None
        on_time = (second is not None and second.actor_id not in (None, issue.raised_by_id)
                   and (first.due_at is None or second.created_at <= first.due_at))
        facts[issue.id] = (first.due_at, second.created_at if second else None, on_time)
    return facts


def test_the_facts_kept_on_each_issue_are_those_of_its_audit_trail(app, walked):
    with app.app_context():
        kept, trail = _kept(), _from_trail()
        assert kept == trail
        facts = {name: kept[ident] for name, ident in walked.items()}
    assert facts["on_time"][2] is True and facts["on_time"][0] is not None
    assert facts["late"][1] > facts["late"][0] and facts["late"][2] is False
    assert facts["swept"][1] is not None and facts["swept"][2] is False
    assert facts["by_raiser"][1] is not None and facts["by_raiser"][2] is False
    assert facts["task"][1] is not None and facts["task"][2] is False
    assert facts["unanswered"][1] is None and facts["unanswered"][2] is False


def test_each_item_counts_as_on_time_late_or_pending_as_its_trail_says(app, walked):
    with app.app_context():
        now = utcnow()
        on_time = set(db.session.scalars(sa.select(RenovationIssue.id).where(measures.response("on_time", now))))
        late = set(db.session.scalars(sa.select(RenovationIssue.id).where(measures.response("late", now))))
    assert on_time == {walked["on_time"]}
    assert late == {walked[name] for name in ("late", "swept", "by_raiser", "task")}
    assert walked["unanswered"] not in on_time | late  # pending: its deadline has not passed


def test_the_migration_fills_in_the_same_facts_from_the_trail(app, walked):
    spec = importlib.util.spec_from_file_location("dash_0002", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        written = _kept()
        with write_transaction():
            db.session.execute(sa.update(RenovationIssue).values(first_due_at=None, responded_at=None,
                                                                 responded_on_time=False))
        with write_transaction():
            for statement in (migration.FIRST_AND_SECOND, migration.ON_TIME):
                db.session.execute(sa.text(statement))
        assert _kept() == written
        assert any(on_time for _due, _at, on_time in written.values())
        assert any(due is not None and at is None for due, at, _t in written.values())


def test_audit_verify_reports_a_fact_that_differs_from_the_trail(app, runner, walked):
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context(), write_transaction():
        db.session.execute(sa.update(RenovationIssue).where(RenovationIssue.id == walked["late"])
                           .values(responded_on_time=True))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"renovation_issue {walked['late']}: chain head: response facts" in result.output
