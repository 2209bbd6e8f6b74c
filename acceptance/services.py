"""Joint acceptance services: open an inspection, record items, submit findings, sign,
re-inspect, read photos and the signed record.

Every function takes the actor first and never the HTTP request; each write is one
transaction through the workflow engine (engine.fire / engine.start), so every step is
in the inspection's audit chain. The pages, the CLI and the demo call these.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from core import storage
from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound
from core.extensions import db
from orgs import permissions
from orgs.models import OrgNode
from rules import checklists
from rules.policy import current_policy
from workflow import audit, deadlines, engine
from workflow.sweep import overdue_loop
from acceptance.models import (
    RESIDENTS,
    WORKFLOW,
    InspectionCheck,
    InspectionItem,
    InspectionPhoto,
    InspectionRound,
    InspectionSignOff,
    JointInspection,
    eligible_parties,
)
from workflow.engine import FireContext
from issues.models import EstatePlan, RenovationIssue
from issues.renovation import WORKFLOW as ISSUE_WORKFLOW
from core.photos import Photo

OPEN_STATES = ("checking", "signing", "rectification")


# --- finding the inspection ---------------------------------------------------------------


def covering_inspection(issue: RenovationIssue) -> JointInspection | None:
    """The latest inspection of the issue itself or of the estate plan it belongs to."""
    condition = JointInspection.issue_id == issue.id
    if issue.plan_id is not None:
        condition = or_(condition, JointInspection.plan_id == issue.plan_id)
    return db.session.scalar(select(JointInspection).where(condition).order_by(JointInspection.id.desc()).limit(1))


def get_inspection(actor, inspection_id: int) -> JointInspection:
    inspection = db.session.get(JointInspection, inspection_id)
    if inspection is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "acceptance.view", inspection)
    return inspection


def acceptance_of_issue(actor, issue_id: int) -> tuple[RenovationIssue, JointInspection | None]:
    """The issue and its inspection, for a person who may see the inspection (resident
    representatives of the estate included) or, before there is one, the issue."""
    issue = db.session.get(RenovationIssue, issue_id)
    if issue is None:
        raise NotFound(_("Not found."))
    inspection = covering_inspection(issue)
    if inspection is not None:
        permissions.require(actor, "acceptance.view", inspection)
    else:
        permissions.require(actor, "issue.view", issue)
    return issue, inspection


def acceptance_of_plan(actor, plan_id: int) -> tuple[EstatePlan, JointInspection | None]:
    plan = db.session.get(EstatePlan, plan_id)
    if plan is None:
        raise NotFound(_("Not found."))
    inspection = db.session.scalar(
        select(JointInspection).where(JointInspection.plan_id == plan.id).order_by(JointInspection.id.desc()).limit(1)
    )
    permissions.require(actor, "acceptance.view", inspection or plan)
    return plan, inspection


# --- opening ---------------------------------------------------------------------------------


def _ancestor_at(org: OrgNode, level: str) -> OrgNode | None:
    return db.session.scalar(select(OrgNode).where(OrgNode.id.in_(org.ancestor_ids()), OrgNode.level_code == level))


def _required_parties(*, issue: RenovationIssue | None, street: OrgNode | None) -> tuple[list[str], int]:
    policy = current_policy().acceptance
    parties = list(policy.parties)
    street_signs = policy.street_signs_plans if issue is None else issue.category in policy.street_categories
    if street_signs and street is not None and "street_committee" not in parties:
        parties.append("street_committee")
    return parties, policy.resident_representatives


def _items(issue: RenovationIssue | None, plan: EstatePlan | None) -> list[InspectionItem]:
    if issue is not None:
        rows = [InspectionItem(code=code) for code in current_policy().checklist(issue.category, issue.subcategory)]
    else:
        rows = [InspectionItem(code=code) for code in checklists.COMMON]
        for member in plan.issues:
            if member.open:
                rows += [InspectionItem(code=code, issue_id=member.id)
                         for code in current_policy().specific_checklist(member.category, member.subcategory)]
    for position, row in enumerate(rows):
        row.position = position
    return rows


def create_inspection(actor, *, issue: RenovationIssue | None = None,
                      plan: EstatePlan | None = None) -> JointInspection:
    """A new inspection in its first round, inside the caller's transaction."""
    estate = issue.estate if issue is not None else plan.estate
    community = _ancestor_at(estate.org, "community_committee") or estate.org
    street = _ancestor_at(estate.org, "street_committee")
    parties, quorum = _required_parties(issue=issue, street=street)
    inspection = JointInspection(
        issue=issue, plan=plan, estate_id=estate.id, community_org_id=community.id,
        street_org_id=street.id if street is not None and "street_committee" in parties else None,
        parties=",".join(parties), resident_quorum=quorum, round=1, path=(issue or plan).path,
        opened_by_id=getattr(actor, "id", None),
    )
    inspection.rounds.append(InspectionRound(number=1))
    inspection.items = _items(issue, plan)
    engine.start(inspection, actor, state="checking", trigger="open",
                 payload={"issue_id": issue.id if issue else None, "plan_id": plan.id if plan else None,
                          "parties": parties, "resident_quorum": quorum})
    for item in inspection.items:
        item.checks.append(InspectionCheck(inspection_id=inspection.id, round_number=1))
    db.session.flush()
    return inspection


def open_for_issue(issue: RenovationIssue, ctx: FireContext) -> None:
    """Hook of `finish_construction`: open the issue's inspection unless one covers it."""
    current = covering_inspection(issue)
    if current is not None and current.state in OPEN_STATES:
        return
    inspection = create_inspection(ctx.actor, issue=issue)
    ctx.payload["inspection_id"] = inspection.id


def reinspect_for_issue(issue: RenovationIssue, ctx: FireContext) -> None:
    """Hook of `request_reinspection`: the covering inspection's next round (or a fresh
    inspection for work that was sent to rectification before it had one)."""
    current = covering_inspection(issue)
    if current is None or current.state == "accepted":
        ctx.payload["inspection_id"] = create_inspection(ctx.actor, issue=issue).id
    elif current.state == "rectification":
        engine.fire(JointInspection, current.id, "reinspect", ctx.actor, None)
        ctx.payload["inspection_id"] = current.id


def open_inspection(actor, issue_id: int) -> JointInspection:
    """Open the inspection of work awaiting acceptance that has none (work finished before
    joint acceptance was set up); the issue's first finishing opens it otherwise."""
    with write_transaction():
        issue = lock(RenovationIssue, issue_id)
        if issue is None or not permissions.can_see(actor, issue):
            raise NotFound(_("Not found."))
        permissions.require(actor, "acceptance.open", issue)
        current = covering_inspection(issue)
        if issue.state != "acceptance" or (current is not None and current.state in OPEN_STATES):
            raise InvalidTransition(_("A joint inspection can only be opened for finished work that has none."))
        inspection = create_inspection(actor, issue=issue)
    return inspection


def open_plan_inspection(actor, plan_id: int) -> JointInspection:
    """One joint inspection for the whole estate plan, once every open issue of the plan
    has finished construction (each is then accepted together with the plan)."""
    with write_transaction():
        plan = db.session.get(EstatePlan, plan_id)
        if plan is None:
            raise NotFound(_("Not found."))
        permissions.require(actor, "acceptance.open", plan)
        members = [issue for issue in plan.issues if issue.open]
        if not members or any(issue.state != "acceptance" for issue in members):
            raise InvalidTransition(_("Every open issue of the plan must have finished construction first."))
        for issue in members:
            lock(RenovationIssue, issue.id)
            _supersede(actor, issue)
        inspection = create_inspection(actor, plan=plan)
    return inspection


def _supersede(actor, issue: RenovationIssue) -> None:
    """The issue's own inspection gives way to the plan's (only before anything was recorded)."""
    current = covering_inspection(issue)
    if current is None or current.state not in OPEN_STATES:
        return
    if current.plan_id is not None:
        raise InvalidTransition(_("The plan already has an open joint inspection."))
    engine.fire(JointInspection, current.id, "supersede", actor, None)


# --- steps -----------------------------------------------------------------------------------


def fire(actor, inspection_id: int, trigger: str, version: int | None, **data) -> JointInspection:
    return engine.fire(JointInspection, inspection_id, trigger, actor, version, **data)


def record_item(actor, inspection_id: int, version: int | None, *, item_id: int, result: str, notes: str = "",
                photos: list[Photo] | None = None) -> JointInspection:
    return fire(actor, inspection_id, "record_item", version, item_id=item_id, result=result, notes=notes,
                photos=photos or [])


def record_rest_passed(actor, inspection_id: int, version: int | None) -> int:
    """Record every item of the current round that has no result yet as passed, in one
    transaction (each with its own audit entry): the common case of a clean inspection
    without a tap per item. Returns how many were recorded."""
    with write_transaction():
        inspection = lock(JointInspection, inspection_id)
        if inspection is None or not permissions.can_see(actor, inspection):
            raise NotFound(_("Not found."))
        pending = [check.item_id for check in inspection.checks() if not check.result]
        if not pending:
            raise InvalidTransition(_("Every item of this round has a result already."))
        for index, item_id in enumerate(pending):
            fire(actor, inspection_id, "record_item", version if index == 0 else None, item_id=item_id,
                 result="pass", notes="")
    return len(pending)


def next_to_record(inspection: JointInspection) -> int | None:
    """The first item of the current round still without a result (the page scrolls to it)."""
    return next((check.item_id for check in inspection.checks() if not check.result), None)


def submit_findings(actor, inspection_id: int, version: int | None) -> JointInspection:
    return fire(actor, inspection_id, "submit_findings", version)


def sign(actor, inspection_id: int, version: int | None, *, party: str, decision: str, comment: str = "",
         items: list[int] | None = None) -> JointInspection:
    """Approve or reject for a party; a rejection names the items objected to and a comment."""
    comment = (comment or "").strip()
    return fire(actor, inspection_id, "sign", version, party=party, decision=decision, comment=comment,
                reason=comment, items=items or [])


def reinspect(actor, inspection_id: int, version: int | None) -> JointInspection:
    return fire(actor, inspection_id, "reinspect", version)


# --- reading -----------------------------------------------------------------------------------


@dataclass
class PartyLine:
    """One required party in a round: how many approvals it needs and who signed."""

    party: str
    needed: int
    signoffs: list[InspectionSignOff] = field(default_factory=list)

    @property
    def approvals(self) -> int:
        return sum(1 for s in self.signoffs if s.decision == "approve")

    @property
    def done(self) -> bool:
        return self.approvals >= self.needed


def party_lines(inspection: JointInspection, number: int | None = None) -> list[PartyLine]:
    lines = {party: PartyLine(party, inspection.resident_quorum if party == RESIDENTS else 1)
             for party in inspection.required_parties}
    for signoff in inspection.round_signoffs(number):
        if signoff.party in lines:
            lines[signoff.party].signoffs.append(signoff)
    return list(lines.values())


def signing_options(actor, inspection: JointInspection) -> list[str]:
    """The parties the actor may sign for now (none outside the signing state)."""
    if inspection.state != "signing" or not permissions.can(actor, "acceptance.sign", inspection):
        return []
    signed = inspection.round_signoffs()
    if any(s.person_id == actor.id for s in signed):
        return []
    taken = {s.party for s in signed if s.party != RESIDENTS}
    return [party for party in eligible_parties(actor, inspection) if party not in taken]


def is_overdue(inspection: JointInspection, now: datetime | None = None) -> bool:
    return inspection.state in OPEN_STATES and inspection.due_at is not None and inspection.due_at < (now or utcnow())


def timeline(inspection: JointInspection) -> list[audit.AuditEntry]:
    return audit.timeline(inspection)


def may(actor, inspection: JointInspection, trigger: str) -> bool:
    return WORKFLOW.allowed(inspection, actor, trigger)


def photo(actor, inspection_id: int, photo_id: int) -> tuple[InspectionPhoto, bytes]:
    inspection = get_inspection(actor, inspection_id)
    item = db.session.get(InspectionPhoto, photo_id)
    if item is None or item.check.inspection_id != inspection.id:
        raise NotFound(_("Not found."))
    return item, storage.get(item.sha256)


def issue_actions(actor, issue: RenovationIssue) -> list:
    """The renovation transitions the acceptance page offers (the satisfaction rating)."""
    wanted = ("rate",)
    return [t for t in ISSUE_WORKFLOW.available(issue, actor) if t.trigger in wanted]


# --- deadlines -----------------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Refer overdue open inspections to the level above, as the system actor.

    The inspection's workflow has no transition for the system to fire, so the org node
    above the one answering for it (first the community committee, then its street
    committee) takes over with a fresh deadline (workflow/deadlines.py). In
    rectification the inspection's deadline is the round's rectification deadline, so
    an overdue round is swept too; the round keeps the date it was given. Running the
    sweep again at once changes nothing (idempotent). Each referral is one transaction
    and is audited."""
    now = now or utcnow()
    return overdue_loop(
        select(JointInspection.id)
        .where(JointInspection.state.in_(OPEN_STATES), JointInspection.due_at < now)
        .order_by(JointInspection.due_at, JointInspection.id), _refer_up, ("inspection_escalated", "inspection_at_top"),
        now)


def _refer_up(inspection_id: int, now: datetime) -> str | None:
    """One overdue inspection, locked: referred to the parent org node, or left at the top.
    None when another sweep or a step got there first (no longer overdue)."""
    with write_transaction():
        inspection = lock(JointInspection, inspection_id)
        if inspection is None or not is_overdue(inspection, now):
            return None
        if deadlines.refer_to_parent(inspection, inspection.responsible_org, now, default_days=5) is None:
            return "inspection_at_top"
    return "inspection_escalated"
