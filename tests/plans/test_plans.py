"""The estate plan in public: items, budget and funding split (exact yuan, sums checked),
progress bulletins, the estate's notices and votes, publication, permissions, the audit
chain, sections added by other packages; demand campaigns with their public tally and
each demand's fate shown to the household that raised it."""
from __future__ import annotations

from decimal import Decimal

import pytest
from markupsafe import Markup
from sqlalchemy import func, select

from core.db import write_transaction
from core.errors import NotFound, NotPermitted, StaleVersion, ValidationError
from core.extensions import db
from issues.models import RenovationIssue
from orgs import demo
from orgs import roles as R
from orgs import services as S
from orgs.models import OrgNode
from plans import sections, services
from plans.models import CampaignDemand, PlanBulletin, PlanItem, PlanRecord
from tests.conftest import PASSWORD
from tests.issues.helpers import fire, person, raise_demand
from tests.issues.test_api import bearer
from workflow.audit import AuditEntry, verify

BUDGET = {"total": "1200000.00", "government": "800000.00", "owners": "300000.00", "social": "100000.00"}


def make_plan(app, world, *, publish=True, items=2, bulletins=1) -> int:
    with app.app_context():
        community = person("community")
        record = services.create_plan(community, estate_id=world.estate_ids[0], year=2026, summary="改造方案概述")
        services.set_budget(community, record.id, None, **BUDGET)
        for index in range(items):
            services.add_item(community, record.id, None, {
                "title": f"改造项目{index + 1}", "category": "basic", "state": "in_progress", "progress": 30 + index,
                "deadline": "2026-12-31", "level": "community_committee"})
        for index in range(bulletins):
            services.post_bulletin(person("builder"), record.id, title=f"进度通报{index + 1}", body="第一段道路完工。")
        if publish:
            services.fire(community, record.id, "publish", None)
        return record.id


def record_state(app, record_id: int) -> tuple[int, int, Decimal]:
    """(version, audit entries, budget total) of the plan, read afresh."""
    with app.app_context():
        record = db.session.get(PlanRecord, record_id)
        entries = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.subject_type == "estate_plan", AuditEntry.subject_id == record_id))
        return record.version, entries, record.budget_total


# --- the public page ---------------------------------------------------------------------


def test_published_plan_is_readable_without_login_in_chinese(app, world, client):
    record_id = make_plan(app, world)
    page = client.get(f"/plans/{record_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "改造项目1" in text and "改造项目2" in text
    assert "1,200,000.00 元" in text
    assert "政府资金" in text and "800,000.00" in text and "66.7%" in text
    assert "业主出资" in text and "社会资本" in text
    assert "进度通报1" in text and "第一段道路完工。" in text
    assert "2026-12-31" in text and "社区党委" in text


def test_public_page_shows_no_personal_data(app, world, client):
    record_id = make_plan(app, world)
    text = client.get(f"/plans/{record_id}").get_data(as_text=True)
    assert "builder用户" not in text  # who posted: the org unit, not the person
    assert "第1社区党委" in text


def test_draft_plan_is_not_public(app, world, client):
    record_id = make_plan(app, world, publish=False)
    assert client.get(f"/plans/{record_id}").status_code == 404
    assert client.get(f"/api/v1/plans/{record_id}").status_code == 404
    assert client.get(f"/plans/estates/{world.estate_ids[0]}").status_code == 404


def test_estate_address_leads_to_its_published_plan(app, world, client):
    record_id = make_plan(app, world)
    response = client.get(f"/plans/estates/{world.estate_ids[0]}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/plans/{record_id}")


def test_bulletins_are_paginated_newest_first(app, world, client):
    record_id = make_plan(app, world, bulletins=45)
    first = client.get(f"/plans/{record_id}").get_data(as_text=True)
    assert "共 45 条通报" in first and "进度通报45" in first and "进度通报25" not in first
    last = client.get(f"/plans/{record_id}?page=3").get_data(as_text=True)
    assert "进度通报5<" in last and "进度通报6<" not in last and "第 3 页，共 3 页" in last


def test_plan_shows_the_estates_notices_and_vote_results(app, client):
    with app.app_context():
        demo.load()
        record = db.session.scalar(select(PlanRecord))
        record_id = record.id
    text = client.get(f"/plans/{record_id}").get_data(as_text=True)
    assert "1号楼加装电梯" in text  # the demo's open elevator vote
    assert "正在表决" in text
    assert "翠湖小区改造问需于民" in text


# --- staff -------------------------------------------------------------------------------


def test_staff_view_has_the_forms_and_the_audit_chain_holds(app, world, client, auth):
    record_id = make_plan(app, world)
    auth.login("community")
    page = client.get(f"/plans/{record_id}/manage").get_data(as_text=True)
    assert "设定预算" in page and "添加改造项目" in page and "发布进度通报" in page
    changes = page[page.index('id="changes"'):]
    assert "公开方案" in changes and "1200000.00 = 800000.00 + 300000.00 + 100000.00" in changes
    with app.app_context():
        assert verify() == []
        triggers = list(db.session.scalars(select(AuditEntry.trigger).where(
            AuditEntry.subject_type == "estate_plan", AuditEntry.subject_id == record_id).order_by(AuditEntry.seq)))
    assert triggers == ["create", "budget", "item_added", "item_added", "bulletin", "publish"]


def test_budget_form_saves_exact_yuan(app, world, client, auth):
    record_id = make_plan(app, world)
    version, _entries, _total = record_state(app, record_id)
    auth.login("community")
    response = auth.post(f"/plans/{record_id}/budget", {"version": version, "total": "1,000,000.10",
                                                        "government": "600000.05", "owners": "300000.05",
                                                        "social": "100000"})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.get(PlanRecord, record_id)
        assert record.budget_total == Decimal("1000000.10")
        assert record.budget_government == Decimal("600000.05")


@pytest.mark.parametrize("amounts, message", [
    ({"total": "1000000", "government": "600000", "owners": "300000", "social": "50000"}, "与总预算 1,000,000.00 元不符"),
    ({"total": "1000000", "government": "-600000", "owners": "1300000", "social": "300000"}, "金额不能为负数"),
    ({"total": "一百万", "government": "600000", "owners": "300000", "social": "100000"}, "金额请填写为元数"),
    ({"total": "1000000.001", "government": "600000", "owners": "300000", "social": "100000.001"}, "金额请填写为元数"),
    ({"total": "", "government": "600000", "owners": "300000", "social": "100000"}, "请填写金额"),
])
def test_bad_budget_is_refused_in_chinese_and_nothing_is_written(app, world, client, auth, amounts, message):
    record_id = make_plan(app, world)
    before = record_state(app, record_id)
    auth.login("community")
    response = auth.post(f"/plans/{record_id}/budget", {"version": before[0], **amounts})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert record_state(app, record_id) == before


def test_bad_budget_through_the_api_is_422_with_fields(app, world, client):
    record_id = make_plan(app, world)
    before = record_state(app, record_id)
    headers = bearer(app, "community")
    response = client.put(f"/api/v1/plans/{record_id}/budget", headers=headers,
                          json={"total": "100.00", "government": "50.00", "owners": "50.00", "social": "0.01"})
    assert response.status_code == 422 and "total" in response.json["fields"]
    response = client.put(f"/api/v1/plans/{record_id}/budget", headers=headers,
                          json={"total": 100, "government": [1], "owners": "abc", "social": -1})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"government", "owners", "social"}
    assert record_state(app, record_id) == before


def test_stale_version_is_409(app, world, client):
    record_id = make_plan(app, world)
    version = record_state(app, record_id)[0]
    response = client.put(f"/api/v1/plans/{record_id}/budget", headers=bearer(app, "community"),
                          json={**BUDGET, "version": version - 1})
    assert response.status_code == 409


def test_item_progress_and_state_are_updated(app, world, client, auth):
    record_id = make_plan(app, world)
    with app.app_context():
        item_id = db.session.scalar(select(PlanItem.id).where(PlanItem.record_id == record_id).order_by(PlanItem.id))
    auth.login("community")
    response = auth.post(f"/plans/{record_id}/items/{item_id}", {"state": "done", "note": "已完工，请居民监督"})
    assert response.status_code == 302
    text = client.get(f"/plans/{record_id}").get_data(as_text=True)
    assert "已完工，请居民监督" in text
    with app.app_context():
        item = db.session.get(PlanItem, item_id)
        assert (item.state, item.progress) == ("done", 100)
    response = auth.post(f"/plans/{record_id}/items/{item_id}", {"progress": "150"})
    assert response.status_code == 422 and "进度须为 0 到 100 之间的整数" in response.get_data(as_text=True)


def test_items_link_to_renovation_issues_of_the_estate_only(app, world):
    record_id = make_plan(app, world, items=0)
    with app.app_context():
        community = person("community")
        own = raise_demand(world, household_index=0)
        other = raise_demand(world, username="community2", household_index=20)
        item = services.add_item(community, record_id, None, {"title": "楼道灯", "issue_id": own})
        assert item.issue_id == own
        with pytest.raises(ValidationError):
            services.add_item(community, record_id, None, {"title": "别的小区", "issue_id": other})
        with pytest.raises(ValidationError):
            services.add_item(community, record_id, None, {"title": "重复", "issue_id": own})


def test_issues_included_in_the_plan_become_items(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        for username, trigger in (("group", "escalate"), ("grid", "escalate"), ("community", "include_in_plan")):
            fire(username, issue_id, trigger)
        issue = db.session.get(RenovationIssue, issue_id)
        record = services.create_plan(person("community"), estate_id=world.estate_ids[0], year=issue.plan.year)
        assert record.plan_id == issue.plan_id
        assert services.import_plan_issues(person("community"), record.id, None) == 1
        assert services.import_plan_issues(person("community"), record.id, None) == 0
        assert db.session.scalar(select(PlanItem.issue_id).where(PlanItem.record_id == record.id)) == issue_id


def test_outside_jurisdiction_is_404_and_without_the_right_403(app, world):
    record_id = make_plan(app, world)
    with app.app_context():
        with pytest.raises(NotFound):
            services.get_record(person("community2"), record_id)
        with pytest.raises(NotFound):
            services.set_budget(person("community2"), record_id, None, **BUDGET)
        with pytest.raises(NotFound):
            services.get_record(person("resident"), record_id)
        # The plan is placed at the estate's (community's) path: the grid holding the
        # estate's buildings reads the staff view but does not manage the plan.
        assert services.get_record(person("grid"), record_id).id == record_id
        with pytest.raises(NotPermitted):
            services.set_budget(person("grid"), record_id, None, **BUDGET)
        with pytest.raises(NotFound):  # a grid of another community
            services.get_record(person("grid2"), record_id)
        assert services.get_record(person("owners"), record_id).id == record_id
        with pytest.raises(NotPermitted):
            services.set_budget(person("owners"), record_id, None, **BUDGET)
        services.post_bulletin(person("supervisor"), record_id, title="监理通报：施工围挡完好")
        with pytest.raises(NotPermitted):
            services.post_bulletin(person("property"), record_id, title="物业通报")


def test_a_grid_holding_the_estate_reads_the_staff_view_without_its_forms(app, world, client, auth):
    record_id = make_plan(app, world)
    with app.app_context():
        with write_transaction():  # a grid of the same community holding none of the estate
            community = db.session.scalar(select(OrgNode).where(OrgNode.code == "C1"))
            grid = S.add_org_node(community, "grid_branch", "C1G9", "第1社区第9网格")
            other = S.add_person("第9网格员", username="grid_other", password=PASSWORD)
            S.grant_role(other, grid, R.GRID_WORKER)
    auth.login("grid")
    page = client.get(f"/plans/{record_id}/manage")
    assert page.status_code == 200
    assert 'id="edit-budget"' not in page.get_data(as_text=True)  # no budget form
    assert f"/plans/{record_id}/manage" in client.get("/plans/").get_data(as_text=True)
    assert auth.post(f"/plans/{record_id}/budget", {**BUDGET}).status_code == 403
    auth.logout()
    auth.login("community")
    assert 'id="edit-budget"' in client.get(f"/plans/{record_id}/manage").get_data(as_text=True)
    auth.logout()
    auth.login("grid_other")
    assert client.get(f"/plans/{record_id}/manage").status_code == 404
    assert f"/plans/{record_id}/manage" not in client.get("/plans/").get_data(as_text=True)


def test_pages_answer_404_and_403(app, world, client, auth):
    record_id = make_plan(app, world)
    auth.login("community2")
    assert client.get(f"/plans/{record_id}/manage").status_code == 404
    assert auth.post(f"/plans/{record_id}/budget", {**BUDGET}).status_code == 404
    auth.logout()
    auth.login("owners")
    assert client.get(f"/plans/{record_id}/manage").status_code == 200
    assert auth.post(f"/plans/{record_id}/budget", {**BUDGET}).status_code == 403


def test_unpublishing_needs_a_reason(app, world):
    record_id = make_plan(app, world)
    with app.app_context():
        with pytest.raises(ValidationError):
            services.fire(person("community"), record_id, "unpublish", None, "")
        services.fire(person("community"), record_id, "unpublish", None, "预算调整，重新公示")
        assert db.session.get(PlanRecord, record_id).state == "draft"


def test_form_without_csrf_token_is_refused(app, world, client, auth):
    record_id = make_plan(app, world)
    auth.login("community")
    response = client.post(f"/plans/{record_id}/bulletins", data={"title": "无令牌"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(PlanBulletin.id).where(PlanBulletin.title == "无令牌")) is None


# --- sections other packages add ------------------------------------------------------------


def test_sections_registered_by_other_packages_appear(app, world, client, auth):
    record_id = make_plan(app, world)
    sections.add_section(app, "meetings", lambda plan, viewer, public: Markup("<h2>工作推进会</h2>"), order=40)
    sections.add_section(app, "internal", lambda plan, viewer, public: "<b>内部</b>", order=60, public=False)
    sections.add_section(app, "broken", lambda plan, viewer, public: 1 / 0, order=70)
    public = client.get(f"/plans/{record_id}").get_data(as_text=True)
    assert 'id="section-meetings"' in public and "<h2>工作推进会</h2>" in public
    assert "section-internal" not in public and "section-broken" not in public
    auth.login("community")
    staff = client.get(f"/plans/{record_id}/manage").get_data(as_text=True)
    assert "&lt;b&gt;内部&lt;/b&gt;" in staff  # plain text is escaped


# --- the API -----------------------------------------------------------------------------


def test_api_lists_and_reads_published_plans_without_login(app, world, client):
    record_id = make_plan(app, world)
    listing = client.get("/api/v1/plans").json
    assert [item["id"] for item in listing["items"]] == [record_id]
    body = client.get(f"/api/v1/plans/{record_id}").json
    assert body["budget"]["total"] == "1200000.00"
    assert [part["amount"] for part in body["budget"]["parts"]] == ["800000.00", "300000.00", "100000.00"]
    assert len(body["items"]) == 2 and body["items"][0]["progress"] == 30
    assert "version" not in body and "posted_by" not in body["bulletins"]["items"][0]


def test_api_staff_write_and_read(app, world, client):
    record_id = make_plan(app, world, publish=False)
    headers = bearer(app, "community")
    body = client.get(f"/api/v1/plans/{record_id}", headers=headers).json
    assert body["state"] == "draft" and body["actions"] == ["publish"]
    response = client.post(f"/api/v1/plans/{record_id}/items", headers=headers,
                           json={"title": "加装电梯", "category": "improvement", "budget": "450000.00",
                                 "version": body["version"]})
    assert response.status_code == 201 and response.json["items"][-1]["budget"] == "450000.00"
    response = client.post(f"/api/v1/plans/{record_id}/bulletins", headers=headers, json={"title": "方案征求意见"})
    assert response.status_code == 201 and response.json["bulletins"]["items"][0]["posted_by"]["name"] == "community用户"
    response = client.post(f"/api/v1/plans/{record_id}/transitions", headers=headers, json={"trigger": "publish"})
    assert response.status_code == 200 and response.json["state"] == "published"


# --- campaigns -----------------------------------------------------------------------------


def make_campaign(app, world) -> int:
    with app.app_context():
        campaign = services.create_campaign(person("community"), estate_id=world.estate_ids[0], title="问需于民",
                                            opens_on="2020-01-01", closes_on="2099-12-31")
        return campaign.id


def test_campaign_tally_is_public_and_counts_by_category(app, world, client):
    campaign_id = make_campaign(app, world)
    with app.app_context():
        raise_demand(world, title="道路坑洼", category="basic", subcategory="roads")
        raise_demand(world, title="楼道灯")
        raise_demand(world, title="加装电梯", username="member", household_index=2, category="improvement",
                     subcategory="elevator")
        raise_demand(world, username="community2", household_index=20)  # another estate: not collected
        assert services.collect(person("community"), campaign_id) == 3
        assert services.collect(person("community"), campaign_id) == 0
    page = client.get(f"/plans/campaigns/{campaign_id}").get_data(as_text=True)
    assert "居民需求统计" in page and "<b>3</b> 条需求" in page
    assert "道路坑洼" not in page  # the public tally has no titles
    tally = client.get(f"/api/v1/campaigns/{campaign_id}").json["tally"]
    assert tally["total"] == 3
    assert {row["category"]: row["count"] for row in tally["by_category"]} == {"basic": 2, "improvement": 1}
    assert tally["by_fate"]["under_review"] == 3


def test_household_sees_the_fate_of_its_demand_with_the_reason(app, world, client, auth):
    campaign_id = make_campaign(app, world)
    with app.app_context():
        rejected = raise_demand(world, title="拆除违建车库")
        fire("group", rejected, "reject", reason="涉及产权纠纷，不属于本次改造范围。")
        planned = raise_demand(world, title="铺设主路", category="basic", subcategory="roads")
        for username, trigger in (("group", "escalate"), ("grid", "escalate"), ("community", "include_in_plan")):
            fire(username, planned, trigger)
        services.link_demand(person("community"), campaign_id, rejected)
        services.link_demand(person("community"), campaign_id, planned)
    auth.login("resident")
    page = client.get(f"/plans/campaigns/{campaign_id}").get_data(as_text=True)
    assert "我提出的需求" in page
    assert "拆除违建车库" in page and "涉及产权纠纷，不属于本次改造范围。" in page
    assert "铺设主路" in page and "已列入改造方案" in page
    mine = client.get(f"/api/v1/campaigns/{campaign_id}").json["mine"]
    assert {row["issue_id"]: row["fate"] for row in mine} == {rejected: "rejected", planned: "in_plan"}
    auth.logout()
    auth.login("community2")
    assert "拆除违建车库" not in client.get(f"/plans/campaigns/{campaign_id}").get_data(as_text=True)


def test_campaign_refuses_bad_input_and_foreign_demands(app, world, client, auth):
    with app.app_context():
        with pytest.raises(ValidationError) as err:
            services.create_campaign(person("community"), estate_id=world.estate_ids[0], title="x",
                                     opens_on="2026-05-01", closes_on="2026-04-01")
        assert "closes_on" in err.value.details["fields"]
        with pytest.raises(NotFound):
            services.create_campaign(person("community2"), estate_id=world.estate_ids[0], title="x",
                                     opens_on="2026-04-01", closes_on="2026-05-01")
    campaign_id = make_campaign(app, world)
    with app.app_context():
        other = raise_demand(world, username="community2", household_index=20)
        with pytest.raises(ValidationError):
            services.link_demand(person("community"), campaign_id, other)
        with pytest.raises(NotFound):
            services.link_demand(person("grid2"), campaign_id, other)
        assert db.session.scalar(select(func.count(CampaignDemand.id))) == 0
    auth.login("community")
    response = auth.post(f"/plans/campaigns/{campaign_id}/demands", {"issue_id": "abc"})
    assert response.status_code == 422 and "请填写问题编号" in response.get_data(as_text=True)


def test_closed_campaign_takes_no_more_demands(app, world):
    campaign_id = make_campaign(app, world)
    with app.app_context():
        services.close_campaign(person("community"), campaign_id, None)
        issue_id = raise_demand(world)
        with pytest.raises(ValidationError):
            services.link_demand(person("community"), campaign_id, issue_id)
        assert verify() == []


def test_stale_version_on_campaign_close(app, world):
    campaign_id = make_campaign(app, world)
    with app.app_context():
        with pytest.raises(StaleVersion):
            services.close_campaign(person("community"), campaign_id, 99)


def test_index_lists_plans_and_campaigns(app, world, client, auth):
    record_id = make_plan(app, world)
    make_campaign(app, world)
    text = client.get("/plans/").get_data(as_text=True)
    assert f"/plans/{record_id}" in text and "问需于民" in text and "新建小区改造方案" not in text
    auth.login("community")
    text = client.get("/plans/").get_data(as_text=True)
    assert "新建小区改造方案" in text and "发起需求征集" in text
