"""Management after acceptance: patrol routes (points inside the estate), walks whose findings
become issues at the right level, the handover with its signed record, warranty repairs routed
to the builder with deadlines, and the maintenance fund decided by the owners' vote with its
public notice and a ledger that never overspends."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from core.db import utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from issues.models import RenovationIssue
from orgs.models import Building
from procedures import notice as notices
from procedures import voting
from tests.issues.helpers import person
from tests.issues.test_api import bearer
from tests.procedures.vote_helpers import cast, make_unit
from aftercare import services
from aftercare.models import FundSpending, FundUse, Handover, PatrolCheck, PatrolPoint, PatrolRound, WarrantyRequest
from documents import services as documents
from workflow.audit import timeline, verify


def buildings(world, estate_index=0) -> list[int]:
    return list(db.session.scalars(select(Building.id).where(Building.estate_id == world.estate_ids[estate_index])
                                   .order_by(Building.id)))


def route(world, points=2) -> int:
    plan = services.create_patrol_plan(person("community"), world.estate_ids[0], title="每周巡检")
    for index in range(points):
        services.add_patrol_point(person("community"), plan.id, label=f"检查点{index + 1}",
                                  building_id=buildings(world)[index % 2])
    return plan.id


# --- patrols ---------------------------------------------------------------------------------


def test_a_point_outside_the_estate_is_refused(app, world):
    with app.app_context():
        plan = services.create_patrol_plan(person("community"), world.estate_ids[0], title="巡检")
        with pytest.raises(ValidationError) as refused:
            services.add_patrol_point(person("community"), plan.id, label="别的小区",
                                      building_id=buildings(world, 1)[0])
        assert "building_id" in refused.value.details["fields"]
        assert db.session.scalar(select(func.count()).select_from(PatrolPoint)) == 0


def test_a_point_outside_the_estate_answers_422_over_http(app, world, client, auth):
    with app.app_context():
        plan_id = services.create_patrol_plan(person("community"), world.estate_ids[0], title="巡检").id
        other = buildings(world, 1)[0]
    auth.login("community")
    response = auth.post(f"/aftercare/patrols/{plan_id}/points", {"label": "外面", "building_id": other})
    assert response.status_code == 422
    assert client.post(f"/api/v1/aftercare/patrols/{plan_id}/points", headers=bearer(app, "community"),
                       json={"label": "外面", "building_id": other}).status_code == 422


def test_a_grid_worker_walks_a_patrol_and_a_finding_becomes_an_issue_at_the_right_level(app, world):
    with app.app_context():
        plan_id = route(world)
        patrol = services.start_round(person("grid"), plan_id)
        first, second = services.get_round(person("grid"), patrol.id).plan.points
        services.check_point(person("grid"), patrol.id, first.id, result="ok")
        with pytest.raises(InvalidTransition):
            services.finish_round(person("grid"), patrol.id, None)
        check = services.check_point(person("grid"), patrol.id, second.id, result="finding",
                                     note="楼道灯不亮", category="basic", subcategory="stairs")
        issue = db.session.get(RenovationIssue, check.issue_id)
        assert issue.building_id == second.building_id and issue.direction == "demand"
        assert issue.state == "review_building"  # the building group answering for the building
        services.finish_round(person("grid"), patrol.id, None)
        finished = db.session.get(PatrolRound, patrol.id)
        assert finished.state == "finished"
        assert [e.trigger for e in timeline(finished)] == ["start", "check", "check", "finish"]
        assert verify() == []


def test_a_point_is_checked_once_and_only_by_the_walker(app, world):
    with app.app_context():
        plan_id = route(world, points=1)
        patrol = services.start_round(person("grid"), plan_id)
        point = services.get_round(person("grid"), patrol.id).plan.points[0]
        with pytest.raises(InvalidTransition):
            services.check_point(person("group"), patrol.id, point.id, result="ok")
        services.check_point(person("grid"), patrol.id, point.id, result="ok")
        with pytest.raises(InvalidTransition):
            services.check_point(person("grid"), patrol.id, point.id, result="ok")


def test_a_finding_without_a_description_writes_nothing(app, world):
    with app.app_context():
        plan_id = route(world, points=1)
        patrol = services.start_round(person("grid"), plan_id)
        point = services.get_round(person("grid"), patrol.id).plan.points[0]
        with pytest.raises(ValidationError):
            services.check_point(person("grid"), patrol.id, point.id, result="finding", note="", subcategory="stairs")
        assert db.session.scalar(select(func.count()).select_from(PatrolCheck)) == 0
        assert db.session.scalar(select(func.count()).select_from(RenovationIssue)) == 0


def test_a_member_household_walks_a_patrol_of_its_estate(app, world):
    with app.app_context():
        plan_id = route(world, points=1)
        patrol = services.start_round(person("member"), plan_id)
        point = services.get_round(person("member"), patrol.id).plan.points[0]
        check = services.check_point(person("member"), patrol.id, point.id, result="finding", note="扶手松动",
                                     category="basic", subcategory="stairs")
        assert db.session.get(RenovationIssue, check.issue_id).raised_by_id == world.person_ids["member"]


def test_another_community_cannot_see_the_route(app, world, client, auth):
    with app.app_context():
        plan_id = route(world)
        with pytest.raises(NotFound):
            services.start_round(person("grid2"), plan_id)
    auth.login("community2")
    assert client.get(f"/aftercare/patrols/{plan_id}").status_code == 404


# --- handover -----------------------------------------------------------------------------------


def test_the_handover_is_confirmed_by_the_property_company_and_signed_once(app, world):
    with app.app_context():
        handover = services.open_handover(person("community"), world.estate_ids[0], property_company="安居物业")
        handover_id = handover.id
        with pytest.raises(InvalidTransition):  # checklist incomplete
            services.confirm_handover(person("property"), handover_id, None)
        for item in db.session.get(Handover, handover_id).items:
            services.mark_handed_over(person("community"), handover_id, item.id)
        with pytest.raises(NotPermitted):
            services.confirm_handover(person("builder"), handover_id, None)
        services.confirm_handover(person("property"), handover_id, None)
        services.sign_handover(person("community"), handover_id, None)
        signed = db.session.get(Handover, handover_id)
        assert signed.state == "signed"
        data = documents.document_bytes(services.stored(signed.record_document_id))
        assert documents.verify(data).valid
        with pytest.raises(InvalidTransition):
            services.sign_handover(person("community"), handover_id, None)
        assert verify() == []


# --- warranty -------------------------------------------------------------------------------------


def test_a_warranty_repair_goes_to_the_builder_with_deadlines(app, world):
    with app.app_context():
        repair = services.request_repair(person("property"), world.estate_ids[0], title="屋面渗漏",
                                         building_id=buildings(world)[0])
        assert repair.due_at is not None and repair.due_at > utcnow()
        with pytest.raises(NotPermitted):
            services.fire_repair(person("property"), repair.id, "accept", None)
        services.fire_repair(person("builder"), repair.id, "accept", None)
        services.fire_repair(person("builder"), repair.id, "report_repaired", None, reason="已重做防水层")
        services.fire_repair(person("property"), repair.id, "reject", None, reason="仍有渗水")
        assert db.session.get(WarrantyRequest, repair.id).state == "in_repair"
        services.fire_repair(person("builder"), repair.id, "report_repaired", None, reason="再次修复")
        services.fire_repair(person("community"), repair.id, "confirm", None)
        closed = db.session.get(WarrantyRequest, repair.id)
        assert closed.state == "closed" and closed.due_at is None


def test_a_repair_in_another_estates_building_is_refused(app, world):
    with app.app_context():
        with pytest.raises(ValidationError):
            services.request_repair(person("community"), world.estate_ids[0], title="x",
                                    building_id=buildings(world, 1)[0])


# --- maintenance fund ---------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "1.234", "NaN", "Infinity", "", None, 12.5, True])
def test_bad_amounts_are_refused_and_nothing_is_written(app, world, amount):
    with app.app_context():
        with pytest.raises(ValidationError) as refused:
            services.propose_fund_use(person("community"), world.estate_ids[0], title="换钢丝绳", purpose="",
                                      amount=amount)
        assert "amount" in refused.value.details["fields"]
        assert db.session.scalar(select(func.count()).select_from(FundUse)) == 0


def test_bad_amounts_answer_422_over_the_api(app, world, client):
    headers = bearer(app, "community")
    response = client.post(f"/api/v1/aftercare/estates/{world.estate_ids[0]}/funds", headers=headers,
                           json={"title": "换钢丝绳", "amount": "-100"})
    assert response.status_code == 422 and "amount" in response.get_json()["fields"]


def _approved_fund_use(world) -> int:
    """A fund use of 10,000.00 yuan passed by the owners of a new stairwell unit, its notice over."""
    unit = make_unit(world, ["80.00", "90.00", "100.00"])
    fund_use = services.propose_fund_use(person("community"), world.estate_ids[0], title="9单元电梯钢丝绳",
                                         purpose="更换", amount="10000.00")
    vote = voting.open_vote(person("community"), "maintenance_fund_use", fund_use.id,
                            voting.VoteOptions(scope_kind="unit", scope_id=unit.id),
                            db.session.get(FundUse, fund_use.id).version)
    assert vote.rule_name and vote.subject_kind == "use_maintenance_funds"
    for username, household_ids in unit.owners.items():
        for household_id in household_ids:
            cast(username, vote.id, "agree", household_id)
    voting.close_vote(person("community"), vote.id, db.session.get(voting.Vote, vote.id).version)
    db.session.expire_all()
    assert db.session.get(FundUse, fund_use.id).state == "on_notice"
    return fund_use.id


def _end_notice(fund_use_id: int) -> None:
    with write_transaction():
        db.session.execute(update(notices.Notice).where(notices.Notice.target_type == "maintenance_fund_use",
                                                        notices.Notice.target_id == fund_use_id)
                           .values(ends_at=utcnow() - timedelta(minutes=1)))


def test_the_fund_is_used_after_the_vote_and_notice_and_never_overspent(app, world):
    with app.app_context():
        fund_use_id = _approved_fund_use(world)
        notice = services.fund_notice(db.session.get(FundUse, fund_use_id))
        assert notice is not None and notice.vote_id is not None and "10,000.00" in notice.body
        today = date.today().isoformat()
        with pytest.raises(InvalidTransition):  # the notice period is running
            services.record_spending(person("community"), fund_use_id, amount="100", payee="电梯公司", spent_on=today)
        _end_notice(fund_use_id)
        services.record_spending(person("community"), fund_use_id, amount="6000.50", payee="电梯公司", spent_on=today)
        with pytest.raises(ValidationError):
            services.record_spending(person("community"), fund_use_id, amount="4000.00", payee="电梯公司",
                                     spent_on=today)
        services.record_spending(person("community"), fund_use_id, amount="3999.50", payee="电梯公司", spent_on=today)
        fund_use = db.session.get(FundUse, fund_use_id)
        assert fund_use.spent == Decimal("10000.00") and fund_use.remaining == Decimal("0.00")
        assert db.session.scalar(select(func.count()).select_from(FundSpending)) == 2
        assert [e.trigger for e in timeline(fund_use)] == ["create", "open_vote", "vote_passed", "spend", "spend"]
        assert verify() == []


def test_a_failed_vote_rejects_the_use(app, world):
    with app.app_context():
        unit = make_unit(world, ["80.00", "90.00", "100.00"])
        fund_use = services.propose_fund_use(person("community"), world.estate_ids[0], title="x", purpose="",
                                             amount="500")
        vote = voting.open_vote(person("community"), "maintenance_fund_use", fund_use.id,
                                voting.VoteOptions(scope_kind="unit", scope_id=unit.id), None)
        for username, household_ids in unit.owners.items():
            cast(username, vote.id, "disagree", household_ids[0])
        voting.close_vote(person("community"), vote.id, None)
        db.session.expire_all()
        assert db.session.get(FundUse, fund_use.id).state == "rejected"


# --- pages ---------------------------------------------------------------------------------------------


def test_the_estate_overview_and_record_pages_answer(app, world, client, auth):
    with app.app_context():
        plan_id = route(world)
        handover = services.open_handover(person("community"), world.estate_ids[0], property_company="安居物业")
        repair = services.request_repair(person("community"), world.estate_ids[0], title="屋面渗漏")
        fund_use = services.propose_fund_use(person("community"), world.estate_ids[0], title="换钢丝绳", purpose="",
                                             amount="48600.00")
        ids = (plan_id, handover.id, repair.id, fund_use.id)
    auth.login("community")
    page = client.get(f"/aftercare/estates/{world.estate_ids[0]}").get_data(as_text=True)
    assert "每周巡检" in page and "安居物业" in page and "屋面渗漏" in page and "48,600.00" in page
    for path in (f"/aftercare/patrols/{ids[0]}", f"/aftercare/handovers/{ids[1]}", f"/aftercare/repairs/{ids[2]}",
                 f"/aftercare/funds/{ids[3]}", "/aftercare/"):
        assert client.get(path).status_code == 200, path
    bad = auth.post(f"/aftercare/estates/{world.estate_ids[0]}/funds", {"title": "x", "amount": "一万"})
    assert bad.status_code == 422


def test_an_overdue_repair_is_referred_to_the_street_once(app, world):
    with app.app_context():
        repair = services.request_repair(person("property"), world.estate_ids[0], title="屋面渗漏")
        later = repair.due_at + timedelta(hours=1)
        assert services.sweep(later) == {"warranty_escalated": 1}
        assert services.sweep(later) == {"warranty_escalated": 0}
        db.session.expire_all()
        referred = db.session.get(WarrantyRequest, repair.id)
        assert referred.responsible_org_id == world.node_ids["S1"]
        assert [e.trigger for e in timeline(referred)] == ["create", "overdue_escalation"]
        assert verify() == []


def test_the_fund_use_is_put_to_the_vote_from_the_vote_pages(app, world, client, auth):
    with app.app_context():
        unit = make_unit(world, ["80.00", "90.00"])
        fund_use = services.propose_fund_use(person("community"), world.estate_ids[0], title="换钢丝绳", purpose="",
                                             amount="800.00")
        fund_use_id, version = fund_use.id, fund_use.version
    auth.login("community")
    page = client.get(f"/aftercare/funds/{fund_use_id}").get_data(as_text=True)
    assert f"/votes/new/maintenance_fund_use/{fund_use_id}" in page
    assert client.get(f"/votes/new/maintenance_fund_use/{fund_use_id}").status_code == 200
    opened = auth.post(f"/votes/new/maintenance_fund_use/{fund_use_id}",
                       {"scope": f"unit:{unit.id}", "version": version})
    assert opened.status_code == 302
    with app.app_context():
        vote = voting.latest_vote("maintenance_fund_use", fund_use_id)
        assert vote.state == "open" and vote.subject_kind == "use_maintenance_funds"
        assert db.session.get(FundUse, fund_use_id).state == "voting"
    auth.logout()
    auth.login("community2")
    assert client.get(f"/aftercare/funds/{fund_use_id}").status_code == 404


def test_the_handover_over_the_api(app, world, client):
    community, company = bearer(app, "community"), bearer(app, "property")
    opened = client.post(f"/api/v1/aftercare/estates/{world.estate_ids[0]}/handover", headers=community,
                         json={"property_company": "安居物业"})
    assert opened.status_code == 201
    body = opened.get_json()
    for item in body["items"]:
        done = client.post(f"/api/v1/aftercare/handovers/{body['id']}/items/{item['id']}/done", headers=community,
                           json={})
        assert done.status_code == 200
    confirmed = client.post(f"/api/v1/aftercare/handovers/{body['id']}/transitions", headers=company,
                            json={"trigger": "confirm"})
    assert confirmed.status_code == 200 and confirmed.get_json()["state"] == "confirmed"
    signed = client.post(f"/api/v1/aftercare/handovers/{body['id']}/transitions", headers=community,
                         json={"trigger": "sign"})
    assert signed.status_code == 200 and signed.get_json()["record_sha256"]
    again = client.post(f"/api/v1/aftercare/handovers/{body['id']}/transitions", headers=community,
                        json={"trigger": "sign"})
    assert again.status_code == 409
    assert client.get(f"/api/v1/aftercare/handovers/{body['id']}", headers=bearer(app, "community2")).status_code == 404


def test_a_grid_worker_finds_the_estate_of_their_community(app, world, client, auth):
    with app.app_context():
        route(world)
    auth.login("grid")
    assert "测试1小区" in client.get("/aftercare/").get_data(as_text=True)
    page = client.get(f"/aftercare/estates/{world.estate_ids[0]}").get_data(as_text=True)
    assert "每周巡检" in page
    assert client.get(f"/aftercare/estates/{world.estate_ids[1]}").status_code == 404
