"""Management after acceptance (长效管理): patrols, the handover to the property company,
repairs under the builder's warranty and the use of the maintenance fund (维修基金).

Every record with a life of its own is a workflow subject with its hash-chained audit:

- patrol round:   walking --finish--> finished (each point checked is an audited event; a
                  finding raises a renovation issue at the level answering for the place)
- handover:       draft --confirm (property company, checklist complete)--> confirmed --sign--> signed
- warranty:       submitted --accept (builder)--> in_repair --report_repaired--> repaired
                  --confirm--> closed; repaired --reject--> in_repair; submitted --decline--> declined
- fund use:       proposed --open_vote--> voting --vote_passed--> on_notice (public notice published)
                  voting --vote_failed--> rejected; on_notice --complete--> completed
                  Spending is recorded in the ledger once the notice period is over, never beyond
                  the amount decided.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from core.types import PathColumnType
from orgs import roles as R
from orgs.models import Building, Estate, OrgNode, Person
from orgs.permissions import register
from procedures import notice as notices
from procedures import voting
from procedures.subjects import acts_within, lives_in_estate, resolve
from rules import tally
from rules.policy import current_policy
from workflow import audit
from workflow.engine import Condition, State, Transition, Workflow, WorkflowSubject

VIEW_SUBTREE = (R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.OWNERS_COMMITTEE, R.PROPERTY_COMPANY,
                R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY)
VIEW_OWN = (R.RESIDENT, R.MEMBER_HOUSEHOLD, R.GRID_WORKER, R.BUILDING_GROUP_LEADER)
register("aftercare.view", subtree=VIEW_SUBTREE, own=VIEW_OWN)
register("aftercare.manage", subtree=R.OFFICERS)
# Walking a patrol: grid workers, building group leaders and member households of the estate.
register("aftercare.patrol", subtree=(R.COMMUNITY_OFFICER,),
         own=(R.GRID_WORKER, R.BUILDING_GROUP_LEADER, R.MEMBER_HOUSEHOLD))
register("aftercare.receive", subtree=(R.PROPERTY_COMPANY,))
register("aftercare.report_repair", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER, R.PROPERTY_COMPANY,
                                             R.OWNERS_COMMITTEE), own=(R.GRID_WORKER,))
register("aftercare.repair", subtree=(R.CONSTRUCTION_COMPANY,))
register("aftercare.confirm_repair", subtree=(R.COMMUNITY_OFFICER, R.PROPERTY_COMPANY))


class InEstate:
    """Records of an estate: staff working inside it and its residents see them ("own").
    The model has estate_id and path columns."""

    def is_personal_to(self, person) -> bool:
        return acts_within(person, self.path, self.estate_id) or lives_in_estate(person, self.estate_id)


@dataclass(frozen=True)
class EstateScope(InEstate):
    """An estate as the object of a permission check (the actions on its records)."""

    estate_id: int
    path: str


# --- patrols -------------------------------------------------------------------------------


class PatrolPlan(InEstate, db.Model):
    """A route of points to check in an estate (巡检路线)."""

    __tablename__ = "patrol_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # How often it is walked, in days (shown to walkers; 7: weekly).
    every_days: Mapped[int] = mapped_column(Integer, default=7)
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    points: Mapped[list["PatrolPoint"]] = relationship(back_populates="plan", order_by="PatrolPoint.position",
                                                       cascade="all, delete-orphan")


class PatrolPoint(db.Model):
    """A point of a route: a place inside the estate (a building, or the estate's grounds)
    and what to check there."""

    __tablename__ = "patrol_point"
    __table_args__ = (UniqueConstraint("plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plan.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    what_to_check: Mapped[str] = mapped_column(Text, default="")
    building_id: Mapped[Optional[int]] = mapped_column(ForeignKey("building.id"))

    plan: Mapped[PatrolPlan] = relationship(back_populates="points")
    building: Mapped[Optional[Building]] = relationship()


def _all_points_checked(patrol: "PatrolRound", ctx) -> bool:
    return len(patrol.checks) == len(patrol.plan.points)


ROUND_WORKFLOW = Workflow(
    "patrol_round",
    [State("walking", _l("Walking"), deadline=False), State("finished", _l("Finished"), terminal=True)],
    [Transition("finish", ("walking",), "finished", "aftercare.patrol", _l("Finish the patrol"),
                conditions=(Condition(_all_points_checked, _l("Check every point of the route first.")),))],
    initial="walking",
    event_labels={"start": _l("Patrol started"), "check": _l("Point checked")},
)


@audit.register_subject
class PatrolRound(InEstate, WorkflowSubject, db.Model):
    """One walk of a route by a grid worker, building group leader or member household."""

    __tablename__ = "patrol_round"
    subject_type = "patrol_round"
    workflow = ROUND_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("patrol_plan.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    walker_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    plan: Mapped[PatrolPlan] = relationship()
    walker: Mapped[Person] = relationship()
    checks: Mapped[list["PatrolCheck"]] = relationship(back_populates="round", order_by="PatrolCheck.id")

    def is_personal_to(self, person) -> bool:
        return self.walker_id == getattr(person, "id", None) or acts_within(person, self.path, self.estate_id)


class PatrolCheck(db.Model):
    __tablename__ = "patrol_check"
    __table_args__ = (
        UniqueConstraint("round_id", "point_id"),
        CheckConstraint("result IN ('ok', 'finding')", name="result_known"),
        CheckConstraint("result = 'ok' OR issue_id IS NOT NULL", name="finding_has_issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("patrol_round.id"), index=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("patrol_point.id"))
    result: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"))
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    round: Mapped[PatrolRound] = relationship(back_populates="checks")
    point: Mapped[PatrolPoint] = relationship()


# --- handover to the property company ---------------------------------------------------------


def _checklist_complete(handover: "Handover", ctx) -> bool:
    return bool(handover.items) and all(item.done for item in handover.items)


def _link_document(subject, ctx) -> None:
    document = ctx.data["pdf"]
    subject.record_document_id = document.id
    ctx.payload.update({"sha256": document.sha256, "reference": document.reference})


HANDOVER_WORKFLOW = Workflow(
    "handover",
    [State("draft", _l("Draft: checklist being completed"), deadline=False),
     State("confirmed", _l("Received by the property company: to sign"), deadline=False),
     State("signed", _l("Handover record signed"), terminal=True)],
    [Transition("confirm", ("draft",), "confirmed", "aftercare.receive", _l("Confirm receipt"),
                conditions=(Condition(_checklist_complete,
                                      _l("Every item of the checklist must be handed over first.")),)),
     Transition("sign", ("confirmed",), "signed", "aftercare.manage", _l("Sign the handover record"),
                fields=("pdf",), before=(_link_document,))],
    initial="draft",
    event_labels={"create": _l("Handover started"), "item_done": _l("Checklist item handed over")},
)


@audit.register_subject
class Handover(InEstate, WorkflowSubject, db.Model):
    """The estate's handover to the property company (物业接管) after acceptance."""

    __tablename__ = "handover"
    subject_type = "handover"
    workflow = HANDOVER_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), unique=True)
    property_company: Mapped[str] = mapped_column(String(200))
    received_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    record_document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_document.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    received_by: Mapped[Optional[Person]] = relationship()
    items: Mapped[list["HandoverItem"]] = relationship(back_populates="handover", order_by="HandoverItem.position",
                                                       cascade="all, delete-orphan")

    def responsible_org_for(self, state: State) -> OrgNode | None:
        return None if state.terminal else self.estate.org


class HandoverItem(db.Model):
    """A facility or a document handed over (kind), with its note."""

    __tablename__ = "handover_item"
    __table_args__ = (CheckConstraint("kind IN ('facility', 'document')", name="kind_known"),
                      UniqueConstraint("handover_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(200))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")

    handover: Mapped[Handover] = relationship(back_populates="items")


HANDOVER_KINDS = {"facility": _l("Facility"), "document": _l("Document")}
# The checklist a handover starts with (a community adds its own items).
DEFAULT_HANDOVER_ITEMS = (
    ("facility", "供水、排水管网及设施"), ("facility", "供电线路、配电箱及路灯"),
    ("facility", "电动车棚及充电设施"), ("facility", "消防设施（消火栓、灭火器、消防通道）"),
    ("facility", "道路、停车位及绿化"), ("facility", "门禁、监控及智能设施"),
    ("document", "竣工图纸"), ("document", "联合验收记录"), ("document", "设备清单及保修书"),
    ("document", "公共设施钥匙清单"),
)


# --- warranty repairs --------------------------------------------------------------------------

# Working days the builder has in each state (a city may set its own: workflow "warranty_request").
WARRANTY_DAYS = {"submitted": 2, "in_repair": 10, "repaired": 5}

WARRANTY_WORKFLOW = Workflow(
    "warranty_request",
    [State("submitted", _l("Sent to the builder: awaiting acceptance")),
     State("in_repair", _l("Being repaired by the builder")),
     State("repaired", _l("Repaired: to confirm")),
     State("closed", _l("Repair confirmed"), terminal=True),
     State("declined", _l("Declined by the builder"), terminal=True)],
    [Transition("accept", ("submitted",), "in_repair", "aftercare.repair", _l("Accept the repair"), style="primary"),
     Transition("decline", ("submitted",), "declined", "aftercare.repair", _l("Decline: not under warranty"),
                reason=True, style="danger"),
     Transition("report_repaired", ("in_repair",), "repaired", "aftercare.repair", _l("Report the repair done"),
                reason=True),
     Transition("confirm", ("repaired",), "closed", "aftercare.confirm_repair", _l("Confirm the repair"),
                style="primary"),
     Transition("reject", ("repaired",), "in_repair", "aftercare.confirm_repair", _l("Not repaired: send back"),
                reason=True, style="danger")],
    initial="submitted",
    event_labels={"create": _l("Repair requested"),
                  "overdue_escalation": _l("Referred up after the deadline passed")},
)


@audit.register_subject
class WarrantyRequest(InEstate, WorkflowSubject, db.Model):
    """A repair under the builder's warranty (保修), routed to the builder with deadlines."""

    __tablename__ = "warranty_request"
    subject_type = "warranty_request"
    workflow = WARRANTY_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    building_id: Mapped[Optional[int]] = mapped_column(ForeignKey("building.id"))
    # The renovated item the defect belongs to, if known.
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    building: Mapped[Optional[Building]] = relationship()
    requested_by: Mapped[Person] = relationship()

    def responsible_org_for(self, state: State) -> OrgNode | None:
        return None if state.terminal else self.estate.org

    def deadline_days(self, state: State) -> int | None:
        days = current_policy().deadline(self.workflow.name, state.name)
        return days if days is not None else WARRANTY_DAYS.get(state.name)

    def is_overdue(self, now: datetime | None = None) -> bool:
        if self.workflow.state(self.state).terminal or self.due_at is None:
            return False
        return self.due_at < (now or utcnow())


# --- the maintenance fund ----------------------------------------------------------------------

FUND_TARGET = "maintenance_fund_use"


def _open_vote(fund_use: "FundUse", ctx) -> None:
    vote = voting.create_vote(ctx.actor, resolve(FUND_TARGET, fund_use.id), voting.VoteOptions.from_data(ctx.data))
    ctx.payload["vote_id"] = vote.id


def _vote_outcome(expected: bool):
    def check(fund_use: "FundUse", ctx) -> bool:
        vote = voting.latest_vote(FUND_TARGET, fund_use.id)
        return vote is not None and vote.state == "closed" and bool(vote.passed) is expected
    return check


def _publish_notice(fund_use: "FundUse", ctx) -> None:
    """The decision goes on public notice with the vote's result, in the same transaction."""
    vote = voting.latest_vote(FUND_TARGET, fund_use.id)
    lines = [fund_use.title, _("Amount: %(amount)s yuan", amount=f"{fund_use.amount:,.2f}"), fund_use.purpose]
    lines += tally.describe(voting.stored_result(vote))
    lines.append(_("Written objections may be filed with the community until the notice period ends."))
    published = notices.create_notice(
        ctx.actor, resolve(FUND_TARGET, fund_use.id),
        title=_("Public notice: %(title)s", title=fund_use.title), body="\n".join(line for line in lines if line),
        days=notices.notice_days(), vote_id=vote.id)
    ctx.payload["notice_id"] = published.id


FUND_WORKFLOW = Workflow(
    "maintenance_fund_use",
    [State("proposed", _l("Proposed: to put to the owners' vote"), deadline=False),
     State("voting", _l("Owners are voting"), deadline=False),
     State("on_notice", _l("Decided: on public notice, then spent"), deadline=False),
     State("rejected", _l("Not approved by the owners"), terminal=True),
     State("completed", _l("Completed: spending closed"), terminal=True)],
    [Transition("open_vote", ("proposed",), "voting", "aftercare.manage", _l("Put to the vote"),
                after=(_open_vote,), style="primary"),
     Transition("vote_passed", ("voting",), "on_notice", "aftercare.manage", _l("Vote passed"),
                conditions=(Condition(_vote_outcome(True), _l("The vote has not passed.")),), after=(_publish_notice,)),
     Transition("vote_failed", ("voting",), "rejected", "aftercare.manage", _l("Vote failed"),
                conditions=(Condition(_vote_outcome(False), _l("The vote has not failed.")),)),
     Transition("complete", ("on_notice",), "completed", "aftercare.manage", _l("Close the spending"),
                reason=True)],
    initial="proposed",
    event_labels={"create": _l("Proposed"), "spend": _l("Spending recorded")},
)


@audit.register_subject
class FundUse(InEstate, WorkflowSubject, db.Model):
    """A use of the estate's maintenance fund (维修基金使用), decided by the owners' vote
    (Civil Code Art. 278, majority rule for using the fund) and put on public notice."""

    __tablename__ = "maintenance_fund_use"
    subject_type = "maintenance_fund_use"
    workflow = FUND_WORKFLOW
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()
    spendings: Mapped[list["FundSpending"]] = relationship(back_populates="fund_use", order_by="FundSpending.id")

    def responsible_org_for(self, state: State) -> OrgNode | None:
        return None if state.terminal else self.estate.org

    @property
    def spent(self) -> Decimal:
        return sum((s.amount for s in self.spendings), Decimal("0.00"))

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.spent


class FundSpending(db.Model):
    """One line of the ledger of a fund use: paid to whom, how much, when, for what."""

    __tablename__ = "maintenance_fund_spending"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_use_id: Mapped[int] = mapped_column(ForeignKey("maintenance_fund_use.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    spent_on: Mapped[date] = mapped_column(Date)
    payee: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    fund_use: Mapped[FundUse] = relationship(back_populates="spendings")
