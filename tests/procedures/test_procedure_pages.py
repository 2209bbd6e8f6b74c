"""The vote, notice and consultation pages: what each person sees and may do, and that
nothing about ballots shows before a vote closes."""
from __future__ import annotations

import io

import pytest

from tests.procedures.vote_helpers import elevator_issue, issue, make_unit, open_issue_vote, person, vote
from procedures import notice, voting


@pytest.fixture
def opened(app, world):
    with app.app_context():
        unit = make_unit(world, ["90", "90", "90"], [["pg1"], ["pg2"], ["pg3"]])
        issue_id = elevator_issue(unit)
        return {"unit": unit, "issue_id": issue_id, "vote_id": open_issue_vote(issue_id)}


def page(client, path: str) -> tuple[int, str]:
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def test_an_owner_votes_on_the_page_and_may_change_the_ballot(app, client, auth, opened):
    auth.login("pg1")
    status, html = page(client, f"/votes/{opened['vote_id']}")
    assert status == 200 and 'name="choice" value="agree"' in html
    assert auth.post(f"/votes/{opened['vote_id']}/ballot", {"choice": "agree"}).status_code == 302
    assert auth.post(f"/votes/{opened['vote_id']}/ballot", {"choice": "abstain"}).status_code == 302
    _status, html = page(client, f"/votes/{opened['vote_id']}")
    assert 'id="my-ballot"' in html and 'id="vote-result"' not in html
    with app.app_context():
        assert [b.choice for b in voting.my_ballots(person("pg1"), vote(opened["vote_id"]))] == ["abstain", "agree"]


def test_two_choices_in_one_form_are_refused(app, client, auth, opened):
    auth.login("pg2")
    response = auth.post(f"/votes/{opened['vote_id']}/ballot", {"choice": ["agree", "disagree"]})
    assert response.status_code == 422
    response = auth.post(f"/votes/{opened['vote_id']}/ballot", {"choice": "perhaps"})
    assert response.status_code == 422
    with app.app_context():
        assert voting.my_ballots(person("pg2"), vote(opened["vote_id"])) == []


def test_no_counts_on_the_page_before_close_and_the_result_after(app, client, auth, opened):
    with app.app_context():
        for name in ("pg1", "pg2", "pg3"):
            voting.cast_ballot(person(name), opened["vote_id"], "agree")
    auth.login("community")
    _status, before = page(client, f"/votes/{opened['vote_id']}")
    assert 'id="vote-result"' not in before and "3/3" not in before and 'id="officer"' in before
    with app.app_context():
        version = str(vote(opened["vote_id"]).version)
    assert auth.post(f"/votes/{opened['vote_id']}/close", {"version": version}).status_code == 302
    _status, after = page(client, f"/votes/{opened['vote_id']}")
    assert 'id="vote-result"' in after and 'id="vote-decision"' in after and "3/3 (100.00%)" in after and "1 (100.00%)" not in after
    with app.app_context():
        assert issue(opened["issue_id"]).state == "public_notice"


def test_the_grid_worker_enters_a_paper_ballot_with_a_scan(app, client, auth, opened):
    auth.login("grid")
    _status, html = page(client, f"/votes/{opened['vote_id']}")
    assert 'id="paper"' in html and 'id="cast"' not in html
    household = opened["unit"].households[2]
    response = auth.post(f"/votes/{opened['vote_id']}/paper", {
        "household_id": str(household), "choice": "disagree", "channel": "paper", "evidence_ref": "纸质票 No.7",
        "evidence": (io.BytesIO(b"%PDF-1.4 scan"), "ballot.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        [ballot] = voting.entered_by(person("grid"), vote(opened["vote_id"]))
        assert (ballot.household_id, ballot.choice, ballot.evidence_sha256 is not None) == (household, "disagree", True)


def test_a_resident_outside_the_electorate_sees_the_vote_but_cannot_vote(app, client, auth, opened):
    auth.login("resident")
    status, html = page(client, f"/votes/{opened['vote_id']}")
    assert status == 200 and 'id="cast"' not in html
    assert auth.post(f"/votes/{opened['vote_id']}/ballot", {"choice": "agree"}).status_code == 403


def test_another_community_gets_not_found(client, auth, opened):
    auth.login("community2")
    assert page(client, f"/votes/{opened['vote_id']}")[0] == 404


def test_notice_page_objection_and_answer(app, client, auth, opened):
    with app.app_context():
        for name in ("pg1", "pg2"):
            voting.cast_ballot(person(name), opened["vote_id"], "agree")
        voting.close_vote(person("community"), opened["vote_id"], None)
        notice_id = notice.latest_notice("renovation_issue", opened["issue_id"]).id
    auth.login("pg3")
    assert auth.post(f"/notices/{notice_id}/objections", {"body": "请公布电梯维保费用分摊办法"}).status_code == 302
    auth.logout()
    auth.login("community")
    _status, html = page(client, f"/notices/{notice_id}")
    assert "请公布电梯维保费用分摊办法" in html and 'name="answer"' in html
    with app.app_context():
        objection_id = notice.latest_notice("renovation_issue", opened["issue_id"]).objections[0].id
    answered = auth.post(f"/notices/{notice_id}/objections/{objection_id}/answer", {"answer": "按楼层系数分摊，另行公示。"})
    assert answered.status_code == 302
    assert "按楼层系数分摊" in page(client, f"/notices/{notice_id}")[1]


def test_meeting_recorded_on_the_page_with_an_attachment(app, client, auth, opened):
    auth.login("community")
    form = f"/procedures/renovation_issue/{opened['issue_id']}/meetings/new"
    assert page(client, form)[0] == 200
    response = auth.post(form, {
        "kind": "residents", "held_on": "2026-03-02", "place": "1单元门口", "minutes": "听取意见",
        "participant_role": ["community", "resident"], "participant_name": ["李书记", "业主甲"],
        "attachments": (io.BytesIO(b"%PDF-1.4 sign-in"), "签到表.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    status, html = page(client, response.headers["Location"])
    assert status == 200 and "签到表.pdf" in html and "业主甲" in html
    _status, panel = page(client, f"/procedures/renovation_issue/{opened['issue_id']}")
    assert "1单元门口" in panel


def test_the_vote_list_shows_the_owners_vote(client, auth, opened):
    auth.login("pg1")
    status, html = page(client, "/votes/")
    assert status == 200 and f"/votes/{opened['vote_id']}" in html


def test_a_neighbours_demand_in_review_is_not_found_on_its_procedure_pages(app, client, auth, world):
    """Its procedure page answers as its own page does (404), and no comment goes in."""
    from procedures.consultation import Comment
    from tests.issues.helpers import raise_demand

    with app.app_context():
        # raised by a grid worker for a household of another building group: the resident's estate
        issue_id = raise_demand(world, username="grid", household_index=12)
    auth.login("resident")
    assert client.get(f"/issues/{issue_id}").status_code == 404
    assert client.get(f"/procedures/renovation_issue/{issue_id}").status_code == 404
    response = auth.post(f"/procedures/renovation_issue/{issue_id}/comments", {"body": "我也同意"})
    assert response.status_code == 404
    with app.app_context():
        from core.extensions import db

        assert db.session.query(Comment).count() == 0


def test_the_open_vote_form_is_only_for_those_who_may_open_a_vote(app, client, auth, opened):
    auth.login("pg1")
    assert client.get(f"/votes/new/renovation_issue/{opened['issue_id']}").status_code in (403, 404)
    auth.logout()
    auth.login("community")
    assert client.get(f"/votes/new/renovation_issue/{opened['issue_id']}").status_code == 200


def test_an_owner_goes_from_the_closed_vote_to_its_public_notice(app, client, auth, opened):
    with app.app_context():
        from tests.procedures.vote_helpers import pass_vote

        pass_vote(opened["issue_id"])
        published = notice.latest_notice("renovation_issue", opened["issue_id"])
        notice_id, title = published.id, published.title
    auth.login("pg1")
    _status, html = page(client, f"/votes/{opened['vote_id']}")
    assert f'href="/notices/{notice_id}"' in html and title in html
    assert page(client, f"/notices/{notice_id}")[0] == 200


def test_no_meeting_is_recorded_for_a_closed_issue(app, client, auth, world):
    from core.errors import InvalidTransition
    from procedures import consultation
    from tests.issues.helpers import fire, raise_demand
    from tests.procedures.test_consultation import record

    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "reject", reason="不属于改造范围")
    auth.login("community")
    _status, html = page(client, f"/procedures/renovation_issue/{issue_id}")
    assert "记录会议" not in html
    with app.app_context(), pytest.raises(InvalidTransition, match="不再记录会议|no more meetings"):
        consultation.record_meeting(person("community"), "renovation_issue", issue_id, record())
