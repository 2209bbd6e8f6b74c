"""Estate plan and campaign services.

Each function takes the actor first, never the HTTP request; each write is one
transaction (core.db.write_transaction) that locks the plan record (or campaign),
checks the expected version when one is given, checks permission and jurisdiction
(outside it: 404), writes, and appends the hash-chained audit entry
(workflow.engine.record_event / fire). Money is exact `Decimal` yuan.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from core.db import lock, utcnow, write_transaction
from core.errors import NotFound, StaleVersion, ValidationError
from core.extensions import db
from orgs import permissions
from orgs.models import Estate, estates_reached
from orgs.roles import LEVEL_LABELS
from procedures.notice import Notice
from procedures.voting import Vote
from rules.calendar import LOCAL
from rules.categories import CATEGORIES
from workflow import engine
from workflow.audit import AuditEntry
from workflow.timeline import TimelineRow
from issues.models import EstatePlan, RenovationIssue
from plans.models import (
    FATES,
    ITEM_STATES,
    PLAN_WORKFLOW,
    CampaignDemand,
    DemandCampaign,
    PlanBulletin,
    PlanItem,
    PlanRecord,
)

MAX_MONEY = Decimal("999999999999.99")
TITLE_MAX, TEXT_MAX = 200, 5000
BULLETINS_PER_PAGE = 20
MAX_ITEMS = 1000
_MONEY_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")

# --- input --------------------------------------------------------------------------------


def parse_money(raw: Any, name: str, errors: dict, *, required: bool = True) -> Decimal | None:
    """Exact yuan with at most two decimals, not negative; a problem goes into `errors`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[name] = _("Enter an amount in yuan.")
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        errors[name] = _("Enter the amount as a number of yuan, e.g. 1200000.00.")
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    if text.startswith("-"):
        errors[name] = _("An amount cannot be negative.")
        return None
    if not _MONEY_RE.match(text):
        errors[name] = _("Enter the amount as a number of yuan, e.g. 1200000.00.")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = _("Enter the amount as a number of yuan, e.g. 1200000.00.")
        return None
    if value > MAX_MONEY:
        errors[name] = _("The amount is too large.")
        return None
    return value.quantize(Decimal("0.01"))


def parse_date(raw: Any, name: str, errors: dict, *, required: bool = False) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[name] = _("Enter a date.")
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors[name] = _("Enter a date as YYYY-MM-DD.")
        return None


def parse_id(raw: Any, name: str, message: str, errors: dict) -> int | None:
    """A positive whole number that fits a database id (text accepted, as a form sends it)."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        errors[name] = message
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors[name] = message
        return None
    if not 1 <= value <= 2**31 - 1:
        errors[name] = message
        return None
    return value


def parse_progress(raw: Any, errors: dict) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        errors["progress"] = _("Progress is a whole number from 0 to 100.")
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors["progress"] = _("Progress is a whole number from 0 to 100.")
        return None
    if not 0 <= value <= 100:
        errors["progress"] = _("Progress is a whole number from 0 to 100.")
        return None
    return value


def _text(raw: Any, name: str, errors: dict, limit: int, *, required: bool = False) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        errors[name] = _("Must be text.")
        return ""
    value = raw.strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)d characters.", n=limit)
    return value


def _fail(errors: dict) -> None:
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)


# --- loading ------------------------------------------------------------------------------


def get_record(actor, record_id: int, action: str = "plan.view") -> PlanRecord:
    """The plan record for staff: 404 outside the actor's jurisdiction, 403 inside it
    without the right."""
    record = db.session.get(PlanRecord, record_id)
    if record is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, record)
    return record


def db_record(record_id: int) -> PlanRecord | None:
    return db.session.get(PlanRecord, record_id)


def public_record(record_id: int) -> PlanRecord:
    """A published plan (with its plan and estate); a draft is 404 on the public page."""
    record = db.session.scalar(
        select(PlanRecord).where(PlanRecord.id == record_id)
        .options(joinedload(PlanRecord.plan), joinedload(PlanRecord.estate))
    )
    if record is None or not record.is_published:
        raise NotFound(_("Not found."))
    return record


def latest_published(estate_id: int) -> PlanRecord | None:
    return db.session.scalar(
        select(PlanRecord).join(EstatePlan, EstatePlan.id == PlanRecord.plan_id)
        .where(PlanRecord.estate_id == estate_id, PlanRecord.state == "published")
        .order_by(EstatePlan.year.desc()).limit(1)
    )


def published_records(limit: int = 200) -> list[PlanRecord]:
    return list(db.session.scalars(
        select(PlanRecord).where(PlanRecord.state == "published")
        .options(joinedload(PlanRecord.plan), joinedload(PlanRecord.estate))
        .order_by(PlanRecord.estate_id, PlanRecord.id.desc()).limit(limit)
    ))


def staff_records(actor, limit: int = 200) -> list[PlanRecord]:
    """Plans (draft and published) in the actor's jurisdiction."""
    if not permissions.can(actor, "plan.view"):
        return []
    paths = permissions.subtree_paths(actor, "plan.view")
    # And the plans of the estates the actor holds part of (PlanRecord.reaches).
    visible = or_(permissions.path_filter(PlanRecord.path, paths), PlanRecord.estate_id.in_(estates_reached(paths)))
    return list(db.session.scalars(
        select(PlanRecord).where(visible)
        .options(joinedload(PlanRecord.plan), joinedload(PlanRecord.estate))
        .order_by(PlanRecord.estate_id, PlanRecord.id.desc()).limit(limit)
    ))


def manageable_estates(actor, action: str = "plan.manage") -> list[Estate]:
    if not permissions.can(actor, action):
        return []
    return list(db.session.scalars(
        select(Estate).where(permissions.jurisdiction_filter(actor, Estate.path, action))
        .order_by(Estate.code).limit(500)
    ))


def _locked(actor, record_id: int, version: int | None, action: str) -> PlanRecord:
    record = lock(PlanRecord, record_id)
    if record is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, record)
    if version is not None and record.version != version:
        raise StaleVersion(
            _("Someone else changed this item in the meantime. Reload the page to see the current state."),
            version=record.version, state=record.state,
        )
    return record


def _org_id(actor, action: str, subject) -> int | None:
    membership = permissions.granting_membership(actor, action, subject)
    return membership.org_id if membership is not None else None


# --- the plan -----------------------------------------------------------------------------


def ensure_record(plan: EstatePlan, actor) -> PlanRecord:
    """The plan's record, created (draft, with its first audit entry) on first use.
    Inside the caller's transaction."""
    record = db.session.scalar(select(PlanRecord).where(PlanRecord.plan_id == plan.id))
    if record is None:
        record = PlanRecord(plan=plan, estate_id=plan.estate_id, estate=plan.estate, path=plan.path)
        engine.start(record, actor, payload={"plan_id": plan.id, "year": plan.year})
    return record


def create_plan(actor, *, estate_id: Any, year: Any, title: Any = "", summary: Any = "") -> PlanRecord:
    """Start the estate's plan for a year (or open the existing one's record)."""
    errors: dict[str, str] = {}
    title = _text(title, "title", errors, TITLE_MAX)
    summary = _text(summary, "summary", errors, TEXT_MAX)
    year = parse_id(year, "year", _("Enter a year such as 2026."), errors)
    if year is not None and not 2000 <= year <= 2100:
        errors["year"] = _("Enter a year such as 2026.")
    estate_id = parse_id(estate_id, "estate_id", _("Choose an estate."), errors)
    _fail(errors)
    with write_transaction():
        estate = db.session.get(Estate, estate_id)
        if estate is None:
            raise NotFound(_("Not found."))
        permissions.require(actor, "plan.manage", estate)
        plan = db.session.scalar(select(EstatePlan).where(EstatePlan.estate_id == estate.id, EstatePlan.year == year))
        if plan is None:
            plan = EstatePlan(estate=estate, year=year, path=estate.path, summary=summary,
                              title=title or _("%(estate)s renovation plan %(year)d", estate=estate.name, year=year))
            db.session.add(plan)
            db.session.flush()
        record = ensure_record(plan, actor)
    return record


def set_budget(actor, record_id: int, version: int | None, *, total: Any, government: Any, owners: Any,
               social: Any) -> PlanRecord:
    """The budget and its funding split; the three parts must add up to the budget exactly."""
    errors: dict[str, str] = {}
    amounts = {name: parse_money(raw, name, errors) for name, raw in
               (("total", total), ("government", government), ("owners", owners), ("social", social))}
    _fail(errors)
    parts = amounts["government"] + amounts["owners"] + amounts["social"]
    if parts != amounts["total"]:
        raise ValidationError(
            _("The funding parts add up to %(parts)s yuan, not the budget of %(total)s yuan.",
              parts=f"{parts:,.2f}", total=f"{amounts['total']:,.2f}"),
            fields={"total": _("Government, owners and social capital must add up to the budget.")},
        )
    with write_transaction():
        record = _locked(actor, record_id, version, "plan.manage")
        record.budget_total = amounts["total"]
        record.budget_government = amounts["government"]
        record.budget_owners = amounts["owners"]
        record.budget_social = amounts["social"]
        engine.record_event(record, actor, "budget", org_id=_org_id(actor, "plan.manage", record),
                            payload={name: str(value) for name, value in amounts.items()})
    return record


@dataclass
class ItemInput:
    title: str = ""
    category: str = "basic"
    state: str = "planned"
    progress: int | None = None
    deadline: date | None = None
    level: str = "community_committee"
    budget: Decimal | None = None
    note: str = ""
    issue_id: int | None = None
    given: set = field(default_factory=set)


def _choice(raw: Any, default: str, known, name: str, message: str, errors: dict) -> str:
    value = raw or default
    if not isinstance(value, str) or value not in known:
        errors[name] = message
        return default
    return value


def item_input(data: dict, *, new: bool) -> ItemInput:
    """Check an item's fields (from a form or JSON); 422 with per-field messages."""
    errors: dict[str, str] = {}
    out = ItemInput(given={name for name, value in data.items() if value is not None})
    if new or "title" in data:
        out.title = _text(data.get("title"), "title", errors, TITLE_MAX, required=new)
    if new or data.get("category") is not None:
        out.category = _choice(data.get("category"), "basic", CATEGORIES, "category", _("Choose a category."), errors)
    if new or data.get("state") is not None:
        out.state = _choice(data.get("state"), "planned", ITEM_STATES, "state", _("Choose a state."), errors)
    out.progress = parse_progress(data.get("progress"), errors)
    out.deadline = parse_date(data.get("deadline"), "deadline", errors)
    if new or data.get("level") is not None:
        out.level = _choice(data.get("level"), "community_committee", LEVEL_LABELS, "level",
                            _("Choose the level responsible."), errors)
    out.budget = parse_money(data.get("budget"), "budget", errors, required=False)
    out.note = _text(data.get("note"), "note", errors, TEXT_MAX)
    raw_issue = data.get("issue_id")
    if raw_issue is not None and raw_issue != "":
        out.issue_id = parse_id(raw_issue, "issue_id", _("Enter an issue number."), errors)
    _fail(errors)
    return out


def _check_issue(record: PlanRecord, issue_id: int, item_id: int | None = None) -> RenovationIssue:
    issue = db.session.get(RenovationIssue, issue_id)
    if issue is None or issue.estate_id != record.estate_id:
        raise ValidationError(_("No such renovation issue in this estate."),
                              fields={"issue_id": _("Unknown issue.")})
    taken = db.session.scalar(select(PlanItem.id).where(PlanItem.issue_id == issue_id))
    if taken is not None and taken != item_id:
        raise ValidationError(_("This renovation issue is already an item of a plan."),
                              fields={"issue_id": _("Already in a plan.")})
    return issue


def add_item(actor, record_id: int, version: int | None, data: dict) -> PlanItem:
    values = item_input(data, new=True)
    with write_transaction():
        record = _locked(actor, record_id, version, "plan.manage")
        count = db.session.scalar(select(func.count(PlanItem.id)).where(PlanItem.record_id == record.id))
        if count >= MAX_ITEMS:
            raise ValidationError(_("A plan holds at most %(n)d items.", n=MAX_ITEMS))
        if values.issue_id is not None:
            _check_issue(record, values.issue_id)
        item = PlanItem(
            record_id=record.id, position=count + 1, title=values.title, category=values.category,
            state=values.state, progress=values.progress or (100 if values.state == "done" else 0),
            deadline=values.deadline, level=values.level, budget=values.budget, note=values.note,
            issue_id=values.issue_id,
        )
        db.session.add(item)
        db.session.flush()
        engine.record_event(record, actor, "item_added", org_id=_org_id(actor, "plan.manage", record),
                            payload=_item_payload(item))
    return item


def _item_payload(item: PlanItem) -> dict:
    return {
        "item_id": item.id, "title": item.title, "state": item.state, "progress": item.progress,
        "deadline": item.deadline.isoformat() if item.deadline else None, "level": item.level,
        "budget": str(item.budget) if item.budget is not None else None, "issue_id": item.issue_id,
    }


def update_item(actor, record_id: int, item_id: int, version: int | None, data: dict) -> PlanItem:
    """Change an item's state, progress, deadline, level, budget or note (what is given)."""
    values = item_input(data, new=False)
    with write_transaction():
        record = _locked(actor, record_id, version, "plan.manage")
        item = db.session.get(PlanItem, item_id)
        if item is None or item.record_id != record.id:
            raise NotFound(_("Not found."))
        if "title" in values.given:
            item.title = values.title
        if "category" in values.given:
            item.category = values.category
        if "state" in values.given:
            item.state = values.state
            if values.state == "done" and values.progress is None:
                item.progress = 100
        if values.progress is not None:
            item.progress = values.progress
        if "deadline" in values.given:
            item.deadline = values.deadline
        if "level" in values.given:
            item.level = values.level
        if "budget" in values.given:
            item.budget = values.budget
        if "note" in values.given:
            item.note = values.note
        if "issue_id" in values.given:
            if values.issue_id is not None:
                _check_issue(record, values.issue_id, item.id)
            item.issue_id = values.issue_id
        item.updated_at = utcnow()
        db.session.flush()
        engine.record_event(record, actor, "item_updated", org_id=_org_id(actor, "plan.manage", record),
                            payload=_item_payload(item))
    return item


def import_plan_issues(actor, record_id: int, version: int | None) -> int:
    """Add an item for every renovation issue included in the plan that has none yet;
    returns how many were added (one audit entry)."""
    with write_transaction():
        record = _locked(actor, record_id, version, "plan.manage")
        issues = list(db.session.scalars(
            select(RenovationIssue).where(
                RenovationIssue.plan_id == record.plan_id,
                RenovationIssue.id.not_in(select(PlanItem.issue_id).where(PlanItem.issue_id.is_not(None))),
            ).order_by(RenovationIssue.id)
        ))
        count = db.session.scalar(select(func.count(PlanItem.id)).where(PlanItem.record_id == record.id))
        if count + len(issues) > MAX_ITEMS:
            raise ValidationError(_("A plan holds at most %(n)d items.", n=MAX_ITEMS))
        for position, issue in enumerate(issues, start=count + 1):
            db.session.add(PlanItem(
                record_id=record.id, position=position, title=issue.title, category=issue.category,
                state="in_progress" if issue.state in ("construction", "acceptance", "rectification") else "planned",
                progress=issue.progress or 0, issue_id=issue.id, level="community_committee",
            ))
        if issues:
            db.session.flush()
            engine.record_event(record, actor, "item_added", org_id=_org_id(actor, "plan.manage", record),
                                payload={"issue_ids": [issue.id for issue in issues]})
    return len(issues)


def post_bulletin(actor, record_id: int, *, title: Any, body: Any = "", item_id: Any = None) -> PlanBulletin:
    """A progress bulletin on the plan (no version: bulletins never conflict)."""
    errors: dict[str, str] = {}
    title = _text(title, "title", errors, TITLE_MAX, required=True)
    body = _text(body, "body", errors, TEXT_MAX)
    if item_id is None or item_id == "":
        item_id = None
    else:
        item_id = parse_id(item_id, "item_id", _("Choose an item of the plan."), errors)
    _fail(errors)
    with write_transaction():
        record = _locked(actor, record_id, None, "plan.bulletin")
        if item_id is not None:
            item = db.session.get(PlanItem, item_id)
            if item is None or item.record_id != record.id:
                raise ValidationError(_("Choose an item of the plan."), fields={"item_id": _("Unknown item.")})
        org_id = _org_id(actor, "plan.bulletin", record)
        bulletin = PlanBulletin(record_id=record.id, item_id=item_id, title=title, body=body,
                                posted_by_id=actor.id, posted_by_org_id=org_id)
        db.session.add(bulletin)
        db.session.flush()
        engine.record_event(record, actor, "bulletin", org_id=org_id, reason=title,
                            payload={"bulletin_id": bulletin.id, "item_id": item_id, "body": body})
    return bulletin


def fire(actor, record_id: int, trigger: str, version: int | None, reason: str = "") -> PlanRecord:
    """Publish the plan, or take it off the public page (with a reason)."""
    with write_transaction():
        record = engine.fire(PlanRecord, record_id, trigger, actor, version, reason=reason)
        if record.state == "published":
            record.published_at = utcnow()
            db.session.flush()
    return record


# --- reading the plan -------------------------------------------------------------------


_ITEM_COLUMNS = (
    PlanItem.id, PlanItem.position, PlanItem.title, PlanItem.category, PlanItem.state, PlanItem.progress,
    PlanItem.deadline, PlanItem.level, PlanItem.budget, PlanItem.note, PlanItem.issue_id, PlanItem.updated_at,
    RenovationIssue.state.label("issue_state"), RenovationIssue.path.label("issue_path"),
)


def items(record: PlanRecord) -> list:
    """The plan's items in order as plain rows (with the linked issue's state and path):
    a page lists hundreds of them, and rows cost a fraction of ORM objects."""
    return list(db.session.execute(
        select(*_ITEM_COLUMNS).outerjoin(RenovationIssue, RenovationIssue.id == PlanItem.issue_id)
        .where(PlanItem.record_id == record.id).order_by(PlanItem.position, PlanItem.id)
    ))


@dataclass(frozen=True)
class Place:
    """Something with a path, for a permission check on a row."""

    path: str


@dataclass
class ItemSummary:
    count: int
    by_state: dict[str, int]
    progress: int  # mean progress of the items not cancelled
    overdue: int
    items_budget: Decimal


def summarise(rows: list[PlanItem], today: date) -> ItemSummary:
    live = [item for item in rows if item.state != "cancelled"]
    return ItemSummary(
        count=len(rows),
        by_state=dict(Counter(item.state for item in rows)),
        progress=round(sum(item.progress for item in live) / len(live)) if live else 0,
        overdue=sum(1 for item in live if item.deadline and item.deadline < today and item.state != "done"),
        items_budget=sum((item.budget for item in rows if item.budget is not None), Decimal("0.00")),
    )


def funding_shares(record: PlanRecord) -> list[tuple[str, Decimal, Decimal]]:
    """(part, amount, percent of the budget to one decimal) for each funding part."""
    total = record.budget_total or Decimal("0")
    return [
        (name, amount, (amount * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0.0"))
        for name, amount in record.funding.items()
    ]


@dataclass
class BulletinPage:
    rows: list[PlanBulletin]
    total: int
    page: int
    pages: int


def bulletins(record: PlanRecord, page: int = 1, per_page: int = BULLETINS_PER_PAGE) -> BulletinPage:
    """Newest first, one page at a time (an index on (record_id, id) serves both queries)."""
    total = db.session.scalar(select(func.count(PlanBulletin.id)).where(PlanBulletin.record_id == record.id)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = list(db.session.scalars(
        select(PlanBulletin).where(PlanBulletin.record_id == record.id)
        .options(joinedload(PlanBulletin.posted_by_org), joinedload(PlanBulletin.item))
        .order_by(PlanBulletin.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ))
    return BulletinPage(rows, total, page, pages)


def notices(record: PlanRecord, limit: int = 50) -> list[Notice]:
    """The estate's public notices, newest first."""
    return list(db.session.scalars(
        select(Notice).where(Notice.estate_id == record.estate_id).order_by(Notice.published_at.desc()).limit(limit)
    ))


def votes(record: PlanRecord, limit: int = 50) -> list[Vote]:
    """The estate's votes, newest first (results are read only from closed ones)."""
    return list(db.session.scalars(
        select(Vote).where(Vote.estate_id == record.estate_id, Vote.state != "cancelled")
        .order_by(Vote.opened_at.desc()).limit(limit)
    ))


def recent_changes(record: PlanRecord, limit: int = 20) -> list[TimelineRow]:
    """The latest entries of the plan's audit chain, newest first (the staff page shows
    these; the whole chain can run to thousands of bulletins)."""
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == record.subject_type, AuditEntry.subject_id == record.id)
        .options(selectinload(AuditEntry.org)).order_by(AuditEntry.seq.desc()).limit(limit)
    )
    return [
        TimelineRow(entry=entry, label=PLAN_WORKFLOW.event_label(entry.trigger),
                    to=PLAN_WORKFLOW.state_label(entry.to_state),
                    level=LEVEL_LABELS.get(entry.org.level_code) if entry.org is not None else None)
        for entry in entries
    ]


# --- campaigns ----------------------------------------------------------------------------


def create_campaign(actor, *, estate_id: Any, title: Any, description: Any = "", opens_on: Any,
                    closes_on: Any) -> DemandCampaign:
    errors: dict[str, str] = {}
    title = _text(title, "title", errors, TITLE_MAX, required=True)
    description = _text(description, "description", errors, TEXT_MAX)
    opens = parse_date(opens_on, "opens_on", errors, required=True)
    closes = parse_date(closes_on, "closes_on", errors, required=True)
    if opens and closes and closes < opens:
        errors["closes_on"] = _("The campaign must close on or after the day it opens.")
    estate_id = parse_id(estate_id, "estate_id", _("Choose an estate."), errors)
    _fail(errors)
    with write_transaction():
        estate = db.session.get(Estate, estate_id)
        if estate is None:
            raise NotFound(_("Not found."))
        permissions.require(actor, "campaign.manage", estate)
        campaign = DemandCampaign(estate=estate, estate_id=estate.id, title=title, description=description,
                                  opens_on=opens, closes_on=closes, created_by_id=actor.id, path=estate.path)
        engine.start(campaign, actor, payload={"opens_on": opens.isoformat(), "closes_on": closes.isoformat()})
    return campaign


def get_campaign(campaign_id: int) -> DemandCampaign:
    """Campaigns are public (their tally holds no personal data)."""
    campaign = db.session.get(DemandCampaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Not found."))
    return campaign


def campaigns(estate_id: int | None = None, limit: int = 100) -> list[DemandCampaign]:
    stmt = select(DemandCampaign).options(joinedload(DemandCampaign.estate))
    if estate_id is not None:
        stmt = stmt.where(DemandCampaign.estate_id == estate_id)
    stmt = stmt.order_by(DemandCampaign.opens_on.desc(), DemandCampaign.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def _lock_campaign(actor, campaign_id: int, action: str) -> DemandCampaign:
    campaign = lock(DemandCampaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, campaign)
    return campaign


def _link(actor, campaign: DemandCampaign, issues: Iterable[RenovationIssue]) -> int:
    issues = list(issues)
    for issue in issues:
        db.session.add(CampaignDemand(campaign_id=campaign.id, issue_id=issue.id))
    if issues:
        db.session.flush()
        engine.record_event(campaign, actor, "demands_linked", org_id=_org_id(actor, "campaign.link", campaign),
                            payload={"issue_ids": [issue.id for issue in issues]})
    return len(issues)


def link_demand(actor, campaign_id: int, issue_id: Any) -> int:
    """Link one demand (a renovation issue of the campaign's estate) to the campaign."""
    errors: dict[str, str] = {}
    issue_id = parse_id(issue_id, "issue_id", _("Enter an issue number."), errors)
    _fail(errors)
    with write_transaction():
        campaign = _lock_campaign(actor, campaign_id, "campaign.link")
        if campaign.state != "collecting":
            raise ValidationError(_("The campaign is closed."))
        issue = db.session.get(RenovationIssue, issue_id)
        if issue is None or issue.estate_id != campaign.estate_id or issue.direction != "demand":
            raise ValidationError(_("No such demand in this estate."), fields={"issue_id": _("Unknown issue.")})
        if db.session.scalar(select(CampaignDemand.id).where(CampaignDemand.issue_id == issue.id)) is not None:
            raise ValidationError(_("This demand is already linked to a campaign."),
                                  fields={"issue_id": _("Already linked.")})
        return _link(actor, campaign, [issue])


def collect(actor, campaign_id: int) -> int:
    """Link every demand raised in the estate during the campaign's period that no
    campaign holds yet; returns how many."""
    with write_transaction():
        campaign = _lock_campaign(actor, campaign_id, "campaign.link")
        if campaign.state != "collecting":
            raise ValidationError(_("The campaign is closed."))
        start, end = _period_utc(campaign)
        issues = db.session.scalars(
            select(RenovationIssue).where(
                RenovationIssue.estate_id == campaign.estate_id, RenovationIssue.direction == "demand",
                RenovationIssue.created_at >= start, RenovationIssue.created_at < end,
                RenovationIssue.id.not_in(select(CampaignDemand.issue_id)),
            ).order_by(RenovationIssue.id)
        )
        return _link(actor, campaign, issues)


def _period_utc(campaign: DemandCampaign) -> tuple[datetime, datetime]:
    """The campaign's period in naive UTC: from 00:00 of its first day to 24:00 of its last (local time)."""
    start = datetime.combine(campaign.opens_on, time(0), tzinfo=LOCAL).astimezone(timezone.utc).replace(tzinfo=None)
    end = datetime.combine(campaign.closes_on + timedelta(days=1), time(0), tzinfo=LOCAL)
    return start, end.astimezone(timezone.utc).replace(tzinfo=None)


def close_campaign(actor, campaign_id: int, version: int | None) -> DemandCampaign:
    return engine.fire(DemandCampaign, campaign_id, "close", actor, version)


RESOLVED_STATES = ("resolved", "closed", "long_term_management")


def fate(issue: RenovationIssue) -> str:
    """What became of a demand, in the words residents read (plans.models.FATES)."""
    if issue.state == "rejected":
        return "rejected"
    if issue.state == "merged":
        return "merged"
    if issue.plan_id is not None:
        return "in_plan"
    if issue.state in RESOLVED_STATES:
        return "resolved"
    return "under_review"


def demand_issues(campaign: DemandCampaign) -> list[RenovationIssue]:
    return list(db.session.scalars(
        select(RenovationIssue).join(CampaignDemand, CampaignDemand.issue_id == RenovationIssue.id)
        .where(CampaignDemand.campaign_id == campaign.id).order_by(RenovationIssue.id)
    ))


@dataclass
class Tally:
    total: int
    by_category: list[tuple[str, int]]  # (category, count), largest first
    by_subcategory: list[tuple[str, str, int]]  # (category, subcategory, count)
    by_fate: dict[str, int]


def tally(campaign: DemandCampaign) -> Tally:
    """Counts only: no titles, no households (the public tally)."""
    rows = db.session.execute(
        select(RenovationIssue.category, RenovationIssue.subcategory, RenovationIssue.state,
               RenovationIssue.plan_id.is_not(None))
        .join(CampaignDemand, CampaignDemand.issue_id == RenovationIssue.id)
        .where(CampaignDemand.campaign_id == campaign.id)
    ).all()
    categories: Counter = Counter()
    subcategories: Counter = Counter()
    fates: Counter = Counter()
    for category, subcategory, state, planned in rows:
        categories[category] += 1
        subcategories[(category, subcategory)] += 1
        fates[_fate_of(state, planned)] += 1
    return Tally(
        total=len(rows),
        by_category=sorted(categories.items(), key=lambda kv: (-kv[1], kv[0])),
        by_subcategory=sorted(((c, s, n) for (c, s), n in subcategories.items()), key=lambda t: (-t[2], t[0], t[1])),
        by_fate=dict(fates),
    )


def _fate_of(state: str, planned: bool) -> str:
    if state == "rejected":
        return "rejected"
    if state == "merged":
        return "merged"
    if planned:
        return "in_plan"
    return "resolved" if state in RESOLVED_STATES else "under_review"


@dataclass
class MyDemand:
    issue: RenovationIssue
    fate: str
    reason: str


def my_demands(actor, campaign: DemandCampaign) -> list[MyDemand]:
    """The demands of the campaign the viewer raised or that concern their household,
    each with its fate and the reason residents read."""
    if not getattr(actor, "is_authenticated", False):
        return []
    conditions = [RenovationIssue.raised_by_id == actor.id]
    if actor.household_ids:
        conditions.append(RenovationIssue.household_id.in_(actor.household_ids))
    rows = db.session.scalars(
        select(RenovationIssue).join(CampaignDemand, CampaignDemand.issue_id == RenovationIssue.id)
        .where(CampaignDemand.campaign_id == campaign.id, or_(*conditions)).order_by(RenovationIssue.id)
    )
    return [MyDemand(issue, fate(issue), issue.public_note if issue.state in ("rejected", "resolved") else "")
            for issue in rows]


def campaign_demands_for_staff(actor, campaign: DemandCampaign) -> list[MyDemand]:
    """Every demand of the campaign with its fate, for staff who may see the estate's issues."""
    if not permissions.can(actor, "campaign.link", campaign):
        return []
    return [MyDemand(issue, fate(issue), issue.public_note if issue.state in ("rejected", "resolved") else "")
            for issue in demand_issues(campaign)]


def local_today() -> date:
    """Today in Asia/Shanghai (deadlines are local dates)."""
    return utcnow().replace(tzinfo=timezone.utc).astimezone(LOCAL).date()


def fate_label(code: str) -> str:
    return str(FATES[code])
