"""Input made safe in one place (core/inputs.py): ids past the column range, NUL bytes and
lone surrogates, deeply nested JSON, wrongly typed JSON, control characters in `next`, and
405 with Allow. Each answers a 4xx in the user's language and writes nothing; none is a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from issues.models import RenovationIssue
from tests.issues.helpers import raise_demand
from tests.issues.test_api import NEW_DEMAND, bearer

TOO_BIG = 2**31
HUGE = 2**63 + 5


def _issue_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RenovationIssue))


@pytest.mark.parametrize("path", [
    f"/conventions/{TOO_BIG}", f"/issues/{TOO_BIG}", f"/issues/{HUGE}", f"/votes/{TOO_BIG}",
    f"/notices/{TOO_BIG}", f"/dispatches/{TOO_BIG}",
])
def test_a_page_id_past_the_column_range_is_not_found(client, auth, world, path):
    auth.login("street")
    response = client.get(path)
    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True) or "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [f"/api/v1/issues/{TOO_BIG}", f"/api/v1/issues/{HUGE}",
                                  f"/api/v1/dispatches/{TOO_BIG}"])
def test_an_api_id_past_the_column_range_is_404_json(app, client, world, path):
    response = client.get(path, headers=bearer(app, "street"))
    assert response.status_code == 404
    assert response.get_json()["error"] == "http_404"


def test_a_nul_byte_in_the_query_string_is_a_bad_request(client):
    response = client.get("/conventions/search?q=a%00")
    assert response.status_code == 400
    assert "不是文本的字符" in response.get_data(as_text=True)


@pytest.mark.parametrize("title", ["门禁\x00损坏", "门禁\ud800损坏"])
def test_unsafe_text_in_a_json_body_is_refused_and_nothing_is_written(app, client, world, title):
    body = {**NEW_DEMAND, "title": title, "place": {"kind": "household", "id": world.household_ids[0]}}
    response = client.post("/api/v1/issues", json=body, headers=bearer(app, "resident"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsafe_input"
    assert _issue_count(app) == 0


def test_a_lone_surrogate_sent_as_a_json_escape_is_refused(app, client, world):
    raw = ('{"title": "x\\ud800", "category": "basic", "subcategory": "stairs", "place": {"kind": "household", "id": %d}}'
           % world.household_ids[0]).encode()
    headers = {**bearer(app, "resident"), "Content-Type": "application/json"}
    response = client.post("/api/v1/issues", data=raw, headers=headers)
    assert response.status_code == 400
    assert _issue_count(app) == 0


def test_a_nul_byte_in_a_form_is_refused(app, client, auth, world):
    auth.login("resident")
    response = auth.post("/issues/new", {"title": "门禁\x00", "category": "basic", "subcategory": "stairs",
                                         "place": f"household:{world.household_ids[0]}", "mode": "demand"})
    assert response.status_code == 400
    assert _issue_count(app) == 0


def test_deeply_nested_json_is_a_bad_request(app, client, world):
    headers = {**bearer(app, "grid"), "Content-Type": "application/json"}
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 40 + b"1" + b"}" * 40):
        response = client.post("/api/v1/issues", data=raw, headers=headers)
        assert response.status_code == 400


@pytest.mark.parametrize("field,value", [("origin_org_id", TOO_BIG), ("origin_org_id", HUGE), ("issue_id", HUGE)])
def test_a_json_number_past_the_id_range_is_refused(app, client, world, field, value):
    body = {"title": "加装电梯意愿征集", "kind": "consent", "origin_org_id": world.node_ids["C1"], field: value}
    response = client.post("/api/v1/dispatches", json=body, headers=bearer(app, "community"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsafe_input"


def test_a_dispatch_kind_that_is_not_text_is_422(app, client, world):
    body = {"title": "加装电梯意愿征集", "kind": {}, "origin_org_id": world.node_ids["C1"]}
    response = client.post("/api/v1/dispatches", json=body, headers=bearer(app, "community"))
    assert response.status_code == 422
    assert "kind" in response.get_json()["fields"]


def test_a_form_id_past_the_column_range_is_a_client_error(app, client, auth, world):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    page = client.get(f"/issues/{issue_id}")
    assert page.status_code == 200
    response = auth.post(f"/issues/{issue_id}/transitions",
                         {"trigger": "merge", "version": "1", "merge_into": str(HUGE), "reason": "重复"})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("path", ["/login", "/language"])
def test_control_characters_in_next_redirect_home(client, path):
    from tests.conftest import csrf_token

    token = csrf_token(client, "/login")
    response = client.post(path, data={"csrf_token": token, "locale": "en", "next": "/issues/\r\nSet-Cookie: x=1",
                                        "login": "nobody", "password": "x"})
    assert response.status_code in (200, 302, 400, 401, 422, 429)
    assert "Set-Cookie: x=1" not in response.headers.get("Location", "")


def test_a_wrong_method_answers_405_with_allow(client):
    response = client.delete("/api/v1/issues")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_the_favicon_is_served_where_browsers_look(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)
