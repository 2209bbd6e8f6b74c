"""The JSON API drives the same lifecycle as the pages."""
from tests.conftest import csrf_token
from tests.conventions.helpers import FILING, MEETING_PASSES, PUBLISH


def _headers(client):
    return {"X-CSRFToken": csrf_token(client, "/manage/conventions/")}


def _post(client, path, body, method="post"):
    return getattr(client, method)(path, json=body, headers=_headers(client))


def test_draft_to_published_through_the_api(app, world, auth, client):
    auth.login("community")
    created = _post(client, "/api/v1/conventions", {
        "kind": "residents_convention", "scope": {"kind": "estate", "id": world.estate_ids[0]}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    version_id = body["id"]
    assert body["state"] == "draft" and body["articles"][0]["label"] == "第一条"
    assert [a["trigger"] for a in body["actions"]] == ["submit_for_consultation", "withdraw"]
    edited = _post(client, f"/api/v1/convention-versions/{version_id}/text", {
        "version": body["version"], "preamble": "为了和睦相处，制定本公约。",
        "chapters": [{"title": "总则", "articles": ["爱护公共设施。", {"number": 2, "text": "垃圾分类投放。"}]}]},
        method="put")
    assert edited.status_code == 200 and [a["number"] for a in edited.get_json()["articles"]] == [1, 2]
    step = _post(client, f"/api/v1/convention-versions/{version_id}/transitions",
                 {"trigger": "submit_for_consultation", "version": edited.get_json()["version"]})
    assert step.status_code == 200 and step.get_json()["state"] == "consultation"
    auth.logout()

    auth.login("resident")
    comment = _post(client, f"/api/v1/convention-versions/{version_id}/comments", {"article": 2, "text": "加上大件垃圾。"})
    assert comment.status_code == 201 and comment.get_json()["article"] == 2
    auth.logout()

    auth.login("community")
    answered = _post(client, f"/api/v1/convention-comments/{comment.get_json()['id']}/answer", {"text": "已补充。"})
    assert answered.status_code == 200 and answered.get_json()["answer"] == "已补充。"
    current = client.get(f"/api/v1/convention-versions/{version_id}").get_json()
    closed = _post(client, f"/api/v1/convention-versions/{version_id}/transitions",
                   {"trigger": "close_consultation", "version": current["version"]})
    assert closed.get_json()["state"] == "street_review"
    auth.logout()

    auth.login("street")
    approved = _post(client, f"/api/v1/convention-versions/{version_id}/transitions",
                     {"trigger": "approve_review", "version": closed.get_json()["version"]})
    assert approved.get_json()["vote_rule"] == "residents_meeting"
    auth.logout()

    auth.login("community")
    voted = _post(client, f"/api/v1/convention-versions/{version_id}/transitions",
                  {"trigger": "record_vote", "version": approved.get_json()["version"], **MEETING_PASSES})
    assert voted.status_code == 200 and voted.get_json()["state"] == "adopted"
    assert voted.get_json()["vote"]["passed"] is True
    auth.logout()

    auth.login("street")
    filed = _post(client, f"/api/v1/convention-versions/{version_id}/transitions",
                  {"trigger": "file", "version": voted.get_json()["version"], **FILING})
    assert filed.get_json()["filing"]["number"] == FILING["filing_number"]
    auth.logout()

    auth.login("community")
    published = _post(client, f"/api/v1/convention-versions/{version_id}/transitions",
                      {"trigger": "publish", "version": filed.get_json()["version"], **PUBLISH})
    assert published.get_json()["state"] == "published"
    listing = client.get("/api/v1/conventions").get_json()
    assert listing["conventions"][0]["versions"][0]["state"] == "published"
    amended = _post(client, f"/api/v1/conventions/{listing['conventions'][0]['id']}/amendments", {"change_note": "修订"})
    assert amended.status_code == 201 and amended.get_json()["number"] == 2
    diff = client.get(f"/api/v1/convention-versions/{amended.get_json()['id']}/diff").get_json()
    assert {c["kind"] for c in diff["changes"]} == {"unchanged"}


def test_api_errors_are_json(app, world, auth, client):
    assert client.get("/api/v1/conventions").status_code == 401
    auth.login("community2")
    created = _post(client, "/api/v1/conventions", {
        "kind": "residents_convention", "scope": {"kind": "estate", "id": world.estate_ids[0]}})
    assert created.status_code == 404 and created.get_json()["error"] == "not_found"
    auth.logout()
    auth.login("community")
    bad = _post(client, "/api/v1/conventions", {"kind": "nonsense", "scope": {"kind": "estate", "id": 1}})
    assert bad.status_code == 422
    unknown = _post(client, "/api/v1/convention-versions/1/transitions", {"trigger": "x", "version": 1, "evil": 1})
    assert unknown.status_code == 422 and "evil" in unknown.get_json()["fields"]
    assert client.post("/api/v1/conventions", data="[]", headers=_headers(client)).status_code == 400


def test_openapi_describes_the_convention_operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/convention-versions/{version_id}/transitions" in spec["paths"]
    assert "put" in spec["paths"]["/convention-versions/{version_id}/text"]
