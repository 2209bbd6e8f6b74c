"""The administration log and household claims."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from core.types import PathColumnType
from orgs.models import Household, Person


class AdminLog(db.Model):
    """One line per administrative change (accounts, roles, the org tree, places): who did
    what to which object, when. Append-only: written in the same transaction as the change."""

    __tablename__ = "admin_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(PathColumnType(), index=True, default="/")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    actor: Mapped[Optional[Person]] = relationship(foreign_keys=[actor_id])


PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class HouseholdClaim(db.Model):
    """A resident's claim to live in a household. Approved at once when the owner's mobile
    given matches an owner of the household in the roster, otherwise decided by the grid
    worker of the building."""

    __tablename__ = "household_claim"
    __table_args__ = (CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    owner_phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    decided_by: Mapped[Optional[Person]] = relationship(foreign_keys=[decided_by_id])
    household: Mapped[Household] = relationship()

    def is_personal_to(self, person) -> bool:
        return self.person_id == person.id
