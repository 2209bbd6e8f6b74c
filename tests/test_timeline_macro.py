"""The audit timeline (templates/macros/timeline.html) on every page that shows one: each
entry names the action, the actor, the org unit with its level, and the reason."""
from __future__ import annotations

import re

from conventions import services as convention_services
from tests.conventions import helpers as conventions
from tests.issues.helpers import fire, raise_demand
from tests.dispatch.test_dispatch import assignment, launch, member_units, pass_down_to_member
from dispatch import services as dispatch_services

TIMELINE = re.compile(r'<ol class="timeline">(.*?)</ol>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)
TAG = re.compile(r"<[^>]+>")


def timeline_entries(page: str) -> list[str]:
    """The text of each entry of the page's first timeline, whitespace collapsed."""
    match = TIMELINE.search(page)
    assert match, "page shows no timeline"
    return [" ".join(TAG.sub(" ", item).split()) for item in ITEM.findall(match.group(1))]


def test_issue_timeline_names_actor_level_action_and_reason(app, world, auth, client):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "return_down", reason="请补充照片")
    auth.login("resident")
    entries = timeline_entries(client.get(f"/issues/{issue_id}").get_data(as_text=True))
    assert [entry.split(" → ")[0] for entry in entries] == ["提出", "上报上一级", "退回下一级"]
    returned = entries[-1]
    assert returned.startswith("退回下一级 → 楼院党小组审核")
    assert "grid用户 · 第1社区第1网格 (网格党支部)" in returned and returned.endswith("请补充照片")


def test_convention_timeline_names_actor_level_action_and_reason(app, world, auth, client):
    with app.app_context():
        version_id = conventions.create(world)
        conventions.walk_to(version_id, "street_review")
        conventions.fire("street", version_id, "return_for_revision", reason="第三条表述不清")
        current = conventions.version(version_id)
        convention_services.replace_text(conventions.person("community"), version_id, current.version, "第一条 甲。\n")
    auth.login("community")
    entries = timeline_entries(client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True))
    returned, edited = entries[-2:]
    assert returned.startswith("退回修改 → 草案")
    assert "street用户 · 测试街道党工委 (街道党工委)" in returned and returned.endswith("第三条表述不清")
    assert edited.startswith("修改文本 ") and "→" not in edited  # the text changed, the state did not
    assert "community用户 · 第1社区党委 (社区党委)" in edited


def test_dispatch_timeline_names_actor_level_action_figures_and_reason(app, world, auth, client):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        pass_down_to_member(dispatch_id)
        member = assignment(dispatch_id, "C1G1B1M1")
        dispatch_services.fire_assignment(conventions.person("member"), member.id, "complete", member.version,
                                          reached=5, consents=member_units(world), reason="全部同意")
    auth.login("member")
    entries = timeline_entries(client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True))
    completed = entries[-1]
    assert completed.startswith("填报办理情况 → 本级已办结，待上报")
    assert "member用户 · 第1社区党员中心户 (党员中心户)" in completed
    assert "已走访户数: 5" in completed and completed.endswith("全部同意")


def test_issue_page_and_api_word_the_timeline_alike(app, world, auth, client):
    """One definition of the words: the page and the JSON API name each entry the same,
    an event that is not a transition (referred up after the deadline) included."""
    from core.db import lock, write_transaction
    from workflow import engine
    from issues.models import RenovationIssue

    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        with write_transaction():
            item = lock(RenovationIssue, issue_id)
            engine.record_event(item, engine.SYSTEM, "overdue_escalation", reason="超过办理期限")
    auth.login("grid")
    page = timeline_entries(client.get(f"/issues/{issue_id}").get_data(as_text=True))
    api = client.get(f"/api/v1/issues/{issue_id}").get_json()["timeline"]
    assert [entry.split(" → ")[0] for entry in page] == ["提出", "上报上一级", "超期后自动上报"]
    assert [entry["trigger_label"] for entry in api] == ["提出", "上报上一级", "超期后自动上报"]
    assert all(entry.startswith(f"{row['trigger_label']} → {row['to_label']} ") for entry, row in zip(page, api))
    assert api[-1]["actor"]["name"] == "system" and page[-1].endswith("超过办理期限")


def test_every_audit_entry_of_the_demo_has_words(app):
    """No timeline shows a bare trigger name: every entry the demo data writes, in every
    workflow, has a label of its own (a transition's or an event's)."""
    import sqlalchemy as sa

    from core.extensions import db
    from orgs import demo
    from workflow import audit

    with app.app_context():
        demo.load()
        rows = db.session.execute(sa.select(audit.AuditEntry.subject_type, audit.AuditEntry.trigger).distinct()).all()
        unlabelled = sorted({(subject_type, trigger) for subject_type, trigger in rows
                             if str(audit._SUBJECT_MODELS[subject_type].workflow.event_label(trigger)) == trigger})
    assert {subject_type for subject_type, _trigger in rows} >= {"renovation_issue", "joint_inspection",
                                                                 "dispatch_assignment", "convention_version"}
    assert unlabelled == []
