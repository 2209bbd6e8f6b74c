"""The issue API under /api/v1: what integrations and browser scripts see."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.db import utcnow, write_transaction
from core.extensions import db
from orgs import tokens
from tests.conftest import csrf_token
from tests.issues.helpers import fire, issue, person, raise_demand
from issues.models import RenovationIssue

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NEW_DEMAND = {
    "title": "单元门禁损坏", "description": "2单元门禁无法关闭", "category": "basic", "subcategory": "stairs",
}


def bearer(app, username: str) -> dict[str, str]:
    with app.app_context():
        _row, secret = tokens.create(person(username), "tests")
    return {"Authorization": f"Bearer {secret}"}


def raised(app, world, username: str = "resident", household_index: int = 0, **fields) -> int:
    with app.app_context():
        return raise_demand(world, username=username, household_index=household_index, **fields)


def drive(app, issue_id: int, *steps: tuple[str, str]) -> None:
    with app.app_context():
        for username, trigger in steps:
            fire(username, issue_id, trigger)


def version_of(app, issue_id: int) -> int:
    with app.app_context():
        return issue(issue_id).version


def fire_api(client, headers: dict, issue_id: int, body: dict):
    return client.post(f"/api/v1/issues/{issue_id}/transitions", json=body, headers=headers)


# --- authentication ---------------------------------------------------------------


def test_list_without_session_or_token_is_401(client, world):
    response = client.get("/api/v1/issues")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_unknown_bearer_token_is_401(client, world):
    response = client.get("/api/v1/issues", headers={"Authorization": "Bearer wuji_not-a-real-token"})
    assert response.status_code == 401


def test_session_write_without_csrf_header_is_400(app, client, auth, world):
    auth.login("resident")
    body = {**NEW_DEMAND, "place": {"kind": "household", "id": world.household_ids[0]}}
    response = client.post("/api/v1/issues", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"
    with app.app_context():
        assert db.session.query(RenovationIssue).count() == 0


def test_session_write_with_csrf_header_is_accepted(client, auth, world):
    auth.login("resident")
    token = csrf_token(client)
    response = client.post(
        "/api/v1/issues", json={**NEW_DEMAND, "place": {"kind": "household", "id": world.household_ids[0]}},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201


def test_session_read_needs_no_csrf_header(client, auth, world):
    auth.login("grid")
    assert client.get("/api/v1/issues").status_code == 200


# --- listing ---------------------------------------------------------------------------


def test_list_shows_only_issues_in_the_callers_jurisdiction(app, client, world):
    mine = raised(app, world)
    other = raised(app, world, username="grid2", household_index=16)
    def ids(username: str) -> list[int]:
        body = client.get("/api/v1/issues", headers=bearer(app, username)).get_json()
        return sorted(item["id"] for item in body["items"])

    assert ids("grid") == [mine]
    assert ids("street") == sorted([mine, other])


def test_list_item_carries_state_version_place_and_deadline(app, client, world):
    issue_id = raised(app, world)
    body = client.get("/api/v1/issues", headers=bearer(app, "group")).get_json()
    item = body["items"][0]
    assert item["id"] == issue_id
    assert (item["state"], item["level"], item["version"]) == ("review_building", "building_group", 1)
    assert item["open"] is True
    assert item["place"] == {"kind": "household", "id": world.household_ids[0]}
    assert item["responsible_org"]["id"] == world.node_ids["C1G1B1"]
    assert ISO_Z.match(item["due_at"]) and ISO_Z.match(item["created_at"])
    assert item["url"] == f"/api/v1/issues/{issue_id}"


def test_queue_mine_lists_what_awaits_the_callers_level(app, client, world):
    waiting = raised(app, world)
    moved = raised(app, world, household_index=6, username="group")
    drive(app, moved, ("group", "escalate"))
    group_queue = client.get("/api/v1/issues?queue=mine", headers=bearer(app, "group")).get_json()
    grid_queue = client.get("/api/v1/issues?queue=mine", headers=bearer(app, "grid")).get_json()
    assert [item["id"] for item in group_queue["items"]] == [waiting]
    assert [item["id"] for item in grid_queue["items"]] == [moved]


def test_queue_raised_lists_the_callers_own_demands(app, client, world):
    own = raised(app, world)
    raised(app, world, household_index=6, username="group")
    body = client.get("/api/v1/issues?queue=raised", headers=bearer(app, "resident")).get_json()
    assert [item["id"] for item in body["items"]] == [own]


def test_filters_by_state_level_category_and_org(app, client, world):
    stairs = raised(app, world)
    lights = raised(app, world, username="group", household_index=6, category="improvement", subcategory="lighting")
    drive(app, lights, ("group", "escalate"))
    headers = bearer(app, "street")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/issues?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return sorted(item["id"] for item in response.get_json()["items"])

    assert ids("state=review_grid") == [lights]
    assert ids("level=building_group") == [stairs]
    assert ids("category=basic") == [stairs]
    assert ids(f"org={world.node_ids['C1']}") == sorted([stairs, lights])
    assert ids(f"org={world.node_ids['C2']}") == []


def test_overdue_filter_lists_only_issues_past_their_deadline(app, client, world):
    late = raised(app, world)
    raised(app, world, username="group", household_index=6)
    with app.app_context(), write_transaction():
        db.session.execute(update(RenovationIssue).where(RenovationIssue.id == late)
                           .values(due_at=utcnow() - timedelta(days=1)))
    body = client.get("/api/v1/issues?overdue=true", headers=bearer(app, "group")).get_json()
    assert [(item["id"], item["overdue"]) for item in body["items"]] == [(late, True)]


def test_list_paginates_with_total_and_links(app, client, world):
    created = [raised(app, world, username="grid", household_index=6 + i) for i in range(5)]
    headers = bearer(app, "community")
    first = client.get("/api/v1/issues?per_page=2&category=basic", headers=headers).get_json()
    assert (first["total"], first["page"], first["per_page"], first["pages"]) == (5, 1, 2, 3)
    assert first["links"]["prev"] is None
    assert first["links"]["next"] == "/api/v1/issues?per_page=2&category=basic&page=2"
    last = client.get(first["links"]["last"], headers=headers).get_json()
    assert last["page"] == 3 and last["links"]["next"] is None
    seen = [item["id"] for page in (first, client.get(first["links"]["next"], headers=headers).get_json(), last)
            for item in page["items"]]
    assert sorted(seen) == sorted(created)


@pytest.mark.parametrize("query, field", [
    ("state=nowhere", "state"),
    ("level=planet", "level"),
    ("category=luxury", "category"),
    ("queue=everyone", "queue"),
    ("overdue=perhaps", "overdue"),
    ("org=abc", "org"),
    ("page=0", "page"),
    ("per_page=1000", "per_page"),
])
def test_invalid_filters_answer_422_naming_the_field(app, client, world, query, field):
    response = client.get(f"/api/v1/issues?{query}", headers=bearer(app, "street"))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {field}


def test_org_filter_outside_jurisdiction_is_404(app, client, world):
    response = client.get(f"/api/v1/issues?org={world.node_ids['C2']}", headers=bearer(app, "grid"))
    assert response.status_code == 404


# --- creating --------------------------------------------------------------------------


def test_create_answers_201_with_location_and_the_new_issue(app, client, world):
    body = {**NEW_DEMAND, "place": {"kind": "household", "id": world.household_ids[0]}}
    response = client.post("/api/v1/issues", json=body, headers=bearer(app, "resident"))
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/issues/{created['id']}")
    assert (created["title"], created["state"], created["version"]) == ("单元门禁损坏", "review_building", 1)
    assert [entry["trigger"] for entry in created["timeline"]] == ["create"]
    with app.app_context():
        stored = issue(created["id"])
        assert (stored.raised_by_id, stored.household_id) == (world.person_ids["resident"], world.household_ids[0])


def test_create_with_missing_title_and_bad_subcategory_is_422(app, client, world):
    place = {"kind": "household", "id": world.household_ids[6]}
    body = {**NEW_DEMAND, "title": "", "subcategory": "lighting", "place": place}
    response = client.post("/api/v1/issues", json=body, headers=bearer(app, "grid"))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"title", "subcategory"}


def test_create_with_wrong_types_is_422_naming_each_field(app, client, world):
    body = {"title": 12, "description": ["x"], "category": "basic", "subcategory": "stairs",
            "place": {"kind": "palace", "id": "7"}}
    response = client.post("/api/v1/issues", json=body, headers=bearer(app, "grid"))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"title", "description", "place.kind", "place.id"}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_create_with_malformed_body_is_400(app, client, world, raw):
    headers = {**bearer(app, "grid"), "Content-Type": "application/json"}
    response = client.post("/api/v1/issues", data=raw, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_request"


def test_create_at_a_place_outside_reach_is_404(app, client, world):
    body = {**NEW_DEMAND, "place": {"kind": "household", "id": world.household_ids[16]}}
    response = client.post("/api/v1/issues", json=body, headers=bearer(app, "grid"))
    assert response.status_code == 404


# --- reading one ---------------------------------------------------------------------------


def test_get_issue_has_the_timeline_in_words_and_the_callers_actions(app, client, world):
    issue_id = raised(app, world)
    drive(app, issue_id, ("group", "escalate"))
    body = client.get(f"/api/v1/issues/{issue_id}", headers=bearer(app, "grid")).get_json()
    created, escalated = body["timeline"]
    assert created["actor"] == {"id": world.person_ids["resident"], "name": "居民甲"}
    assert (created["trigger"], created["from_state"], created["to_state"]) == ("create", None, "review_building")
    assert escalated["org"] == {"id": world.node_ids["C1G1B1"], "name": "第1社区楼院党小组", "level": "building_group"}
    assert (escalated["role"], escalated["trigger"]) == ("building_group_leader", "escalate")
    assert escalated["trigger_label"] and escalated["trigger_label"] != "escalate"
    assert escalated["from_label"] and escalated["to_label"] and escalated["role_label"]
    assert ISO_Z.match(escalated["time"])
    actions = {t["trigger"]: t for t in body["transitions"]}
    assert {"escalate", "return_down", "resolve", "merge", "reject"} == set(actions)
    assert actions["reject"]["reason_required"] is True
    assert actions["merge"]["fields"] == ["merge_into"]
    assert body["place"]["label"] and body["raised_by"]["name"] == "居民甲"


def test_get_issue_shows_no_actions_to_someone_who_may_only_look(app, client, world):
    issue_id = raised(app, world)
    body = client.get(f"/api/v1/issues/{issue_id}", headers=bearer(app, "property")).get_json()
    assert body["transitions"] == []


def test_get_issue_outside_jurisdiction_or_missing_is_404(app, client, world):
    issue_id = raised(app, world)
    assert client.get(f"/api/v1/issues/{issue_id}", headers=bearer(app, "grid2")).status_code == 404
    assert client.get("/api/v1/issues/999999", headers=bearer(app, "grid")).status_code == 404


# --- transitions ----------------------------------------------------------------------------


def test_transition_answers_the_new_state_and_version(app, client, world):
    issue_id = raised(app, world)
    response = fire_api(client, bearer(app, "group"), issue_id, {"trigger": "escalate", "version": 1})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["state"], body["version"], body["responsible_org_id"]) == ("review_grid", 2, world.node_ids["C1G1"])
    with app.app_context():
        assert (issue(issue_id).state, issue(issue_id).version) == ("review_grid", 2)


def test_transition_passes_data_such_as_reason_and_numbers(app, client, world):
    issue_id = raised(app, world)
    headers = bearer(app, "group")
    response = fire_api(client, headers, issue_id, {"trigger": "reject", "version": 1, "reason": "不在改造范围"})
    assert response.status_code == 200
    with app.app_context():
        assert issue(issue_id).public_note == "不在改造范围"
    duplicate = raised(app, world, username="group", household_index=6)
    response = fire_api(client, headers, duplicate, {"trigger": "merge", "version": 1, "merge_into": issue_id})
    assert response.status_code == 422  # the rejected issue is closed: nothing to merge into
    assert set(response.get_json()["fields"]) == {"merge_into"}
    target = raised(app, world, username="group", household_index=7)
    response = fire_api(client, headers, duplicate, {"trigger": "merge", "version": 1, "merge_into": target})
    assert response.status_code == 200
    with app.app_context():
        assert (issue(duplicate).state, issue(duplicate).merged_into_id) == ("merged", target)


def test_stale_version_is_409_with_the_current_version(app, client, world):
    issue_id = raised(app, world)
    drive(app, issue_id, ("group", "escalate"))
    response = fire_api(client, bearer(app, "grid"), issue_id, {"trigger": "escalate", "version": 1})
    assert response.status_code == 409
    body = response.get_json()
    assert (body["error"], body["version"], body["state"]) == ("stale_version", 2, "review_grid")
    assert version_of(app, issue_id) == 2


def test_wrong_state_is_409_with_the_current_version(app, client, world):
    issue_id = raised(app, world)
    response = fire_api(client, bearer(app, "community"), issue_id, {"trigger": "accept", "version": 1})
    assert response.status_code == 409
    body = response.get_json()
    assert (body["error"], body["version"], body["state"]) == ("invalid_transition", 1, "review_building")


def test_inside_jurisdiction_but_not_allowed_is_403(app, client, world):
    issue_id = raised(app, world)
    response = fire_api(client, bearer(app, "grid"), issue_id, {"trigger": "escalate", "version": 1})
    assert response.status_code == 403
    assert version_of(app, issue_id) == 1


def test_outside_jurisdiction_is_404_even_for_a_wrong_version(app, client, world):
    issue_id = raised(app, world)
    for version in (1, 7):
        response = fire_api(client, bearer(app, "grid2"), issue_id, {"trigger": "escalate", "version": version})
        assert response.status_code == 404


def test_missing_reason_is_422_with_the_field(app, client, world):
    issue_id = raised(app, world)
    response = fire_api(client, bearer(app, "group"), issue_id, {"trigger": "reject", "version": 1})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"reason"}
    assert version_of(app, issue_id) == 1


@pytest.mark.parametrize("body, fields", [
    ({"version": 1}, {"trigger"}),
    ({"trigger": "escalate"}, {"version"}),
    ({"trigger": "escalate", "version": "1"}, {"version"}),
    ({"trigger": "escalate", "version": True}, {"version"}),
    ({"trigger": "fly_away", "version": 1}, {"trigger"}),
    ({"trigger": 5, "version": 1}, {"trigger"}),
    ({"trigger": "reject", "version": 1, "reason": ["a"]}, {"reason"}),
    ({"trigger": "reject", "version": 1, "reason": "x", "actor": "admin"}, {"actor"}),
    ({"trigger": "escalate", "version": 1, "progress": 1.5}, {"progress"}),
])
def test_wrong_types_are_422_naming_the_field(app, client, world, body, fields):
    issue_id = raised(app, world)
    response = fire_api(client, bearer(app, "group"), issue_id, body)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == fields


def test_transition_with_a_malformed_body_is_400(app, client, world):
    issue_id = raised(app, world)
    headers = {**bearer(app, "group"), "Content-Type": "application/json"}
    response = client.post(f"/api/v1/issues/{issue_id}/transitions", data=b'{"trigger": ', headers=headers)
    assert response.status_code == 400


def test_session_transition_needs_the_csrf_header(app, client, auth, world):
    issue_id = raised(app, world)
    auth.login("group")
    body = {"trigger": "escalate", "version": 1}
    assert client.post(f"/api/v1/issues/{issue_id}/transitions", json=body).status_code == 400
    assert version_of(app, issue_id) == 1
    response = client.post(f"/api/v1/issues/{issue_id}/transitions", json=body,
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 200
    assert response.get_json()["state"] == "review_grid"


def test_numbers_may_be_sent_as_json_numbers(app, client, world):
    issue_id = raised(app, world)
    drive(app, issue_id, ("group", "escalate"))
    with app.app_context():
        fire("grid", issue_id, "resolve", reason="物业已修复")
    response = fire_api(client, bearer(app, "resident"), issue_id,
                        {"trigger": "rate", "version": version_of(app, issue_id), "satisfaction": 4})
    assert response.status_code == 200
    with app.app_context():
        assert issue(issue_id).satisfaction == 4


# --- the OpenAPI document ------------------------------------------------------------------


def test_openapi_document_is_valid_and_describes_every_issue_operation(client):
    validator = pytest.importorskip("openapi_spec_validator")
    document = client.get("/api/v1/openapi.json").get_json()
    validator.validate(document)
    assert document["openapi"].startswith("3.1")
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {("/issues", "get"), ("/issues", "post"), ("/issues/{issue_id}", "get"),
            ("/issues/{issue_id}/transitions", "post")} <= operations
    transition = document["paths"]["/issues/{issue_id}/transitions"]["post"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(transition["responses"])
