"""Tasks sent down, through the JSON API under /api/v1/dispatches, and cancelled by
the level that launched them (API and page)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.conftest import PASSWORD, csrf_token
from tests.issues.helpers import person
from tests.issues.test_api import bearer
from tests.dispatch.test_dispatch import (
    act,
    assignment,
    english,
    launch,
    member_units,
    pass_down_to_member,
    report_up_from_member,
)
from dispatch import services
from workflow import engine
from workflow.audit import AuditEntry, timeline, verify
from dispatch.models import Dispatch, DispatchAssignment

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REASON = "施工方案调整，本次通知作废"


def launched(app, world, **kwargs) -> int:
    with app.app_context():
        return launch(world, **kwargs)


def part(app, dispatch_id: int, code: str) -> tuple[int, int]:
    """(id, version) of the assignment of org node `code`."""
    with app.app_context():
        found = assignment(dispatch_id, code)
        return found.id, found.version


def steps(app, dispatch_id: int, *moves: tuple[str, str, str]) -> None:
    with app.app_context():
        for username, code, trigger in moves:
            act(username, dispatch_id, code, trigger)


def fire_api(client, headers: dict, dispatch_id: int, assignment_id: int, body: dict):
    return client.post(f"/api/v1/dispatches/{dispatch_id}/assignments/{assignment_id}/transitions",
                       json=body, headers=headers)


def cancel_api(app, client, dispatch_id: int, username: str = "street", code: str = "S1", **body):
    assignment_id, version = part(app, dispatch_id, code)
    payload = {"trigger": "cancel", "version": version, "reason": REASON, **body}
    return fire_api(client, bearer(app, username), dispatch_id, assignment_id, payload)


def states(app, dispatch_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(select(DispatchAssignment).where(DispatchAssignment.dispatch_id == dispatch_id))
        return {row.org.code: row.state for row in rows}


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/dispatches"),
    ("get", "/api/v1/dispatches/awaiting"),
    ("get", "/api/v1/dispatches/1"),
    ("get", "/api/v1/dispatches/1/assignments/1"),
])
def test_without_session_or_token_is_401(client, world, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_launch_without_token_is_401_and_launches_nothing(app, client, world):
    response = client.post("/api/v1/dispatches", json={"title": "通知", "kind": "notice",
                                                        "origin_org_id": world.node_ids["S1"]},
                           headers={"Authorization": "Bearer wuji_not-a-real-token"})
    assert response.status_code == 401
    with app.app_context():
        assert db.session.query(Dispatch).count() == 0


def test_browser_session_launches_with_the_csrf_header_only(app, client, auth, world):
    auth.login("community")
    body = {"title": "入户宣传", "kind": "notice", "origin_org_id": world.node_ids["C1"]}
    assert client.post("/api/v1/dispatches", json=body).status_code == 400
    response = client.post("/api/v1/dispatches", json=body, headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 201
    with app.app_context():
        assert db.session.query(Dispatch).count() == 1


# --- listing -----------------------------------------------------------------------------


def test_list_shows_the_callers_dispatches_with_counts(app, client, world):
    c1_task = launched(app, world, username="community", origin="C1")
    street_task = launched(app, world)
    body = client.get("/api/v1/dispatches", headers=bearer(app, "community2")).get_json()
    assert [item["id"] for item in body["items"]] == [street_task]
    assert body["items"][0]["counts"]["total"] == 1  # only its own branch
    body = client.get("/api/v1/dispatches", headers=bearer(app, "street")).get_json()
    items = {item["id"]: item for item in body["items"]}
    assert set(items) == {c1_task, street_task} and body["total"] == 2
    item = items[street_task]
    assert (item["status"], item["kind"], item["cancellation"]) == ("open", "notice", None)
    assert item["counts"] == {"total": 3, "sent": 2, "acknowledged": 1, "reported": 0, "cancelled": 0,
                              "overdue": 0, "percent": 0}
    assert item["origin_org"] == {"id": world.node_ids["S1"], "name": "测试街道党工委", "level": "street_committee"}
    assert item["launched_by"]["id"] == world.person_ids["street"]
    assert ISO_Z.match(item["created_at"]) and item["url"] == f"/api/v1/dispatches/{street_task}"


def test_list_paginates_with_total_and_links(app, client, world):
    created = [launched(app, world) for _ in range(5)]
    headers = bearer(app, "street")
    first = client.get("/api/v1/dispatches?per_page=2", headers=headers).get_json()
    assert (first["total"], first["page"], first["per_page"], first["pages"]) == (5, 1, 2, 3)
    assert first["links"]["prev"] is None and first["links"]["next"] == "/api/v1/dispatches?per_page=2&page=2"
    pages = [first] + [client.get(f"/api/v1/dispatches?per_page=2&page={n}", headers=headers).get_json()
                       for n in (2, 3)]
    assert pages[-1]["links"]["next"] is None
    assert [item["id"] for page in pages for item in page["items"]] == sorted(created, reverse=True)


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "per_page=abc"])
def test_invalid_paging_is_422(app, client, world, query):
    response = client.get(f"/api/v1/dispatches?{query}", headers=bearer(app, "street"))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {query.split("=")[0]}


def test_nobody_outside_the_levels_sees_any_dispatch(app, client, world):
    launched(app, world)
    for username in ("resident", "property"):
        body = client.get("/api/v1/dispatches", headers=bearer(app, username)).get_json()
        assert (body["total"], body["items"]) == (0, [])


# --- launching -------------------------------------------------------------------------------


def test_launch_answers_201_with_location_and_the_progress_tree(app, client, world):
    body = {"title": "加装电梯政策宣传", "body": "入户讲解", "kind": "notice", "origin_org_id": world.node_ids["S1"]}
    response = client.post("/api/v1/dispatches", json=body, headers=bearer(app, "street"))
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/dispatches/{created['id']}")
    assert (created["title"], created["body"], created["status"], created["estate"]) == (
        "加装电梯政策宣传", "入户讲解", "open", None)
    (root,) = created["progress"]
    assert root["assignment"]["org"]["id"] == world.node_ids["S1"]
    assert [child["assignment"]["org"]["id"] for child in root["children"]] == [world.node_ids["C1"],
                                                                                 world.node_ids["C2"]]
    assert {child["assignment"]["state"] for child in root["children"]} == {"sent"}
    assert created["counts"]["total"] == 3 and created["units"] == []
    (mine,) = created["mine"]
    assert (mine["id"], mine["state"]) == (root["assignment"]["id"], "forwarded")
    assert [t["trigger"] for t in mine["transitions"]] == ["cancel"]
    assert mine["transitions"][0]["reason_required"] is True
    with app.app_context():
        stored = db.session.get(Dispatch, created["id"])
        assert (stored.launched_by_id, stored.origin_org_id, stored.kind) == (
            world.person_ids["street"], world.node_ids["S1"], "notice")
        assert db.session.query(DispatchAssignment).count() == 3


@pytest.mark.parametrize("fields, errors", [
    ({"title": ""}, {"title"}),
    ({"title": "长" * 201}, {"title"}),
    ({"title": 7}, {"title"}),
    ({"kind": "party"}, {"kind"}),
    ({"origin_org_id": None}, {"origin_org_id"}),
    ({"origin_org_id": "1"}, {"origin_org_id"}),
    ({"estate_id": "E1"}, {"estate_id"}),
    ({"issue_id": 0}, {"issue_id"}),
    ({"kind": "consent"}, {"estate_id"}),  # consent is gathered in one estate
    ({"estate_id": 999999}, {"estate_id"}),
])
def test_launch_with_missing_or_invalid_data_is_422_naming_the_field(app, client, world, fields, errors):
    body = {"title": "意愿征集", "kind": "notice", "origin_org_id": world.node_ids["C1"], **fields}
    response = client.post("/api/v1/dispatches", json=body, headers=bearer(app, "community"))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == errors
    with app.app_context():
        assert db.session.query(Dispatch).count() == 0


def test_launch_with_a_malformed_body_is_400(app, client, world):
    headers = {**bearer(app, "street"), "Content-Type": "application/json"}
    response = client.post("/api/v1/dispatches", data=b"[1, 2]", headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("username, origin, status", [
    ("community", "S1", 404),  # above the caller's jurisdiction
    ("community", "C2", 404),  # beside it
    ("street", "C1", 403),  # inside, but launched by the unit one acts for
    ("grid", "C1G1", 403),  # grid workers do not launch
])
def test_launch_from_an_org_unit_not_acted_for_is_404_outside_and_403_inside(app, client, world, username,
                                                                             origin, status):
    body = {"title": "通知", "kind": "notice", "origin_org_id": world.node_ids[origin]}
    response = client.post("/api/v1/dispatches", json=body, headers=bearer(app, username))
    assert response.status_code == status


# --- reading -----------------------------------------------------------------------------------


def test_dispatch_outside_jurisdiction_or_missing_is_404(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    for username in ("community2", "grid2", "resident", "property"):
        assert client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, username)).status_code == 404
    assert client.get("/api/v1/dispatches/999999", headers=bearer(app, "street")).status_code == 404


def test_consent_dispatch_shows_units_and_the_member_households_figures(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1", kind="consent", estate_index=0)
    with app.app_context():
        pass_down_to_member(dispatch_id)
        units = member_units(world)
    body = client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "member")).get_json()
    (mine,) = body["mine"]
    assert [t["trigger"] for t in mine["transitions"]] == ["complete"]
    assert mine["transitions"][0]["fields"] == ["reached"]
    figures = mine["figures"]
    assert figures["households"] == 5
    assert {u["unit_id"]: u["households"] for u in figures["units"]} == units
    assert all(u["consents"] is None for u in figures["units"])
    (branch,) = body["progress"]
    assert branch["assignment"]["org"]["level"] == "member_household" and branch["children"] == []
    community = client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "community")).get_json()
    assert len(community["units"]) == 4 and {u["consents"] for u in community["units"]} == {0}
    assert community["counts"]["total"] == 4



def test_member_household_sees_the_units_it_looks_after_whole(app, client, world):
    """A member household's node is a leaf with no units under it: it sees each unit
    where a household it looks after lives, with the whole unit's figures."""
    dispatch_id = launched(app, world, username="community", origin="C1", kind="consent", estate_index=0)
    with app.app_context():
        pass_down_to_member(dispatch_id)
        units = member_units(world)
        member = services.my_assignments(person("member"), db.session.get(Dispatch, dispatch_id))[0]
        services.fire_assignment(person("member"), member.id, "complete", member.version, reached=5,
                                 consents={unit_id: count for unit_id, count in units.items()})
    community = client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "community")).get_json()
    whole = {u["unit_id"]: (u["households"], u["consents"]) for u in community["units"]}
    body = client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "member")).get_json()
    seen = {u["unit_id"]: (u["households"], u["consents"]) for u in body["units"]}
    assert set(seen) == set(units) and len(whole) > len(seen)
    assert seen == {unit_id: whole[unit_id] for unit_id in units}
    assert sum(consents for _households, consents in seen.values()) == sum(units.values())
    # A resident of the estate is no officer: no units at all.
    assert client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "resident")).status_code == 404

def test_assignment_has_its_timeline_in_words(app, client, world):
    dispatch_id = launched(app, world)
    steps(app, dispatch_id, ("community", "C1", "acknowledge"))
    assignment_id, version = part(app, dispatch_id, "C1")
    body = client.get(f"/api/v1/dispatches/{dispatch_id}/assignments/{assignment_id}",
                      headers=bearer(app, "community")).get_json()
    assert (body["state"], body["version"]) == ("acknowledged", version)
    sent, acknowledged = body["timeline"]
    assert (sent["trigger"], sent["to_state"], sent["actor"]["id"]) == ("send", "sent", world.person_ids["street"])
    assert sent["trigger_label"] and sent["trigger_label"] != "send"
    assert (acknowledged["role"], acknowledged["org"]["id"]) == ("community_officer", world.node_ids["C1"])
    assert acknowledged["from_label"] and acknowledged["to_label"] and ISO_Z.match(acknowledged["time"])
    assert {t["trigger"] for t in body["transitions"]} == {"forward", "complete"}


def test_assignment_of_another_branch_is_404(app, client, world):
    dispatch_id = launched(app, world)
    assignment_id, _version = part(app, dispatch_id, "C1")
    headers = bearer(app, "community2")  # sees the dispatch through its own branch only
    assert client.get(f"/api/v1/dispatches/{dispatch_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/dispatches/{dispatch_id}/assignments/{assignment_id}",
                      headers=headers).status_code == 404
    other = launched(app, world)
    assert client.get(f"/api/v1/dispatches/{other}/assignments/{assignment_id}",
                      headers=bearer(app, "street")).status_code == 404


def test_awaiting_lists_the_open_assignments_of_my_units(app, client, world):
    c1_task = launched(app, world, username="community", origin="C1")
    street_task = launched(app, world)
    body = client.get("/api/v1/dispatches/awaiting", headers=bearer(app, "community")).get_json()
    assert {(item["dispatch"]["id"], item["state"]) for item in body["items"]} == {
        (c1_task, "forwarded"), (street_task, "sent")}
    assert all(item["org"]["id"] == world.node_ids["C1"] for item in body["items"])
    assert client.get("/api/v1/dispatches/awaiting", headers=bearer(app, "resident")).get_json()["items"] == []
    assert client.get("/api/v1/dispatches/awaiting?limit=0", headers=bearer(app, "community")).status_code == 422


# --- transitions ---------------------------------------------------------------------------------


def test_consent_task_goes_down_and_reports_back_up_through_the_api(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1", kind="consent", estate_index=0)
    for username, code, trigger in (("grid", "C1G1", "acknowledge"), ("grid", "C1G1", "forward"),
                                    ("group", "C1G1B1", "acknowledge"), ("group", "C1G1B1", "forward"),
                                    ("member", "C1G1B1M1", "acknowledge")):
        assignment_id, version = part(app, dispatch_id, code)
        response = fire_api(client, bearer(app, username), dispatch_id, assignment_id,
                            {"trigger": trigger, "version": version})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["version"] == version + 1
    with app.app_context():
        units = member_units(world)
    member_id, version = part(app, dispatch_id, "C1G1B1M1")
    body = {"trigger": "complete", "version": version, "reached": 5, "reason": "两户外出，电话联系",
            "consents": {str(unit_id): count for unit_id, count in units.items()}}
    response = fire_api(client, bearer(app, "member"), dispatch_id, member_id, body)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["state"], response.get_json()["dispatch_status"]) == ("done", "open")
    for username, code in (("member", "C1G1B1M1"), ("group", "C1G1B1"), ("grid", "C1G1"), ("community", "C1")):
        assignment_id, version = part(app, dispatch_id, code)
        response = fire_api(client, bearer(app, username), dispatch_id, assignment_id,
                            {"trigger": "report_up", "version": version})
        assert response.status_code == 200, response.get_json()
    assert response.get_json()["dispatch_status"] == "reported"
    with app.app_context():
        root = assignment(dispatch_id, "C1")
        assert (root.state, root.reached, root.consents) == ("reported", 5, 5)
        assert verify() == []
    body = client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "community")).get_json()
    assert body["status"] == "reported" and body["mine"][0]["transitions"] == []


def test_inside_jurisdiction_but_not_allowed_is_403(app, client, world):
    dispatch_id = launched(app, world)
    assignment_id, version = part(app, dispatch_id, "C1")
    response = fire_api(client, bearer(app, "street"), dispatch_id, assignment_id,
                        {"trigger": "acknowledge", "version": version})
    assert response.status_code == 403
    assert part(app, dispatch_id, "C1")[1] == version


def test_outside_jurisdiction_is_404_even_for_a_wrong_version(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    assignment_id, version = part(app, dispatch_id, "C1G1")
    for username in ("community2", "grid2"):
        for sent_version in (version, 99):
            response = fire_api(client, bearer(app, username), dispatch_id, assignment_id,
                                {"trigger": "acknowledge", "version": sent_version})
            assert response.status_code == 404


def test_stale_version_is_409_with_the_current_version(app, client, world):
    dispatch_id = launched(app, world)
    assignment_id, version = part(app, dispatch_id, "C1")
    steps(app, dispatch_id, ("community", "C1", "acknowledge"))
    response = fire_api(client, bearer(app, "community"), dispatch_id, assignment_id,
                        {"trigger": "forward", "version": version})
    assert response.status_code == 409
    body = response.get_json()
    assert (body["error"], body["version"], body["state"]) == ("stale_version", version + 1, "acknowledged")


def test_wrong_state_is_409_with_the_current_version(app, client, world):
    dispatch_id = launched(app, world)
    assignment_id, version = part(app, dispatch_id, "C1")
    response = fire_api(client, bearer(app, "community"), dispatch_id, assignment_id,
                        {"trigger": "report_up", "version": version})
    assert response.status_code == 409
    body = response.get_json()
    assert (body["error"], body["version"], body["state"]) == ("invalid_transition", version, "sent")


@pytest.mark.parametrize("body, fields", [
    ({"version": 1}, {"trigger"}),
    ({"trigger": "acknowledge"}, {"version"}),
    ({"trigger": "acknowledge", "version": "1"}, {"version"}),
    ({"trigger": "acknowledge", "version": True}, {"version"}),
    ({"trigger": "fly_away", "version": 1}, {"trigger"}),
    ({"trigger": "acknowledge", "version": 1, "actor": "admin"}, {"actor"}),
    ({"trigger": "acknowledge", "version": 1, "reason": ["a"]}, {"reason"}),
    ({"trigger": "complete", "version": 1, "reached": 1.5}, {"reached"}),
    ({"trigger": "complete", "version": 1, "reached": 1, "consents": [1, 2]}, {"consents"}),
])
def test_wrong_types_are_422_naming_the_field(app, client, world, body, fields):
    dispatch_id = launched(app, world)
    assignment_id, _version = part(app, dispatch_id, "C1")
    response = fire_api(client, bearer(app, "community"), dispatch_id, assignment_id, body)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == fields


def test_consents_missing_for_a_unit_are_422_naming_it(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1", kind="consent", estate_index=0)
    with app.app_context():
        pass_down_to_member(dispatch_id)
        first, *others = member_units(world)
    member_id, version = part(app, dispatch_id, "C1G1B1M1")
    body = {"trigger": "complete", "version": version, "reached": 3, "consents": {str(u): 1 for u in others}}
    response = fire_api(client, bearer(app, "member"), dispatch_id, member_id, body)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {f"consents.{first}"}
    assert part(app, dispatch_id, "C1G1B1M1")[1] == version


def test_figures_out_of_range_are_422_and_nothing_changes(app, client, world):
    dispatch_id = launched(app, world)
    steps(app, dispatch_id, ("community", "C1", "acknowledge"))
    assignment_id, version = part(app, dispatch_id, "C1")
    response = fire_api(client, bearer(app, "community"), dispatch_id, assignment_id,
                        {"trigger": "complete", "version": version, "reached": 17})  # C1 has 16 households
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"reached"}
    assert part(app, dispatch_id, "C1")[1] == version


# --- cancelling -----------------------------------------------------------------------------------


def test_launching_level_cancels_every_open_part_in_one_go(app, client, world):
    dispatch_id = launched(app, world)
    with app.app_context():
        pass_down_to_member(dispatch_id)
        before = {a.id: a.audit_seq for a in db.session.scalars(select(DispatchAssignment))}
    response = cancel_api(app, client, dispatch_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["state"], body["dispatch_status"]) == ("cancelled", "cancelled")
    assert set(states(app, dispatch_id).values()) == {"cancelled"}
    with app.app_context():
        dispatch = db.session.get(Dispatch, dispatch_id)
        assert (dispatch.cancelled_by_id, dispatch.cancel_reason) == (world.person_ids["street"], REASON)
        assert dispatch.cancelled_at is not None
        for part_row in db.session.scalars(select(DispatchAssignment)):
            entry = timeline(part_row)[-1]
            assert part_row.audit_seq == before[part_row.id] + 1
            assert (entry.trigger, entry.to_state, entry.actor_id, entry.reason) == (
                "cancel", "cancelled", world.person_ids["street"], REASON)
            assert (entry.role, entry.org_id) == ("street_officer", world.node_ids["S1"])
            assert (part_row.due_at, part_row.responsible_org_id) == (None, None)
        assert verify() == []
    detail = client.get(f"/api/v1/dispatches/{dispatch_id}", headers=bearer(app, "grid")).get_json()
    assert detail["status"] == "cancelled" and detail["status_label"]
    assert detail["cancellation"]["reason"] == REASON
    assert detail["cancellation"]["by"]["id"] == world.person_ids["street"]
    assert detail["counts"]["cancelled"] == detail["counts"]["total"] == 3
    assert detail["mine"][0]["transitions"] == []


def test_parts_already_reported_stay_reported(app, client, world):
    dispatch_id = launched(app, world)
    steps(app, dispatch_id, ("community2", "C2", "acknowledge"))
    with app.app_context():
        act("community2", dispatch_id, "C2", "complete", reached="12")
    steps(app, dispatch_id, ("community2", "C2", "report_up"))
    assert cancel_api(app, client, dispatch_id).status_code == 200
    assert states(app, dispatch_id) == {"S1": "cancelled", "C1": "cancelled", "C2": "reported"}
    with app.app_context():
        assert verify() == []


def test_a_second_cancel_is_409_with_the_current_version(app, client, world):
    dispatch_id = launched(app, world)
    assert cancel_api(app, client, dispatch_id).status_code == 200
    response = cancel_api(app, client, dispatch_id)
    assert response.status_code == 409
    body = response.get_json()
    _root_id, version = part(app, dispatch_id, "S1")
    assert (body["error"], body["state"], body["version"]) == ("invalid_transition", "cancelled", version)
    with app.app_context():
        assert [e.trigger for e in timeline(assignment(dispatch_id, "S1"))] == ["launch", "cancel"]


def test_a_finished_task_cannot_be_cancelled(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    with app.app_context():
        pass_down_to_member(dispatch_id)
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="5")
        report_up_from_member(dispatch_id)
    response = cancel_api(app, client, dispatch_id, username="community", code="C1")
    assert response.status_code == 409
    assert response.get_json()["state"] == "reported"
    with app.app_context():
        assert db.session.get(Dispatch, dispatch_id).cancelled_at is None


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_cancelling_without_a_reason_is_422_and_nothing_changes(app, client, world, reason):
    dispatch_id = launched(app, world)
    before = states(app, dispatch_id)
    response = cancel_api(app, client, dispatch_id, reason=reason)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"reason"}
    assert states(app, dispatch_id) == before
    with app.app_context():
        assert db.session.get(Dispatch, dispatch_id).cancelled_at is None


def test_a_stale_cancel_is_409(app, client, world):
    dispatch_id = launched(app, world)
    response = cancel_api(app, client, dispatch_id, version=0)
    assert response.status_code == 409
    assert response.get_json()["error"] == "stale_version"
    assert set(states(app, dispatch_id).values()) == {"forwarded", "sent"}


@pytest.mark.parametrize("username, code, status", [
    ("street", "C1", 403),  # the level above sees the task but did not launch it
    ("grid", "C1G1", 403),  # a level below cannot cancel its own part
    ("community2", "C1", 404),  # outside the jurisdiction
])
def test_only_the_launching_level_cancels(app, client, world, username, code, status):
    dispatch_id = launched(app, world, username="community", origin="C1")
    response = cancel_api(app, client, dispatch_id, username=username, code=code)
    assert response.status_code == status
    assert set(states(app, dispatch_id).values()) == {"forwarded", "sent"}


def test_the_launching_level_cancels_through_its_own_part_only(app, client, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    response = cancel_api(app, client, dispatch_id, username="community", code="C1G1")
    assert response.status_code == 409
    assert response.get_json()["state"] == "sent"
    assert set(states(app, dispatch_id).values()) == {"forwarded", "sent"}


def test_another_officer_of_the_launching_unit_may_cancel(app, client, world):
    from core.db import write_transaction
    from orgs import roles as R
    from orgs import services as org_services
    from orgs.models import OrgNode

    dispatch_id = launched(app, world, username="community", origin="C1")
    with app.app_context(), write_transaction():
        colleague = org_services.add_person("社区干部乙", username="colleague", password=PASSWORD)
        org_services.grant_role(colleague, db.session.get(OrgNode, world.node_ids["C1"]), R.COMMUNITY_OFFICER)
    response = cancel_api(app, client, dispatch_id, username="colleague", code="C1")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Dispatch, dispatch_id).cancelled_by_id != world.person_ids["community"]


def test_cancel_is_one_transaction(app, client, world, monkeypatch):
    dispatch_id = launched(app, world)
    with app.app_context():
        pass_down_to_member(dispatch_id)
        entries = db.session.query(AuditEntry).count()
    before = states(app, dispatch_id)
    real_fire, calls = engine.fire, []

    def failing_fire(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 4:
            raise RuntimeError("power cut")
        return real_fire(*args, **kwargs)

    monkeypatch.setattr(services.engine, "fire", failing_fire)
    with app.app_context():
        _root_id, version = part(app, dispatch_id, "S1")
        with pytest.raises(RuntimeError):
            services.cancel(person("street"), dispatch_id, version, REASON)
    monkeypatch.undo()
    assert states(app, dispatch_id) == before
    with app.app_context():
        assert db.session.get(Dispatch, dispatch_id).cancelled_at is None
        assert db.session.query(AuditEntry).count() == entries
        assert verify() == []


def test_cancelled_parts_leave_the_worklists_and_the_sweep(app, client, world):
    dispatch_id = launched(app, world)
    with app.app_context():
        pass_down_to_member(dispatch_id)
        later = assignment(dispatch_id, "C2").due_at + timedelta(days=30)
    assert cancel_api(app, client, dispatch_id).status_code == 200
    for username in ("street", "community", "community2", "grid", "member"):
        body = client.get("/api/v1/dispatches/awaiting", headers=bearer(app, username)).get_json()
        assert body["items"] == [], username
    with app.app_context():
        assert services.awaiting(person("grid")) == []
        assert services.sweep(now=later) == {"dispatch_escalated": 0, "dispatch_at_top": 0}
        assert verify() == []


# --- the page ---------------------------------------------------------------------------------------


def test_launching_level_cancels_from_the_page_with_a_reason(app, client, auth, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    root_id, version = part(app, dispatch_id, "C1")
    auth.login("community")
    english(auth)
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Cancel the task" in page and 'name="reason"' in page and 'value="cancel"' in page
    url = f"/dispatches/{dispatch_id}/assignments/{root_id}/transitions"
    response = auth.post(url, {"trigger": "cancel", "version": str(version), "reason": ""})
    assert response.status_code == 422
    assert set(states(app, dispatch_id).values()) == {"forwarded", "sent"}
    assert client.post(url, data={"trigger": "cancel", "version": str(version), "reason": REASON}).status_code == 400
    response = auth.post(url, {"trigger": "cancel", "version": str(version), "reason": REASON})
    assert response.status_code == 302
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Revoked" in page and REASON in page and "Cancel the task</summary>" not in page
    assert "Revoked" in client.get("/dispatches/").get_data(as_text=True)
    response = auth.post(url, {"trigger": "cancel", "version": str(version + 1), "reason": REASON})
    assert response.status_code == 409


def test_other_levels_see_no_cancel_button_and_get_403(app, client, auth, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    grid_id, version = part(app, dispatch_id, "C1G1")
    auth.login("grid")
    english(auth)
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Cancel the task" not in page
    url = f"/dispatches/{dispatch_id}/assignments/{grid_id}/transitions"
    response = auth.post(url, {"trigger": "cancel", "version": str(version), "reason": REASON})
    assert response.status_code == 403


def test_cancelled_task_reads_as_revoked_in_chinese(app, client, auth, world):
    dispatch_id = launched(app, world, username="community", origin="C1")
    assert cancel_api(app, client, dispatch_id, username="community", code="C1").status_code == 200
    auth.login("grid")
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "已撤销" in page and REASON in page


# --- the OpenAPI document ------------------------------------------------------------------------------


def test_openapi_document_is_valid_and_describes_every_dispatch_operation(client):
    validator = pytest.importorskip("openapi_spec_validator")
    document = client.get("/api/v1/openapi.json").get_json()
    validator.validate(document)
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {
        ("/dispatches", "get"), ("/dispatches", "post"), ("/dispatches/awaiting", "get"),
        ("/dispatches/{dispatch_id}", "get"), ("/dispatches/{dispatch_id}/assignments/{assignment_id}", "get"),
        ("/dispatches/{dispatch_id}/assignments/{assignment_id}/transitions", "post"),
    } <= operations
    transition = document["paths"]["/dispatches/{dispatch_id}/assignments/{assignment_id}/transitions"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(transition["responses"])
    triggers = document["components"]["schemas"]["DispatchTransitionRequest"]["properties"]["trigger"]["enum"]
    assert set(triggers) == {"acknowledge", "forward", "complete", "report_up", "close_for", "cancel"}


# --- the migration -------------------------------------------------------------------------------------


def test_cancellation_migration_keeps_the_dispatches_already_sent(tmp_path):
    """Down and up again over a database holding dispatches (on SQLite the table is
    rebuilt while other rows refer to it)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from app import create_app
    from core.db import write_transaction
    from tests.conftest import BACKEND, BASE_CONFIG, World, drop_postgres, scratch_postgres

    url = scratch_postgres("dispatch_migration") if BACKEND == "postgresql" else f"sqlite:///{tmp_path / 'm.sqlite'}"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        with write_transaction():
            world = World()
        dispatch_id = launch(world)
        db.session.remove()
        downgrade(revision="86c7e8a01c8f")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM dispatch_assignment")).scalar() == 3
        upgrade()
        assert db.session.get(Dispatch, dispatch_id).cancelled_at is None
        assert db.session.query(DispatchAssignment).count() == 3
        assert cancel_via_service(world, dispatch_id) == {"cancelled"}
        db.session.remove()
        db.engine.dispose()
    if BACKEND == "postgresql":
        drop_postgres(url)


def cancel_via_service(world, dispatch_id: int) -> set[str]:
    root = assignment(dispatch_id, "S1")
    services.cancel(person("street"), dispatch_id, root.version, REASON)
    db.session.expire_all()
    return {a.state for a in db.session.scalars(select(DispatchAssignment))}
