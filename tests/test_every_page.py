"""Every page reachable by links from the home page answers without a server error, for
each demo account and for a visitor, in Chinese and in English: the demo data puts items
in most states of every workflow, so this walks the pages people actually reach."""
from __future__ import annotations

import collections
import re
import urllib.parse

from core.extensions import db
from orgs import demo
from tests.conftest import csrf_token

HREF = re.compile(r'href="([^"#]+)"')
SKIP = ("/logout", "/language", "/static/")
PAGES_PER_ACCOUNT = 400


def _links(page: str, base: str) -> list[str]:
    found = []
    for href in HREF.findall(page):
        url = urllib.parse.urlsplit(urllib.parse.urljoin(base, href.replace("&amp;", "&")))
        if url.scheme in ("http", "https") and url.netloc not in ("", "localhost"):
            continue  # another site
        found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def _walk(client) -> tuple[list[tuple[str, int]], int]:
    """GET every same-site link reachable from /, breadth first; (errors, pages seen)."""
    seen: set[str] = set()
    queue = collections.deque(["/"])
    errors = []
    while queue and len(seen) < PAGES_PER_ACCOUNT:
        path = queue.popleft()
        if path in seen or path.startswith(SKIP):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code >= 500:
            errors.append((path, response.status_code))
        if response.mimetype == "text/html":
            queue.extend(link for link in _links(response.get_data(as_text=True), path) if link not in seen)
    return errors, len(seen)


def test_no_linked_page_answers_with_a_server_error(app):
    with app.app_context():
        demo.load()
        usernames = [username for username, _name, _role in demo.accounts()]
        db.session.remove()
    failures, walked = {}, {}
    for username in [None, *usernames]:
        for language in ("zh_Hans_CN", "en"):
            client = app.test_client()
            if username is not None:
                response = client.post("/login", data={"login": username, "password": demo.DEMO_PASSWORD,
                                                       "csrf_token": csrf_token(client, "/login")})
                assert response.status_code == 302, f"{username} cannot log in"
            if language == "en":
                client.post("/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client)})
                assert 'lang="en"' in client.get("/").get_data(as_text=True)
            label = f"{username or 'visitor'} ({language})"
            errors, walked[label] = _walk(client)
            if errors:
                failures[label] = errors
    assert failures == {}
    # The walk reached the workflows' pages, not just the home page.
    assert walked["community (en)"] > 40 and walked["visitor (zh_Hans_CN)"] > 3, walked
