"""Renovation issue services: raise, launch, fire, worklists, timeline, sweep.

Every function takes the actor; the HTML views, the JSON API and the CLI call these.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, func, or_, select, true
from sqlalchemy.orm import joinedload

from core import storage
from core.photos import Photo
from core.photos import validate as validate_photos
from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, StaleVersion, ValidationError
from core.extensions import db
from core.types import under_path
from orgs import permissions
from orgs.models import Building, Estate, Household, LiaisonHousehold, OrgNode, StairwellUnit, estates_reached
from rules import categories
from rules.policy import current_policy
from workflow import audit, deadlines, engine
from workflow.sweep import overdue_loop
from issues import measures, satisfaction
from issues.models import IssuePhoto, RenovationIssue, plan_for, store_photos
from issues.renovation import WORKFLOW, initial_state_for

# --- places --------------------------------------------------------------------


def resolve_place(kind: str, ident) -> tuple[Estate, Building | None, StairwellUnit | None, Household | None, str]:
    """Turn ("household", 12) etc. into the estate/building/unit/household and the place path."""
    models = {"estate": Estate, "building": Building, "unit": StairwellUnit, "household": Household}
    model = models.get(kind)
    try:
        obj = db.session.get(model, int(ident)) if model else None
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise ValidationError(_("Choose where the issue is."), fields={"place": _("Unknown place.")})
    if isinstance(obj, Household):
        return obj.estate, obj.unit.building, obj.unit, obj, obj
    if isinstance(obj, StairwellUnit):
        return obj.building.estate, obj.building, obj, None, obj
    if isinstance(obj, Building):
        return obj.estate, obj, None, None, obj
    return obj, None, None, None, obj


def _clean_text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _validate_issue_fields(title: str, category: str, subcategory: str) -> None:
    errors = {}
    if not title:
        errors["title"] = _("Please give a short title.")
    if category not in categories.CATEGORIES:
        errors["category"] = _("Choose a category.")
    elif not current_policy().valid(category, subcategory):
        errors["subcategory"] = _("Choose a sub-category of the chosen category.")
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)


@dataclass(frozen=True)
class Spot:
    """Where exactly: words, and the phone's map point (both coordinates or neither)."""

    location: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    @classmethod
    def parse(cls, location=None, latitude=None, longitude=None) -> "Spot":
        errors = {}
        text = _clean_text(location, 200)
        if "\x00" in text:
            errors["location"] = _("Invalid text.")
        raw = [(str(v).strip() if v is not None else "") for v in (latitude, longitude)]
        if any(raw) and not all(raw):
            errors["latitude"] = _("Give both coordinates of the map point, or neither.")
            return cls._refuse(errors)
        coords: list[Decimal | None] = [None, None]
        if all(raw):
            for index, (name, value, limit) in enumerate((("latitude", raw[0], 90), ("longitude", raw[1], 180))):
                try:
                    number = Decimal(value)
                except ArithmeticError:
                    number = None
                if number is None or not number.is_finite() or abs(number) > limit:
                    errors[name] = _("Not a valid map coordinate.")
                else:
                    coords[index] = number.quantize(Decimal("0.000001"))
        if errors:
            return cls._refuse(errors)
        return cls(text, coords[0], coords[1])

    @staticmethod
    def _refuse(errors: dict) -> "Spot":
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)


def _recording_member_org(actor, household: Household | None) -> int | None:
    """A member household recording a neighbour's demand answers for it first."""
    if household is None:
        return None
    for membership in actor.memberships:
        if membership.role == "member_household" and household.is_personal_to(actor):
            return membership.org_id
    return None


def raise_issue(actor, *, title: str, description: str, category: str, subcategory: str,
                place_kind: str, place_id, photos: list[Photo] | None = None, spot: Spot | None = None) -> RenovationIssue:
    """A resident, member household or grid worker raises a demand (问需于民): about a
    household, or a unit, building or public area of the estate, with the exact spot."""
    title = _clean_text(title, 200)
    _validate_issue_fields(title, category, subcategory)
    spot = spot or Spot()
    photos = photos or []
    validate_photos(photos)
    with write_transaction():
        estate, building, unit, household, place = resolve_place(place_kind, place_id)
        permissions.require(actor, "issue.raise", place)
        issue = RenovationIssue(
            title=title,
            description=_clean_text(description, 5000),
            category=category,
            subcategory=subcategory,
            direction="demand",
            estate=estate,
            building=building,
            unit=unit,
            household=household,
            raised_by_id=actor.id,
            recorded_by_org_id=_recording_member_org(actor, household),
            path=place.path,
            location=spot.location or None, latitude=spot.latitude, longitude=spot.longitude,
        )
        engine.start(issue, actor, state=initial_state_for(issue), payload={"photos": len(photos)})
        store_photos(issue, actor, photos)
    return issue


def launch_task(actor, *, title: str, description: str, category: str, subcategory: str,
                place_kind: str, place_id, spot: Spot | None = None) -> RenovationIssue:
    """The street or community launches an item of the estate's plan from above."""
    title = _clean_text(title, 200)
    spot = spot or Spot()
    _validate_issue_fields(title, category, subcategory)
    with write_transaction():
        estate, building, unit, household, place = resolve_place(place_kind, place_id)
        permissions.require(actor, "issue.launch", place)
        issue = RenovationIssue(
            title=title, description=_clean_text(description, 5000), category=category, subcategory=subcategory,
            direction="task", estate=estate, building=building, unit=unit, household=household,
            raised_by_id=actor.id, path=place.path, plan=plan_for(estate),
            location=spot.location or None, latitude=spot.latitude, longitude=spot.longitude,
        )
        engine.start(issue, actor, state="planned", trigger="launch", payload={"plan_id": issue.plan.id})
    return issue


def add_photos(actor, issue_id: int, photos: list[Photo]) -> RenovationIssue:
    """Add photos to an open issue after it was raised (a returned demand needs a picture):
    the person who raised it, or staff working on it. Audited in the issue's chain."""
    validate_photos(photos)
    if not photos:
        raise ValidationError(_("Choose at least one photo."), fields={"photos": _("This field is required.")})
    with write_transaction():
        issue = lock(RenovationIssue, issue_id)
        if issue is None or not permissions.can(actor, "issue.view", issue):
            raise NotFound(_("Not found."))
        if not may_add_photos(actor, issue):
            raise NotPermitted(_("Only the person who raised the issue or the staff working on it may add photos."))
        validate_photos(photos, already=len(issue.photos))
        store_photos(issue, actor, photos)
        audit.append(issue, actor_id=actor.id, actor_name=actor.name, org_id=None, role=None, trigger="add_photos",
                     from_state=issue.state, to_state=issue.state, payload={"photos": len(photos)})
        issue.version += 1
    return issue


def may_add_photos(actor, issue: RenovationIssue) -> bool:
    return issue.open and (issue.raised_by_id == actor.id or permissions.is_staff(actor))




# --- reading ---------------------------------------------------------------------


def get_issue(actor, issue_id: int) -> RenovationIssue:
    issue = db.session.get(RenovationIssue, issue_id)
    if issue is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "issue.view", issue)
    return issue


def visible_filter(actor):
    """Issues the actor may see: their subtree, plus their own (raised by them, about
    their household, or about a neighbour household they look after)."""
    conditions = [permissions.jurisdiction_filter(actor, RenovationIssue.path, "issue.view")]
    paths = permissions.subtree_paths(actor, "issue.view")
    if paths and "/" not in paths:
        # Estate-wide issues of estates the actor holds part of (see RenovationIssue.reaches).
        conditions.append(and_(RenovationIssue.building_id.is_(None),
                               RenovationIssue.estate_id.in_(estates_reached(paths))))
    own = [RenovationIssue.raised_by_id == actor.id]
    household_ids = set(actor.household_ids)
    member_orgs = [m.org_id for m in actor.memberships if m.role == "member_household"]
    if member_orgs:
        household_ids |= set(db.session.scalars(
            select(LiaisonHousehold.household_id).where(LiaisonHousehold.org_id.in_(member_orgs))
        ))
        own.append(RenovationIssue.recorded_by_org_id.in_(member_orgs))
    if household_ids:
        own.append(RenovationIssue.household_id.in_(household_ids))
    shared = satisfaction.shared_place_filter(actor)
    if shared is not None:
        own.append(shared)
    conditions.append(or_(*own))
    return or_(*conditions)


@dataclass
class IssueFilter:
    queue: str = "mine"  # mine (awaiting my level) | all | raised (raised by me)
    state: str | None = None
    level: str | None = None
    category: str | None = None
    overdue: bool = False
    org_id: int | None = None
    q: str = ""  # words or a number: see search_condition
    # The dashboard's links (stats/): raised in [created_from, created_to), and the
    # measures of issues/measures.py.
    created_from: datetime | None = None
    created_to: datetime | None = None
    outcome: str | None = None  # ended | resolved
    rating: str | None = None  # rated | satisfied
    response: str | None = None  # on_time | late
    page: int = 1
    per_page: int = 50


def issue_query(actor, f: IssueFilter, now: datetime | None = None) -> Select:
    now = now or utcnow()
    stmt = select(RenovationIssue)
    if f.queue == "mine":
        org_ids = [m.org_id for m in actor.memberships if m.role != "resident"]
        stmt = stmt.where(RenovationIssue.responsible_org_id.in_(org_ids or [-1]), RenovationIssue.open.is_(True))
    elif f.queue == "raised":
        stmt = stmt.where(RenovationIssue.raised_by_id == actor.id)
    else:
        stmt = stmt.where(visible_filter(actor))
    if f.state:
        stmt = stmt.where(RenovationIssue.state == f.state)
    if f.level:
        names = [s.name for s in WORKFLOW.states.values() if s.level == f.level]
        stmt = stmt.where(RenovationIssue.state.in_(names or ["-"]))
    if f.category:
        stmt = stmt.where(RenovationIssue.category == f.category)
    if f.overdue:
        stmt = stmt.where(RenovationIssue.open.is_(True), RenovationIssue.due_at < now)
    if f.org_id:
        node = db.session.get(OrgNode, f.org_id)
        if node is None or not permissions.can(actor, "org.view", node):
            raise NotFound(_("Not found."))
        stmt = stmt.where(under_path(RenovationIssue.path, node.path))
    if f.q.strip():
        stmt = stmt.where(search_condition(f.q))
    if f.created_from:
        stmt = stmt.where(RenovationIssue.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(RenovationIssue.created_at < f.created_to)
    if f.outcome in measures.OUTCOMES:
        stmt = stmt.where(measures.outcome(f.outcome))
    if f.rating in measures.RATINGS:
        stmt = stmt.where(measures.rating(f.rating))
    if f.response in measures.RESPONSES:
        stmt = stmt.where(measures.response(f.response, now))
    return stmt


MAX_ISSUE_ID = 2**31 - 1


def search_condition(query: str):
    """"#123" or "123" finds that issue; otherwise every word (up to five) must occur in the
    title, the description, the exact spot, or the name or address of the estate, the number
    of the building or the name of the community: what a person remembers of an issue."""
    text = query.strip()
    number = text.removeprefix("#").strip()
    if number.isdigit() and len(number) <= 10:
        value = int(number)
        return RenovationIssue.id == value if value <= MAX_ISSUE_ID else false()
    conditions = []
    for word in text.split()[:5]:
        word = word[:50]
        places = select(Estate.id).join(OrgNode, OrgNode.id == Estate.org_id).where(or_(
            Estate.name.icontains(word, autoescape=True), Estate.address.icontains(word, autoescape=True),
            OrgNode.name.icontains(word, autoescape=True)))
        buildings = select(Building.id).where(Building.number.icontains(word, autoescape=True))
        conditions.append(or_(
            RenovationIssue.title.icontains(word, autoescape=True),
            RenovationIssue.description.icontains(word, autoescape=True),
            RenovationIssue.location.icontains(word, autoescape=True),
            RenovationIssue.estate_id.in_(places),
            RenovationIssue.building_id.in_(buildings),
        ))
    return and_(*conditions) if conditions else true()


def list_issues(actor, f: IssueFilter, now: datetime | None = None) -> tuple[list[RenovationIssue], int]:
    """One page of issues, overdue first then soonest deadline, and the total count."""
    now = now or utcnow()
    stmt = issue_query(actor, f, now)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    # NULL deadlines last on both backends: order by "has no deadline" first.
    ordered = stmt.order_by(RenovationIssue.due_at.is_(None), RenovationIssue.due_at, RenovationIssue.id)
    page = max(1, f.page)
    per_page = max(1, min(f.per_page, 200))
    rows = db.session.scalars(
        ordered.options(joinedload(RenovationIssue.estate), joinedload(RenovationIssue.responsible_org))
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def is_overdue(issue: RenovationIssue, now: datetime | None = None) -> bool:
    return bool(issue.open and issue.due_at is not None and issue.due_at < (now or utcnow()))


def fire_issue(actor, issue_id: int, trigger: str, version: int | None, **data) -> RenovationIssue:
    return engine.fire(RenovationIssue, issue_id, trigger, actor, version, **data)


def timeline(issue: RenovationIssue) -> list[audit.AuditEntry]:
    return audit.timeline(issue)


def photo(actor, issue_id: int, photo_id: int) -> tuple[IssuePhoto, bytes]:
    issue = get_issue(actor, issue_id)
    item = db.session.get(IssuePhoto, photo_id)
    if item is None or item.issue_id != issue.id:
        raise NotFound(_("Not found."))
    return item, storage.get(item.sha256)


# --- deadlines -------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Escalate overdue open issues one level up, as the system actor.

    Review states fire their `escalate` transition (the next level takes over);
    other states move the responsible org node to its parent with a fresh deadline.
    Each escalation renews the deadline, so running the sweep again at once does
    nothing more (idempotent)."""
    now = now or utcnow()
    return overdue_loop(
        select(RenovationIssue.id).where(RenovationIssue.open.is_(True), RenovationIssue.due_at < now)
        .order_by(RenovationIssue.due_at), _escalate_one, ("escalated", "raised_to_parent", "at_top"),
        now)


def _overdue(issue: RenovationIssue | None, now: datetime) -> bool:
    return issue is not None and issue.open and issue.due_at is not None and issue.due_at < now


def _escalate_one(issue_id: int, now: datetime) -> str | None:
    """Escalate one issue found overdue; None if it no longer is (someone acted on it,
    or another sweep got there first), so that it is counted and escalated once."""
    issue = db.session.get(RenovationIssue, issue_id)
    if not _overdue(issue, now):
        return None
    if WORKFLOW.allowed(issue, engine.SYSTEM, "escalate"):
        try:
            # The version read above: if the issue moved meanwhile, the escalation is
            # refused (StaleVersion) instead of sending it up a second level.
            engine.fire(RenovationIssue, issue_id, "escalate", engine.SYSTEM, issue.version,
                        reason=_("Deadline passed: escalated automatically."))
            return "escalated"
        except StaleVersion:
            return None
        except (InvalidTransition, NotFound):
            return "at_top"
    with write_transaction():
        issue = lock(RenovationIssue, issue_id)
        if not _overdue(issue, now):
            return None
        if deadlines.refer_to_parent(issue, issue.responsible_org, now, default_days=5) is None:
            return "at_top"
        issue.escalations += 1
    return "raised_to_parent"
