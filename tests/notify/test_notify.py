"""Notifications: who is told, in the transaction of the change; the inbox and its
badge; preferences; mail at once through a real SMTP server, retried and never twice;
the daily digest; the deadline sweep."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.db import utcnow, write_transaction
from core.errors import NotFound
from core.extensions import db
from dispatch import services as dispatch_services
from dispatch.models import DispatchAssignment
from issues.models import RenovationIssue
from notify import events, mail, services
from notify.models import (
    DEADLINE_NEAR, DEMAND_CHANGED, DIGEST, DISPATCH_RECEIVED, EMAIL, FAILED, INAPP, ITEM_REACHED, KINDS,
    NOTICE_PUBLISHED,
    PENDING, REFERRAL, SENT, VOTE_OPENED, Notification, NotificationEvent,
)
from tests.conftest import csrf_token
from tests.issues.helpers import fire, person, raise_demand
from tests.notify.conftest import SmtpServer, body_of, free_port
from tests.procedures.vote_helpers import elevator_issue, make_unit, open_issue_vote, pass_vote
from workflow import engine, sweep

# --- helpers --------------------------------------------------------------------------------


def notifications(username: str, kind: str | None = None) -> list[Notification]:
    """The person's notifications once the waiting events are fanned out (as the request
    that committed them does after its response, or the sweep)."""
    events.deliver_queued()
    db.session.expire_all()
    query = select(Notification).where(Notification.person_id == person(username).id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def total() -> int:
    events.deliver_queued()
    return db.session.scalar(select(func.count()).select_from(Notification))


def prefer(username: str, delivery: str, *kinds: str, email: str | None = None) -> None:
    who = person(username)
    services.save_preferences(who, {kind: delivery for kind in kinds}, email or f"{username}@example.org")


def login_page(client, auth, username: str, path: str = "/inbox"):
    auth.login(username)
    return client.get(path)


# --- who is told --------------------------------------------------------------------------


def test_a_demand_reaching_the_building_group_is_in_its_leaders_inbox(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        [note] = notifications("group")
        assert (note.kind, note.subject_id, note.read_at) == (ITEM_REACHED, issue_id, None)
        assert notifications("resident") == []  # the one who acted is not told
        assert notifications("grid") == []


def test_escalation_tells_the_next_level_and_the_resident_who_raised_it(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        assert [n.kind for n in notifications("grid")] == [ITEM_REACHED]
        [change] = notifications("resident", DEMAND_CHANGED)
        assert change.data["state"] == "review_grid"
        assert [n.kind for n in notifications("group")] == [ITEM_REACHED]  # its own action told it nothing


def test_a_rolled_back_transition_leaves_no_notification_and_sends_nothing(app, world, smtp):
    with app.app_context():
        issue_id = raise_demand(world)
        prefer("grid", EMAIL, ITEM_REACHED)
        before = total()

        def fail_after_notifications(event):
            raise RuntimeError("disk full")

        engine.observe(app, fail_after_notifications)  # runs after notify's own observer
        with pytest.raises(RuntimeError):
            fire("group", issue_id, "escalate")
        app.extensions["wuji_observers"].remove(fail_after_notifications)
        assert not events.queued()
        assert total() == before
        assert db.session.get(RenovationIssue, issue_id).state == "review_building"
        assert mail.send_pending()["sent"] == 0
    assert smtp.messages == []


def test_a_transition_writes_one_event_that_becomes_a_notification_per_recipient_after_commit(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        events.deliver_queued()
        before = db.session.scalar(select(func.count()).select_from(Notification))
        fire("group", issue_id, "escalate")
        # In the transition's transaction: one event for both audiences, no per-person row yet.
        [event] = db.session.scalars(select(NotificationEvent)).all()
        assert event.audiences == "item_reached:staff;demand_changed:person"
        assert (event.subject_type, event.subject_id) == (RenovationIssue.subject_type, issue_id)
        assert db.session.scalar(select(func.count()).select_from(Notification)) == before
        told_at = event.created_at
        assert events.deliver_queued() == 1
        assert events.deliver_queued() == 0  # taken once: never fanned out twice
        assert db.session.scalars(select(NotificationEvent)).all() == []
        [reached] = notifications("grid")
        [changed] = notifications("resident", DEMAND_CHANGED)
        assert reached.kind == ITEM_REACHED and reached.created_at == changed.created_at == told_at
        assert db.session.scalar(select(func.count()).select_from(Notification)) == before + 2


def test_the_request_fans_out_its_events_after_the_response(app, world, client, auth):
    with app.app_context():
        issue_id = raise_demand(world)
        events.deliver_queued()
        version = db.session.get(RenovationIssue, issue_id).version
    auth.login("group")
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "escalate", "version": version})
    assert response.status_code == 302
    response.close()
    with app.app_context():
        assert not events.queued()
        grid_id = person("grid").id
        [note] = db.session.scalars(select(Notification).where(Notification.person_id == grid_id)).all()
        assert (note.kind, note.subject_id) == (ITEM_REACHED, issue_id)


def test_the_relay_thread_fans_out_and_mails_after_the_response(app, world, smtp, client, auth):
    """As deployed (NOTIFY_RELAY_THREAD on): the request wakes its process's relay."""
    with app.app_context():
        issue_id = raise_demand(world)
        events.deliver_queued()
        prefer("grid", EMAIL, ITEM_REACHED)
        version = db.session.get(RenovationIssue, issue_id).version
    app.config["NOTIFY_RELAY_THREAD"] = True
    auth.login("group")
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "escalate", "version": version})
    assert response.status_code == 302
    deadline = time.monotonic() + 10
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    [message] = smtp.messages
    assert message["To"].endswith("<grid@example.org>")
    with app.app_context():
        assert not events.queued()
        [note] = db.session.scalars(select(Notification).where(Notification.person_id == person("grid").id)).all()
        assert (note.kind, note.subject_id, note.email_state) == (ITEM_REACHED, issue_id, SENT)


def test_two_fan_outs_at_once_tell_each_person_once(app, world):
    """Two workers fanning out the same waiting events: each event is taken by one."""
    with app.app_context():
        issue_id = raise_demand(world)
        for _ in range(10):
            fire("group", issue_id, "escalate")
            fire("grid", issue_id, "return_down", reason="请楼院核实")
        waiting = db.session.scalar(select(func.count()).select_from(NotificationEvent))
        assert waiting == 21
    barrier = threading.Barrier(2)
    counts = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                counts.append(events.deliver_queued(batch=3))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 21
    with app.app_context():
        assert not events.queued()
        # The group's leader: the raise and each return; the grid worker: each escalation;
        # the resident: each change of state of the demand.
        assert len(notifications("group", ITEM_REACHED)) == 11
        assert len(notifications("grid", ITEM_REACHED)) == 10
        assert len(notifications("resident", DEMAND_CHANGED)) == 20


def test_the_inbox_shows_an_event_left_waiting(app, world, client, auth):
    """A worker that stopped between its commit and the fan-out: the inbox fans out first."""
    with app.app_context():
        issue_id = raise_demand(world)
        assert events.queued()
    page = login_page(client, auth, "group")
    assert "楼道灯不亮" in page.get_data(as_text=True)
    with app.app_context():
        assert not events.queued()


def test_the_sweep_referral_tells_the_level_above(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        with write_transaction():
            db.session.execute(update(RenovationIssue).where(RenovationIssue.id == issue_id)
                               .values(due_at=utcnow() - timedelta(days=1)))
        sweep.run()
        [referral] = notifications("grid", REFERRAL)
        assert referral.subject_id == issue_id
        assert referral.data["org"] == "第1社区第1网格"


def test_a_deadline_two_working_days_away_is_announced_once(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        with write_transaction():
            db.session.execute(update(RenovationIssue).where(RenovationIssue.id == issue_id)
                               .values(due_at=utcnow() + timedelta(hours=20)))
        assert services.announce_deadlines()["deadline_notifications"] == 1
        assert services.announce_deadlines()["deadline_notifications"] == 0
        [near] = notifications("group", DEADLINE_NEAR)
        assert near.subject_id == issue_id


def test_a_deadline_far_away_is_not_announced(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        with write_transaction():
            db.session.execute(update(RenovationIssue).where(RenovationIssue.id == issue_id)
                               .values(due_at=utcnow() + timedelta(days=10)))
        assert services.announce_deadlines()["deadline_notifications"] == 0


def test_a_task_sent_down_tells_the_staff_of_each_receiving_node(app, world):
    with app.app_context():
        dispatch = dispatch_services.launch(person("street"), title="施工期间停水通知", body="3月5日停水。",
                                            kind="notice", origin_org_id=world.node_ids["S1"])
        for username in ("community", "community2"):
            [note] = notifications(username, DISPATCH_RECEIVED)
            assert note.data["dispatch_id"] == dispatch.id
        assert notifications("street") == []


def test_a_vote_and_its_notice_are_told_to_the_owners_where_they_live(app, world):
    with app.app_context():
        unit = make_unit(world, ["80", "90"], owners=[["owner1"], ["owner2"]], building_index=1)
        issue_id = elevator_issue(unit)
        vote_id = open_issue_vote(issue_id)
        for username in ("owner1", "owner2"):
            [note] = notifications(username, VOTE_OPENED)
            assert note.subject_id == vote_id
        assert notifications("resident", VOTE_OPENED) == []  # lives in another building
        pass_vote(issue_id)
        assert len(notifications("owner1", NOTICE_PUBLISHED)) == 1
        assert len(notifications("resident", NOTICE_PUBLISHED)) == 1  # same estate


# --- the inbox ------------------------------------------------------------------------------


def test_inbox_lists_the_notification_and_the_header_counts_it(app, world, client, auth):
    with app.app_context():
        raise_demand(world)
    page = login_page(client, auth, "group").get_data(as_text=True)
    assert "楼道灯不亮" in page
    assert 'class="badge"' in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_item(app, world, client, auth):
    with app.app_context():
        issue_id = raise_demand(world)
        note_id = notifications("group")[0].id
    auth.login("group")
    response = auth.post(f"/inbox/{note_id}/read", {"open": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/issues/{issue_id}")
    with app.app_context():
        assert notifications("group")[0].read_at is not None
    assert 'class="badge"' not in client.get("/inbox").get_data(as_text=True)


def test_mark_all_read(app, world, client, auth):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "return_down", reason="请楼院先核实")
        assert len(notifications("group")) == 2
    auth.login("group")
    assert auth.post("/inbox/read-all").status_code == 302
    with app.app_context():
        assert all(n.read_at is not None for n in notifications("group"))


def test_another_persons_notification_is_not_found(app, world, client, auth):
    with app.app_context():
        raise_demand(world)
        [note] = notifications("group")
        note_id = note.id
        with pytest.raises(NotFound):
            services.mark_read(person("grid"), note_id)
    auth.login("grid")
    assert auth.post(f"/inbox/{note_id}/read").status_code == 404
    token = csrf_token(client)
    api = client.post(f"/api/v1/notifications/{note_id}/read", headers={"X-CSRFToken": token})
    assert api.status_code == 404
    with app.app_context():
        assert notifications("group")[0].read_at is None


def test_marking_read_needs_the_csrf_token(app, world, client, auth):
    with app.app_context():
        raise_demand(world)
        note_id = notifications("group")[0].id
    auth.login("group")
    assert client.post(f"/inbox/{note_id}/read").status_code == 400


def test_inbox_in_english(app, world, client, auth):
    with app.app_context():
        raise_demand(world)
    auth.login("group")
    auth.post("/language", {"locale": "en"})
    page = client.get("/inbox").get_data(as_text=True)
    assert "now awaits your level" in page and "Mark all read" in page


def test_inbox_api_lists_and_marks_read(app, world, client, auth):
    with app.app_context():
        raise_demand(world)
    auth.login("group")
    body = client.get("/api/v1/notifications").get_json()
    assert body["total"] == 1 and body["unread"] == 1
    item = body["items"][0]
    assert item["kind"] == ITEM_REACHED and item["url"].startswith("/issues/")
    token = csrf_token(client)
    assert client.post("/api/v1/notifications/read-all", headers={"X-CSRFToken": token}).get_json()["marked"] == 1
    assert client.get("/api/v1/notifications?unread=1").get_json()["total"] == 0


# --- preferences ----------------------------------------------------------------------------


def test_preferences_form_saves_the_email_and_the_choice_per_kind(app, world, client, auth):
    auth.login("grid")
    assert "每日" in client.get("/inbox/preferences").get_data(as_text=True)
    form = {kind: INAPP for kind in KINDS}
    response = auth.post("/inbox/preferences", {**form, "email": "grid@example.org", ITEM_REACHED: EMAIL,
                                                REFERRAL: DIGEST})
    assert response.status_code == 302
    with app.app_context():
        saved = services.preferences(person("grid"))
        assert saved.email == "grid@example.org"
        assert saved.deliveries[ITEM_REACHED] == EMAIL and saved.deliveries[REFERRAL] == DIGEST


def test_preferences_form_refuses_a_broken_email_address(app, world, client, auth):
    auth.login("grid")
    form = {kind: INAPP for kind in KINDS}
    page = auth.post("/inbox/preferences", {**form, "email": "not an address"}).get_data(as_text=True)
    assert "电子邮箱地址无效" in page
    with app.app_context():
        assert person("grid").email is None


def test_preferences_api_rejects_an_unknown_delivery(app, world, client, auth):
    auth.login("grid")
    token = csrf_token(client)
    response = client.put("/api/v1/notifications/preferences", json={"deliveries": {ITEM_REACHED: "pigeon"}},
                          headers={"X-CSRFToken": token})
    assert response.status_code == 422


def test_inbox_only_sends_no_mail(app, world, smtp):
    with app.app_context():
        services.save_preferences(person("group"), {}, "group@example.org")
        raise_demand(world)
        assert notifications("group")[0].email_state is None
        assert mail.send_pending()["sent"] == 0
    assert smtp.messages == []


# --- mail -------------------------------------------------------------------------------


def test_email_at_once_reaches_the_smtp_server_after_the_request(app, world, smtp, client, auth):
    with app.app_context():
        issue_id = raise_demand(world)
        prefer("grid", EMAIL, ITEM_REACHED)
        version = db.session.get(RenovationIssue, issue_id).version
    auth.login("group")
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "escalate", "version": version})
    assert response.status_code == 302
    response.close()
    [message] = smtp.messages
    assert message["To"].endswith("<grid@example.org>")
    assert "楼道灯不亮" in message["Subject"]
    assert f"https://wuji.example.org/issues/{issue_id}" in body_of(message)
    with app.app_context():
        [note] = notifications("grid")
        assert note.email_state == SENT
        assert message["Message-ID"] == f"<notification-{note.id}@example.org>"


def test_mail_is_in_the_recipients_language(app, world, smtp):
    with app.app_context():
        prefer("group", EMAIL, ITEM_REACHED)
        with write_transaction():
            person("group").locale = "en"
        raise_demand(world)
        assert mail.send_pending()["sent"] == 1
    assert "now awaits your level" in smtp.messages[0]["Subject"]


def test_smtp_down_then_up_sends_exactly_once(app, world):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="wuji@example.org")
    with app.app_context():
        prefer("group", EMAIL, ITEM_REACHED)
        raise_demand(world)
        counts = mail.send_pending()
        assert counts == {"sent": 0, "retry": 1, "failed": 0}
        [note] = notifications("group")
        assert (note.email_state, note.attempts) == (PENDING, 1)
        assert note.next_attempt_at > utcnow()
        assert mail.send_pending()["retry"] == 0  # not due yet
    server = SmtpServer(port)
    server.start()
    try:
        with app.app_context():
            later = utcnow() + timedelta(minutes=5)
            assert mail.send_pending(later)["sent"] == 1
            assert mail.send_pending(later + timedelta(hours=1))["sent"] == 0
            assert notifications("group")[0].email_state == SENT
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_a_notification_claimed_by_another_sender_is_not_sent_again(app, world, smtp):
    with app.app_context():
        prefer("group", EMAIL, ITEM_REACHED)
        raise_demand(world)
        [note] = notifications("group")
        assert mail._claim(note.id, utcnow())  # another sender took it
        assert mail._claim(note.id, utcnow()) is False
        assert mail.send_pending()["sent"] == 0
        # That sender died mid-send: after a while it is given up, never sent twice.
        assert mail.send_pending(utcnow() + timedelta(hours=2))["failed"] == 1
        assert notifications("group")[0].email_state == FAILED
    assert smtp.messages == []


def test_digest_carries_the_days_notifications_in_one_mail(app, world, smtp, runner):
    with app.app_context():
        prefer("grid", DIGEST, ITEM_REACHED, DEADLINE_NEAR)
        first = raise_demand(world)
        second = raise_demand(world, title="屋顶漏水")
        fire("group", first, "escalate")
        fire("group", second, "escalate")
        assert mail.send_pending()["sent"] == 0  # nothing at once
    result = runner.invoke(args=["notify", "digest"])
    assert result.exit_code == 0 and "digests: 1" in result.output
    [message] = smtp.messages
    text = body_of(message)
    assert "楼道灯不亮" in text and "屋顶漏水" in text
    assert message["To"].endswith("<grid@example.org>")
    assert runner.invoke(args=["notify", "digest"]).output.startswith("digests: 0")
    assert len(smtp.messages) == 1


def test_notify_send_command_without_a_mail_server_says_so(app, world, runner):
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code != 0 and "MAIL_SERVER" in result.output


def test_openapi_document_is_valid_and_describes_the_notification_operations(client):
    validator = pytest.importorskip("openapi_spec_validator")
    document = client.get("/api/v1/openapi.json").get_json()
    validator.validate(document)
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {
        ("/notifications", "get"), ("/notifications/{notification_id}/read", "post"),
        ("/notifications/read-all", "post"), ("/notifications/preferences", "get"),
        ("/notifications/preferences", "put"),
    } <= operations


def test_the_sweep_command_announces_deadlines_and_mails_the_outbox(app, world, smtp, runner):
    with app.app_context():
        prefer("group", EMAIL, DEADLINE_NEAR)
        issue_id = raise_demand(world)
        with write_transaction():
            db.session.execute(update(RenovationIssue).where(RenovationIssue.id == issue_id)
                               .values(due_at=utcnow() + timedelta(hours=20)))
    output = runner.invoke(args=["workflow", "sweep"]).output
    assert "deadline_notifications: 1" in output and "mail_sent: 1" in output
    [message] = smtp.messages
    assert "两个工作日内到期" in message["Subject"]


def test_preferences_api_round_trip(app, world, client, auth):
    auth.login("grid")
    token = csrf_token(client)
    response = client.put("/api/v1/notifications/preferences", headers={"X-CSRFToken": token},
                          json={"email": "grid@example.org", "deliveries": {VOTE_OPENED: DIGEST}})
    assert response.status_code == 200
    body = client.get("/api/v1/notifications/preferences").get_json()
    assert body["email"] == "grid@example.org"
    assert body["deliveries"][VOTE_OPENED] == DIGEST and body["deliveries"][ITEM_REACHED] == INAPP


def test_a_task_due_soon_is_announced_with_a_link_to_the_task(app, world, client, auth):
    with app.app_context():
        dispatch = dispatch_services.launch(person("street"), title="施工期间停水通知", body="3月5日停水。",
                                            kind="notice", origin_org_id=world.node_ids["S1"])
        dispatch_id = dispatch.id
        with write_transaction():
            db.session.execute(update(DispatchAssignment).where(
                DispatchAssignment.dispatch_id == dispatch_id,
                DispatchAssignment.org_id == world.node_ids["C1"]).values(due_at=utcnow() + timedelta(hours=20)))
        services.announce_deadlines()
        [near] = notifications("community", DEADLINE_NEAR)
        assert near.subject_type == "dispatch_assignment"
    auth.login("community")
    auth.post("/language", {"locale": "en"})
    page = client.get("/inbox").get_data(as_text=True)
    assert "“施工期间停水通知” is due within two working days" in page
