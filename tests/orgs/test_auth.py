"""Logging in and out, CSRF, throttling, password change."""
from tests.conftest import PASSWORD, csrf_token


def test_login_with_username_shows_home_with_role_and_jurisdiction(client, auth, world):
    response = auth.login("grid")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "grid用户" in page
    assert "网格员" in page
    assert "第1社区第1网格" in page
    assert "16" in page  # households in the grid's jurisdiction


def test_login_with_phone_number(client, auth, world):
    assert auth.login("13800000001").status_code == 302
    assert "居民甲" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_in_chinese(client, auth, world):
    response = auth.login("grid", "not-the-password")
    assert response.status_code == 422
    assert "账号或密码错误" in response.get_data(as_text=True)
    assert client.get("/orgs/").status_code == 302  # still logged out: sent to login


def test_login_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"login": "grid", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_repeated_failures_throttle_even_the_right_password(client, auth, world):
    for _ in range(5):
        assert auth.login("grid", "wrong-password-x").status_code == 422
    response = auth.login("grid")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_logout_requires_post_and_ends_session(client, auth, world):
    auth.login("grid")
    assert client.get("/logout").status_code == 405
    auth.logout()
    assert client.get("/orgs/").status_code == 302


def test_change_password_then_old_one_fails(client, auth, world):
    auth.login("grid")
    response = auth.post("/password", {"current": PASSWORD, "new": "a-new-long-password", "confirm": "a-new-long-password"})
    assert response.status_code == 302
    auth.logout()
    assert auth.login("grid").status_code == 422
    assert auth.login("grid", "a-new-long-password").status_code == 302


def test_change_password_rejects_short_password(client, auth, world):
    auth.login("grid")
    response = auth.post("/password", {"current": PASSWORD, "new": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "至少" in response.get_data(as_text=True)


def test_session_cookie_is_hardened(client, auth, world):
    response = auth.login("grid")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_english_can_be_chosen(client, world):
    token = csrf_token(client, "/login")
    client.post("/language", data={"locale": "en", "csrf_token": token, "next": "/login"})
    assert "Log in" in client.get("/login").get_data(as_text=True)


def _cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token") if client.get_cookie(name)}


def test_logout_revokes_a_copied_session_and_remember_cookie(app, client, auth, world):
    token = csrf_token(client, "/login")
    client.post("/login", data={"login": "grid", "password": PASSWORD, "remember": "y", "csrf_token": token})
    copied = _cookies(client)
    assert set(copied) == {"session", "remember_token"}
    auth.logout()
    thief = app.test_client()
    for name, value in copied.items():
        thief.set_cookie(name, value)
    assert thief.get("/orgs/").status_code == 302  # sent to the login page: the copy no longer works
    token = csrf_token(client, "/login")
    client.post("/login", data={"login": "grid", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert _cookies(client)["remember_token"] != copied["remember_token"]


def test_concurrent_wrong_passwords_are_counted_one_at_a_time(app, world):
    """16 wrong passwords at once: no more get through to a password check than the limit."""
    import threading

    from core.errors import TooManyRequests, ValidationError
    from orgs import services

    outcomes: list[str] = []
    start = threading.Barrier(16)

    def attempt(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                services.authenticate("grid", "wrong-password-x", f"10.0.0.{n}")
            except TooManyRequests:
                outcomes.append("throttled")
            except ValidationError:
                outcomes.append("wrong")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert outcomes.count("wrong") == limit and outcomes.count("throttled") == 16 - limit


def test_security_headers(client, world):
    response = client.get("/login")
    assert "microphone=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


def test_production_asks_browsers_for_https_only(app, client, world):
    app.config["ENV_NAME"] = "production"
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=31536000")
