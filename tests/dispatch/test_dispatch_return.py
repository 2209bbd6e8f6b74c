"""A task comes back up even when a part below does not answer (issue 15 item 2): a level
above closes the silent part for it with a reason, and each level's note travels up with
its figures."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.db import utcnow, write_transaction
from core.errors import InvalidTransition, NotPermitted
from core.extensions import db
from dispatch import services
from dispatch.models import Dispatch
from tests.dispatch.test_dispatch import act, assignment, branch_by_code, launch, pass_down_to_member
from tests.issues.helpers import person
from workflow.audit import timeline, verify


def _deadline_passed(dispatch_id: int, code: str) -> None:
    """Move the part's deadline into the past, as if nobody had answered in time."""
    with write_transaction():
        part = assignment(dispatch_id, code)
        part.due_at = utcnow() - timedelta(hours=1)


def _referred_to_group(world) -> int:
    """A community task passed down to the member household, who lets the deadline pass:
    the sweep refers its part to the building group."""
    dispatch_id = launch(world, username="community", origin="C1", estate_index=0)
    pass_down_to_member(dispatch_id)
    member = assignment(dispatch_id, "C1G1B1M1")
    later = member.due_at + timedelta(minutes=1)
    services.sweep(now=later)
    assert assignment(dispatch_id, "C1G1B1M1").responsible_org.code == "C1G1B1"
    return dispatch_id


def test_the_group_closes_the_silent_member_part_and_reports_up(app, world):
    with app.app_context():
        dispatch_id = _referred_to_group(world)
        part = assignment(dispatch_id, "C1G1B1M1")
        assert [t.trigger for t in services.available(person("group"), part)] == ["close_for"]
        act("group", dispatch_id, "C1G1B1M1", "close_for", reason="中心户外出务工，楼院党小组已逐户电话联系", reached="3")
        closed = assignment(dispatch_id, "C1G1B1M1")
        assert (closed.state, closed.reached, closed.closed_reason) == (
            "reported", 3, "中心户外出务工，楼院党小组已逐户电话联系")
        entry = timeline(closed)[-1]
        assert (entry.trigger, entry.actor_name) == ("close_for", person("group").name)
        act("group", dispatch_id, "C1G1B1", "report_up", reason="2户联系不上")
        assert assignment(dispatch_id, "C1G1B1").reached == 3
        assert verify() == []


def test_a_level_cannot_close_its_own_part_nor_the_launching_one(app, world):
    with app.app_context():
        dispatch_id = _referred_to_group(world)
        with pytest.raises((InvalidTransition, NotPermitted)):
            act("member", dispatch_id, "C1G1B1M1", "close_for", reason="我自己关掉")
        assert assignment(dispatch_id, "C1G1B1M1").state == "acknowledged"
        assert "close_for" not in [t.trigger for t in services.available(person("community"),
                                                                          assignment(dispatch_id, "C1"))]


def test_the_launching_level_closes_a_whole_silent_branch(app, world):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", estate_index=0)
        pass_down_to_member(dispatch_id)
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="4", reason="1户联系不上")
        act("member", dispatch_id, "C1G1B1M1", "report_up")
        # The grid and the group go silent: the community closes the grid's branch.
        assert "close_for" not in [t.trigger for t in services.available(person("community"),
                                                                          assignment(dispatch_id, "C1G1"))]
        _deadline_passed(dispatch_id, "C1G1")
        act("community", dispatch_id, "C1G1", "close_for", reason="网格员病休，社区已直接核实")
        for code in ("C1G1", "C1G1B1"):
            part = assignment(dispatch_id, code)
            assert (part.state, part.closed_reason) == ("reported", "网格员病休，社区已直接核实"), code
        assert assignment(dispatch_id, "C1G1").reached == 4  # the member's figures came up
        act("community", dispatch_id, "C1", "report_up")
        assert assignment(dispatch_id, "C1").state == "reported"
        tree = services.progress(person("community"), db.session.get(Dispatch, dispatch_id))
        assert branch_by_code(tree, "C1G1B1M1").assignment.note == "1户联系不上"


def test_notes_and_the_close_form_on_the_page(app, client, auth, world):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", estate_index=0)
        pass_down_to_member(dispatch_id)
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="4", reason="1户联系不上")
        _deadline_passed(dispatch_id, "C1G1")
        _deadline_passed(dispatch_id, "C1G1B1")
        grid_part = assignment(dispatch_id, "C1G1").id
        group_part = assignment(dispatch_id, "C1G1B1").id
    auth.login("community")
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "1户联系不上" in page  # the member household's note reaches the launching level
    assert f'id="close-for-{grid_part}"' in page
    response = auth.post(f"/dispatches/{dispatch_id}/assignments/{group_part}/transitions",
                         {"trigger": "close_for", "version": "3", "reason": ""})
    assert response.status_code == 422
    with app.app_context():
        version = str(assignment(dispatch_id, "C1G1B1").version)
    response = auth.post(f"/dispatches/{dispatch_id}/assignments/{group_part}/transitions",
                         {"trigger": "close_for", "version": version, "reason": "楼院党小组组长调离"})
    assert response.status_code == 302
    page = re.sub(r"\s+", " ", client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True))
    assert "上级代为办结: 楼院党小组组长调离" in page or "上级代为办结：楼院党小组组长调离" in page
