"""The inbox and the preferences: one function each, called by the pages, the JSON
API and the CLI; and the sweep step that announces deadlines two working days away."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from core.db import utcnow, write_transaction
from core.errors import NotFound, ValidationError
from core.extensions import db
from dispatch.models import Dispatch, DispatchAssignment
from issues.models import RenovationIssue
from notify import events
from notify.models import DEADLINE_NEAR, DEFAULT_DELIVERY, DELIVERIES, KINDS, Notification, NotificationPreference
from orgs.models import Person
from rules.calendar import add_working_days

NEAR_WORKING_DAYS = 2
EMAIL_MAX = 254
# A plain check (one @, a dot in the domain, no spaces): the mail server has the last word.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- the inbox -----------------------------------------------------------------------------


def inbox(person, *, page: int = 1, per_page: int = 30, unread_only: bool = False) -> tuple[list[Notification], int]:
    """A page of the person's notifications, newest first, and how many there are
    (what still waits for its fan-out is fanned out first)."""
    events.deliver_queued()
    where = [Notification.person_id == person.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    rows = db.session.scalars(
        select(Notification).where(*where).order_by(Notification.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def unread_count(person) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.person_id == person.id, Notification.read_at.is_(None))
    ) or 0


def get_notification(person, notification_id: int) -> Notification:
    """The person's own notification; anyone else's is not found (404)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.person_id != person.id:
        raise NotFound(_("Not found."))
    return notification


def mark_read(person, notification_id: int) -> Notification:
    with write_transaction():
        notification = get_notification(person, notification_id)
        if notification.read_at is None:
            notification.read_at = utcnow()
    return notification


def mark_all_read(person) -> int:
    with write_transaction():
        result = db.session.execute(
            update(Notification).where(Notification.person_id == person.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
    return result.rowcount


# --- preferences -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    email: str
    deliveries: dict[str, str]  # kind -> delivery


def preferences(person) -> Preferences:
    chosen = dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.delivery)
        .where(NotificationPreference.person_id == person.id)
    ).tuples().all())
    return Preferences(person.email or "", {kind: chosen.get(kind, DEFAULT_DELIVERY) for kind in KINDS})


def clean_email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX or not EMAIL_RE.match(text):
        raise ValidationError(_("Some information is missing or invalid."),
                              fields={"email": _("Not a valid email address.")})
    return text


def save_preferences(person, deliveries: dict[str, str], email: str | None) -> Preferences:
    """Set the person's email address and delivery per kind (kinds left out keep theirs)."""
    errors = {kind: _("Unknown choice.") for kind, delivery in deliveries.items()
              if kind in KINDS and delivery not in DELIVERIES}
    errors.update({kind: _("Unknown kind.") for kind in deliveries if kind not in KINDS})
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)
    address = clean_email(email)
    with write_transaction():
        row = db.session.get(Person, person.id)
        row.email = address
        for kind, delivery in deliveries.items():
            db.session.execute(delete(NotificationPreference).where(
                NotificationPreference.person_id == person.id, NotificationPreference.kind == kind))
            if delivery != DEFAULT_DELIVERY:
                db.session.add(NotificationPreference(person_id=person.id, kind=kind, delivery=delivery))
    return preferences(row)


# --- deadlines two working days away (a step of the sweep) ---------------------------------


def _near(model, now: datetime, horizon: datetime):
    return (model.due_at > now, model.due_at <= horizon, model.responsible_org_id.is_not(None))


def announce_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Tell the staff answering for each open item due within two working days, once
    per deadline (a new deadline, after a referral, is told again)."""
    now = now or utcnow()
    horizon = add_working_days(now, NEAR_WORKING_DAYS)
    issues = db.session.execute(
        select(RenovationIssue.id, RenovationIssue.title, RenovationIssue.state, RenovationIssue.due_at,
               RenovationIssue.responsible_org_id)
        .where(RenovationIssue.open.is_(True), *_near(RenovationIssue, now, horizon))
    ).all()
    assignments = db.session.execute(
        select(DispatchAssignment.id, Dispatch.title, DispatchAssignment.state, DispatchAssignment.due_at,
               DispatchAssignment.responsible_org_id, Dispatch.id)
        .join(Dispatch, Dispatch.id == DispatchAssignment.dispatch_id)
        .where(*_near(DispatchAssignment, now, horizon))
    ).all()
    db.session.rollback()  # end the read
    told = 0
    with write_transaction():
        for ident, title, state, due_at, org_id in issues:
            told += events.write(
                DEADLINE_NEAR, RenovationIssue.subject_type, ident,
                {"title": title, "state": state, "due_at": due_at}, "staff", org_id=org_id,
                once_key=f"{RenovationIssue.subject_type}:{ident}:{due_at.isoformat()}")
        for ident, title, state, due_at, org_id, dispatch_id in assignments:
            told += events.write(
                DEADLINE_NEAR, DispatchAssignment.subject_type, ident,
                {"title": title, "due_at": due_at, "dispatch_id": dispatch_id}, "staff", org_id=org_id,
                once_key=f"{DispatchAssignment.subject_type}:{ident}:{due_at.isoformat()}")
    return {"deadline_notifications": told}
