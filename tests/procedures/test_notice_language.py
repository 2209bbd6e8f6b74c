"""A notice read in English says why its text is Chinese: it is the public record as
published (issue 15 item 5)."""
from __future__ import annotations

from procedures import notice
from tests.procedures.vote_helpers import elevator_issue, fire, make_unit


def test_the_notice_says_it_is_shown_as_published(app, client, auth, world):
    with app.app_context():
        issue_id = elevator_issue(make_unit(world, ["90", "90"], [["nl1"], ["nl2"]]), subcategory="stairs")
        fire("community", issue_id, "skip_vote", reason="楼道维修无需表决")
        notice_id = notice.notices_for("renovation_issue", issue_id)[0].id
    auth.login("community")
    chinese = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert 'id="published-language"' not in chinese and "楼道维修无需表决" in chinese
    auth.post("/language", {"locale": "en"})
    english = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    assert 'id="published-language"' in english and "exactly as it was published" in english
    assert "Written objections" in english and "楼道维修无需表决" in english
