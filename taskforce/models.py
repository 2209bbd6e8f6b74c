"""The standing task force of an estate (改造工作专班), its progress meetings, attendance,
minutes and action items.

A task force is convened by the estate's community committee and brings the parties
together (DOMAIN.md section 1). Each member is a person, so that approving the minutes
is done by the member themself. A meeting walks:

    scheduled --hold (attendance)--> held --draft--> minutes_drafted --approve--> ... --> approved --sign--> signed
    scheduled --cancel--> cancelled

"approve" is fired once by each member present; the last approval moves the minutes
to "approved". Signing renders the minutes as a PDF signed by the community committee
(documents/); a second signing answers 409 (the state is "signed").
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.errors import ValidationError
from core.extensions import db
from orgs import roles as R
from orgs.models import Estate, OrgNode, Person
from orgs.permissions import register
from workflow import audit
from workflow.engine import Condition, State, Transition, Workflow, WorkflowSubject

PARTIES = {
    "street": _l("Street Party working committee"),
    "community": _l("Community Party committee"),
    "party_member": _l("Party member"),
    "resident_representative": _l("Resident representative"),
    "owners_committee": _l("Owners' committee"),
    "property": _l("Property management company"),
    "builder": _l("Construction company"),
    "supervisor": _l("Supervision company"),
    "utility": _l("Utility (telecom, water, power, gas, heating)"),
}

EVERYONE = tuple(role for role in R.ALL_ROLES if role != R.ADMIN)
STAFF = (R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER, R.OWNERS_COMMITTEE,
         R.PROPERTY_COMPANY, R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY)
# Staff read the task forces of their subtree; members (residents among them) their own.
register("taskforce.view", subtree=STAFF, own=(R.RESIDENT, R.MEMBER_HOUSEHOLD))
register("taskforce.manage", subtree=R.OFFICERS)
# Approving minutes: a member present at the meeting, whatever their role.
register("taskforce.approve", own=EVERYONE)

MEETING_STATES = [
    State("scheduled", _l("Scheduled"), deadline=False),
    State("held", _l("Held: minutes to draft"), deadline=False),
    State("minutes_drafted", _l("Minutes drafted: awaiting approval"), deadline=False),
    State("approved", _l("Minutes approved: to sign"), deadline=False),
    State("signed", _l("Minutes signed"), terminal=True),
    State("cancelled", _l("Cancelled"), terminal=True),
]


def _has_started(meeting: "TaskForceMeeting", ctx) -> bool:
    return meeting.starts_at <= utcnow()


def _is_present_member(meeting: "TaskForceMeeting", ctx) -> bool:
    return meeting.present_member_of(ctx.actor) is not None


def _not_yet_approved_by(meeting: "TaskForceMeeting", ctx) -> bool:
    row = meeting.present_member_of(ctx.actor)
    return row is not None and row.approved_at is None


def _last_approval(meeting: "TaskForceMeeting", ctx) -> bool:
    return _not_yet_approved_by(meeting, ctx) and meeting.approvals_missing() == 1


def _more_approvals(meeting: "TaskForceMeeting", ctx) -> bool:
    return _not_yet_approved_by(meeting, ctx) and meeting.approvals_missing() > 1


def _stamp_approval(meeting: "TaskForceMeeting", ctx) -> None:
    row = meeting.present_member_of(ctx.actor)
    row.approved_at = utcnow()
    ctx.payload["member_id"] = row.member_id


def _record_attendance(meeting: "TaskForceMeeting", ctx) -> None:
    """One row per active member: present or absent. At least one member is present."""
    present = {int(i) for i in ctx.data.get("present") or ()}
    members = meeting.task_force.active_members
    if not present & {m.id for m in members}:
        raise ValidationError(_("Tick the members present at the meeting."),
                              fields={"present": _("Nobody present.")})
    meeting.attendance = [TaskForceAttendance(member=m, present=m.id in present) for m in members]
    ctx.payload["present"] = sorted(m.id for m in members if m.id in present)
    ctx.payload["absent"] = sorted(m.id for m in members if m.id not in present)


def _store_minutes(meeting: "TaskForceMeeting", ctx) -> None:
    meeting.minutes = str(ctx.data.get("minutes") or "").strip()[:20000]
    meeting.decisions = str(ctx.data.get("decisions") or "").strip()[:10000]
    for row in meeting.attendance:  # changed minutes are approved afresh
        row.approved_at = None
    ctx.payload["minutes_sha256"] = hashlib.sha256(meeting.minutes.encode("utf-8")).hexdigest()


def _link_minutes_document(meeting: "TaskForceMeeting", ctx) -> None:
    document = ctx.data["pdf"]
    meeting.minutes_document_id = document.id
    ctx.payload.update({"sha256": document.sha256, "reference": document.reference})


NOT_STARTED = Condition(_has_started, _l("The meeting has not started yet."))
NOT_PRESENT = Condition(_is_present_member, _l("Only members present at the meeting approve its minutes."))
ALREADY = Condition(_not_yet_approved_by, _l("You have approved these minutes already."))

MEETING_TRANSITIONS = [
    Transition("hold", ("scheduled",), "held", "taskforce.manage", _l("Record attendance"),
               conditions=(NOT_STARTED,), before=(_record_attendance,)),
    Transition("draft", ("held", "minutes_drafted"), "minutes_drafted", "taskforce.manage", _l("Save the minutes"),
               fields=("minutes",), before=(_store_minutes,)),
    Transition("approve", ("minutes_drafted",), "approved", "taskforce.approve", _l("Approve the minutes"),
               conditions=(NOT_PRESENT, ALREADY, Condition(_last_approval, _l("Approvals are missing."))),
               before=(_stamp_approval,)),
    Transition("approve", ("minutes_drafted",), "minutes_drafted", "taskforce.approve", _l("Approve the minutes"),
               conditions=(NOT_PRESENT, ALREADY, Condition(_more_approvals, _l("Approvals are missing."))),
               before=(_stamp_approval,)),
    Transition("sign", ("approved",), "signed", "taskforce.manage", _l("Sign the minutes"), fields=("pdf",),
               before=(_link_minutes_document,)),
    Transition("cancel", ("scheduled",), "cancelled", "taskforce.manage", _l("Cancel the meeting"), reason=True,
               style="danger"),
]
MEETING_EVENTS = {
    "schedule": _l("Scheduled"),
    "action_item": _l("Action item assigned"),
}
MEETING_WORKFLOW = Workflow("taskforce_meeting", MEETING_STATES, MEETING_TRANSITIONS, initial="scheduled",
                            event_labels=MEETING_EVENTS)

TASK_FORCE_WORKFLOW = Workflow(
    "task_force", [State("standing", _l("Standing"), deadline=False)], [], initial="standing",
    event_labels={"create": _l("Set up"), "member_added": _l("Member added"),
                  "member_left": _l("Member left"), "schedule": _l("Meetings scheduled")},
)


def _members_of(person, task_force_id: int) -> bool:
    return db.session.scalar(
        select(TaskForceMember.id).where(TaskForceMember.task_force_id == task_force_id,
                                         TaskForceMember.person_id == person.id,
                                         TaskForceMember.active.is_(True)).limit(1)
    ) is not None


@audit.register_subject
class TaskForce(WorkflowSubject, db.Model):
    """One standing task force per estate."""

    __tablename__ = "task_force"
    subject_type = "task_force"
    workflow = TASK_FORCE_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), unique=True)
    convener_org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The secret in the address of the meeting calendar (iCal), for calendar apps.
    feed_token: Mapped[str] = mapped_column(String(64), unique=True, default=lambda: secrets.token_urlsafe(24))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    convener_org: Mapped[OrgNode] = relationship(foreign_keys=[convener_org_id])
    members: Mapped[list["TaskForceMember"]] = relationship(
        back_populates="task_force", order_by="TaskForceMember.id")

    @property
    def active_members(self) -> list["TaskForceMember"]:
        return [m for m in self.members if m.active]

    def is_personal_to(self, person) -> bool:
        return _members_of(person, self.id)


class TaskForceMember(db.Model):
    __tablename__ = "task_force_member"
    __table_args__ = (
        CheckConstraint(
            "party IN ('street', 'community', 'party_member', 'resident_representative', 'owners_committee', "
            "'property', 'builder', 'supervisor', 'utility')", name="party_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_force_id: Mapped[int] = mapped_column(ForeignKey("task_force.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    party: Mapped[str] = mapped_column(String(30))
    # What the member does in the task force or where they come from (e.g. 供电公司).
    duty: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    task_force: Mapped[TaskForce] = relationship(back_populates="members")
    person: Mapped[Person] = relationship()

    @property
    def party_label(self) -> str:
        return str(PARTIES.get(self.party, self.party))


@audit.register_subject
class TaskForceMeeting(WorkflowSubject, db.Model):
    """A progress meeting (工作推进会) of a task force."""

    __tablename__ = "taskforce_meeting"
    subject_type = "taskforce_meeting"
    workflow = MEETING_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    task_force_id: Mapped[int] = mapped_column(ForeignKey("task_force.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    location: Mapped[str] = mapped_column(String(200), default="")
    # Meetings scheduled together as a recurring series share the first one's id.
    series_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    minutes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    minutes_document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_document.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    task_force: Mapped[TaskForce] = relationship()
    attendance: Mapped[list["TaskForceAttendance"]] = relationship(
        back_populates="meeting", order_by="TaskForceAttendance.member_id", cascade="all, delete-orphan")
    action_items: Mapped[list["TaskForceActionItem"]] = relationship(
        back_populates="meeting", order_by="TaskForceActionItem.id")

    def is_personal_to(self, person) -> bool:
        return _members_of(person, self.task_force_id)

    def responsible_org_for(self, state: State) -> OrgNode | None:
        return None if state.terminal else self.task_force.convener_org

    def present_member_of(self, person) -> Optional["TaskForceAttendance"]:
        for row in self.attendance:
            if row.present and row.member.person_id == getattr(person, "id", None):
                return row
        return None

    def approvals_missing(self) -> int:
        return sum(1 for row in self.attendance if row.present and row.approved_at is None)

    @property
    def present(self) -> list["TaskForceAttendance"]:
        return [row for row in self.attendance if row.present]

    def minutes_missing(self, now: datetime | None = None) -> bool:
        """A meeting in the past whose minutes are not written yet is flagged."""
        return self.state in ("scheduled", "held") and self.starts_at < (now or utcnow())


class TaskForceAttendance(db.Model):
    __tablename__ = "taskforce_attendance"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("taskforce_meeting.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("task_force_member.id"), primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    meeting: Mapped[TaskForceMeeting] = relationship(back_populates="attendance")
    member: Mapped[TaskForceMember] = relationship(lazy="joined")


ACTION_KINDS = {"issue": _l("Renovation issue"), "dispatch": _l("Task sent down")}


class TaskForceActionItem(db.Model):
    """Something a meeting decided to do, by a date: it becomes a renovation issue of the
    estate plan or a task sent down the levels, in the same step."""

    __tablename__ = "taskforce_action_item"
    __table_args__ = (
        CheckConstraint("kind IN ('issue', 'dispatch')", name="kind_known"),
        CheckConstraint("(kind = 'issue' AND issue_id IS NOT NULL) OR (kind = 'dispatch' AND dispatch_id IS NOT NULL)",
                        name="linked"),
        UniqueConstraint("meeting_id", "title"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("taskforce_meeting.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"))
    dispatch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("dispatch.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    meeting: Mapped[TaskForceMeeting] = relationship(back_populates="action_items")

    @property
    def kind_label(self) -> str:
        return str(ACTION_KINDS[self.kind])
