"""Every message of the vote, notice and consultation code and pages has a Chinese
translation in translations/fragments/votes.po, and people read it in Chinese."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app import create_app
from core.extensions import babel, db
from tests.conftest import BACKEND, BASE_CONFIG, _empty_postgres, csrf_token
from tests.workflow.vote_helpers import elevator_issue, make_unit, open_issue_vote

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
SOURCES = ("voting.py", "notice.py", "consultation.py", "subjects.py", "procedure_hooks.py", "procedure_views.py",
           "procedure_api.py")
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _fragment():
    with FRAGMENT.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def _source_msgids() -> set:
    python = extract_from_dir(ROOT / "workflow", method_map=[(name, "python") for name in SOURCES], keywords=KEYWORDS)
    pages = extract_from_dir(ROOT / "templates" / "workflow" / "procedures", method_map=[("**.html", "jinja2")],
                             options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}, keywords=KEYWORDS)
    return {message for _file, _line, message, _comments, _context in [*python, *pages]}


def test_every_message_has_a_chinese_translation():
    catalog = _fragment()
    msgids = _source_msgids()
    assert len(msgids) > 150
    for msgid in msgids:
        entry = catalog.get(msgid)
        assert entry is not None and entry.string and all(entry.string if isinstance(entry.string, tuple)
                                                           else [entry.string]), msgid




def test_translations_keep_their_placeholders():
    for message in _fragment():
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert sorted(re.findall(r"%\((\w+)\)", source)) == sorted(re.findall(r"%\((\w+)\)", target)), source


@pytest.fixture
def app(database_url, tmp_path):
    """The application with the project catalog and this fragment compiled together."""
    with (ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    for message in _fragment():
        if message.id:
            catalog[message.id] = message
    target = tmp_path / "i18n" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True)
    with target.open("wb") as handle:
        write_mo(handle, catalog)
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp_path / "s"),
                      "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "i18n")})
    if BACKEND == "postgresql":
        with app.app_context():
            _empty_postgres(app)
    # Flask-Babel caches loaded catalogs on the (process-wide) Babel object, not per app.
    babel.domain_instance.cache.clear()
    yield app
    babel.domain_instance.cache.clear()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_refused_ballot_and_the_vote_page_read_in_chinese(app, client, auth, world):
    with app.app_context():
        unit = make_unit(world, ["90"], [["zh1"]])
        vote_id = open_issue_vote(elevator_issue(unit))
    auth.login("zh1")
    response = client.post(f"/api/v1/votes/{vote_id}/ballots", data=json.dumps({"choice": "maybe"}),
                           headers={"X-CSRFToken": csrf_token(client), "Content-Type": "application/json"})
    assert (response.status_code, response.get_json()["message"]) == (422, "请选择：同意、不同意或弃权。")
    html = client.get(f"/votes/{vote_id}").get_data(as_text=True)
    assert "表决规则" in html and "提交表决票" in html and "《民法典》第二百七十八条" in html
