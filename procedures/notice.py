"""Public notice (公示): the published text, the notice period and written objections.

The period is counted in calendar days from the city policy (rules/policy.py:
7 by default, 15 for elevator retrofits). Following Civil Code Arts. 201 and 203,
the day of publication is not counted and the period ends at 24:00 (Asia/Shanghai)
of its last day. An issue may leave notice only after the period has passed and
every written objection has been answered or withdrawn (the conditions of the
`start_construction` transition in issues/renovation.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from orgs import permissions
from orgs import roles as R
from orgs.models import Household, Person
from rules.calendar import add_calendar_days
from rules.policy import current_policy
from workflow import engine
from procedures.subjects import (
    EVERYONE, VIEW_OWN, VIEW_SUBTREE, Target, TargetLink, lives_in_estate, resolve_for, workplace_filter,
)

permissions.register("notice.view", subtree=VIEW_SUBTREE, own=VIEW_OWN)
permissions.register("notice.publish", subtree=R.OFFICERS)
# Residents and owners of the estate (Notice.is_personal_to).
permissions.register("notice.object", own=EVERYONE)
permissions.register("notice.answer", subtree=(R.COMMUNITY_OFFICER,))

MAX_TEXT = 5000
OBJECTION_STATES = ("open", "answered", "withdrawn")
OBJECTION_LABELS = {
    "open": _l("Awaiting an answer"),
    "answered": _l("Answered"),
    "withdrawn": _l("Withdrawn"),
}


class Notice(TargetLink, db.Model):
    """One public notice of a decision about a target."""

    __tablename__ = "public_notice"
    __table_args__ = (
        CheckConstraint("days > 0", name="days_positive"),
        Index("ix_public_notice_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    vote_id: Mapped[Optional[int]] = mapped_column(ForeignKey("vote.id"))

    published_by: Mapped[Person] = relationship()
    objections: Mapped[list["Objection"]] = relationship(
        back_populates="notice", order_by="Objection.id", cascade="all, delete-orphan"
    )

    def is_running(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) <= self.ends_at

    def period_over(self, now: datetime | None = None) -> bool:
        return not self.is_running(now)

    @property
    def open_objections(self) -> int:
        return sum(1 for objection in self.objections if objection.status == "open")


class Objection(db.Model):
    """A written objection filed during the notice period, and its answer."""

    __tablename__ = "notice_objection"
    __table_args__ = (CheckConstraint("status IN ('open', 'answered', 'withdrawn')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("public_notice.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[Optional[int]] = mapped_column(ForeignKey("household.id"))
    body: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    notice: Mapped[Notice] = relationship(back_populates="objections")
    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[Optional[Person]] = relationship(foreign_keys=[answered_by_id])
    household: Mapped[Optional[Household]] = relationship()


# --- the period ----------------------------------------------------------------------


def notice_days(subcategory: str = "") -> int:
    return current_policy().notice_days(subcategory)


def period_end(published_at: datetime, days: int) -> datetime:
    """24:00 local time of the `days`-th calendar day after publication (Civil Code
    Arts. 201, 203: the first day is not counted), as naive UTC."""
    return add_calendar_days(published_at, days)


# --- publishing ----------------------------------------------------------------------


def clean_text(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def create_notice(actor, target: Target, *, title: str, body: str, days: int, vote_id: int | None = None) -> Notice:
    """Publish a notice now (inside the caller's transaction)."""
    if not body.strip():
        raise ValidationError(_("The notice needs its text."), fields={"body": _("This field is required.")})
    now = utcnow()
    notice = Notice(
        target_type=target.type, target_id=target.id, estate_id=target.estate_id, path=target.path,
        title=clean_text(title, 200) or target.label[:200], body=clean_text(body, MAX_TEXT), days=days,
        published_at=now, ends_at=period_end(now, days), published_by_id=actor.id, vote_id=vote_id,
    )
    db.session.add(notice)
    db.session.flush()
    engine.announce(notice, "publish_notice", actor)  # notifications of the residents (notify/)
    return notice


def publish_notice(actor, target_type: str, target_id: int, *, title: str, body: str,
                   days: int | None = None) -> Notice:
    """Publish a notice about any target (conventions, plans; or an issue on notice without one)."""
    with write_transaction():
        target = resolve_for(actor, target_type, target_id)
        permissions.require(actor, "notice.publish", target)
        minimum = notice_days(target.subcategory)
        days = minimum if days is None else days
        if days < minimum:
            raise ValidationError(_("The notice period must be at least %(days)d days.", days=minimum),
                                  fields={"days": _("Too short.")})
        return create_notice(actor, target, title=title, body=body, days=days)


def latest_notice(target_type: str, target_id: int) -> Optional[Notice]:
    return db.session.scalar(
        select(Notice).where(Notice.target_type == target_type, Notice.target_id == target_id)
        .order_by(Notice.id.desc()).limit(1)
    )


def notices_with_vote(vote_id: int) -> list[Notice]:
    """The notices that put a vote's result on display."""
    return list(db.session.scalars(select(Notice).where(Notice.vote_id == vote_id).order_by(Notice.id)))


def notices_for(target_type: str, target_id: int) -> list[Notice]:
    return list(db.session.scalars(
        select(Notice).where(Notice.target_type == target_type, Notice.target_id == target_id).order_by(Notice.id)
    ))


# --- objections ----------------------------------------------------------------------


def get_notice(actor, notice_id: int, action: str = "notice.view") -> Notice:
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, notice)
    return notice


def _own_household(actor, notice: Notice) -> int | None:
    return db.session.scalar(
        select(Household.id).where(Household.id.in_(actor.household_ids or [-1]), Household.estate_id == notice.estate_id)
        .order_by(Household.id).limit(1)
    )


def file_objection(actor, notice_id: int, body: str) -> Objection:
    """A resident or owner of the estate files a written objection while the notice runs."""
    text = clean_text(body, MAX_TEXT)
    if not text:
        raise ValidationError(_("Write your objection."), fields={"body": _("This field is required.")})
    with write_transaction():
        notice = lock(Notice, notice_id)
        if notice is None:
            raise NotFound(_("Not found."))
        permissions.require(actor, "notice.object", notice)
        if not lives_in_estate(actor, notice.estate_id):
            raise NotPermitted(_("Only residents and owners of the estate may file objections."))
        if notice.period_over():
            raise InvalidTransition(_("The notice period has ended: objections can no longer be filed."))
        objection = Objection(notice_id=notice.id, author_id=actor.id, household_id=_own_household(actor, notice),
                              body=text, filed_at=utcnow(), status="open")
        db.session.add(objection)
        db.session.flush()
    return objection


def _lock_objection(objection_id: int) -> tuple[Objection, Notice]:
    objection = lock(Objection, objection_id)
    if objection is None:
        raise NotFound(_("Not found."))
    notice = lock(Notice, objection.notice_id)
    return objection, notice


def answer_objection(actor, objection_id: int, answer: str) -> Objection:
    """The community answers in writing; the answer is shown with the objection."""
    text = clean_text(answer, MAX_TEXT)
    if not text:
        raise ValidationError(_("Write the answer."), fields={"answer": _("This field is required.")})
    with write_transaction():
        objection, notice = _lock_objection(objection_id)
        permissions.require(actor, "notice.answer", notice)
        if objection.status != "open":
            raise InvalidTransition(_("This objection has already been answered or withdrawn."))
        objection.status, objection.answer = "answered", text
        objection.answered_by_id, objection.answered_at = actor.id, utcnow()
    return objection


def withdraw_objection(actor, objection_id: int) -> Objection:
    """Only the resident who filed it may withdraw an objection."""
    with write_transaction():
        objection, notice = _lock_objection(objection_id)
        permissions.require(actor, "notice.view", notice)
        if objection.author_id != actor.id:
            raise NotPermitted(_("Only the person who filed an objection may withdraw it."))
        if objection.status != "open":
            raise InvalidTransition(_("This objection has already been answered or withdrawn."))
        objection.status, objection.withdrawn_at = "withdrawn", utcnow()
    return objection


def visible_notices(actor, limit: int = 100) -> list[Notice]:
    conditions = [permissions.jurisdiction_filter(actor, Notice.path, "notice.view")]
    conditions.append(workplace_filter(actor, Notice))
    if actor.household_ids:
        conditions.append(Notice.estate_id.in_(select(Household.estate_id).where(Household.id.in_(actor.household_ids))))
    return list(db.session.scalars(select(Notice).where(or_(*conditions)).order_by(Notice.id.desc()).limit(limit)))
