"""The standing task force: members by party, recurring meetings and their calendar,
attendance, minutes approved by the members present and signed as a PDF (once), action
items that become issues or tasks sent down, permissions, pages and the JSON API."""
from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from dispatch.models import Dispatch
from documents import services as documents
from documents.models import StoredDocument
from issues.models import RenovationIssue
from rules.calendar import LOCAL
from tests.issues.helpers import person
from tests.issues.test_api import bearer
from tests.taskforce.helpers import (
    held_with_minutes, meeting, member_ids, move_to_past, schedule, set_up, tomorrow,
)
from taskforce import services
from taskforce.sections import minutes_section
from taskforce.models import TaskForce, TaskForceActionItem, TaskForceMeeting
from workflow.audit import timeline, verify


def approve_all(meeting_id: int, usernames=("community", "resident", "builder")) -> None:
    for username in usernames:
        services.approve_minutes(person(username), meeting_id, None)


# --- the task force ---------------------------------------------------------------------


def test_a_task_force_gathers_members_by_party_and_is_audited(app, world):
    with app.app_context():
        task_force_id = set_up(world)
        task_force = db.session.get(TaskForce, task_force_id)
        assert {m.party for m in task_force.active_members} == {
            "community", "street", "resident_representative", "builder", "supervisor"}
        assert [e.trigger for e in timeline(task_force)] == ["create"] + ["member_added"] * 5
        assert verify() == []


def test_one_task_force_per_estate(app, world):
    with app.app_context():
        set_up(world)
        with pytest.raises(InvalidTransition):
            services.set_up(person("community"), world.estate_ids[0])


def test_a_community_outside_the_estate_cannot_see_or_set_it_up(app, world):
    with app.app_context():
        task_force_id = set_up(world)
        with pytest.raises(NotFound):
            services.get_task_force(person("community2"), task_force_id)
        with pytest.raises(NotFound):
            services.set_up(person("community2"), world.estate_ids[0])
        with pytest.raises(NotPermitted):
            services.add_member(person("builder"), task_force_id, person_id=world.person_ids["grid"],
                                party="utility")


def test_an_unknown_party_is_refused(app, world):
    with app.app_context():
        task_force_id = set_up(world)
        with pytest.raises(ValidationError) as refused:
            services.add_member(person("community"), task_force_id, person_id=world.person_ids["grid"], party="boss")
        assert "party" in refused.value.details["fields"]


# --- meetings ----------------------------------------------------------------------------


def test_a_recurring_series_is_scheduled_every_two_weeks(app, world):
    with app.app_context():
        task_force_id = set_up(world)
        ids = schedule(task_force_id, every_days=14, count=4)
        starts = [meeting(i).starts_at for i in ids]
        assert [b - a for a, b in zip(starts, starts[1:])] == [timedelta(days=14)] * 3
        assert {meeting(i).series_id for i in ids} == {ids[0]}


def test_a_meeting_in_the_past_cannot_be_scheduled(app, world):
    with app.app_context():
        task_force_id = set_up(world)
        with pytest.raises(ValidationError) as refused:
            schedule(task_force_id, starts_at=datetime.now(LOCAL).replace(tzinfo=None) - timedelta(days=2))
        assert "starts_at" in refused.value.details["fields"]
        assert db.session.scalar(select(func.count()).select_from(TaskForceMeeting)) == 0


def test_a_past_meeting_without_minutes_is_flagged(app, world, client, auth):
    with app.app_context():
        task_force_id = set_up(world)
        past, future = schedule(task_force_id, every_days=7, count=2)
        move_to_past(past)
        assert meeting(past).minutes_missing() and not meeting(future).minutes_missing()
    auth.login("community")
    page = client.get(f"/taskforce/{task_force_id}").get_data(as_text=True)
    assert page.count('data-flag="minutes-missing"') == 1


def test_attendance_is_recorded_only_once_the_meeting_has_started(app, world):
    with app.app_context():
        task_force_id = set_up(world)
        (meeting_id,) = schedule(task_force_id)
        with pytest.raises(InvalidTransition):
            services.record_attendance(person("community"), meeting_id, None, member_ids(task_force_id, "community"))
        move_to_past(meeting_id)
        with pytest.raises(ValidationError):
            services.record_attendance(person("community"), meeting_id, None, [])
        services.record_attendance(person("community"), meeting_id, None, member_ids(task_force_id, "community"))
        assert [r.present for r in meeting(meeting_id).attendance].count(True) == 1


def test_the_calendar_feed_lists_the_meetings(app, world, client):
    with app.app_context():
        task_force_id = set_up(world)
        schedule(task_force_id, every_days=7, count=3, title="工作推进会,第三次;附议")
        token = db.session.get(TaskForce, task_force_id).feed_token
    response = client.get(f"/taskforce/feed/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    text = response.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.count("BEGIN:VEVENT") == 3
    assert "SUMMARY:工作推进会\\,第三次\\;附议" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert client.get("/taskforce/feed/wrong.ics").status_code == 404


# --- minutes -------------------------------------------------------------------------------


def test_minutes_are_approved_by_every_member_present(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        services.approve_minutes(person("community"), meeting_id, None)
        assert meeting(meeting_id).state == "minutes_drafted"
        with pytest.raises(InvalidTransition):  # twice by the same member
            services.approve_minutes(person("community"), meeting_id, None)
        with pytest.raises((InvalidTransition, NotFound)):  # a member who was absent
            services.approve_minutes(person("street"), meeting_id, None)
        services.approve_minutes(person("resident"), meeting_id, None)
        services.approve_minutes(person("builder"), meeting_id, None)
        assert meeting(meeting_id).state == "approved"


def test_minutes_cannot_be_signed_before_approval(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        with pytest.raises(InvalidTransition):
            services.sign_minutes(person("community"), meeting_id, None)
        assert db.session.scalar(select(func.count()).select_from(StoredDocument)) == 0


def test_signed_minutes_are_a_verifiable_pdf_and_signing_twice_is_refused(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        approve_all(meeting_id)
        services.sign_minutes(person("community"), meeting_id, None)
        signed = meeting(meeting_id)
        assert signed.state == "signed"
        document = services.minutes_document(signed)
        data = documents.document_bytes(document)
        signatures = PdfFileReader(BytesIO(data)).embedded_signatures
        assert [s.field_name for s in signatures] == ["convener"]
        report = documents.verify(data)
        assert report.valid
        with pytest.raises(InvalidTransition):
            services.sign_minutes(person("community"), meeting_id, None)
        assert db.session.scalar(select(func.count()).select_from(StoredDocument)) == 1
        assert [e.trigger for e in timeline(signed)][-1] == "sign"
        assert verify() == []


def test_signing_twice_over_http_answers_409(app, world, client, auth):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        approve_all(meeting_id)
        version = meeting(meeting_id).version
    auth.login("community")
    first = auth.post(f"/taskforce/meetings/{meeting_id}/transitions", {"trigger": "sign", "version": version})
    assert first.status_code == 302
    second = auth.post(f"/taskforce/meetings/{meeting_id}/transitions", {"trigger": "sign", "version": version + 1})
    assert second.status_code == 409
    pdf = client.get(f"/taskforce/meetings/{meeting_id}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


# --- action items --------------------------------------------------------------------------


def test_an_action_item_becomes_an_issue_of_the_plan_in_one_step(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        due = datetime.now(LOCAL).date() + timedelta(days=10)
        item = services.add_action_item(person("community"), meeting_id, title="外墙锚栓返工复检", kind="issue",
                                        category="basic", subcategory="walls", due_on=due.isoformat())
        issue = db.session.get(RenovationIssue, item.issue_id)
        assert issue.state == "planned" and issue.estate_id == world.estate_ids[0]
        assert due.isoformat() in issue.description
        assert db.session.get(TaskForceActionItem, item.id).due_on == due


def test_an_action_item_becomes_a_task_sent_down(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        item = services.add_action_item(person("community"), meeting_id, title="清理消防通道", kind="dispatch",
                                        due_on=(datetime.now(LOCAL).date() + timedelta(days=3)).isoformat())
        dispatch = db.session.get(Dispatch, item.dispatch_id)
        assert dispatch.kind == "plan_item" and dispatch.estate_id == world.estate_ids[0]
        assert [e.trigger for e in timeline(meeting(meeting_id))][-1] == "action_item"


@pytest.mark.parametrize("due_on", ["2020-01-01", "tomorrow", ""])
def test_an_action_item_with_a_bad_deadline_writes_nothing(app, world, due_on):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        with pytest.raises(ValidationError):
            services.add_action_item(person("community"), meeting_id, title="x", kind="issue", due_on=due_on,
                                     subcategory="walls")
        assert db.session.scalar(select(func.count()).select_from(RenovationIssue)) == 0


# --- pages and API ---------------------------------------------------------------------------


def test_a_member_walks_the_meeting_pages(app, world, client, auth):
    with app.app_context():
        task_force_id, meeting_id = held_with_minutes(world)
    auth.login("resident")
    assert "工作推进会" in client.get(f"/taskforce/{task_force_id}").get_data(as_text=True)
    page = client.get(f"/taskforce/meetings/{meeting_id}").get_data(as_text=True)
    assert "外墙完成80%" in page and 'data-trigger="approve"' in page
    version = meeting_version(app, meeting_id)
    assert auth.post(f"/taskforce/meetings/{meeting_id}/transitions",
                     {"trigger": "approve", "version": version}).status_code == 302


def meeting_version(app, meeting_id: int) -> int:
    with app.app_context():
        return meeting(meeting_id).version


def test_someone_outside_gets_404(app, world, client, auth):
    with app.app_context():
        task_force_id, meeting_id = held_with_minutes(world)
    auth.login("community2")
    assert client.get(f"/taskforce/{task_force_id}").status_code == 404
    assert client.get(f"/taskforce/meetings/{meeting_id}").status_code == 404


def test_the_api_schedules_and_walks_a_meeting(app, world, client):
    with app.app_context():
        task_force_id = set_up(world)
    headers = bearer(app, "community")
    bad = client.post(f"/api/v1/taskforces/{task_force_id}/meetings", headers=headers,
                      json={"title": "会", "starts_at": "2001-01-01T10:00"})
    assert bad.status_code == 422 and "starts_at" in bad.get_json()["fields"]
    made = client.post(f"/api/v1/taskforces/{task_force_id}/meetings", headers=headers,
                       json={"title": "推进会", "starts_at": tomorrow().isoformat(), "every_days": 7, "count": 2})
    assert made.status_code == 201
    meeting_id = made.get_json()["meetings"][0]["id"]
    detail = client.get(f"/api/v1/taskforces/{task_force_id}", headers=headers).get_json()
    assert len(detail["meetings"]) == 2 and detail["calendar_url"].endswith(".ics")
    early = client.post(f"/api/v1/taskforce-meetings/{meeting_id}/transitions", headers=headers,
                        json={"trigger": "hold", "version": 1, "present": []})
    assert early.status_code == 409
    outsider = bearer(app, "community2")
    assert client.get(f"/api/v1/taskforce-meetings/{meeting_id}", headers=outsider).status_code == 404


def test_the_plan_page_section_lists_signed_minutes(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        approve_all(meeting_id)
        services.sign_minutes(person("community"), meeting_id, None)
        with app.test_request_context():
            html = str(minutes_section(world.estate_ids[0]))
        assert "夜间禁止施工" in html and "/verify/" in html


def test_the_api_sets_up_a_task_force_and_adds_members(app, world, client):
    headers = bearer(app, "community")
    made = client.post("/api/v1/taskforces", headers=headers, json={"estate_id": world.estate_ids[0]})
    assert made.status_code == 201
    task_force_id = made.get_json()["id"]
    again = client.post("/api/v1/taskforces", headers=headers, json={"estate_id": world.estate_ids[0]})
    assert again.status_code == 409
    added = client.post(f"/api/v1/taskforces/{task_force_id}/members", headers=headers,
                        json={"person_id": world.person_ids["builder"], "party": "builder", "duty": "项目经理"})
    assert added.status_code == 201 and added.get_json()["members"][0]["party"] == "builder"
    bad = client.post(f"/api/v1/taskforces/{task_force_id}/members", headers=headers,
                      json={"person_id": world.person_ids["builder"], "party": "boss"})
    assert bad.status_code == 422


def test_changed_minutes_are_approved_afresh(app, world):
    with app.app_context():
        _tf, meeting_id = held_with_minutes(world)
        services.approve_minutes(person("community"), meeting_id, None)
        services.draft_minutes(person("community"), meeting_id, None, "修改后的纪要。")
        assert meeting(meeting_id).approvals_missing() == 3
        approve_all(meeting_id)
        assert meeting(meeting_id).state == "approved"


def test_the_menu_shows_task_forces_to_residents_who_are_members(app, world, client, auth):
    with app.app_context():
        task_force_id = services.set_up(person("community"), world.estate_ids[0]).id
    auth.login("resident")
    assert 'href="/taskforce/"' not in client.get("/").get_data(as_text=True)
    with app.app_context():
        services.add_member(person("community"), task_force_id, person_id=world.person_ids["resident"],
                            party="resident_representative")
    assert 'href="/taskforce/"' in client.get("/").get_data(as_text=True)
