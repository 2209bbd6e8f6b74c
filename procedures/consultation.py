"""Consultation (议事协商): meeting records and residents' comments, each answerable.

A meeting of the renovation task force or of residents is recorded against a target
(an issue, an estate plan, later a convention version): date, place, participants
by role, agenda, minutes, decisions and attachments (kept in core.storage by their
SHA-256). Residents and owners of the estate comment on a target; staff answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import storage
from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from orgs import permissions
from orgs import roles as R
from orgs.models import Person
from procedures.subjects import EVERYONE, VIEW_OWN, VIEW_SUBTREE, TargetLink, Workplace, lives_in_estate, resolve_for

permissions.register("consultation.view", subtree=VIEW_SUBTREE, own=VIEW_OWN)
permissions.register("consultation.record", subtree=R.OFFICERS)
# Residents and owners of the target's estate.
permissions.register("consultation.comment", own=EVERYONE)
# Checked on the comment's Workplace: grid workers and building group leaders working in the estate.
permissions.register("consultation.answer", subtree=R.OFFICERS, own=(R.GRID_WORKER, R.BUILDING_GROUP_LEADER))

MEETING_KINDS = {
    "task_force": _l("Renovation task force meeting"),
    "residents": _l("Residents' consultation meeting"),
}
PARTICIPANT_ROLES = {
    "street": _l("Street Party working committee"),
    "community": _l("Community Party committee"),
    "grid": _l("Grid worker"),
    "building_group": _l("Building Party group"),
    "member_household": _l("Party member household"),
    "resident": _l("Resident or owner representative"),
    "owners_committee": _l("Owners' committee"),
    "property": _l("Property management company"),
    "design": _l("Design firm"),
    "construction": _l("Construction company"),
    "supervision": _l("Supervision company"),
    "utility": _l("Utility company"),
    "other": _l("Other"),
}
MAX_TEXT = 20000
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_TYPES = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/pdf": b"%PDF-",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04",
}


class Meeting(TargetLink, db.Model):
    __tablename__ = "consultation_meeting"
    __table_args__ = (
        CheckConstraint("kind IN ('task_force', 'residents')", name="kind_known"),
        Index("ix_consultation_meeting_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    recorded_by: Mapped[Person] = relationship()
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="meeting", order_by="Participant.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="meeting", order_by="Attachment.id", cascade="all, delete-orphan"
    )


class Participant(db.Model):
    __tablename__ = "meeting_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("consultation_meeting.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))

    meeting: Mapped[Meeting] = relationship(back_populates="participants")


class Attachment(db.Model):
    __tablename__ = "meeting_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("consultation_meeting.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="attachments")


class Comment(TargetLink, db.Model):
    """A resident's comment on a target (usually the estate plan) and the staff's answer."""

    __tablename__ = "consultation_comment"
    __table_args__ = (Index("ix_consultation_comment_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[Optional[Person]] = relationship(foreign_keys=[answered_by_id])


# --- meetings ------------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MeetingRecord:
    kind: str
    held_on: date | None
    place: str
    agenda: str = ""
    minutes: str = ""
    decisions: str = ""
    participants: tuple[tuple[str, str], ...] = ()  # (role, name)
    attachments: tuple[File, ...] = field(default_factory=tuple)


def _clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


def _check_record(record: MeetingRecord) -> None:
    errors: dict[str, str] = {}
    if record.kind not in MEETING_KINDS:
        errors["kind"] = _("Choose the kind of meeting.")
    if record.held_on is None:
        errors["held_on"] = _("Give the date of the meeting.")
    if not _clean(record.place, 200):
        errors["place"] = _("Give the place of the meeting.")
    if not (_clean(record.minutes, MAX_TEXT) or _clean(record.decisions, MAX_TEXT)):
        errors["minutes"] = _("Record the minutes or the decisions.")
    for role, name in record.participants:
        if role not in PARTICIPANT_ROLES or not _clean(name, 80):
            errors["participants"] = _("Give each participant's role and name.")
    _check_files(record.attachments, errors)
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)


def _check_files(files: tuple[File, ...], errors: dict[str, str]) -> None:
    if len(files) > MAX_ATTACHMENTS:
        errors["attachments"] = _("At most %(n)d attachments.", n=MAX_ATTACHMENTS)
    for item in files:
        magic = ATTACHMENT_TYPES.get(item.content_type)
        if magic is None or not item.data.startswith(magic) or len(item.data) > MAX_ATTACHMENT_BYTES:
            errors["attachments"] = _("%(name)s: attachments must be JPEG, PNG, PDF or Word (.docx) files "
                                      "of at most 20 MB.", name=item.filename)


def target_is_open(target) -> bool:
    """Meetings are recorded for items still in progress (a closed issue takes none)."""
    return getattr(target.obj, "open", True) is not False


def record_meeting(actor, target_type: str, target_id: int, record: MeetingRecord) -> Meeting:
    _check_record(record)
    with write_transaction():
        target = resolve_for(actor, target_type, target_id)
        permissions.require(actor, "consultation.record", target)
        if not target_is_open(target):
            raise InvalidTransition(_("This item is closed: no more meetings are recorded for it."))
        meeting = Meeting(
            target_type=target.type, target_id=target.id, estate_id=target.estate_id, path=target.path,
            kind=record.kind, held_on=record.held_on, place=_clean(record.place, 200),
            agenda=_clean(record.agenda, MAX_TEXT), minutes=_clean(record.minutes, MAX_TEXT),
            decisions=_clean(record.decisions, MAX_TEXT), recorded_by_id=actor.id,
        )
        meeting.participants = [Participant(role=role, name=_clean(name, 80)) for role, name in record.participants]
        meeting.attachments = [_stored(actor, item) for item in record.attachments]
        db.session.add(meeting)
        db.session.flush()
    return meeting


def _stored(actor, item: File) -> Attachment:
    return Attachment(filename=_clean(item.filename, 200) or "attachment", content_type=item.content_type,
                      sha256=storage.put(item.data), size=len(item.data), uploaded_by_id=actor.id)


def get_meeting(actor, meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, "consultation.view", meeting)
    return meeting


def attachment(actor, meeting_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
    meeting = get_meeting(actor, meeting_id)
    item = db.session.get(Attachment, attachment_id)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound(_("Not found."))
    return item, storage.get(item.sha256)


def meetings_for(target_type: str, target_id: int) -> list[Meeting]:
    return list(db.session.scalars(
        select(Meeting).where(Meeting.target_type == target_type, Meeting.target_id == target_id)
        .order_by(Meeting.held_on, Meeting.id)
    ))


# --- comments ------------------------------------------------------------------------


def add_comment(actor, target_type: str, target_id: int, body: str) -> Comment:
    text = _clean(body, MAX_TEXT)
    if not text:
        raise ValidationError(_("Write your comment."), fields={"body": _("This field is required.")})
    with write_transaction():
        target = resolve_for(actor, target_type, target_id)
        permissions.require(actor, "consultation.comment", target)
        if not lives_in_estate(actor, target.estate_id):
            raise NotPermitted(_("Only residents and owners of the estate may comment here."))
        comment = Comment(target_type=target.type, target_id=target.id, estate_id=target.estate_id,
                          path=target.path, author_id=actor.id, body=text, created_at=utcnow())
        db.session.add(comment)
        db.session.flush()
    return comment


def answer_comment(actor, comment_id: int, answer: str) -> Comment:
    text = _clean(answer, MAX_TEXT)
    if not text:
        raise ValidationError(_("Write the answer."), fields={"answer": _("This field is required.")})
    with write_transaction():
        comment = lock(Comment, comment_id)
        if comment is None:
            raise NotFound(_("Not found."))
        permissions.require(actor, "consultation.view", comment)
        if not permissions.can(actor, "consultation.answer", Workplace(comment.path, comment.estate_id)):
            raise NotPermitted(_("You are not permitted to do this."))
        if comment.answer:
            raise InvalidTransition(_("This comment has already been answered."))
        comment.answer, comment.answered_by_id, comment.answered_at = text, actor.id, utcnow()
    return comment


def comments_for(target_type: str, target_id: int) -> list[Comment]:
    return list(db.session.scalars(
        select(Comment).where(Comment.target_type == target_type, Comment.target_id == target_id)
        .order_by(Comment.id)
    ))
