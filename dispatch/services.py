"""Dispatch services: launch a task, act on an assignment, read progress, sweep deadlines.

Every function takes the actor first and never the HTTP request; each write is one
transaction. State changes go through the workflow engine (engine.fire / start).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import joinedload

from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from core.types import under_path
from orgs import permissions
from orgs.models import Building, Estate, Household, LiaisonHousehold, OrgNode, StairwellUnit
from workflow import audit, deadlines, engine
from workflow.sweep import overdue_loop
from dispatch.models import (
    CANCEL,
    CANCELLED,
    KINDS,
    MEMBER_LEVEL,
    OPEN_STATES,
    REPORTED,
    WORKFLOW,
    WORKING_STATES,
    WHOLE_TASK,
    Dispatch,
    DispatchAssignment,
    DispatchUnitCount,
    household_scope,
    may_cancel,
    targets,
)
from workflow.engine import Transition
from issues.models import RenovationIssue

# --- launching -------------------------------------------------------------------------


def launch_origins(actor) -> list[OrgNode]:
    """The org nodes the actor may launch a dispatch from: their own, where they hold
    a launching role."""
    grants = permissions.action("dispatch.launch").grants
    nodes = {m.org_id: m.org for m in getattr(actor, "memberships", []) if m.role in grants}
    return sorted(nodes.values(), key=lambda node: node.path)


def launch_estates(actor) -> list[Estate]:
    """Estates a dispatch launched by the actor may be limited to."""
    paths = [node.path for node in launch_origins(actor)]
    return list(db.session.scalars(
        select(Estate).where(permissions.path_filter(Estate.path, paths)).order_by(Estate.code).limit(500)
    ))


def _clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _validate_launch(title: str, kind: str) -> None:
    errors = {}
    if not title:
        errors["title"] = _("Please give a short title.")
    if kind not in KINDS:
        errors["kind"] = _("Choose the kind of task.")
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)


def _origin(actor, origin_org_id: int) -> OrgNode:
    origin = db.session.get(OrgNode, origin_org_id)
    if origin is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "dispatch.launch", origin)
    if origin.id not in {node.id for node in launch_origins(actor)}:
        raise NotPermitted(_("Tasks are launched by the org unit you act for."))
    return origin


def _scope(actor, origin: OrgNode, estate_id: int | None, issue_id: int | None) -> tuple[Estate | None, RenovationIssue | None]:
    """The estate and renovation issue a dispatch is tied to; the issue's estate is
    the scope when no estate is given."""
    issue = None
    if issue_id is not None:
        issue = db.session.get(RenovationIssue, issue_id)
        if issue is None or not permissions.can(actor, "issue.view", issue):
            raise ValidationError(_("No such renovation issue in your jurisdiction."),
                                  fields={"issue": _("Unknown issue.")})
        estate_id = estate_id if estate_id is not None else issue.estate_id
    estate = db.session.get(Estate, estate_id) if estate_id is not None else None
    if estate_id is not None and (estate is None or not estate.path.startswith(origin.path)):
        raise ValidationError(_("The estate must lie under the launching org unit."), fields={"estate": _("Unknown estate.")})
    if issue is not None and estate is not None and issue.estate_id != estate.id:
        raise ValidationError(_("The renovation issue belongs to another estate."), fields={"issue": _("Other estate.")})
    return estate, issue


def launch(actor, *, title: str, body: str, kind: str, origin_org_id: int,
           estate_id: int | None = None, issue_id: int | None = None) -> Dispatch:
    """The street or community committee launches a task and sends it to the units
    below it in scope. The launching unit's own assignment waits ("forwarded") for
    their reports."""
    title = _clean(title, 200)
    _validate_launch(title, kind)
    with write_transaction():
        origin = _origin(actor, origin_org_id)
        estate, issue = _scope(actor, origin, estate_id, issue_id)
        if kind == "consent" and estate is None:
            raise ValidationError(_("Owners' consent is gathered in the stairwell units of one estate: choose it."),
                                  fields={"estate": _("Choose an estate.")})
        nodes = targets(origin, estate.id if estate else None)
        if not nodes:
            raise ValidationError(_("No org unit below the launching org unit lies in this task's scope."),
                                  fields={"estate": _("Nothing to send to.")})
        dispatch = Dispatch(
            title=title, body=_clean(body, 5000), kind=kind, launched_by_id=actor.id, origin_org=origin,
            estate=estate, issue=issue, path=origin.path,
        )
        db.session.add(dispatch)
        root = DispatchAssignment(dispatch=dispatch, org=origin, path=origin.path, mode="forwarded")
        engine.start(root, actor, state="forwarded", trigger="launch",
                     payload={"kind": kind, "estate_id": estate.id if estate else None})
        for node in nodes:
            child = DispatchAssignment(dispatch=dispatch, org=node, parent=root, path=node.path)
            engine.start(child, actor, state="sent", trigger="send", payload={"from_org": origin.id})
    return dispatch


# --- acting on an assignment ------------------------------------------------------------


def fire_assignment(actor, assignment_id: int, trigger: str, version: int | None, **data) -> DispatchAssignment:
    """Fire `trigger` on one assignment; "cancel" cancels the whole dispatch (see cancel())."""
    if trigger == CANCEL:
        dispatch_id = db.session.scalar(
            select(DispatchAssignment.dispatch_id).where(DispatchAssignment.id == assignment_id)
        )
        if dispatch_id is None:
            raise NotFound(_("Not found."))
        cancel(actor, dispatch_id, version, data.get("reason") or "", assignment_id=assignment_id)
        return db.session.get(DispatchAssignment, assignment_id)
    return engine.fire(DispatchAssignment, assignment_id, trigger, actor, version, **data)


def acknowledge(actor, assignment_id: int, version: int | None) -> DispatchAssignment:
    return fire_assignment(actor, assignment_id, "acknowledge", version)


def forward(actor, assignment_id: int, version: int | None) -> DispatchAssignment:
    return fire_assignment(actor, assignment_id, "forward", version)


def complete(actor, assignment_id: int, version: int | None, *, reached,
             consents: dict | None = None, reason: str = "") -> DispatchAssignment:
    """Record the figures: households reached and, for consent, consents per stairwell
    unit ({unit_id: count}); `reason` is an optional note kept in the audit log."""
    return fire_assignment(actor, assignment_id, "complete", version,
                           reached=reached, consents=consents or {}, reason=reason)


def report_up(actor, assignment_id: int, version: int | None) -> DispatchAssignment:
    return fire_assignment(actor, assignment_id, "report_up", version)


def cancel(actor, dispatch_id: int, version: int | None, reason: str, *,
           assignment_id: int | None = None) -> Dispatch:
    """The launching node cancels a dispatch that is not finished, with a reason.

    In one transaction: "cancel" is fired on the launching node's own assignment
    (`version` is the version of that assignment the actor last read), which marks the
    dispatch cancelled, then on every other open assignment, each with its own audit
    entry naming the canceller and the reason. Outside the actor's jurisdiction is
    404; not acting for the launching node in a launching role is 403; asked through
    another assignment than the launching node's own (`assignment_id`), a stale
    version, or a dispatch already reported or cancelled is 409; no reason is 422."""
    with write_transaction():
        dispatch = get_dispatch(actor, dispatch_id)
        root_id = db.session.scalar(
            select(DispatchAssignment.id)
            .where(DispatchAssignment.dispatch_id == dispatch.id, DispatchAssignment.parent_id.is_(None))
        )
        if assignment_id is not None and assignment_id != root_id:
            through = get_assignment(dispatch, assignment_id)
            if not permissions.can_see(actor, through):
                raise NotFound(_("Not found."))
        if not may_cancel(actor, dispatch):
            raise NotPermitted(_("Only the org unit that launched the task can cancel it."))
        if assignment_id is not None and assignment_id != root_id:
            raise InvalidTransition(str(WHOLE_TASK))
        engine.fire(DispatchAssignment, root_id, CANCEL, actor, version, reason=reason)
        _cancel_open_parts(actor, dispatch.id, reason)
    return dispatch


def _cancel_open_parts(actor, dispatch_id: int, reason: str) -> None:
    """Cancel the dispatch's open assignments, top down.

    The open ones are locked in one statement first (PostgreSQL; SQLite's write
    transaction already excludes other writers), so none can report up between being
    found open and being cancelled. Asked again until none is left: a level that
    passed the task on just before its assignment was locked here created
    assignments the statement did not see; once an assignment is cancelled, nobody
    can pass it on any more."""
    while True:
        ids = db.session.scalars(
            select(DispatchAssignment.id)
            .where(DispatchAssignment.dispatch_id == dispatch_id, DispatchAssignment.state.in_(OPEN_STATES))
            .order_by(DispatchAssignment.path, DispatchAssignment.id)
            .with_for_update()
        ).all()
        if not ids:
            return
        for assignment_id in ids:
            engine.fire(DispatchAssignment, assignment_id, CANCEL, actor, None, reason=reason)


# --- reading ------------------------------------------------------------------------------


def _view_paths(actor) -> list[str]:
    return permissions.subtree_paths(actor, "dispatch.view")


def _visible(actor) -> ColumnElement[bool]:
    """Dispatches with an assignment in the actor's jurisdiction (the launching
    unit's own assignment makes it visible to it and to the levels above)."""
    return (
        select(DispatchAssignment.id)
        .where(DispatchAssignment.dispatch_id == Dispatch.id,
               permissions.path_filter(DispatchAssignment.path, _view_paths(actor)))
        .exists()
    )


def get_dispatch(actor, dispatch_id: int) -> Dispatch:
    """The one loader: missing or outside the actor's jurisdiction is 404."""
    dispatch = db.session.scalar(select(Dispatch).where(Dispatch.id == dispatch_id, _visible(actor)))
    if dispatch is None:
        raise NotFound(_("Not found."))
    return dispatch


def get_assignment(dispatch: Dispatch, assignment_id: int) -> DispatchAssignment:
    assignment = db.session.get(DispatchAssignment, assignment_id)
    if assignment is None or assignment.dispatch_id != dispatch.id:
        raise NotFound(_("Not found."))
    return assignment


def get_visible_assignment(actor, dispatch: Dispatch, assignment_id: int) -> DispatchAssignment:
    """An assignment of the dispatch within the actor's jurisdiction, or 404."""
    assignment = get_assignment(dispatch, assignment_id)
    if not any(assignment.path.startswith(path) for path in _view_paths(actor)):
        raise NotFound(_("Not found."))
    return assignment


STATUSES = ("open", REPORTED, CANCELLED)


def statuses(dispatch_ids: list[int]) -> dict[int, str]:
    """Per dispatch: "cancelled", "reported" (the launching node reported: finished)
    or "open", from the launching node's own assignment (one query)."""
    if not dispatch_ids:
        return {}
    rows = db.session.execute(
        select(DispatchAssignment.dispatch_id, DispatchAssignment.state)
        .where(DispatchAssignment.dispatch_id.in_(dispatch_ids), DispatchAssignment.parent_id.is_(None))
    )
    found = {dispatch_id: state if state in (REPORTED, CANCELLED) else "open" for dispatch_id, state in rows}
    return {dispatch_id: found.get(dispatch_id, "open") for dispatch_id in dispatch_ids}


def recorded_consents(assignment: DispatchAssignment) -> dict[int, int]:
    """Consents the assignment recorded per stairwell unit ({unit_id: count})."""
    return dict(db.session.execute(
        select(DispatchUnitCount.unit_id, DispatchUnitCount.consents)
        .where(DispatchUnitCount.assignment_id == assignment.id)
    ).all())


@dataclass
class Counts:
    """Assignments of a branch by stage."""

    total: int = 0
    sent: int = 0
    acknowledged: int = 0  # acknowledged and in hand: working, passed on, or done
    reported: int = 0
    overdue: int = 0
    cancelled: int = 0

    def add(self, other: "Counts") -> None:
        self.total += other.total
        self.sent += other.sent
        self.acknowledged += other.acknowledged
        self.reported += other.reported
        self.overdue += other.overdue
        self.cancelled += other.cancelled

    @property
    def percent(self) -> int:
        return self.reported * 100 // self.total if self.total else 0

    @classmethod
    def of(cls, assignment: DispatchAssignment, now: datetime) -> "Counts":
        return cls(
            total=1,
            sent=int(assignment.state == "sent"),
            acknowledged=int(assignment.state in WORKING_STATES),
            reported=int(assignment.state == REPORTED),
            overdue=int(assignment.is_overdue(now)),
            cancelled=int(assignment.state == CANCELLED),
        )


@dataclass
class DispatchRow:
    dispatch: Dispatch
    counts: Counts


def list_dispatches(actor, page: int = 1, per_page: int = 30, now: datetime | None = None) -> tuple[list[DispatchRow], int]:
    """Dispatches visible to the actor, newest first, with the counts of the
    assignments the actor can see (one grouped query for the page)."""
    now = now or utcnow()
    stmt = select(Dispatch).where(_visible(actor))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page, per_page = max(1, page), max(1, min(per_page, 100))
    dispatches = db.session.scalars(
        stmt.options(joinedload(Dispatch.origin_org), joinedload(Dispatch.estate))
        .order_by(Dispatch.created_at.desc(), Dispatch.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    counts = _counts_by_dispatch(actor, [d.id for d in dispatches], now)
    return [DispatchRow(d, counts.get(d.id, Counts())) for d in dispatches], total


def _counts_by_dispatch(actor, dispatch_ids: list[int], now: datetime) -> dict[int, Counts]:
    if not dispatch_ids:
        return {}
    overdue = case((and_(DispatchAssignment.state.in_(OPEN_STATES), DispatchAssignment.due_at < now), 1), else_=0)
    rows = db.session.execute(
        select(DispatchAssignment.dispatch_id, DispatchAssignment.state, func.count(), func.sum(overdue))
        .where(DispatchAssignment.dispatch_id.in_(dispatch_ids),
               permissions.path_filter(DispatchAssignment.path, _view_paths(actor)))
        .group_by(DispatchAssignment.dispatch_id, DispatchAssignment.state)
    )
    result: dict[int, Counts] = defaultdict(Counts)
    for dispatch_id, state, count, late in rows:
        result[dispatch_id].add(Counts(
            total=count, sent=count if state == "sent" else 0,
            acknowledged=count if state in WORKING_STATES else 0,
            reported=count if state == REPORTED else 0, overdue=int(late or 0),
            cancelled=count if state == CANCELLED else 0,
        ))
    return result


def awaiting(actor, limit: int = 100) -> list[DispatchAssignment]:
    """Open assignments the actor's units answer for (their own, or escalated to them
    after a deadline passed), soonest deadline first."""
    org_ids = [m.org_id for m in getattr(actor, "memberships", []) if m.role in _acting_roles()]
    if not org_ids:
        return []
    return list(db.session.scalars(
        select(DispatchAssignment)
        .options(joinedload(DispatchAssignment.dispatch), joinedload(DispatchAssignment.org))
        .where(DispatchAssignment.responsible_org_id.in_(org_ids), DispatchAssignment.state.in_(OPEN_STATES))
        .order_by(DispatchAssignment.due_at.is_(None), DispatchAssignment.due_at, DispatchAssignment.id)
        .limit(limit)
    ))


def _acting_roles() -> set[str]:
    return set(permissions.action("dispatch.view").grants)


def my_assignments(actor, dispatch: Dispatch) -> list[DispatchAssignment]:
    """The assignments of this dispatch held by the actor's own units, and the open parts
    below referred to them after a deadline passed (which they may close for the level below)."""
    org_ids = [m.org_id for m in getattr(actor, "memberships", []) if m.role in _acting_roles()]
    if not org_ids:
        return []
    return list(db.session.scalars(
        select(DispatchAssignment)
        .where(DispatchAssignment.dispatch_id == dispatch.id,
               or_(DispatchAssignment.org_id.in_(org_ids),
                   and_(DispatchAssignment.responsible_org_id.in_(org_ids),
                        DispatchAssignment.state.in_(OPEN_STATES))))
        .order_by(DispatchAssignment.path)
    ))


def available(actor, assignment: DispatchAssignment) -> list[Transition]:
    """The transitions the actor may fire on the assignment now (the buttons)."""
    return WORKFLOW.available(assignment, actor)


def timeline(assignment: DispatchAssignment) -> list[audit.AuditEntry]:
    return audit.timeline(assignment)


# --- progress -------------------------------------------------------------------------------


@dataclass
class Branch:
    """One assignment with the totals of its branch (itself and everything below it)."""

    assignment: DispatchAssignment
    overdue: bool
    counts: Counts
    households: int  # households the node answers for in the dispatch's scope
    reached: int  # households reached, as recorded by the nodes of the branch that did the work
    consents: int
    children: list["Branch"] = field(default_factory=list)


def progress(actor, dispatch: Dispatch, now: datetime | None = None) -> list[Branch]:
    """The progress tree of the dispatch as far as the actor's jurisdiction reaches:
    one query for the assignments, two for the households, whatever the tree's size."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(DispatchAssignment)
        .options(joinedload(DispatchAssignment.org).joinedload(OrgNode.level),
                 joinedload(DispatchAssignment.responsible_org))
        .where(DispatchAssignment.dispatch_id == dispatch.id,
               permissions.path_filter(DispatchAssignment.path, _view_paths(actor)))
        .order_by(DispatchAssignment.path)
    ).unique().all()
    households = _households_by_node(dispatch, [row.org for row in rows])
    branches = {row.id: _leaf(row, households.get(row.org_id, 0), now) for row in rows}
    roots: list[Branch] = []
    for branch in sorted(branches.values(), key=lambda b: -len(b.assignment.path)):
        parent = branches.get(branch.assignment.parent_id)
        if parent is None:
            roots.append(branch)
            continue
        parent.children.append(branch)
        parent.counts.add(branch.counts)
        parent.reached += branch.reached
        parent.consents += branch.consents
    for branch in branches.values():
        branch.children.sort(key=lambda b: b.assignment.org.code)
    return sorted(roots, key=lambda b: b.assignment.path)


def walk(branches: list[Branch]):
    """Every branch of a progress tree, parents before children."""
    for branch in branches:
        yield branch
        yield from walk(branch.children)


def _leaf(row: DispatchAssignment, households: int, now: datetime) -> Branch:
    did_the_work = row.mode == "completed"
    return Branch(
        assignment=row,
        overdue=row.is_overdue(now),
        counts=Counts.of(row, now),
        households=households,
        reached=(row.reached or 0) if did_the_work else 0,
        consents=(row.consents or 0) if did_the_work else 0,
    )


def _households_by_node(dispatch: Dispatch, nodes: list[OrgNode]) -> dict[int, int]:
    """Households each node answers for within the dispatch's scope (see
    dispatch.household_scope), from one count per household path and one per
    member household node."""
    in_scope = Household.estate_id == dispatch.estate_id if dispatch.estate_id is not None else true()
    by_prefix: dict[str, int] = defaultdict(int)
    for path, count in db.session.execute(
        select(Household.path, func.count()).where(under_path(Household.path, dispatch.path), in_scope)
        .group_by(Household.path)
    ):
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            by_prefix["/" + "/".join(parts[:depth]) + "/"] += count
    result = {node.id: by_prefix.get(node.path, 0) for node in nodes if node.level_code != MEMBER_LEVEL}
    members = {node.id: node for node in nodes if node.level_code == MEMBER_LEVEL}
    if members:
        result.update(_member_households(members, in_scope))
    return result


def _member_households(members: dict[int, OrgNode], in_scope) -> dict[int, int]:
    counts = dict(db.session.execute(
        select(LiaisonHousehold.org_id, func.count())
        .join(Household, Household.id == LiaisonHousehold.household_id)
        .where(LiaisonHousehold.org_id.in_(list(members)), in_scope)
        .group_by(LiaisonHousehold.org_id)
    ).all())
    own = {node.household_id for node in members.values() if node.household_id is not None}
    own_in_scope = set(db.session.scalars(select(Household.id).where(Household.id.in_(own), in_scope))) if own else set()
    return {
        node_id: counts.get(node_id, 0) + int(node.household_id in own_in_scope)
        for node_id, node in members.items()
    }


@dataclass(frozen=True)
class UnitProgress:
    unit_id: int
    label: str
    households: int
    consents: int

    @property
    def percent(self) -> int:
        return self.consents * 100 // self.households if self.households else 0


def consent_by_unit(actor, dispatch: Dispatch) -> list[UnitProgress]:
    """For a consent dispatch: every stairwell unit of the estate within the actor's
    jurisdiction, with its households and the consents reported so far. A member
    household's jurisdiction holds no units (its node is a leaf of the org tree): it
    sees the whole of each unit where a household it looks after lives."""
    if dispatch.kind != "consent" or dispatch.estate_id is None:
        return []
    view_paths = _view_paths(actor)
    in_view = permissions.path_filter(StairwellUnit.path, view_paths)
    members = [m.org for m in actor.memberships
               if m.org.level_code == MEMBER_LEVEL and any(m.org.path.startswith(p) for p in view_paths)]
    if members:
        looked_after = select(Household.unit_id).where(
            or_(*(household_scope(node, dispatch.estate_id) for node in members)))
        in_view = or_(in_view, StairwellUnit.id.in_(looked_after))
    units = db.session.execute(
        select(StairwellUnit.id, Building.number, StairwellUnit.number, func.count(Household.id))
        .join(Building, Building.id == StairwellUnit.building_id)
        .join(Household, Household.unit_id == StairwellUnit.id)
        .where(Building.estate_id == dispatch.estate_id, in_view)
        .group_by(StairwellUnit.id, StairwellUnit.number, StairwellUnit.sort_key, Building.id, Building.number,
                  Building.sort_key)
        .order_by(Building.sort_key, Building.id, StairwellUnit.sort_key, StairwellUnit.id)
    ).all()
    consents = dict(db.session.execute(
        select(DispatchUnitCount.unit_id, func.sum(DispatchUnitCount.consents))
        .join(DispatchAssignment, DispatchAssignment.id == DispatchUnitCount.assignment_id)
        .where(DispatchAssignment.dispatch_id == dispatch.id)
        .group_by(DispatchUnitCount.unit_id)
    ).all())
    return [
        UnitProgress(unit_id, f"{building} {unit}", count, int(consents.get(unit_id) or 0))
        for unit_id, building, unit, count in units
    ]


# --- deadlines -------------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Refer overdue open assignments to the level above, as the system actor.

    The unit answering for the assignment becomes the parent of the one that let
    the deadline pass, with a fresh deadline, so running the sweep again at once
    changes nothing (idempotent). Each referral is one transaction and is audited."""
    now = now or utcnow()
    return overdue_loop(
        select(DispatchAssignment.id)
        .where(DispatchAssignment.state.in_(OPEN_STATES), DispatchAssignment.due_at < now)
        .order_by(DispatchAssignment.due_at), _escalate, ("dispatch_escalated", "dispatch_at_top"),
        now)


def _escalate(assignment_id: int, now: datetime) -> str | None:
    with write_transaction():
        assignment = lock(DispatchAssignment, assignment_id)
        if assignment is None or not assignment.is_overdue(now):
            return None
        current = assignment.responsible_org or assignment.org
        if deadlines.refer_to_parent(assignment, current, now, default_days=2) is None:
            return "dispatch_at_top"
        assignment.escalations += 1
    return "dispatch_escalated"
