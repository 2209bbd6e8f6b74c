"""Tasks sent down the five levels: launch, acknowledge, pass on, record figures,
report up; progress per branch; permissions; deadlines and the sweep; pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from core.db import utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, StaleVersion, ValidationError
from core.extensions import db
from orgs import demo
from orgs.models import LiaisonHousehold, OrgNode
from tests.issues.helpers import person, sweep_counts
from dispatch import demo as dispatch_demo
from dispatch import services
from workflow.audit import AuditEntry, timeline, verify
from rules.calendar import add_working_days
from dispatch.models import WORKFLOW, Dispatch, DispatchAssignment, DispatchUnitCount, unit_lines
from rules.policy import DEFAULT_DEADLINES

# --- helpers -------------------------------------------------------------------------------


def launch(world, username="street", origin="S1", kind="notice", estate_index=None, **extra) -> int:
    estate_id = world.estate_ids[estate_index] if estate_index is not None else None
    dispatch = services.launch(person(username), title="施工期间停水通知", body="3月5日8时至18时停水。",
                               kind=kind, origin_org_id=world.node_ids[origin], estate_id=estate_id, **extra)
    return dispatch.id


def assignment(dispatch_id: int, code: str) -> DispatchAssignment:
    db.session.expire_all()
    return db.session.scalar(
        select(DispatchAssignment).join(OrgNode, OrgNode.id == DispatchAssignment.org_id)
        .where(DispatchAssignment.dispatch_id == dispatch_id, OrgNode.code == code)
    )


def act(username: str, dispatch_id: int, code: str, trigger: str, **data) -> DispatchAssignment:
    current = assignment(dispatch_id, code)
    return services.fire_assignment(person(username), current.id, trigger, current.version, **data)


def pass_down_to_member(dispatch_id: int) -> None:
    """C1 → grid → building group → member household: each acknowledges and passes on
    (C1 has passed it on already when it launched the task itself)."""
    for username, code in (("community", "C1"), ("grid", "C1G1"), ("group", "C1G1B1")):
        if assignment(dispatch_id, code).state == "sent":
            act(username, dispatch_id, code, "acknowledge")
        if assignment(dispatch_id, code).state == "acknowledged":
            act(username, dispatch_id, code, "forward")
    act("member", dispatch_id, "C1G1B1M1", "acknowledge")


def member_units(world) -> dict[int, int]:
    """Stairwell unit id -> households the member household C1G1B1M1 looks after there."""
    node = db.session.get(OrgNode, world.node_ids["C1G1B1M1"])
    return {line.unit_id: line.households for line in unit_lines(node, world.estate_ids[0])}


def report_up_from_member(dispatch_id: int) -> None:
    for username, code in (("member", "C1G1B1M1"), ("group", "C1G1B1"), ("grid", "C1G1"), ("community", "C1")):
        act(username, dispatch_id, code, "report_up")


def branch_by_code(branches, code: str):
    for branch in branches:
        if branch.assignment.org.code == code:
            return branch
        found = branch_by_code(branch.children, code)
        if found is not None:
            return found
    return None


# --- launching and passing down ------------------------------------------------------------


def test_street_launch_sends_the_task_to_every_community(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        root = assignment(dispatch_id, "S1")
        assert (root.state, root.parent_id, root.mode) == ("forwarded", None, "forwarded")
        for code in ("C1", "C2"):
            child = assignment(dispatch_id, code)
            assert (child.state, child.parent_id, child.responsible_org.code) == ("sent", root.id, code)
        assert db.session.query(DispatchAssignment).count() == 3


def test_each_level_acknowledges_and_passes_on_down_to_the_member_household(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        member = assignment(dispatch_id, "C1G1B1M1")
        assert member.state == "acknowledged"
        assert [a.state for a in (assignment(dispatch_id, c) for c in ("C1", "C1G1", "C1G1B1"))] == ["forwarded"] * 3
        assert assignment(dispatch_id, "C2G1") is None  # C2 has not passed it on yet
        assert [e.trigger for e in timeline(assignment(dispatch_id, "C1G1"))] == ["send", "acknowledge", "forward"]


def test_reports_add_up_the_figures_of_every_branch(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="4", reason="一户外出")
        report_up_from_member(dispatch_id)
        act("community2", dispatch_id, "C2", "acknowledge")
        act("community2", dispatch_id, "C2", "complete", reached="12")
        act("community2", dispatch_id, "C2", "report_up")
        act("street", dispatch_id, "S1", "report_up")
        c1, c2, root = (assignment(dispatch_id, code) for code in ("C1", "C2", "S1"))
        assert (c1.households, c1.reached, c1.mode) == (5, 4, "forwarded")  # the member household's 5 neighbours
        assert (c2.households, c2.reached, c2.mode) == (16, 12, "completed")  # every household under C2
        assert (root.state, root.households, root.reached, root.consents) == ("reported", 21, 16, None)
        assert root.due_at is None and root.responsible_org_id is None
        assert verify() == []


def test_consents_are_recorded_per_stairwell_unit_and_added_up(app, world):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        pass_down_to_member(dispatch_id)
        units = member_units(world)
        assert sorted(units.values()) == [2, 3]
        consents = {str(unit_id): count - 1 for unit_id, count in units.items()}
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="5", consents=consents)
        report_up_from_member(dispatch_id)
        root = assignment(dispatch_id, "C1")
        assert (root.state, root.reached, root.consents) == ("reported", 5, 3)
        by_unit = {u.unit_id: u for u in services.consent_by_unit(person("community"), db.session.get(Dispatch, dispatch_id))}
        assert len(by_unit) == 4  # every stairwell unit of the estate, reported or not
        for unit_id, count in units.items():
            assert (by_unit[unit_id].households, by_unit[unit_id].consents) == (4, count - 1)
        assert verify() == []


def test_figures_can_be_corrected_until_reported(app, world):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        pass_down_to_member(dispatch_id)
        units = member_units(world)
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="5", consents={str(u): 0 for u in units})
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="5", consents={str(u): 1 for u in units})
        member = assignment(dispatch_id, "C1G1B1M1")
        assert (member.state, member.consents) == ("done", 2)
        counts = db.session.scalars(select(DispatchUnitCount.consents).where(DispatchUnitCount.assignment_id == member.id))
        assert sorted(counts) == [1, 1]


@pytest.mark.parametrize("reached, consents", [
    ("6", None),  # more than the 5 households looked after
    ("-1", None),
    ("abc", None),
    ("5", "too_many_in_a_unit"),
    ("5", "unknown_unit"),
    ("5", "missing_unit"),
    ("1", "more_consents_than_reached"),
])
def test_figures_out_of_range_are_refused_and_nothing_changes(app, world, reached, consents):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        pass_down_to_member(dispatch_id)
        units = member_units(world)
        values = {str(u): 0 for u in units}
        first = next(iter(units))
        if consents == "too_many_in_a_unit":
            values[str(first)] = units[first] + 1
        elif consents == "unknown_unit":
            values["999999"] = 0
        elif consents == "missing_unit":
            del values[str(first)]
        elif consents == "more_consents_than_reached":
            values = {str(u): 1 for u in units}
        before = assignment(dispatch_id, "C1G1B1M1")
        with pytest.raises(ValidationError):
            act("member", dispatch_id, "C1G1B1M1", "complete", reached=reached, consents=values)
        after = assignment(dispatch_id, "C1G1B1M1")
        assert (after.state, after.version, after.reached) == ("acknowledged", before.version, None)
        assert db.session.query(DispatchUnitCount).count() == 0


def test_completing_without_figures_is_refused(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        act("community", dispatch_id, "C1", "acknowledge")
        with pytest.raises(ValidationError):
            act("community", dispatch_id, "C1", "complete")


def test_estate_scope_only_reaches_units_with_places_in_the_estate(app, world):
    with app.app_context():
        dispatch_id = launch(world, kind="plan_item", estate_index=0)
        assert assignment(dispatch_id, "C1") is not None
        assert assignment(dispatch_id, "C2") is None


def test_member_households_without_neighbours_in_the_estate_are_not_reached(app, world):
    with app.app_context():
        with write_transaction():
            db.session.execute(LiaisonHousehold.__table__.delete().where(
                LiaisonHousehold.org_id == world.node_ids["C1G1B1M1"]))
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        act("grid", dispatch_id, "C1G1", "acknowledge")
        act("grid", dispatch_id, "C1G1", "forward")
        act("group", dispatch_id, "C1G1B1", "acknowledge")
        group = assignment(dispatch_id, "C1G1B1")
        assert [t.trigger for t in WORKFLOW.available(group, person("group"))] == ["complete"]
        with pytest.raises(InvalidTransition):
            act("group", dispatch_id, "C1G1B1", "forward")


def test_a_task_is_linked_to_a_renovation_issue_and_takes_its_estate(app, world):
    from tests.issues.helpers import raise_demand

    with app.app_context():
        issue_id = raise_demand(world)
        dispatch_id = launch(world, kind="plan_item", issue_id=issue_id)
        dispatch = db.session.get(Dispatch, dispatch_id)
        assert (dispatch.issue_id, dispatch.estate_id) == (issue_id, world.estate_ids[0])
        with pytest.raises(ValidationError):
            launch(world, kind="plan_item", issue_id=issue_id, estate_index=1)


def test_launch_needs_a_title_a_known_kind_and_an_estate_for_consent(app, world):
    with app.app_context():
        street = person("street")
        for fields in ({"title": ""}, {"kind": "party"}, {"kind": "consent"}):
            data = {"title": "通知", "body": "", "kind": "notice", "origin_org_id": world.node_ids["S1"], **fields}
            with pytest.raises(ValidationError):
                services.launch(street, **data)
        assert db.session.query(Dispatch).count() == 0


# --- progress ---------------------------------------------------------------------------------


def test_launching_level_sees_the_progress_of_every_branch(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        dispatch = db.session.get(Dispatch, dispatch_id)
        (root,) = services.progress(person("street"), dispatch)
        assert [b.assignment.org.code for b in root.children] == ["C1", "C2"]
        c1, c2 = root.children
        assert (c1.counts.total, c1.counts.sent, c1.counts.acknowledged, c1.counts.reported) == (4, 0, 4, 0)
        assert (c2.counts.total, c2.counts.sent) == (1, 1)
        assert root.counts.total == 6
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="5")
        act("member", dispatch_id, "C1G1B1M1", "report_up")
        (root,) = services.progress(person("street"), db.session.get(Dispatch, dispatch_id))
        c1 = branch_by_code([root], "C1")
        assert (c1.counts.reported, c1.counts.percent, c1.reached, c1.households) == (1, 25, 5, 16)
        assert (root.reached, root.households) == (5, 32)


def test_each_level_sees_only_its_own_branch(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        dispatch = db.session.get(Dispatch, dispatch_id)
        assert [b.assignment.org.code for b in services.progress(person("community2"), dispatch)] == ["C2"]
        (grid,) = services.progress(person("grid"), dispatch)
        assert grid.assignment.org.code == "C1G1" and grid.counts.total == 3
        (member,) = services.progress(person("member"), dispatch)
        assert member.assignment.org.code == "C1G1B1M1" and member.children == []


def test_progress_takes_a_few_queries_whatever_the_size_of_the_tree(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        one_branch = _queries(lambda: services.progress(person("street"), db.session.get(Dispatch, dispatch_id)))
        for username, code in (("community2", "C2"), ("grid2", "C2G1"), ("admin", "C2G1B1")):
            act(username, dispatch_id, code, "acknowledge")
            act(username, dispatch_id, code, "forward")
        both_branches = _queries(lambda: services.progress(person("street"), db.session.get(Dispatch, dispatch_id)))
        assert db.session.query(DispatchAssignment).count() == 9
        assert both_branches == one_branch <= 7


def _queries(work) -> int:
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_list_shows_visible_dispatches_with_counts_and_what_awaits_me(app, world):
    with app.app_context():
        c1_task = launch(world, username="community", origin="C1")
        street_task = launch(world)
        rows, total = services.list_dispatches(person("community2"))
        assert (total, [r.dispatch.id for r in rows]) == (1, [street_task])
        rows, total = services.list_dispatches(person("street"))
        assert total == 2 and {r.dispatch.id: r.counts.total for r in rows} == {c1_task: 2, street_task: 3}
        awaiting = services.awaiting(person("community"))
        assert {(a.dispatch_id, a.org.code, a.state) for a in awaiting} == {
            (c1_task, "C1", "forwarded"), (street_task, "C1", "sent"),
        }
        assert services.awaiting(person("resident")) == []


# --- permissions --------------------------------------------------------------------------------


def test_only_street_and_community_officers_launch(app, world):
    with app.app_context():
        with pytest.raises(NotPermitted):
            launch(world, username="grid", origin="C1G1")
        with pytest.raises(NotFound):
            launch(world, username="community", origin="S1")
        with pytest.raises(NotFound):
            launch(world, username="community", origin="C2")
        with pytest.raises(NotPermitted):
            launch(world, username="street", origin="C1")  # launched by the unit one acts for
        assert db.session.query(Dispatch).count() == 0


PASS_C1 = [("community", "C1", "acknowledge"), ("community", "C1", "forward")]
PASS_GRID = PASS_C1 + [("grid", "C1G1", "acknowledge"), ("grid", "C1G1", "forward")]
PASS_GROUP = PASS_GRID + [("group", "C1G1B1", "acknowledge"), ("group", "C1G1B1", "forward")]


@pytest.mark.parametrize("username, code, setup", [
    ("street", "C1", []),  # the level above may see the community's assignment, not act on it
    ("community", "C1G1", PASS_C1),
    ("grid", "C1G1B1", PASS_GRID),
    ("group", "C1G1B1M1", PASS_GROUP),
])
def test_only_the_role_of_the_nodes_level_acts_on_its_assignment(app, world, username, code, setup):
    with app.app_context():
        dispatch_id = launch(world)
        for actor, step_code, trigger in setup:
            act(actor, dispatch_id, step_code, trigger)
        target = assignment(dispatch_id, code)
        assert WORKFLOW.available(target, person(username)) == []
        with pytest.raises(NotPermitted):
            services.acknowledge(person(username), target.id, target.version)
        assert assignment(dispatch_id, code).version == target.version


def test_another_community_gets_404(app, world):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1")
        c1 = assignment(dispatch_id, "C1G1")
        with pytest.raises(NotFound):
            services.get_dispatch(person("community2"), dispatch_id)
        with pytest.raises(NotFound):
            services.acknowledge(person("community2"), c1.id, c1.version)
        with pytest.raises(NotFound):
            services.acknowledge(person("grid2"), c1.id, c1.version)
        with pytest.raises(NotFound):
            services.get_dispatch(person("resident"), dispatch_id)
        assert services.get_dispatch(person("grid"), dispatch_id).id == dispatch_id


def test_report_up_waits_for_every_branch_below(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        with pytest.raises(InvalidTransition):
            act("group", dispatch_id, "C1G1B1", "report_up")
        with pytest.raises(InvalidTransition):
            act("street", dispatch_id, "S1", "report_up")
        assert not WORKFLOW.allowed(assignment(dispatch_id, "S1"), person("street"), "report_up")


def test_a_stale_page_is_refused(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        c1 = assignment(dispatch_id, "C1")
        loaded_version = c1.version
        services.acknowledge(person("community"), c1.id, loaded_version)
        with pytest.raises(StaleVersion):
            services.forward(person("community"), c1.id, loaded_version)


def test_member_households_have_nobody_to_pass_it_on_to(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        member = assignment(dispatch_id, "C1G1B1M1")
        assert [t.trigger for t in WORKFLOW.available(member, person("member"))] == ["complete"]
        with pytest.raises(InvalidTransition):
            act("member", dispatch_id, "C1G1B1M1", "forward")


# --- deadlines and the sweep ------------------------------------------------------------------


def test_deadlines_come_from_the_city_policy(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        c1, root = assignment(dispatch_id, "C1"), assignment(dispatch_id, "S1")
        assert c1.due_at == add_working_days(c1.state_entered_at, DEFAULT_DEADLINES["dispatch_assignment"]["sent"])
        assert root.due_at == add_working_days(root.state_entered_at, DEFAULT_DEADLINES["dispatch_assignment"]["forwarded"])
        act("community", dispatch_id, "C1", "acknowledge")
        c1 = assignment(dispatch_id, "C1")
        assert c1.due_at == add_working_days(c1.state_entered_at, DEFAULT_DEADLINES["dispatch_assignment"]["acknowledged"])


def test_sweep_refers_overdue_assignments_up_once(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        c1 = assignment(dispatch_id, "C1")
        later = c1.due_at + timedelta(minutes=1)
        (root,) = services.progress(person("street"), db.session.get(Dispatch, dispatch_id), now=later)
        assert root.counts.overdue == 2 and root.children[0].overdue
        assert services.sweep(now=later) == {"dispatch_escalated": 2, "dispatch_at_top": 0}
        c1 = assignment(dispatch_id, "C1")
        assert (c1.responsible_org.code, c1.escalations, c1.state) == ("S1", 1, "sent")
        assert c1.due_at > later
        assert timeline(c1)[-1].trigger == "overdue_escalation"
        assert services.sweep(now=later) == {"dispatch_escalated": 0, "dispatch_at_top": 0}
        assert {a.org.code for a in services.awaiting(person("street"))} == {"S1", "C1", "C2"}
        act("community", dispatch_id, "C1", "acknowledge")
        assert assignment(dispatch_id, "C1").responsible_org.code == "C1"
        assert verify() == []


def test_sweep_leaves_the_top_level_where_it_is(app, world):
    with app.app_context():
        dispatch_id = launch(world)
        root = assignment(dispatch_id, "S1")
        later = root.due_at + timedelta(minutes=1)
        counts = services.sweep(now=later)
        assert counts["dispatch_at_top"] == 1
        assert assignment(dispatch_id, "S1").version == root.version


def test_flask_workflow_sweep_also_sweeps_dispatches(app, world, runner):
    with app.app_context():
        dispatch_id = launch(world)
        c1 = assignment(dispatch_id, "C1")
        with write_transaction():
            db.session.get(DispatchAssignment, c1.id).due_at = utcnow() - timedelta(hours=1)
    result = runner.invoke(args=["workflow", "sweep"])
    assert result.exit_code == 0, result.output
    counts = sweep_counts(result.output)
    assert (counts["dispatch_escalated"], counts["escalated"]) == (1, 0)
    with app.app_context():
        assert assignment(dispatch_id, "C1").responsible_org.code == "S1"


# --- audit -----------------------------------------------------------------------------------------


def test_every_assignment_has_its_own_intact_audit_chain(app, world, runner):
    with app.app_context():
        dispatch_id = launch(world)
        pass_down_to_member(dispatch_id)
        act("member", dispatch_id, "C1G1B1M1", "complete", reached="3")
        member = assignment(dispatch_id, "C1G1B1M1")
        entries = timeline(member)
        assert [(e.trigger, e.to_state) for e in entries] == [
            ("send", "sent"), ("acknowledge", "acknowledged"), ("complete", "done")]
        assert entries[-1].data["reached"] == 3 and entries[-1].role == "member_household"
        assert entries[0].org.code == "C1G1B1" and entries[0].prev_hash == "0" * 64
        assert verify() == []
        with write_transaction():
            db.session.get(AuditEntry, entries[1].id).reason = "篡改"
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "dispatch_assignment" in result.output


# --- pages -------------------------------------------------------------------------------------------


def english(auth) -> None:
    auth.post("/language", {"locale": "en", "next": "/"})


def test_street_launches_from_the_form_and_sees_both_branches(client, auth, world, app):
    auth.login("street")
    english(auth)
    page = client.get("/dispatches/new")
    assert page.status_code == 200 and "Launch a task" in page.get_data(as_text=True)
    response = auth.post("/dispatches/new", {"title": "加装电梯政策宣传", "kind": "notice",
                                             "origin": str(world.node_ids["S1"]), "estate": "", "body": "入户宣传"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "加装电梯政策宣传" in page and "第1社区党委" in page and "第2社区党委" in page
    assert "0 of 3 org units have reported" in page
    assert "Sent: awaiting acknowledgement" in page
    listing = client.get("/dispatches/").get_data(as_text=True)
    assert "加装电梯政策宣传" in listing and "Tasks sent down" in listing


def test_launch_form_errors_answer_422(client, auth, world, app):
    auth.login("community")
    english(auth)
    response = auth.post("/dispatches/new", {"title": "", "kind": "notice", "origin": str(world.node_ids["C1"])})
    assert response.status_code == 422
    response = auth.post("/dispatches/new", {"title": "意愿征集", "kind": "consent", "origin": str(world.node_ids["C1"]),
                                             "estate": ""})
    assert response.status_code == 422
    assert "Owners&#39; consent is gathered in the stairwell units of one estate" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Dispatch).count() == 0


def test_levels_below_cannot_open_the_launch_form(client, auth, world):
    for username in ("grid", "member"):
        auth.login(username)
        assert client.get("/dispatches/new").status_code == 403
        auth.logout()


def test_my_assignment_shows_the_buttons_the_engine_allows(client, auth, world, app):
    with app.app_context():
        dispatch_id = launch(world)
        c1 = assignment(dispatch_id, "C1")
    auth.login("community")
    english(auth)
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Your part: 第1社区党委" in page and ">Acknowledge<" in page
    assert "Pass on to the org units below" not in page
    url = f"/dispatches/{dispatch_id}/assignments/{c1.id}/transitions"
    response = auth.post(url, {"trigger": "acknowledge", "version": str(c1.version)})
    assert response.status_code == 302
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Pass on to the org units below" in page and "Record the figures" in page
    assert "Acknowledged: in hand" in page


def test_pages_answer_403_for_the_wrong_level_and_404_outside(client, auth, world, app):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1")
        grid_assignment = assignment(dispatch_id, "C1G1")
    url = f"/dispatches/{dispatch_id}/assignments/{grid_assignment.id}/transitions"
    auth.login("community")
    response = auth.post(url, {"trigger": "acknowledge", "version": str(grid_assignment.version)})
    assert response.status_code == 403
    auth.logout()
    auth.login("community2")
    assert client.get(f"/dispatches/{dispatch_id}").status_code == 404
    assert auth.post(url, {"trigger": "acknowledge", "version": "1"}).status_code == 404
    auth.logout()
    auth.login("grid")
    assert auth.post(url, {"trigger": "acknowledge", "version": str(grid_assignment.version)}).status_code == 302
    auth.logout()
    auth.login("resident")
    assert client.get(f"/dispatches/{dispatch_id}").status_code == 404
    assert client.get("/dispatches/999999").status_code == 404


def test_member_household_records_consents_per_unit_in_the_form(client, auth, world, app):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        pass_down_to_member(dispatch_id)
        member = assignment(dispatch_id, "C1G1B1M1")
        units = member_units(world)
    auth.login("member")
    english(auth)
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Consents gathered per stairwell unit" in page
    assert all(f'name="consent-{unit_id}"' in page for unit_id in units)
    url = f"/dispatches/{dispatch_id}/assignments/{member.id}/transitions"
    too_many = {f"consent-{unit_id}": str(count + 1) for unit_id, count in units.items()}
    response = auth.post(url, {"trigger": "complete", "version": str(member.version), "reached": "5", **too_many})
    assert response.status_code == 422
    fine = {f"consent-{unit_id}": str(count) for unit_id, count in units.items()}
    response = auth.post(url, {"trigger": "complete", "version": str(member.version), "reached": "5",
                               "reason": "全部同意", **fine})
    assert response.status_code == 302
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "Done here: to report up" in page and ">Report up<" in page
    with app.app_context():
        member = assignment(dispatch_id, "C1G1B1M1")
        assert (member.reached, member.consents) == (5, 5)


def test_launching_level_page_shows_overdue_badges_and_the_unit_table(client, auth, world, app):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
        with write_transaction():
            db.session.get(DispatchAssignment, assignment(dispatch_id, "C1G1").id).due_at = utcnow() - timedelta(hours=1)
    auth.login("community")
    english(auth)
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert 'class="tag overdue"' in page and "1 overdue" in page
    assert "Consent per stairwell unit" in page and "1号楼 1单元" in page
    assert '<progress class="bar"' in page
    listing = client.get("/dispatches/").get_data(as_text=True)
    assert "Awaiting your org unit" in listing and "1 overdue" in listing


def test_nav_shows_tasks_to_staff_only(client, auth, world):
    auth.login("member")
    english(auth)
    assert 'href="/dispatches/"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("resident")
    assert 'href="/dispatches/"' not in client.get("/").get_data(as_text=True)


# --- demo ---------------------------------------------------------------------------------------------


def test_demo_dispatch_loads_once_partly_reported(app):
    with app.app_context():
        with write_transaction():
            demo.load_org_tree()
        with write_transaction():
            assert dispatch_demo.load() == "dispatch: elevator consent"
        with write_transaction():
            assert dispatch_demo.load() is None
        dispatch = db.session.scalar(select(Dispatch))
        states = {a.org.code: a.state for a in dispatch.assignments}
        assert states["FSL-C1"] == "forwarded" and states["FSL-C1-G1-B1-M1"] == "reported"
        assert "sent" in states.values()
        assert db.session.query(DispatchUnitCount).count() >= 1
        assert verify() == []


# --- translations ------------------------------------------------------------------------------------

def test_dispatch_page_reads_in_chinese(app, world, auth, client):
    with app.app_context():
        dispatch_id = launch(world, username="community", origin="C1", kind="consent", estate_index=0)
    auth.login("grid")
    page = client.get(f"/dispatches/{dispatch_id}").get_data(as_text=True)
    assert "本级任务：第1社区第1网格" in page and "已下派，待签收" in page and ">签收<" in page
    assert "各单元意见征集情况" in page and "下派任务" in page
