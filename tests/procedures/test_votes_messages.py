"""People read the vote, notice and consultation pages in Chinese, and the catalog's
translations keep each placeholder as often as the English text has it."""
from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import csrf_token
from tests.procedures.vote_helpers import elevator_issue, make_unit, open_issue_vote

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def test_translations_keep_their_placeholders():
    for message in _catalog():
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert sorted(re.findall(r"%\((\w+)\)", source)) == sorted(re.findall(r"%\((\w+)\)", target)), source


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
