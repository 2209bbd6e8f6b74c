"""Personal API tokens: the page that creates and revokes them, and what the API makes of them."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from core.api import token_hash
from core.db import utcnow, write_transaction
from core.extensions import db
from orgs import tokens
from orgs.models import ApiToken
from tests.issues.helpers import person

SECRET_RE = re.compile(r'id="new-token"[^>]*value="(wuji_[A-Za-z0-9_-]{40,})"')


def create_on_page(auth, name: str = "街道报表系统"):
    return auth.post("/tokens", {"name": name})


def api_get(client, secret: str):
    return client.get("/api/v1/issues", headers={"Authorization": f"Bearer {secret}"})


def stored_tokens(app) -> list[ApiToken]:
    with app.app_context():
        rows = list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))
        db.session.expunge_all()
        return rows


def test_tokens_page_needs_a_login(client, world):
    response = client.get("/tokens")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_creating_a_token_shows_the_secret_once_and_stores_only_its_hash(app, client, auth, world):
    auth.login("grid")
    response = create_on_page(auth)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    [row] = stored_tokens(app)
    assert (row.name, row.person_id, row.token_hash) == ("街道报表系统", world.person_ids["grid"], token_hash(secret))
    assert secret.startswith(row.prefix) and len(row.prefix) == 12
    page = client.get("/tokens").get_data(as_text=True)
    assert secret not in page
    assert row.prefix in page and "街道报表系统" in page


def test_the_new_token_authenticates_api_requests_as_its_owner(app, client, auth, world):
    auth.login("grid")
    secret = SECRET_RE.search(create_on_page(auth).get_data(as_text=True)).group(1)
    auth.logout()
    assert api_get(client, secret).status_code == 200


def test_a_revoked_token_answers_401(app, client, auth, world):
    auth.login("grid")
    secret = SECRET_RE.search(create_on_page(auth).get_data(as_text=True)).group(1)
    [row] = stored_tokens(app)
    response = auth.post(f"/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert stored_tokens(app)[0].revoked_at is not None
    auth.logout()
    assert api_get(client, secret).status_code == 401


def test_a_token_of_a_deactivated_person_answers_401(app, client, world):
    with app.app_context():
        _row, secret = tokens.create(person("grid"), "nightly export")
        with write_transaction():
            person("grid").active = False
    assert api_get(client, secret).status_code == 401


def test_nobody_can_revoke_someone_elses_token(app, client, auth, world):
    with app.app_context():
        row, secret = tokens.create(person("street"), "street system")
        token_id = row.id
    auth.login("grid")
    assert auth.post(f"/tokens/{token_id}/revoke").status_code == 404
    assert stored_tokens(app)[0].revoked_at is None
    assert api_get(client, secret).status_code == 200


def test_creating_and_revoking_need_the_csrf_token(app, client, auth, world):
    auth.login("grid")
    assert client.post("/tokens", data={"name": "x"}).status_code == 400
    with app.app_context():
        row, _secret = tokens.create(person("grid"), "kept")
        token_id = row.id
    assert client.post(f"/tokens/{token_id}/revoke").status_code == 400
    assert [r.revoked_at for r in stored_tokens(app)] == [None]


def test_a_token_needs_a_name(app, client, auth, world):
    auth.login("grid")
    response = create_on_page(auth, "  ")
    assert response.status_code == 422
    assert stored_tokens(app) == []


def test_use_is_recorded_at_most_once_a_minute(app, client, world):
    with app.app_context():
        row, secret = tokens.create(person("grid"), "integration")
        token_id = row.id
    assert api_get(client, secret).status_code == 200
    first = stored_tokens(app)[0].last_used_at
    assert first is not None
    api_get(client, secret)
    assert stored_tokens(app)[0].last_used_at == first
    with app.app_context(), write_transaction():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id)
                           .values(last_used_at=utcnow() - timedelta(minutes=2)))
    api_get(client, secret)
    assert stored_tokens(app)[0].last_used_at > first


def test_staff_see_the_tokens_page_in_the_menu(client, auth, world):
    auth.login("grid")
    assert 'href="/tokens"' in client.get("/").get_data(as_text=True)
