"""Renovation issues, estate plans and photos."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    false,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import storage
from core.db import utcnow
from core.extensions import db
from core.types import PathColumnType
from orgs.models import (
    Building, Estate, Household, LiaisonHousehold, OrgNode, Person, StairwellUnit, estate_reaches, node_at_level,
)
from workflow import audit
from workflow.engine import WorkflowSubject

# Built once: SQLAlchemy reuses its compiled form.
_LIAISON_ORG = select(LiaisonHousehold.org_id).where(
    LiaisonHousehold.household_id == bindparam("household_id")).limit(1)


# The states in which the households an item concerns are asked whether they are satisfied.
RATING_STATES = ("resolved", "long_term_management", "closed")


class EstatePlan(db.Model):
    """One plan per estate (一小区一方案) groups the issues included in it."""

    __tablename__ = "estate_plan"
    __table_args__ = (UniqueConstraint("estate_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    issues: Mapped[list["RenovationIssue"]] = relationship(back_populates="plan", order_by="RenovationIssue.id")


@audit.register_subject
class RenovationIssue(WorkflowSubject, db.Model):
    """A demand raised from below or a task launched from above, walked through the
    renovation lifecycle by the workflow in issues/renovation.py."""

    __tablename__ = "renovation_issue"
    __table_args__ = (
        CheckConstraint("direction IN ('demand', 'task')", name="direction_known"),
        CheckConstraint("satisfaction IS NULL OR (satisfaction BETWEEN 1 AND 5)", name="satisfaction_range"),
        # The worklist: open items awaiting one org node, in the order it is shown
        # (no deadline last, then soonest deadline, then oldest), so that a page is
        # read straight off the index instead of sorting every open item of the node.
        Index("ix_renovation_issue_worklist_order", "responsible_org_id", "open", text("(due_at IS NULL)"),
              "due_at", "id"),
    )
    subject_type = "renovation_issue"
    # `workflow` is set by issues/renovation.py, which declares it (its callbacks use these models).

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20), index=True)
    subcategory: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10), default="demand")
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    building_id: Mapped[Optional[int]] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stairwell_unit.id"))
    household_id: Mapped[Optional[int]] = mapped_column(ForeignKey("household.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # The member household node that recorded the demand for a neighbour, if any.
    recorded_by_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"))
    plan_id: Mapped[Optional[int]] = mapped_column(ForeignKey("estate_plan.id"), index=True)
    merged_into_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"))
    # Where a dispute branch returns to.
    resume_state: Mapped[Optional[str]] = mapped_column(String(60))
    # What residents read about the outcome (reason for rejection, resolution...).
    public_note: Mapped[str] = mapped_column(Text, default="")
    # Where exactly, in words ("3号楼北侧自行车棚") and as the phone's map point (WGS 84).
    location: Mapped[Optional[str]] = mapped_column(String(200))
    latitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[bool] = mapped_column(default=True)
    satisfaction: Mapped[Optional[int]] = mapped_column(Integer)
    satisfaction_comment: Mapped[str] = mapped_column(Text, default="")
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    # Indexed first in the dashboard's index (stats/services.py).
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Facts of the audit trail the response rate is made of (issues/measures.py), copied
    # here by audit_appended() in the transaction that writes the entry - once, never
    # changed after - so that the dashboard counts them without joining the trail: the
    # deadline stored on the first entry, the time of the second entry (the first
    # action after the item was raised) and whether that was an answer on time.
    first_due_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    responded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    responded_on_time: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    estate: Mapped[Estate] = relationship()
    building: Mapped[Optional[Building]] = relationship()
    unit: Mapped[Optional[StairwellUnit]] = relationship()
    household: Mapped[Optional[Household]] = relationship()
    raised_by: Mapped[Person] = relationship()
    responsible_org: Mapped[Optional[OrgNode]] = relationship(foreign_keys="RenovationIssue.responsible_org_id")
    plan: Mapped[Optional[EstatePlan]] = relationship(back_populates="issues")
    merged_into: Mapped[Optional["RenovationIssue"]] = relationship(remote_side=[id])
    photos: Mapped[list["IssuePhoto"]] = relationship(back_populates="issue", cascade="all, delete-orphan")

    @property
    def place_label(self) -> str:
        if self.household is not None:
            label = self.household.label
        else:
            parts = [self.estate.name]
            if self.building is not None:
                parts.append(self.building.number)
            if self.unit is not None:
                parts.append(self.unit.number)
            label = " ".join(parts)
        return f"{label} · {self.location}" if self.location else label

    @property
    def estate_wide(self) -> bool:
        """About the whole estate (its place is the estate, not a building in it)."""
        return self.building_id is None

    def reaches(self, org_path: str) -> bool:
        """An estate-wide issue is within reach of the grids and building groups that hold
        part of the estate: they work on it although its path is their community's."""
        return self.building_id is None and estate_reaches(self.estate_id, org_path)

    def is_personal_to(self, person) -> bool:
        """The resident who raised it, the owners/residents of its household, and the
        member household that looks after that household."""
        if self.raised_by_id == person.id:
            return True
        if self.household_id is None:
            # About a shared place: once it is to be rated, every household there is asked.
            return self.state in RATING_STATES and lives_in_place(self, person)
        if self.household_id in person.household_ids:
            return True
        member_orgs = [m.org_id for m in person.memberships if m.role == "member_household"]
        if not member_orgs:
            return False
        if self.recorded_by_org_id in member_orgs:
            return True
        return db.session.scalar(
            select(LiaisonHousehold.org_id).where(
                LiaisonHousehold.household_id == self.household_id, LiaisonHousehold.org_id.in_(member_orgs)
            )
        ) is not None

    # Engine hooks -------------------------------------------------------------

    def audit_appended(self, values: dict) -> None:
        """Copy the response facts from the entry just appended (workflow/audit.py): the
        first entry's deadline; the second entry's time, and whether it was a person's
        other than the raiser's within that deadline - responded_on_time() in
        issues/measures.py, decided once when the entry is written."""
        seq = values["seq"]
        if seq == 1:
            self.first_due_at = values["due_at"]
        elif seq == 2:
            at, actor_id = values["created_at"], values["actor_id"]
            self.responded_at = at
            self.responded_on_time = (actor_id is not None and actor_id != self.raised_by_id
                                      and (self.first_due_at is None or at <= self.first_due_at))

    def audit_facts_differ(self, entries) -> str | None:
        """For `flask audit verify`: how the facts kept differ from those the first
        entries give (replayed through audit_appended on a detached copy), if they do."""
        trail = RenovationIssue(raised_by_id=self.raised_by_id)
        for e in entries:
            trail.audit_appended({"seq": e.seq, "due_at": e.due_at, "created_at": e.created_at,
                                  "actor_id": e.actor_id})
        expected = (trail.first_due_at, trail.responded_at, bool(trail.responded_on_time))
        kept = (self.first_due_at, self.responded_at, bool(self.responded_on_time))
        if kept == expected:
            return None
        return f"response facts {kept} differ from its first audit entries' {expected}"

    def responsible_org_for(self, state):
        org_id = self.responsible_org_id_for(state)
        return db.session.get(OrgNode, org_id) if org_id is not None else None

    def responsible_org_id_for(self, state) -> int | None:
        if state.level is None:
            return None
        if state.level == "member_household":
            if self.recorded_by_org_id:
                return self.recorded_by_org_id
            if self.household_id:
                return db.session.scalar(_LIAISON_ORG, {"household_id": self.household_id})
            return None
        # The chain above the issue's own path: the same nodes that see the issue answer for it.
        return node_at_level(self.path, state.level)


class IssuePhoto(db.Model):
    __tablename__ = "issue_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("renovation_issue.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))  # content address in core.storage
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    issue: Mapped[RenovationIssue] = relationship(back_populates="photos")


class SatisfactionResponse(db.Model):
    """One household's answer to "are you satisfied?" once an item is resolved or accepted
    (回访): given online by someone living there, or collected on paper or at the door by
    their member household or grid worker. A household answers once each time the item
    comes to be rated; the raiser without a household in the place answers for themself."""

    __tablename__ = "satisfaction_response"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("channel IN ('online', 'paper', 'door_to_door')", name="channel_known"),
        Index("ix_satisfaction_response_issue_household", "issue_id", "household_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("renovation_issue.id"))
    household_id: Mapped[Optional[int]] = mapped_column(ForeignKey("household.id"))
    # Who answered online, or who entered the answer collected on paper / at the door.
    respondent_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(String(20), default="online")
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    # The state the item was in when rated (resolved, long_term_management or closed).
    state: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    household: Mapped[Optional[Household]] = relationship()
    respondent: Mapped[Person] = relationship()


def place_filter(issue: RenovationIssue):
    """SQL condition on Household: the households the item concerns (its own household, or
    every household of its unit, building or estate)."""
    if issue.household_id is not None:
        return Household.id == issue.household_id
    if issue.unit_id is not None:
        return Household.unit_id == issue.unit_id
    if issue.building_id is not None:
        return Household.unit_id.in_(select(StairwellUnit.id).where(StairwellUnit.building_id == issue.building_id))
    return Household.estate_id == issue.estate_id


def lives_in_place(issue: RenovationIssue, person) -> bool:
    """Does the person live in a household the item concerns, or (a member household) look
    after one?"""
    ids = set(person.household_ids)
    member_orgs = [m.org_id for m in person.memberships if m.role == "member_household"]
    conditions = [Household.id.in_(ids)] if ids else []
    if member_orgs:
        conditions.append(Household.id.in_(
            select(LiaisonHousehold.household_id).where(LiaisonHousehold.org_id.in_(member_orgs))))
    if not conditions:
        return False
    found = db.session.scalar(select(Household.id).where(place_filter(issue), or_(*conditions)).limit(1))
    return found is not None


def store_photos(issue: RenovationIssue, actor, photos) -> None:
    """Keep validated photos (core.photos.Photo) with the issue, by content address."""
    for photo in photos:
        db.session.add(IssuePhoto(
            issue=issue, filename=(photo.filename or "photo").strip()[:200] or "photo",
            content_type=photo.content_type, sha256=storage.put(photo.data), size=len(photo.data),
            uploaded_by_id=actor.id,
        ))


def plan_for(estate: Estate, year: int | None = None) -> EstatePlan:
    """The estate's plan for the year (一小区一方案), created on first use."""
    year = year or utcnow().year
    plan = db.session.scalar(select(EstatePlan).where(EstatePlan.estate_id == estate.id, EstatePlan.year == year))
    if plan is None:
        plan = EstatePlan(estate=estate, year=year, title=_("%(estate)s renovation plan %(year)d", estate=estate.name, year=year), path=estate.path)
        db.session.add(plan)
        db.session.flush()
    return plan
