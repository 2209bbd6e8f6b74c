"""Notifications and each person's choice of how to receive them.

The change that causes notifications writes, in its own transaction, one
`NotificationEvent` per change: who is to be told (each audience: a kind and a group of
recipients, such as the staff of an org node) and the values its words need. After the
commit it is fanned out (notify/events.py deliver_queued) into one notification per
recipient, as a kind, the subject it is about and the values its words need
(`params`); its title and text are put into words when read or mailed, in the reader's
language (notify/messages.py). Its delivery is chosen from the recipient's preference
for the kind when it is written: in the inbox only, by email at once (the outbox:
`email_state` pending -> sending -> sent, or failed after the last try), or in the
daily digest (`digest_token` set when a digest takes it).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from orgs.models import Person

# The kinds of notification, in the order the preferences page lists them.
ITEM_REACHED = "item_reached"
DEADLINE_NEAR = "deadline_near"
REFERRAL = "referral"
DISPATCH_RECEIVED = "dispatch_received"
VOTE_OPENED = "vote_opened"
NOTICE_PUBLISHED = "notice_published"
DEMAND_CHANGED = "demand_changed"
KINDS = {
    ITEM_REACHED: _l("An item reaches my level"),
    DEADLINE_NEAR: _l("A deadline two working days away"),
    REFERRAL: _l("An item referred up after its deadline"),
    DISPATCH_RECEIVED: _l("A task sent down to me"),
    VOTE_OPENED: _l("A vote opened where I live"),
    NOTICE_PUBLISHED: _l("A public notice where I live"),
    DEMAND_CHANGED: _l("My demand changes state"),
}

INAPP, EMAIL, DIGEST = "inapp", "email", "digest"
DELIVERIES = {
    INAPP: _l("In the inbox only"),
    EMAIL: _l("By email at once"),
    DIGEST: _l("In a daily email digest"),
}
DEFAULT_DELIVERY = INAPP

# The outbox of notifications to be mailed at once.
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (
        # The inbox: a person's notifications, newest first.
        Index("ix_notification_inbox", "person_id", "id"),
        # Partial indexes: a notification is written on the path of a transition, so it
        # enters only the indexes that concern it. The unread badge:
        Index("ix_notification_unread", "person_id", sqlite_where=text("read_at IS NULL"),
              postgresql_where=text("read_at IS NULL")),
        # The outbox of mail at once, and the notifications waiting for a digest:
        Index("ix_notification_outbox", "next_attempt_at", sqlite_where=text("email_state = 'pending'"),
              postgresql_where=text("email_state = 'pending'")),
        Index("ix_notification_digest", "person_id",
              sqlite_where=text("delivery = 'digest' AND digest_token IS NULL"),
              postgresql_where=text("delivery = 'digest' AND digest_token IS NULL")),
        # A notification that must not be written twice (a deadline already announced).
        Index("uq_notification_once", "person_id", "kind", "once_key", unique=True,
              sqlite_where=text("once_key IS NOT NULL"), postgresql_where=text("once_key IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text, default="{}")
    once_key: Mapped[Optional[str]] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    delivery: Mapped[str] = mapped_column(String(10), default=INAPP)
    email_state: Mapped[Optional[str]] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    digest_token: Mapped[Optional[str]] = mapped_column(String(40))

    person: Mapped[Person] = relationship()

    @property
    def data(self) -> dict:
        return json.loads(self.params or "{}")


class NotificationPreference(db.Model):
    """How a person receives one kind (no row: the default, in the inbox only)."""

    __tablename__ = "notification_preference"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))


class NotificationEvent(db.Model):
    """The transactional outbox of notifications: one row per change that tells someone,
    written in the change's transaction (a rolled-back change leaves none) and deleted
    when it is fanned out into per-person notifications after the commit.

    `audiences` lists "kind:recipients" pairs (recipients: a key of
    notify.events.RECIPIENTS), `targets` the recipients' parameters as JSON (org_id,
    person_id, estate_id...). No index but the key: the table holds only what waits for
    the fan-out, and each change adds one row and nothing else to its transaction."""

    __tablename__ = "notification_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    audiences: Mapped[str] = mapped_column(String(200))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text)
    targets: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
