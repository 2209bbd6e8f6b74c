"""Joint acceptance (联合验收) of finished work: an inspection walked by its own workflow.

An inspection covers one renovation issue (opened when construction is reported
finished) or a whole estate plan. Each round has a checklist; the first round checks
every item of the template (rules/checklists.py), a re-inspection only
the items that failed or that a party objected to. Items are recorded pass/fail with
notes and photos, then the findings are submitted:

    checking --submit_findings--> signing     (every item passed)
             --submit_findings--> rectification (an item failed)
    signing  --sign--> signing       (an approval, others still missing)
             --sign--> accepted      (the last approval the city policy requires)
             --sign--> rectification (a rejection, naming the items it objects to)
    rectification --reinspect--> checking (the next round, failed items only)
    checking --supersede--> superseded  (nothing recorded yet; the whole plan is inspected instead)

The parties who sign (rules/policy.py AcceptancePolicy) each approve or reject
with a comment; a person signs only for a role they hold over the issue's place
(org parties) or as an owner or resident of the estate (resident representatives),
and once per round. Reaching "accepted" fires the renovation issue's `accept`, and
"rectification" its `require_rectification`, both as the system actor in the same
transaction; the renovation issue's `request_reinspection` fires `reinspect`. The
signed acceptance record (PDF) is issued after the commit (acceptance/record.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import storage
from core.db import utcnow
from core.errors import ValidationError
from core.extensions import db
from orgs import roles as R
from orgs.models import Estate, Household, HouseholdPerson, OrgNode, Person
from orgs.permissions import register
from workflow import audit, engine
from rules.policy import current_policy
from workflow.engine import Condition, FireContext, State, Transition, Workflow, WorkflowSubject
from issues.models import EstatePlan, RenovationIssue
from core.photos import validate as validate_photos
from procedures.subjects import acts_within, lives_in_estate

# --- parties and permissions -----------------------------------------------------------

RESIDENTS = "resident_representative"


@dataclass(frozen=True)
class Party:
    code: str
    label: Any  # lazy string
    role: Optional[str]  # the role a signer must hold over the place; None: owners/residents


PARTIES = {
    party.code: party
    for party in (
        Party("community_committee", _l("Community Party committee"), R.COMMUNITY_OFFICER),
        Party("street_committee", _l("Street Party working committee"), R.STREET_OFFICER),
        Party(RESIDENTS, _l("Resident representative"), None),
        Party("supervision_company", _l("Supervision company"), R.SUPERVISION_COMPANY),
        Party("construction_company", _l("Construction company"), R.CONSTRUCTION_COMPANY),
        Party("property_company", _l("Property management company"), R.PROPERTY_COMPANY),
    )
}
RESULTS = {"pass": _l("Passed"), "fail": _l("Failed")}
DECISIONS = {"approve": _l("Approve"), "reject": _l("Do not approve")}

VIEW_SUBTREE = (R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.GRID_WORKER, R.BUILDING_GROUP_LEADER, R.OWNERS_COMMITTEE,
                R.PROPERTY_COMPANY, R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY)
register("acceptance.view", subtree=VIEW_SUBTREE, own=(R.RESIDENT, R.MEMBER_HOUSEHOLD))
register("acceptance.open", subtree=R.OFFICERS)
register("acceptance.inspect", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER, R.SUPERVISION_COMPANY))
register("acceptance.sign", subtree=(R.COMMUNITY_OFFICER, R.STREET_OFFICER, R.SUPERVISION_COMPANY,
                                     R.CONSTRUCTION_COMPANY, R.PROPERTY_COMPANY, R.OWNERS_COMMITTEE),
         own=(R.RESIDENT, R.MEMBER_HOUSEHOLD))
register("acceptance.reinspect", subtree=(R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY, R.COMMUNITY_OFFICER))
register("acceptance.record", subtree=R.OFFICERS)


def party_label(code: str) -> str:
    party = PARTIES.get(code)
    return str(party.label) if party else code


# --- models ------------------------------------------------------------------------------


@audit.register_subject
class JointInspection(WorkflowSubject, db.Model):
    """The joint acceptance of one renovation issue or of a whole estate plan."""

    __tablename__ = "joint_inspection"
    __table_args__ = (CheckConstraint("(issue_id IS NULL) <> (plan_id IS NULL)", name="one_target"),)
    subject_type = "joint_inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"), index=True)
    plan_id: Mapped[Optional[int]] = mapped_column(ForeignKey("estate_plan.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    # The community committee signs the record; the street committee countersigns when it is a party.
    community_org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"))
    street_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"))
    # The city policy when the inspection opened: org parties (comma-separated) and resident quorum.
    parties: Mapped[str] = mapped_column(String(200))
    resident_quorum: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=1)
    opened_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    accepted_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    record_document_id: Mapped[Optional[int]] = mapped_column(ForeignKey("stored_document.id"))

    issue: Mapped[Optional[RenovationIssue]] = relationship()
    plan: Mapped[Optional[EstatePlan]] = relationship()
    estate: Mapped[Estate] = relationship()
    community_org: Mapped[OrgNode] = relationship(foreign_keys="JointInspection.community_org_id")
    street_org: Mapped[Optional[OrgNode]] = relationship(foreign_keys="JointInspection.street_org_id")
    responsible_org: Mapped[Optional[OrgNode]] = relationship(foreign_keys="JointInspection.responsible_org_id")
    rounds: Mapped[list["InspectionRound"]] = relationship(
        back_populates="inspection", order_by="InspectionRound.number", cascade="all, delete-orphan"
    )
    items: Mapped[list["InspectionItem"]] = relationship(
        back_populates="inspection", order_by="InspectionItem.position", cascade="all, delete-orphan"
    )
    signoffs: Mapped[list["InspectionSignOff"]] = relationship(
        back_populates="inspection", order_by="InspectionSignOff.id", cascade="all, delete-orphan"
    )

    @property
    def org_parties(self) -> list[str]:
        return [code for code in self.parties.split(",") if code]

    @property
    def required_parties(self) -> list[str]:
        """Every party that must approve, in display order."""
        wanted = set(self.org_parties) | ({RESIDENTS} if self.resident_quorum else set())
        return [code for code in PARTIES if code in wanted]

    @property
    def current_round(self) -> "InspectionRound":
        return self.rounds[-1]

    @property
    def title(self) -> str:
        if self.issue is not None:
            return f"#{self.issue.id} {self.issue.title}"
        return self.plan.title

    def target_issues(self) -> list[RenovationIssue]:
        return [self.issue] if self.issue is not None else list(self.plan.issues)

    def is_personal_to(self, person) -> bool:
        """Owners and residents of the estate (resident representatives), and staff
        working on the same branch of the tree."""
        return lives_in_estate(person, self.estate_id) or acts_within(person, self.path, self.estate_id)

    def checks(self, number: int | None = None) -> list["InspectionCheck"]:
        """The items checked in a round (the current one by default), in checklist order."""
        wanted = number or self.round
        return [check for item in self.items for check in item.checks if check.round_number == wanted]

    def round_signoffs(self, number: int | None = None) -> list["InspectionSignOff"]:
        wanted = number or self.round
        return [s for s in self.signoffs if s.round_number == wanted]

    # Engine hooks ------------------------------------------------------------

    def responsible_org_for(self, state: State) -> OrgNode | None:
        return None if state.terminal else db.session.get(OrgNode, self.community_org_id)


class InspectionRound(db.Model):
    """One pass of the inspection: the first round, then each re-inspection."""

    __tablename__ = "inspection_round"
    __table_args__ = (
        UniqueConstraint("inspection_id", "number"),
        CheckConstraint("outcome IS NULL OR outcome IN ('accepted', 'rectification')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("joint_inspection.id"))
    number: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    findings_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    concluded_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    outcome: Mapped[Optional[str]] = mapped_column(String(20))
    rectification_due_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    inspection: Mapped[JointInspection] = relationship(back_populates="rounds")


class InspectionItem(db.Model):
    """A line of the checklist: a template item (by code) or a written one."""

    __tablename__ = "inspection_item"
    __table_args__ = (UniqueConstraint("inspection_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("joint_inspection.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[Optional[str]] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(String(300), default="")
    # In a plan inspection: the issue the item belongs to (None for the common items).
    issue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("renovation_issue.id"))

    inspection: Mapped[JointInspection] = relationship(back_populates="items")
    issue: Mapped[Optional[RenovationIssue]] = relationship()
    checks: Mapped[list["InspectionCheck"]] = relationship(
        back_populates="item", order_by="InspectionCheck.round_number", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        text = current_policy().item_label(self.code) if self.code else self.text
        if self.issue_id is not None and self.inspection.plan_id is not None:
            return f"#{self.issue_id} {text}"
        return text

    @property
    def latest(self) -> Optional["InspectionCheck"]:
        return self.checks[-1] if self.checks else None


class InspectionCheck(db.Model):
    """An item's result in one round (kept for every round: the rectification history)."""

    __tablename__ = "inspection_check"
    __table_args__ = (
        UniqueConstraint("item_id", "round_number"),
        CheckConstraint("result IS NULL OR result IN ('pass', 'fail')", name="result_known"),
        Index("ix_inspection_check_round", "inspection_id", "round_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("joint_inspection.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("inspection_item.id"))
    round_number: Mapped[int] = mapped_column(Integer)
    result: Mapped[Optional[str]] = mapped_column(String(10))
    notes: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    checked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    item: Mapped[InspectionItem] = relationship(back_populates="checks")
    checked_by: Mapped[Optional[Person]] = relationship()
    photos: Mapped[list["InspectionPhoto"]] = relationship(
        back_populates="check", order_by="InspectionPhoto.id", cascade="all, delete-orphan"
    )


class InspectionPhoto(db.Model):
    __tablename__ = "inspection_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("inspection_check.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))  # content address in core.storage
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    check: Mapped[InspectionCheck] = relationship(back_populates="photos")


class InspectionSignOff(db.Model):
    """A party's approval or rejection in one round, by a named person."""

    __tablename__ = "inspection_signoff"
    __table_args__ = (
        UniqueConstraint("inspection_id", "round_number", "person_id"),
        CheckConstraint("decision IN ('approve', 'reject')", name="decision_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("joint_inspection.id"), index=True)
    round_number: Mapped[int] = mapped_column(Integer)
    party: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    # The org node the person signed for (org parties) or the household they live in (residents).
    org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"))
    household_id: Mapped[Optional[int]] = mapped_column(ForeignKey("household.id"))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Items a rejection objects to: comma-separated item ids.
    objected_items: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    inspection: Mapped[JointInspection] = relationship(back_populates="signoffs")
    person: Mapped[Person] = relationship()
    org: Mapped[Optional[OrgNode]] = relationship()

    @property
    def objected_item_ids(self) -> list[int]:
        return [int(part) for part in self.objected_items.split(",") if part]


# --- who may sign for which party ----------------------------------------------------------


def signing_membership(person, inspection: JointInspection, party: str):
    """The membership through which `person` signs for an org party over the inspection's
    place (the most specific one), or None."""
    role = PARTIES[party].role
    candidates = [m for m in getattr(person, "memberships", ())
                  if m.role == role and inspection.path.startswith(m.org.path)]
    return max(candidates, key=lambda m: len(m.org.path), default=None)


def resident_household(person, inspection: JointInspection) -> int | None:
    """A household of the estate the person owns or lives in, or None."""
    ids = getattr(person, "household_ids", None)
    if not ids:
        return None
    return db.session.scalar(
        select(Household.id).join(HouseholdPerson, HouseholdPerson.household_id == Household.id)
        .where(Household.id.in_(ids), Household.estate_id == inspection.estate_id,
               HouseholdPerson.person_id == person.id).order_by(Household.id).limit(1)
    )


def eligible_parties(person, inspection: JointInspection) -> list[str]:
    """The required parties `person` could sign for (before checking who already signed)."""
    result = []
    for code in inspection.required_parties:
        if code == RESIDENTS:
            if resident_household(person, inspection) is not None:
                result.append(code)
        elif signing_membership(person, inspection, code) is not None:
            result.append(code)
    return result


def missing_approvals(inspection: JointInspection, extra: str | None = None) -> dict[str, int]:
    """Approvals still needed in the current round, per party (with `extra` counted as given)."""
    given: dict[str, int] = {}
    for signoff in inspection.round_signoffs():
        if signoff.decision == "approve":
            given[signoff.party] = given.get(signoff.party, 0) + 1
    if extra:
        given[extra] = given.get(extra, 0) + 1
    missing = {}
    for code in inspection.required_parties:
        needed = inspection.resident_quorum if code == RESIDENTS else 1
        if given.get(code, 0) < needed:
            missing[code] = needed - given.get(code, 0)
    return missing


# --- conditions ------------------------------------------------------------------------------


def _all_recorded(inspection: JointInspection, ctx: FireContext) -> bool:
    return all(check.result is not None for check in inspection.checks())


def _any_failed(inspection: JointInspection, ctx: FireContext) -> bool:
    return any(check.result == "fail" for check in inspection.checks())


def _issues_await(inspection: JointInspection, ctx: FireContext) -> bool:
    """The work inspected is awaiting acceptance (not, say, in a dispute)."""
    return any(issue.state in ("acceptance", "rectification") for issue in inspection.target_issues())


def _decision(ctx: FireContext) -> str:
    return str(ctx.data.get("decision") or "")


def _approval_completes(inspection: JointInspection, ctx: FireContext) -> bool:
    return _decision(ctx) == "approve" and not missing_approvals(inspection, str(ctx.data.get("party") or ""))


ANY_FAILED = Condition(lambda i, ctx: _all_recorded(i, ctx) and _any_failed(i, ctx),
                       _l("Record a result for every item first."))
NONE_FAILED = Condition(lambda i, ctx: _all_recorded(i, ctx) and not _any_failed(i, ctx),
                        _l("Record a result for every item first."))
ISSUES_AWAIT = Condition(_issues_await, _l("The work is not awaiting acceptance now (a dispute may be open)."))
APPROVAL_PENDING = Condition(lambda i, ctx: _decision(ctx) != "reject" and not _approval_completes(i, ctx),
                             _l("Choose to approve or reject."))
APPROVAL_COMPLETES = Condition(_approval_completes, _l("Choose to approve or reject."))
REJECTION = Condition(lambda i, ctx: _decision(ctx) == "reject", _l("Choose to approve or reject."))
NOTHING_RECORDED = Condition(lambda i, ctx: i.round == 1 and all(c.result is None for c in i.checks()),
                             _l("The issue's own joint inspection is already under way."))


# --- callbacks ----------------------------------------------------------------------------------


def _clean(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


def _check_in_round(inspection: JointInspection, ctx: FireContext) -> InspectionCheck:
    try:
        item_id = int(ctx.data.get("item_id"))
    except (TypeError, ValueError):
        item_id = None
    check = next((c for c in inspection.checks() if c.item_id == item_id), None)
    if check is None:
        raise ValidationError(_("This item is not checked in the current round."),
                              fields={"item_id": _("Unknown item.")})
    return check


def _store_photos(check: InspectionCheck, actor, photos: list) -> None:
    validate_photos(photos, already=len(check.photos))
    for photo in photos:
        db.session.add(InspectionPhoto(
            check=check, filename=_clean(photo.filename, 200) or "photo", content_type=photo.content_type,
            sha256=storage.put(photo.data), size=len(photo.data), uploaded_by_id=actor.id,
        ))


def _record_item(inspection: JointInspection, ctx: FireContext) -> None:
    check = _check_in_round(inspection, ctx)
    result = ctx.data.get("result")
    if result not in RESULTS:
        raise ValidationError(_("Choose passed or failed."), fields={"result": _("Choose passed or failed.")})
    check.result = result
    check.notes = _clean(ctx.data.get("notes"), 2000)
    check.checked_by_id = ctx.actor.id
    check.checked_at = utcnow()
    _store_photos(check, ctx.actor, list(ctx.data.get("photos") or []))
    ctx.payload.update(item=check.item_id, round=inspection.round, result=result)


def _objected_items(inspection: JointInspection, ctx: FireContext) -> list[int]:
    in_round = {check.item_id for check in inspection.checks()}
    try:
        chosen = sorted({int(value) for value in ctx.data.get("items") or []})
    except (TypeError, ValueError):
        chosen = []
    if not chosen or not set(chosen) <= in_round:
        raise ValidationError(_("Choose the items you object to."), fields={"items": _("Choose at least one item.")})
    return chosen


def _signer(inspection: JointInspection, ctx: FireContext, party: str) -> tuple[int | None, int | None]:
    """The org node or household the actor signs for, or a ValidationError."""
    if party == RESIDENTS:
        household = resident_household(ctx.actor, inspection)
        if household is None:
            raise ValidationError(_("Only an owner or resident of the estate can sign as a resident representative."),
                                  fields={"party": _("Not eligible.")})
        return None, household
    membership = signing_membership(ctx.actor, inspection, party)
    if membership is None:
        raise ValidationError(_("You do not hold this party's role for this place."),
                              fields={"party": _("Not eligible.")})
    return membership.org_id, None


def _check_not_signed(inspection: JointInspection, ctx: FireContext, party: str) -> None:
    signed = inspection.round_signoffs()
    if any(s.person_id == ctx.actor.id for s in signed):
        raise ValidationError(_("You have already signed in this round."), fields={"party": _("Already signed.")})
    if party != RESIDENTS and any(s.party == party for s in signed):
        raise ValidationError(_("This party has already signed in this round."), fields={"party": _("Already signed.")})


def _record_signoff(inspection: JointInspection, ctx: FireContext) -> None:
    party = str(ctx.data.get("party") or "")
    if party not in inspection.required_parties:
        raise ValidationError(_("This party does not sign this inspection."), fields={"party": _("Unknown party.")})
    _check_not_signed(inspection, ctx, party)
    org_id, household_id = _signer(inspection, ctx, party)
    decision = _decision(ctx)
    objected = _objected_items(inspection, ctx) if decision == "reject" else []
    db.session.add(InspectionSignOff(
        inspection=inspection, round_number=inspection.round, party=party, person_id=ctx.actor.id,
        org_id=org_id, household_id=household_id, decision=decision, comment=_clean(ctx.data.get("comment"), 2000),
        objected_items=",".join(str(i) for i in objected),
    ))
    ctx.payload.update(round=inspection.round, party=party, decision=decision, objected=objected)


def _findings_submitted(inspection: JointInspection, ctx: FireContext) -> None:
    inspection.current_round.findings_at = utcnow()
    ctx.payload.update(round=inspection.round)


def rectification_items(inspection: JointInspection, number: int | None = None) -> list[InspectionItem]:
    """Items of a round that failed or that a rejecting party objected to."""
    wanted = number or inspection.round
    objected = {i for s in inspection.round_signoffs(wanted) if s.decision == "reject" for i in s.objected_item_ids}
    failed = {c.item_id for c in inspection.checks(wanted) if c.result == "fail"}
    return [item for item in inspection.items if item.id in objected | failed]


def _rectification_reason(items: list[InspectionItem]) -> str:
    return _("Joint inspection found defects to rectify: %(items)s", items="; ".join(i.label for i in items))


def _open_rectification(inspection: JointInspection, ctx: FireContext) -> None:
    """Close the round with the items to rectify and send the work back to rectification."""
    now = utcnow()
    current = inspection.current_round
    current.findings_at = current.findings_at or now
    current.concluded_at = now
    current.outcome = "rectification"
    days = inspection.deadline_days(WORKFLOW.state("rectification"))
    current.rectification_due_at = engine.working_days_after(now, days) if days else None
    items = rectification_items(inspection)
    ctx.payload.update(round=inspection.round, rectify=[item.id for item in items])
    for issue in inspection.target_issues():
        if issue.state == "acceptance":
            engine.fire(RenovationIssue, issue.id, "require_rectification", engine.SYSTEM, None,
                        reason=_rectification_reason(items), inspection_id=inspection.id)


def _accept(inspection: JointInspection, ctx: FireContext) -> None:
    """Every required party approved: the work is accepted; the record is issued after commit."""
    now = utcnow()
    inspection.current_round.concluded_at = now
    inspection.current_round.outcome = "accepted"
    inspection.accepted_at = now
    for issue in inspection.target_issues():
        if issue.state == "acceptance":
            engine.fire(RenovationIssue, issue.id, "accept", engine.SYSTEM, None,
                        reason=_("Every party approved the joint inspection."), inspection_id=inspection.id)


def _new_round(inspection: JointInspection, ctx: FireContext) -> None:
    """Re-inspection: a new round checking only the items to rectify."""
    items = rectification_items(inspection)
    inspection.round += 1
    inspection.rounds.append(InspectionRound(number=inspection.round, opened_at=utcnow()))
    for item in items:
        item.checks.append(InspectionCheck(inspection_id=inspection.id, round_number=inspection.round))
    ctx.payload.update(round=inspection.round, items=[item.id for item in items])


def _reinspect_issues(inspection: JointInspection, ctx: FireContext) -> None:
    """Bring the renovation issues along (when the re-inspection was asked for here)."""
    for issue in inspection.target_issues():
        if issue.state == "rectification":
            engine.fire(RenovationIssue, issue.id, "request_reinspection", ctx.actor, None)


# --- the workflow ----------------------------------------------------------------------------------

STATES = [
    State("checking", _l("Checking the items"), level="community_committee",
          public_label=_l("The finished work is being checked item by item")),
    State("signing", _l("Sign-off by the parties"), level="community_committee",
          public_label=_l("The parties are signing the acceptance")),
    State("rectification", _l("Rectification"), level="community_committee",
          public_label=_l("Defects found at inspection are being put right")),
    State("accepted", _l("Accepted"), terminal=True, public_label=_l("Accepted")),
    State("superseded", _l("Replaced by the joint inspection of the whole plan"), terminal=True),
]

SIGN_FIELDS = ("party", "decision")
TRANSITIONS = [
    Transition("record_item", ("checking",), "checking", "acceptance.inspect", _l("Record the result"),
               fields=("item_id", "result"), before=(_record_item,)),
    Transition("submit_findings", ("checking",), "signing", "acceptance.inspect", _l("Submit the findings"),
               conditions=(NONE_FAILED, ISSUES_AWAIT), after=(_findings_submitted,), style="primary"),
    Transition("submit_findings", ("checking",), "rectification", "acceptance.inspect", _l("Submit the findings"),
               conditions=(ANY_FAILED, ISSUES_AWAIT), after=(_open_rectification,), style="primary"),
    Transition("sign", ("signing",), "signing", "acceptance.sign", _l("Sign"), fields=SIGN_FIELDS,
               conditions=(APPROVAL_PENDING, ISSUES_AWAIT), before=(_record_signoff,)),
    Transition("sign", ("signing",), "accepted", "acceptance.sign", _l("Sign"), fields=SIGN_FIELDS,
               conditions=(APPROVAL_COMPLETES, ISSUES_AWAIT), before=(_record_signoff,), after=(_accept,)),
    Transition("sign", ("signing",), "rectification", "acceptance.sign", _l("Sign"),
               fields=(*SIGN_FIELDS, "comment"), conditions=(REJECTION, ISSUES_AWAIT),
               before=(_record_signoff,), after=(_open_rectification,)),
    Transition("reinspect", ("rectification",), "checking", "acceptance.reinspect", _l("Re-inspect"),
               after=(_new_round, _reinspect_issues), style="primary"),
    Transition("supersede", ("checking",), "superseded", "acceptance.open",
               _l("Replace by the joint inspection of the whole plan"), conditions=(NOTHING_RECORDED,)),
]

# Audit entries that are not transitions of the workflow.
EVENT_LABELS = {
    "open": _l("Inspection opened"),
    "overdue_escalation": _l("Referred up after the deadline passed"),
    "record_signed": _l("Signed acceptance record issued"),
}

WORKFLOW = Workflow("joint_inspection", STATES, TRANSITIONS, initial="checking", event_labels=EVENT_LABELS)
JointInspection.workflow = WORKFLOW
