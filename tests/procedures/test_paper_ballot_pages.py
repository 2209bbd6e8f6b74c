"""Paper ballots on the vote page as a grid worker enters them (issue 15 item 4): a second
flat of the same owner asks before replacing, flats are named, turnout and who has not
voted are shown to staff during the vote, and the result table reads as people count."""
from __future__ import annotations

import re

import pytest

from tests.procedures.vote_helpers import elevator_issue, make_unit, open_issue_vote, vote
from procedures import voting


@pytest.fixture
def opened(app, world):
    """Owner "two" holds flats 101 and 201 of the unit; "solo" holds 301."""
    with app.app_context():
        unit = make_unit(world, ["80.25", "90.50", "70.00"], [["two"], ["two"], ["solo"]])
        issue_id = elevator_issue(unit)
        return {"unit": unit, "vote_id": open_issue_vote(issue_id)}


def _current(app, vote_id: int) -> list[tuple[int, str]]:
    with app.app_context():
        ballots = voting.Ballot.query.filter_by(vote_id=vote_id, is_current=True).all()
        return sorted((b.household_id, b.choice) for b in ballots)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_second_flat_of_the_same_owner_asks_before_replacing(app, client, auth, opened):
    vote_id, flats = opened["vote_id"], opened["unit"].households
    auth.login("grid")
    first = auth.post(f"/votes/{vote_id}/paper", {"household_id": flats[0], "choice": "agree",
                                                  "channel": "paper", "evidence_ref": "票 001"})
    assert first.status_code == 302
    second = auth.post(f"/votes/{vote_id}/paper", {"household_id": flats[1], "choice": "disagree",
                                                   "channel": "paper", "evidence_ref": "票 002"})
    assert second.status_code == 422
    text = _text(second)
    assert "该表决人已有一张票" in text and "9单元 101" in text and "同意" in text
    html = second.get_data(as_text=True)
    assert 'id="confirm-replace"' in html and 'name="replace"' in html
    assert 'value="票 002"' in html  # what was typed is kept
    assert _current(app, vote_id) == [(flats[0], "agree")]  # nothing changed

    confirmed = auth.post(f"/votes/{vote_id}/paper", {"household_id": flats[1], "choice": "disagree",
                                                      "channel": "paper", "evidence_ref": "票 002", "replace": "1"})
    assert confirmed.status_code == 302
    assert _current(app, vote_id) == [(flats[1], "disagree")]
    page = _text(client.get(f"/votes/{vote_id}"))
    assert "9单元 201 · 不同意" in page and "#%d" % flats[1] not in page
    assert "业主的表决意见" in page


def test_another_owner_is_entered_without_a_question(app, client, auth, opened):
    vote_id, flats = opened["vote_id"], opened["unit"].households
    auth.login("grid")
    assert auth.post(f"/votes/{vote_id}/paper", {"household_id": flats[0], "choice": "agree", "channel": "paper",
                                                 "evidence_ref": "票 001"}).status_code == 302
    assert auth.post(f"/votes/{vote_id}/paper", {"household_id": flats[2], "choice": "agree", "channel": "paper",
                                                 "evidence_ref": "票 003"}).status_code == 302
    assert _current(app, vote_id) == [(flats[0], "agree"), (flats[2], "agree")]


def test_staff_see_turnout_and_who_has_not_voted_residents_do_not(app, client, auth, opened):
    vote_id, flats = opened["vote_id"], opened["unit"].households
    with app.app_context():
        voting.enter_paper_ballots(voting.Person.query.filter_by(username="grid").one(), vote_id, [
            voting.PaperBallot(flats[2], "agree", "票 003")])
        total = vote(vote_id).voter_count
    auth.login("grid")
    page = client.get(f"/votes/{vote_id}").get_data(as_text=True)
    turnout = re.search(r'id="vote-turnout">(.*?)</p>', page, re.S).group(1)
    assert f"已投票：1 / {total} 名表决人" in turnout
    not_voted = re.search(r'id="not-voted">(.*?)</details>', page, re.S).group(1)
    assert "9单元 101" in not_voted and "9单元 201" in not_voted and "9单元 301" not in not_voted
    assert "未设截止日期" in page
    auth.logout()
    auth.login("solo")
    page = client.get(f"/votes/{vote_id}").get_data(as_text=True)
    assert 'id="vote-turnout"' not in page and 'id="not-voted"' not in page


def test_the_result_table_shows_counts_and_areas_as_counted(app, client, auth, opened):
    vote_id, flats = opened["vote_id"], opened["unit"].households
    with app.app_context():
        grid = voting.Person.query.filter_by(username="grid").one()
        voting.enter_paper_ballots(grid, vote_id, [voting.PaperBallot(flats[0], "agree", "票 001"),
                                                   voting.PaperBallot(flats[2], "agree", "票 003")])
        result = voting.close_vote(voting.Person.query.filter_by(username="community").one(), vote_id,
                                   vote(vote_id).version)
        entitled = voting.stored_result(result).entitled_area
    auth.login("community")
    table = re.search(r'id="vote-result">(.*?)</table>', client.get(f"/votes/{vote_id}").get_data(as_text=True),
                      re.S).group(1)
    assert "要求" in table and "必填" not in table
    assert f"240.75/{entitled:,.2f} m²" in table  # 80.25 + 90.50 + 70.00: both of "two"'s flats took part
