"""Satisfaction follow-up (issue 11 item 2, issue 15 item 7): every household concerned is
asked once; "not satisfied" with a reason sends the item back to the level responsible;
closing over a low rating needs a written reason."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.extensions import db
from orgs.models import Household, OrgNode
from issues.models import SatisfactionResponse
from tests.acceptance.acceptance_helpers import add_resident, inspection_of, pass_inspection
from tests.issues.helpers import fire, issue, person, raise_demand
from tests.procedures.vote_helpers import end_notice_period
from issues import services
from issues.renovation import WORKFLOW
from workflow import audit


def _resolved_by_grid(world) -> int:
    issue_id = raise_demand(world)
    for reviewer in ("member", "group"):
        if WORKFLOW.allowed(issue(issue_id), person(reviewer), "escalate"):
            fire(reviewer, issue_id, "escalate")
    assert issue(issue_id).state == "review_grid"
    fire("grid", issue_id, "resolve", reason="已协调物业更换灯泡")
    return issue_id


def _post(auth, issue_id: int, version: int, **data):
    return auth.post(f"/issues/{issue_id}/transitions", {"version": str(version), **data})


def _responses(app, issue_id: int) -> list[tuple]:
    with app.app_context():
        return [(r.household_id, r.rating, r.channel, r.comment) for r in db.session.scalars(
            select(SatisfactionResponse).where(SatisfactionResponse.issue_id == issue_id).order_by(SatisfactionResponse.id))]


def test_not_satisfied_with_a_reason_goes_back_to_the_level_that_resolved_it(app, client, auth, world):
    with app.app_context():
        issue_id = _resolved_by_grid(world)
        version = issue(issue_id).version
    auth.login("resident")
    refused = _post(auth, issue_id, version, trigger="rate", satisfaction="1", comment="")
    assert refused.status_code == 422
    assert "请写明哪里不满意" in refused.get_data(as_text=True)
    assert _responses(app, issue_id) == []
    done = _post(auth, issue_id, version, trigger="rate", satisfaction="1", comment="灯泡换了还是不亮")
    assert done.status_code == 302
    with app.app_context():
        item = issue(issue_id)
        grid = db.session.scalar(select(OrgNode).where(OrgNode.code == "C1G1"))
        assert (item.state, item.responsible_org_id, item.satisfaction) == ("review_grid", grid.id, 1)
        last = audit.timeline(item)[-1]
        assert (last.trigger, last.from_state, last.to_state, last.reason) == (
            "rate", "resolved", "review_grid", "灯泡换了还是不亮")
        household = world.household_ids[0]
    assert _responses(app, issue_id) == [(household, 1, "online", "灯泡换了还是不亮")]
    auth.logout()
    auth.login("grid")
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "灯泡换了还是不亮" in page and "满意度回访" in page


def test_a_satisfied_answer_stays_and_each_household_answers_once(app, auth, world):
    with app.app_context():
        issue_id = _resolved_by_grid(world)
        version = issue(issue_id).version
    auth.login("resident")
    assert _post(auth, issue_id, version, trigger="rate", satisfaction="5", comment="很满意").status_code == 302
    with app.app_context():
        assert issue(issue_id).state == "resolved"
        version = issue(issue_id).version
    again = _post(auth, issue_id, version, trigger="rate", satisfaction="4")
    assert again.status_code == 422 and "该户已经答复过" in again.get_data(as_text=True)
    assert len(_responses(app, issue_id)) == 1


def test_closing_over_a_low_rating_needs_a_written_reason(app, auth, world):
    with app.app_context():
        issue_id = _resolved_by_grid(world)
        fire("resident", issue_id, "rate", satisfaction="2", comment="维修太慢")
        fire("grid", issue_id, "escalate")  # the grid passes it on: the community answers again
        fire("community", issue_id, "resolve", reason="社区已督促物业建立报修台账")
        version = issue(issue_id).version
    auth.login("community")
    refused = _post(auth, issue_id, version, trigger="close")
    assert refused.status_code == 422
    with app.app_context():
        assert issue(issue_id).state == "resolved"
    closed = _post(auth, issue_id, version, trigger="close", reason="已两次上门核实，灯具工作正常")
    assert closed.status_code == 302
    with app.app_context():
        item = issue(issue_id)
        assert (item.state, item.open, item.public_note) == ("closed", False, "已两次上门核实，灯具工作正常")


def test_an_item_closes_without_a_reason_when_no_one_is_unhappy(app, world):
    with app.app_context():
        issue_id = _resolved_by_grid(world)
        fire("resident", issue_id, "rate", satisfaction="4")
        fire("community", issue_id, "close")
        assert issue(issue_id).state == "closed"


def _accepted_building_item(world) -> int:
    building_id = db.session.get(Household, world.household_ids[0]).unit.building_id
    item = services.launch_task(person("community"), title="1号楼楼道扶手更换", description="1号楼全部单元",
                                category="basic", subcategory="stairs", place_kind="building", place_id=building_id)
    fire("community", item.id, "start_consultation")
    fire("community", item.id, "skip_vote", reason="属基础类维修，无需表决")
    end_notice_period(item.id)
    fire("community", item.id, "start_construction")
    fire("builder", item.id, "finish_construction")
    pass_inspection(world, item.id)
    assert issue(item.id).state == "long_term_management"
    return item.id


def test_every_household_of_the_building_is_asked_after_acceptance(app, client, auth, world):
    with app.app_context():
        issue_id = _accepted_building_item(world)
        add_resident("neighbour", world.household_ids[4])  # same building, other unit
        add_resident("faraway", world.household_ids[8])  # the estate's other building
        version = issue(issue_id).version
    auth.login("neighbour")
    assert client.get(f"/issues/{issue_id}").status_code == 200
    assert f"/issues/{issue_id}" in client.get("/issues/?queue=all").get_data(as_text=True)
    assert _post(auth, issue_id, version, trigger="rate", satisfaction="5").status_code == 302
    auth.logout()
    auth.login("faraway")
    assert client.get(f"/issues/{issue_id}").status_code == 404
    assert f"/issues/{issue_id}" not in client.get("/issues/?queue=all").get_data(as_text=True)
    auth.logout()

    # The member household enters a neighbour's answer collected on paper.
    auth.login("member")
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    options = re.findall(r'<select id="household-record_rating" name="household_id" required>(.*?)</select>', page, re.S)
    assert options and f'value="{world.household_ids[1]}"' in options[0]
    assert f'value="{world.household_ids[4]}"' not in options[0]  # answered already, and not the member's
    with app.app_context():
        version = issue(issue_id).version
    entered = _post(auth, issue_id, version, trigger="record_rating", household_id=str(world.household_ids[1]),
                    channel="door_to_door", satisfaction="4", comment="入户回访，满意")
    assert entered.status_code == 302
    with app.app_context():
        version = issue(issue_id).version
    not_mine = _post(auth, issue_id, version, trigger="record_rating", household_id=str(world.household_ids[8]),
                     channel="paper", satisfaction="4")
    assert not_mine.status_code == 422  # not a household this item concerns
    assert _responses(app, issue_id) == [(world.household_ids[4], 5, "online", ""),
                                         (world.household_ids[1], 4, "door_to_door", "入户回访，满意")]
    auth.logout()
    auth.login("community")
    figures = re.search(r'id="survey-figures">(.*?)</p>', client.get(f"/issues/{issue_id}").get_data(as_text=True), re.S)
    assert "涉及 8 户，已答复 2 份，其中满意（4-5 星）2 份" in figures.group(1)


def test_not_satisfied_after_acceptance_goes_to_rectification_and_reinspection(app, world):
    with app.app_context():
        issue_id = _accepted_building_item(world)
        first = inspection_of(issue_id).id
        fire("resident", issue_id, "rate", satisfaction="1", comment="扶手仍然晃动")
        assert issue(issue_id).state == "rectification"
        fire("builder", issue_id, "request_reinspection")
        assert issue(issue_id).state == "acceptance"
        assert inspection_of(issue_id).id != first  # a fresh joint inspection of the work
