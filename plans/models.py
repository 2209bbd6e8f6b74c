"""The estate plan in public (一小区一方案) and demand collection campaigns (问需于民).

The plan itself is the estate's `EstatePlan` (issues.models): renovation issues
included in it point at it. This package adds what the plan page shows:

- `PlanRecord`, one per plan: its budget and funding split (exact yuan) and whether
  it is published; a workflow subject whose hash-chained audit log records every
  change to the plan (budget, items, bulletins, publication);
- `PlanItem`: the plan's items, each linked to the renovation issue it carries out
  where there is one, with its own state, progress, deadline and level responsible;
- `PlanBulletin`: progress bulletins posted by staff;
- `DemandCampaign` and `CampaignDemand`: a period of demand collection per estate and
  the renovation issues (demands) raised in it.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from orgs import roles as R
from orgs.models import Estate, OrgNode, Person, estate_reaches
from orgs.permissions import register
from workflow import audit
from workflow.engine import State, Transition, Workflow, WorkflowSubject
from issues.models import EstatePlan, RenovationIssue

# --- who may do what --------------------------------------------------------------------

PLAN_STAFF = (
    R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER, R.MEMBER_HOUSEHOLD,
    R.OWNERS_COMMITTEE, R.PROPERTY_COMPANY, R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY,
)
# A plan is placed at its estate's path (the community's): the grids and building groups
# holding part of the estate read it too (PlanRecord.reaches); only officers manage it.
register("plan.view", subtree=PLAN_STAFF, reach=True)
register("plan.manage", subtree=R.OFFICERS)
register("plan.bulletin", subtree=R.OFFICERS + (R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY))
register("campaign.manage", subtree=R.OFFICERS)
register("campaign.link", subtree=R.OFFICERS)

# --- the plan's own small workflow --------------------------------------------------------

PLAN_WORKFLOW = Workflow(
    "estate_plan",
    states=[
        State("draft", _l("Draft (staff only)"), deadline=False),
        State("published", _l("Published for residents"), deadline=False),
    ],
    transitions=[
        Transition("publish", ("draft",), "published", "plan.manage", _l("Publish the plan"), style="primary"),
        Transition("unpublish", ("published",), "draft", "plan.manage", _l("Take the plan off the public page"),
                   reason=True, style="danger"),
    ],
    initial="draft",
    event_labels={
        "create": _l("Plan created"),
        "budget": _l("Budget set"),
        "item_added": _l("Item added"),
        "item_updated": _l("Item updated"),
        "bulletin": _l("Progress bulletin posted"),
    },
)

CAMPAIGN_WORKFLOW = Workflow(
    "demand_campaign",
    states=[
        State("collecting", _l("Collecting demands"), deadline=False),
        State("closed", _l("Closed"), deadline=False, terminal=True),
    ],
    transitions=[
        Transition("close", ("collecting",), "closed", "campaign.manage", _l("Close the campaign")),
    ],
    initial="collecting",
    event_labels={"create": _l("Campaign opened"), "demands_linked": _l("Demands linked")},
)

ITEM_STATES = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
FUNDING_PARTS = {
    "government": _l("Government funds"),
    "owners": _l("Owners' contributions"),
    "social": _l("Social capital"),
}
FATES = {
    "under_review": _l("Under review"),
    "in_plan": _l("In the plan"),
    "resolved": _l("Resolved"),
    "rejected": _l("Rejected"),
    "merged": _l("Merged with the same demand"),
}
MONEY = Numeric(14, 2)


@audit.register_subject
class PlanRecord(WorkflowSubject, db.Model):
    """The public face of one estate plan: budget, funding split, publication.

    That the parts add up to the budget is checked exactly (Decimal) by the service:
    SQLite keeps NUMERIC as a float, so a CHECK on the sum could refuse exact amounts."""

    __tablename__ = "plan_record"
    __table_args__ = (
        CheckConstraint("budget_total >= 0 AND budget_government >= 0 AND budget_owners >= 0 "
                        "AND budget_social >= 0", name="budget_not_negative"),
    )
    subject_type = "estate_plan"
    workflow = PLAN_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("estate_plan.id"), unique=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    budget_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    budget_government: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    budget_owners: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    budget_social: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    published_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    plan: Mapped[EstatePlan] = relationship()
    estate: Mapped[Estate] = relationship()

    @property
    def funding(self) -> dict[str, Decimal]:
        return {"government": self.budget_government, "owners": self.budget_owners, "social": self.budget_social}

    @property
    def is_published(self) -> bool:
        return self.state == "published"

    def reaches(self, org_path: str) -> bool:
        """Within reach of the org nodes holding part of the estate (see plan.view)."""
        return estate_reaches(self.estate_id, org_path)

    def responsible_org_for(self, state):
        return self.estate.org


class PlanItem(db.Model):
    """One item of an estate plan."""

    __tablename__ = "plan_item"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("state IN ('planned', 'in_progress', 'done', 'cancelled')", name="state_known"),
        Index("ix_plan_item_record_position", "record_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("plan_record.id"))
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), default="basic")
    state: Mapped[str] = mapped_column(String(20), default="planned")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[Optional[date]] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(40), default="community_committee")
    budget: Mapped[Optional[Decimal]] = mapped_column(MONEY)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    record: Mapped[PlanRecord] = relationship()
    issue: Mapped[Optional[RenovationIssue]] = relationship()


class PlanBulletin(db.Model):
    """A progress bulletin (进度通报) on the plan, posted by staff."""

    __tablename__ = "plan_bulletin"
    __table_args__ = (Index("ix_plan_bulletin_record_posted", "record_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("plan_record.id"))
    item_id: Mapped[Optional[int]] = mapped_column(ForeignKey("plan_item.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    posted_by_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"))
    posted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    item: Mapped[Optional[PlanItem]] = relationship()
    posted_by: Mapped[Person] = relationship()
    posted_by_org: Mapped[Optional[OrgNode]] = relationship()


@audit.register_subject
class DemandCampaign(WorkflowSubject, db.Model):
    """A demand collection campaign (问需于民) in one estate over a period."""

    __tablename__ = "demand_campaign"
    __table_args__ = (CheckConstraint("closes_on >= opens_on", name="period_ordered"),)
    subject_type = "demand_campaign"
    workflow = CAMPAIGN_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    estate: Mapped[Estate] = relationship()

    def responsible_org_for(self, state):
        return self.estate.org


class CampaignDemand(db.Model):
    """A renovation issue (a demand) collected by a campaign; an issue belongs to one campaign."""

    __tablename__ = "campaign_demand"
    __table_args__ = (UniqueConstraint("issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("demand_campaign.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("renovation_issue.id"))
    linked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    campaign: Mapped[DemandCampaign] = relationship()
    issue: Mapped[RenovationIssue] = relationship()
