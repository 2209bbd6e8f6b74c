"""The vote, notice and consultation JSON API: a vote from opening to its published result,
bad ballots refused with a clear message and nothing changed, objections, the OpenAPI document."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.conftest import csrf_token
from tests.procedures.vote_helpers import elevator_issue, issue, make_unit, open_issue_vote, person
from procedures import notice, voting


class Api:
    """A logged-in browser session calling the API with the CSRF header."""

    def __init__(self, client, auth, username: str):
        auth.logout()
        auth.login(username)
        self.client = client
        self.headers = {"X-CSRFToken": csrf_token(client)}

    def post(self, path: str, body: dict | bytes | None = None):
        data = body if isinstance(body, bytes) else json.dumps(body or {})
        return self.client.post(f"/api/v1{path}", data=data, headers={**self.headers, "Content-Type": "application/json"})

    def get(self, path: str):
        return self.client.get(f"/api/v1{path}")


def ballot_count(app, vote_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(voting.Ballot).where(voting.Ballot.vote_id == vote_id))


@pytest.fixture
def scene(app, world):
    """A stairwell unit of three owners and its elevator item in consultation."""
    with app.app_context():
        unit = make_unit(world, ["90", "95", "100"], [["api1"], ["api2"], ["api3"]])
        issue_id = elevator_issue(unit)
        return {"unit": unit, "issue_id": issue_id, "version": issue(issue_id).version}


def test_an_elevator_vote_from_opening_to_the_published_result(app, client, auth, scene):
    officer = Api(client, auth, "community")
    opened = officer.post("/votes", {"target_type": "renovation_issue", "target_id": scene["issue_id"],
                                     "version": scene["version"]})
    assert opened.status_code == 201, opened.get_json()
    vote = opened.get_json()
    assert (vote["rule"]["name"], vote["scope"]["kind"], vote["electorate"]["voters"]) == ("owners_major", "unit", 3)
    owner = Api(client, auth, "api3")  # 100 m² and, below, 95 m² of 285 m²: two thirds of the area take part
    assert owner.post(f"/votes/{vote['id']}/ballots", {"choice": "agree"}).status_code == 201
    grid = Api(client, auth, "grid")
    paper = grid.post(f"/votes/{vote['id']}/paper-ballots", {"ballots": [
        {"household_id": scene["unit"].households[1], "choice": "agree", "channel": "door_to_door",
         "evidence_ref": "扫楼记录 0302-2"}]})
    assert paper.status_code == 201
    officer = Api(client, auth, "community")
    before = officer.get(f"/votes/{vote['id']}")
    assert before.status_code == 200
    assert not {"agreeing_heads", "participating_heads", "checks", "result"} & set(before.get_json())
    assert officer.get(f"/votes/{vote['id']}/result").status_code == 409
    closed = officer.post(f"/votes/{vote['id']}/close", {"version": before.get_json()["version"]})
    assert closed.status_code == 200, closed.get_json()
    result = officer.get(f"/votes/{vote['id']}/result").get_json()
    assert (result["decision"], result["participation_heads"], result["consent_heads"]) == ("passed", "2/3", "1")
    assert result["legal_basis"] and len(result["lines"]) >= 5
    with app.app_context():
        assert issue(scene["issue_id"]).state == "public_notice"


def test_bad_ballots_get_a_clear_answer_and_change_nothing(app, client, auth, scene):
    with app.app_context():
        vote_id = open_issue_vote(scene["issue_id"])
    owner = Api(client, auth, "api2")
    for body, status in (({"choice": "maybe"}, 422), ({}, 422), ({"choice": ["agree", "disagree"]}, 422),
                         (b'{"choice": "agree", "choice": "disagree"}', 422), (b'{"choice": ', 400)):
        response = owner.post(f"/votes/{vote_id}/ballots", body)
        assert response.status_code == status, body
        assert response.get_json()["message"]
    assert ballot_count(app, vote_id) == 0
    outsider = Api(client, auth, "resident")
    refused = outsider.post(f"/votes/{vote_id}/ballots", {"choice": "agree"})
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    grid = Api(client, auth, "grid")
    twice = grid.post(f"/votes/{vote_id}/paper-ballots", {"ballots": [
        {"household_id": scene["unit"].households[0], "choice": "agree", "evidence_ref": "票1"},
        {"household_id": scene["unit"].households[0], "choice": "disagree", "evidence_ref": "票2"}]})
    assert twice.status_code == 422
    assert ballot_count(app, vote_id) == 0
    with app.app_context():
        voting.close_vote(person("community"), vote_id, None)
    late = Api(client, auth, "api2").post(f"/votes/{vote_id}/ballots", {"choice": "agree"})
    assert late.status_code == 409 and late.get_json()["message"]
    assert ballot_count(app, vote_id) == 0


def test_another_communitys_officer_cannot_see_the_vote(app, client, auth, scene):
    with app.app_context():
        vote_id = open_issue_vote(scene["issue_id"])
    stranger = Api(client, auth, "community2")
    assert stranger.get(f"/votes/{vote_id}").status_code == 404
    assert stranger.post(f"/votes/{vote_id}/close", {"version": 1}).status_code == 404


def test_objections_are_filed_and_answered_through_the_api(app, client, auth, scene):
    with app.app_context():
        vote_id = open_issue_vote(scene["issue_id"])
        for name in ("api1", "api2", "api3"):
            voting.cast_ballot(person(name), vote_id, "agree")
        voting.close_vote(person("community"), vote_id, None)
        notice_id = notice.latest_notice("renovation_issue", scene["issue_id"]).id
    owner = Api(client, auth, "api3")
    filed = owner.post(f"/notices/{notice_id}/objections", {"body": "施工期间请保留一部楼梯通行"})
    assert filed.status_code == 201 and filed.get_json()["status"] == "open"
    neighbour = Api(client, auth, "api1")
    shown = neighbour.get(f"/notices/{notice_id}").get_json()
    assert shown["days"] == 15 and shown["objections"][0]["author"] is None
    assert neighbour.post(f"/objections/{filed.get_json()['id']}/answer", {"answer": "好"}).status_code == 403
    officer = Api(client, auth, "community")
    answered = officer.post(f"/objections/{filed.get_json()['id']}/answer", {"answer": "施工方案已保留通行楼梯。"})
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    assert officer.get(f"/notices/{notice_id}").get_json()["objections"][0]["author"] == "业主api3"


def test_meetings_and_comments_through_the_api(app, client, auth, scene):
    officer = Api(client, auth, "community")
    meeting = officer.post("/meetings", {
        "target_type": "renovation_issue", "target_id": scene["issue_id"], "kind": "residents",
        "held_on": "2026-03-02", "place": "单元门口", "minutes": "讨论电梯井位置",
        "participants": [{"role": "community", "name": "李书记"}, {"role": "resident", "name": "业主api1"}]})
    assert meeting.status_code == 201, meeting.get_json()
    assert officer.post("/meetings", {"target_type": "renovation_issue", "target_id": scene["issue_id"],
                                      "kind": "party", "held_on": "someday"}).status_code == 422
    owner = Api(client, auth, "api1")
    assert owner.get(f"/meetings/{meeting.get_json()['id']}").get_json()["participants"][1]["role"] == "resident"
    comment = owner.post("/comments", {"target_type": "renovation_issue", "target_id": scene["issue_id"],
                                       "body": "希望电梯停靠半层"})
    assert comment.status_code == 201
    answered = Api(client, auth, "grid").post(f"/comments/{comment.get_json()['id']}/answer", {"answer": "已转设计院"})
    assert answered.get_json()["answer"] == "已转设计院"


def test_openapi_describes_the_vote_and_notice_operations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {("/votes", "post"), ("/votes/{vote_id}/ballots", "post"), ("/votes/{vote_id}/paper-ballots", "post"),
            ("/votes/{vote_id}/close", "post"), ("/votes/{vote_id}/result", "get"),
            ("/notices/{notice_id}/objections", "post"), ("/objections/{objection_id}/answer", "post")} <= operations
    assert "409" in document["paths"]["/votes/{vote_id}/result"]["get"]["responses"]
