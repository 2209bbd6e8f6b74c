"""Tasks sent down the five levels: the five levels work both ways.

The street or community committee launches a dispatch: an item of the estate plan,
a notice to deliver, or owners' consent to gather in every stairwell unit. Every
org node the task reaches holds one DispatchAssignment, a workflow subject with its
own audit chain. A node acknowledges its assignment, then either passes it on to
the nodes below that lie in the dispatch's scope or records the figures itself
(member households: how many neighbour households they reached and, for consent,
the consents gathered per stairwell unit), and reports up once every node below
has reported; reporting up adds up the figures of the level below. The launching
node's own assignment starts "forwarded": its report closes the dispatch.

    sent --acknowledge--> acknowledged --forward--> forwarded --report_up--> reported
                                       --complete--> done --report_up--> reported
                                                     done --complete--> done (figures corrected)
    any open state --cancel--> cancelled

The launching node (acting through a role that may launch) cancels a dispatch that
is not finished by firing "cancel", with a reason, on its own assignment: that marks
the dispatch cancelled, and then every other open assignment is cancelled in the
same transaction (dispatch_services.cancel), each with its own audit entry.

Each level acts through its own role (street officer, community officer, grid
worker, building group leader, member household): one transition per level and
trigger, told apart by a condition on the node's level, guarded by that level's
action. Deadlines come from the city policy (rules/policy.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.errors import ValidationError
from core.extensions import db
from core.types import PathColumnType, under_path
from orgs import roles as R
from orgs.models import Building, Estate, Household, LiaisonHousehold, OrgNode, Person, StairwellUnit
from orgs import permissions
from orgs.permissions import register
from workflow import audit, engine
from workflow.engine import Condition, FireContext, State, Transition, Workflow, WorkflowSubject
from issues.models import RenovationIssue

KINDS = {
    "plan_item": _l("Item of the estate plan"),
    "notice": _l("Notice to deliver"),
    "consent": _l("Owners' consent in every stairwell unit"),
}

# Org level -> (the action that acts for nodes of that level, the role holding it).
LEVEL_ACTIONS: dict[str, tuple[str, str]] = {
    level.code: (f"dispatch.act_{level.short}", level.staff_role) for level in R.LEVELS
}
MEMBER_LEVEL = "member_household"

register("dispatch.launch", subtree=R.OFFICERS)
# A level above closes (or records for) a part below that does not answer.
register("dispatch.close_below", subtree=tuple(role for _a, role in LEVEL_ACTIONS.values() if role != R.MEMBER_HOUSEHOLD))
register("dispatch.view", subtree=R.LEVEL_STAFF)
for _action_name, _role in LEVEL_ACTIONS.values():
    register(_action_name, subtree=(_role,))

OPEN_STATES = ("sent", "acknowledged", "forwarded", "done")
WORKING_STATES = ("acknowledged", "forwarded", "done")
REPORTED = "reported"
CANCELLED = "cancelled"
CANCEL = "cancel"
NOTE_LIMIT = 500

STATES = [
    State("sent", _l("Sent: awaiting acknowledgement")),
    State("acknowledged", _l("Acknowledged: in hand")),
    State("forwarded", _l("Passed on: awaiting the levels below")),
    State("done", _l("Done here: to report up")),
    State(REPORTED, _l("Reported up"), terminal=True),
    State(CANCELLED, _l("Revoked"), terminal=True),
]

# Audit entries that are not transitions of the workflow.
EVENT_LABELS = {
    "launch": _l("Launched"),
    "send": _l("Sent down"),
    "overdue_escalation": _l("Referred up after the deadline passed"),
}


# --- scope: which nodes a task reaches, which households a node answers for ---------


def targets(node: OrgNode, estate_id: int | None) -> list[OrgNode]:
    """The nodes a task passes to from `node`: its children at a level that acts on
    tasks (looking through inserted levels), limited to those with places in the
    estate when the dispatch has one."""
    reached: list[OrgNode] = []
    pending = list(node.children)
    while pending:
        child = pending.pop(0)
        if child.level_code in LEVEL_ACTIONS:
            reached.append(child)
        else:
            pending.extend(child.children)
    if estate_id is None:
        return reached
    inside = _nodes_in_estate(reached, estate_id)
    return [n for n in reached if n.id in inside]


def _nodes_in_estate(nodes: list[OrgNode], estate_id: int) -> set[int]:
    """Ids of `nodes` answering for a building of the estate, or (member households)
    looking after a household in it."""
    building_paths = set(db.session.scalars(select(Building.path).where(Building.estate_id == estate_id).distinct()))
    inside = {n.id for n in nodes if any(path.startswith(n.path) for path in building_paths)}
    members = [n.id for n in nodes if n.level_code == MEMBER_LEVEL]
    if members:
        neighbours = (
            select(LiaisonHousehold.org_id)
            .join(Household, Household.id == LiaisonHousehold.household_id)
            .where(LiaisonHousehold.org_id.in_(members), Household.estate_id == estate_id)
        )
        own = (
            select(OrgNode.id)
            .join(Household, Household.id == OrgNode.household_id)
            .where(OrgNode.id.in_(members), Household.estate_id == estate_id)
        )
        inside |= set(db.session.scalars(union(neighbours, own)))
    return inside


def household_scope(node: OrgNode, estate_id: int | None) -> ColumnElement[bool]:
    """Households `node` answers for: a member household's own and neighbour
    households (联系户); for other levels every household under the node."""
    if node.level_code == MEMBER_LEVEL:
        looked_after = select(LiaisonHousehold.household_id).where(LiaisonHousehold.org_id == node.id)
        condition = or_(Household.id.in_(looked_after), Household.id == node.household_id)
    else:
        condition = under_path(Household.path, node.path)
    if estate_id is not None:
        condition = and_(condition, Household.estate_id == estate_id)
    return condition


@dataclass(frozen=True)
class UnitLine:
    """A stairwell unit with the number of households a node answers for in it."""

    unit_id: int
    label: str
    households: int


def unit_lines(node: OrgNode, estate_id: int | None) -> list[UnitLine]:
    rows = db.session.execute(
        select(StairwellUnit.id, Estate.name, Building.number, StairwellUnit.number, func.count(Household.id))
        .select_from(Household)
        .join(StairwellUnit, StairwellUnit.id == Household.unit_id)
        .join(Building, Building.id == StairwellUnit.building_id)
        .join(Estate, Estate.id == Building.estate_id)
        .where(household_scope(node, estate_id))
        .group_by(StairwellUnit.id, StairwellUnit.number, StairwellUnit.sort_key,
                  Building.id, Building.number, Building.sort_key, Estate.id, Estate.name)
        .order_by(Estate.id, Building.sort_key, Building.id, StairwellUnit.sort_key, StairwellUnit.id)
    )
    return [UnitLine(unit_id, f"{estate} {building} {unit}", count) for unit_id, estate, building, unit, count in rows]


# --- callbacks ---------------------------------------------------------------------------


def _send_down(assignment: DispatchAssignment, ctx: FireContext) -> None:
    """Create an assignment, in state "sent", for every node below in scope."""
    nodes = targets(assignment.org, assignment.dispatch.estate_id)
    for node in nodes:
        child = DispatchAssignment(dispatch=assignment.dispatch, org=node, parent=assignment, path=node.path)
        engine.start(child, ctx.actor, state="sent", trigger="send", payload={"from_org": assignment.org_id})
    assignment.mode = "forwarded"
    ctx.payload["sent_to"] = [node.id for node in nodes]


def _whole_number(value, field: str, limit: int | None) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("Enter a whole number."), fields={field: _("Invalid number.")}) from None
    if number < 0 or (limit is not None and number > limit):
        raise ValidationError(
            _("Enter a whole number from 0 to %(n)d.", n=limit) if limit is not None
            else _("Enter a whole number of 0 or more."),
            fields={field: _("Invalid number.")},
        )
    return number


def _unit_consents(lines: list[UnitLine], raw: dict) -> dict[int, int]:
    """Consents per stairwell unit: one whole number for every unit the node answers for."""
    by_unit = {line.unit_id: line for line in lines}
    values = {str(key).strip(): value for key, value in (raw or {}).items()}
    unknown = set(values) - {str(unit_id) for unit_id in by_unit}
    if unknown:
        raise ValidationError(_("Consents can only be recorded for your own stairwell units."),
                              fields={"consents": _("Unknown stairwell unit.")})
    result = {}
    for unit_id, line in by_unit.items():
        if values.get(str(unit_id)) in (None, ""):
            raise ValidationError(_("Enter the consents gathered in every stairwell unit (0 if none)."),
                                  fields={f"consent-{unit_id}": _("This field is required.")})
        result[unit_id] = _whole_number(values[str(unit_id)], f"consent-{unit_id}", line.households)
    return result


def _record_figures(assignment: DispatchAssignment, ctx: FireContext) -> None:
    """Check and store the figures a node reports for the households it answers for."""
    lines = unit_lines(assignment.org, assignment.dispatch.estate_id)
    households = sum(line.households for line in lines)
    reached = _whole_number(ctx.data.get("reached"), "reached", households or None)
    consents: dict[int, int] = {}
    if assignment.dispatch.kind == "consent":
        consents = _unit_consents(lines, ctx.data.get("consents") or {})
        if sum(consents.values()) > reached:
            raise ValidationError(_("There cannot be more consents than households reached."),
                                  fields={"reached": _("Fewer than the consents recorded.")})
    _store_unit_counts(assignment, lines, consents)
    assignment.mode = "completed"
    assignment.households = households
    assignment.reached = reached
    assignment.consents = sum(consents.values()) if assignment.dispatch.kind == "consent" else None
    ctx.payload.update(households=households, reached=reached, consents=assignment.consents,
                       units={str(unit_id): count for unit_id, count in consents.items()})


def _store_unit_counts(assignment: DispatchAssignment, lines: list[UnitLine], consents: dict[int, int]) -> None:
    db.session.execute(delete(DispatchUnitCount).where(DispatchUnitCount.assignment_id == assignment.id))
    households = {line.unit_id: line.households for line in lines}
    for unit_id, count in consents.items():
        db.session.add(DispatchUnitCount(
            assignment_id=assignment.id, unit_id=unit_id, households=households[unit_id], consents=count
        ))


def _add_up_below(assignment: DispatchAssignment, ctx: FireContext) -> None:
    """A node that passed the task on reports the sum of its children's figures."""
    households, reached, consents = db.session.execute(
        select(func.sum(DispatchAssignment.households), func.sum(DispatchAssignment.reached),
               func.sum(DispatchAssignment.consents))
        .where(DispatchAssignment.parent_id == assignment.id)
    ).one()
    assignment.households = int(households or 0)
    assignment.reached = int(reached or 0)
    assignment.consents = int(consents) if consents is not None else None


def _stamp_report(assignment: DispatchAssignment, ctx: FireContext) -> None:
    assignment.reported_at = utcnow()
    ctx.payload.update(households=assignment.households, reached=assignment.reached, consents=assignment.consents)


def _keep_note(assignment: DispatchAssignment, ctx: FireContext) -> None:
    """The note a level writes with its figures ("1户联系不上") travels up with them: the
    levels above read it in the progress tree."""
    if ctx.reason:
        assignment.note = ctx.reason[:NOTE_LIMIT]


def acts_above(actor, assignment: DispatchAssignment) -> bool:
    """Does the actor act, through a level's own role, for a node strictly above the part?"""
    roles = {role for _a, role in LEVEL_ACTIONS.values()}
    return any(
        m.role in roles and assignment.path.startswith(m.org.path) and assignment.path != m.org.path
        for m in getattr(actor, "memberships", ())
    )


def _close_for_below(assignment: DispatchAssignment, ctx: FireContext) -> None:
    """A level above closes a part that does not answer, with the reason everyone reads:
    its open parts below are closed with it (each with its own audit entry); the figures
    are those recorded for it (households reached, if the level above knows them) or, for
    a part that passed the task on, what its branch reported."""
    assignment.closed_reason = ctx.reason[:NOTE_LIMIT]  # before its parts below: they close with it
    for child_id in db.session.scalars(
        select(DispatchAssignment.id).where(DispatchAssignment.parent_id == assignment.id,
                                            DispatchAssignment.state.in_(OPEN_STATES))
        .order_by(DispatchAssignment.path)
    ):
        engine.fire(DispatchAssignment, child_id, "close_for", ctx.actor, None, reason=ctx.reason)
    if assignment.mode == "forwarded":
        _add_up_below(assignment, ctx)
    elif ctx.data.get("reached") not in (None, ""):
        if assignment.dispatch.kind == "consent" and not ctx.data.get("consents"):
            lines = unit_lines(assignment.org, assignment.dispatch.estate_id)
            ctx.data["consents"] = {str(line.unit_id): 0 for line in lines}  # none known to the level above
        _record_figures(assignment, ctx)
    else:
        lines = unit_lines(assignment.org, assignment.dispatch.estate_id)
        _store_unit_counts(assignment, lines, {line.unit_id: 0 for line in lines}
                           if assignment.dispatch.kind == "consent" else {})
        assignment.mode = "completed"
        assignment.households = sum(line.households for line in lines)
        assignment.reached = 0
        assignment.consents = 0 if assignment.dispatch.kind == "consent" else None
    ctx.payload["closed_by_above"] = True


def may_cancel(actor, dispatch: Dispatch) -> bool:
    """Does the actor act for the node that launched the dispatch, in a role that may launch?"""
    grants = permissions.action("dispatch.launch").grants
    return any(m.org_id == dispatch.origin_org_id and m.role in grants for m in getattr(actor, "memberships", ()))


def _mark_cancelled(assignment: DispatchAssignment, ctx: FireContext) -> None:
    dispatch = assignment.dispatch
    dispatch.cancelled_at = utcnow()
    dispatch.cancelled_by_id = ctx.actor.id
    dispatch.cancel_reason = ctx.reason


# --- transitions -------------------------------------------------------------------------

HAS_TARGETS = Condition(
    lambda a, ctx: bool(targets(a.org, a.dispatch.estate_id)),
    _l("No org unit below lies in this task's scope: record the figures at this level."),
)
ALL_REPORTED = Condition(lambda a, ctx: a.open_children() == 0, _l("Not every org unit below has reported yet."))
WHOLE_TASK = _l("A task is cancelled as a whole, from the launching org unit's own part.")
LAUNCHING_PART = Condition(lambda a, ctx: a.parent_id is None, WHOLE_TASK)
ACTS_FOR_ORIGIN = Condition(lambda a, ctx: may_cancel(ctx.actor, a.dispatch),
                            _l("Only the org unit that launched the task can cancel it."))
DISPATCH_CANCELLED = Condition(lambda a, ctx: a.dispatch.cancelled_at is not None, WHOLE_TASK)


def _at_level(level: str, condition: Condition | None = None) -> Condition:
    """The node is at `level` (and `condition` holds). The message is the one of
    `condition`: a node is always at exactly one level, so when every candidate
    transition fails, the real reason is `condition` at the node's own level."""
    if condition is None:
        return Condition(lambda a, ctx: a.org.level_code == level, _l("Another level handles this task."))
    return Condition(lambda a, ctx: a.org.level_code == level and condition.check(a, ctx), condition.message)


NOT_LAUNCHING_PART = Condition(lambda a, ctx: a.parent_id is not None,
                               _l("The launching org unit's own part is reported or cancelled, not closed."))
ACTS_ABOVE = Condition(lambda a, ctx: acts_above(ctx.actor, a),
                       _l("Only a level above this part may close it for it."))
UNANSWERED = Condition(lambda a, ctx: a.escalations > 0 or a.is_overdue()
                       or (a.parent is not None and a.parent.closed_reason is not None),  # closed with its parent
                       _l("A part is closed for the level below only once its deadline has passed."))


def _level_transitions(level: str, action: str) -> list[Transition]:
    return [
        Transition("acknowledge", ("sent",), "acknowledged", action, _l("Acknowledge"),
                   conditions=(_at_level(level),), style="primary"),
        Transition("forward", ("acknowledged",), "forwarded", action, _l("Pass on to the org units below"),
                   conditions=(_at_level(level, HAS_TARGETS),), after=(_send_down,), style="primary"),
        Transition("complete", ("acknowledged", "done"), "done", action, _l("Record the figures"),
                   fields=("reached",), conditions=(_at_level(level),), before=(_record_figures, _keep_note)),
        Transition("report_up", ("forwarded",), REPORTED, action, _l("Report up"),
                   conditions=(_at_level(level, ALL_REPORTED),), before=(_add_up_below, _keep_note),
                   after=(_stamp_report,), style="primary"),
        Transition("report_up", ("done",), REPORTED, action, _l("Report up"),
                   conditions=(_at_level(level),), before=(_keep_note,), after=(_stamp_report,), style="primary"),
    ]


def _close_transitions() -> list[Transition]:
    return [Transition("close_for", OPEN_STATES, REPORTED, "dispatch.close_below",
                       _l("Close this part for the level below"), reason=True,
                       conditions=(NOT_LAUNCHING_PART, ACTS_ABOVE, UNANSWERED), before=(_close_for_below,),
                       after=(_stamp_report,), style="danger")]


def _cancel_transitions() -> list[Transition]:
    """The launching node cancels its own assignment, which marks the dispatch
    cancelled; only then may the other open assignments follow it."""
    label = _l("Cancel the task")
    return [
        Transition(CANCEL, OPEN_STATES, CANCELLED, "dispatch.launch", label, reason=True,
                   conditions=(LAUNCHING_PART, ACTS_FOR_ORIGIN), before=(_mark_cancelled,), style="danger"),
        Transition(CANCEL, OPEN_STATES, CANCELLED, "dispatch.launch", label, reason=True,
                   conditions=(DISPATCH_CANCELLED,), style="danger"),
    ]


TRANSITIONS = [
    *(t for level, (action, _r) in LEVEL_ACTIONS.items() for t in _level_transitions(level, action)),
    *_close_transitions(),
    *_cancel_transitions(),
]
WORKFLOW = Workflow("dispatch_assignment", STATES, TRANSITIONS, initial="sent", event_labels=EVENT_LABELS)


# --- models ---------------------------------------------------------------------------


class Dispatch(db.Model):
    """A task launched from above and sent down the levels."""

    __tablename__ = "dispatch"
    __table_args__ = (
        CheckConstraint("kind IN ('plan_item', 'notice', 'consent')", name="kind_known"),
        CheckConstraint("cancelled_at IS NULL OR (cancelled_by_id IS NOT NULL AND cancel_reason <> '')",
                        name="cancel_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    launched_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    origin_org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), index=True)
    estate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("estate.id"), index=True)
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"), index=True)
    # The launching node's path: it and the levels above see the whole dispatch.
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Set when the launching node cancels the dispatch (with the reason people read).
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    cancelled_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    cancel_reason: Mapped[Optional[str]] = mapped_column(Text)

    launched_by: Mapped[Person] = relationship(foreign_keys=[launched_by_id])
    cancelled_by: Mapped[Optional[Person]] = relationship(foreign_keys=[cancelled_by_id])
    origin_org: Mapped[OrgNode] = relationship()
    estate: Mapped[Optional[Estate]] = relationship()
    issue: Mapped[Optional[RenovationIssue]] = relationship()
    assignments: Mapped[list["DispatchAssignment"]] = relationship(
        back_populates="dispatch", order_by="DispatchAssignment.path"
    )

    @property
    def kind_label(self) -> str:
        return str(KINDS.get(self.kind, self.kind))

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


@audit.register_subject
class DispatchAssignment(WorkflowSubject, db.Model):
    """The part of a dispatch one org node answers for."""

    __tablename__ = "dispatch_assignment"
    __table_args__ = (
        UniqueConstraint("dispatch_id", "org_id"),
        CheckConstraint("mode IS NULL OR mode IN ('forwarded', 'completed')", name="mode_known"),
        CheckConstraint("reached IS NULL OR reached >= 0", name="reached_not_negative"),
        CheckConstraint("consents IS NULL OR consents >= 0", name="consents_not_negative"),
        # The progress tree: one dispatch's assignments under a path prefix.
        Index("ix_dispatch_assignment_dispatch_path", "dispatch_id", "path"),
        # What awaits an org node, soonest deadline first.
        Index("ix_dispatch_assignment_worklist", "responsible_org_id", "due_at"),
    )
    subject_type = "dispatch_assignment"
    workflow = WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("dispatch_assignment.id"), index=True)
    # How the node handled it: passed on ("forwarded") or did it itself ("completed").
    mode: Mapped[Optional[str]] = mapped_column(String(10))
    # Figures: recorded by "complete", added up from the level below by "report_up".
    households: Mapped[Optional[int]] = mapped_column(Integer)
    reached: Mapped[Optional[int]] = mapped_column(Integer)
    consents: Mapped[Optional[int]] = mapped_column(Integer)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    # The level's note with its figures, and the reason a level above closed the part.
    note: Mapped[Optional[str]] = mapped_column(Text)
    closed_reason: Mapped[Optional[str]] = mapped_column(Text)
    reported_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    dispatch: Mapped[Dispatch] = relationship(back_populates="assignments")
    org: Mapped[OrgNode] = relationship(foreign_keys="DispatchAssignment.org_id")
    responsible_org: Mapped[Optional[OrgNode]] = relationship(foreign_keys="DispatchAssignment.responsible_org_id")
    parent: Mapped[Optional["DispatchAssignment"]] = relationship(remote_side=[id])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < (now or utcnow())

    def open_children(self) -> int:
        return db.session.scalar(
            select(func.count()).select_from(DispatchAssignment)
            .where(DispatchAssignment.parent_id == self.id, DispatchAssignment.state != REPORTED)
        ) or 0

    # Engine hooks ---------------------------------------------------------------

    def responsible_org_for(self, state: State) -> OrgNode | None:
        return None if state.terminal else self.org


class DispatchUnitCount(db.Model):
    """Consents gathered in one stairwell unit, as reported by one assignment."""

    __tablename__ = "dispatch_unit_count"
    __table_args__ = (
        CheckConstraint("consents >= 0 AND consents <= households", name="consents_within_households"),
    )

    assignment_id: Mapped[int] = mapped_column(ForeignKey("dispatch_assignment.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("stairwell_unit.id"), primary_key=True, index=True)
    households: Mapped[int] = mapped_column(Integer)
    consents: Mapped[int] = mapped_column(Integer)
