"""Org tree, places and people.

Every org node carries a materialized path ("/1/4/17/") so that "everything under
this node" is one indexed prefix query. Places carry the path of the org node
responsible for them, so jurisdiction over places is the same prefix test.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    bindparam,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import utcnow
from core.extensions import db
from core.types import PathColumnType, under_path



class OrgLevel(db.Model):
    __tablename__ = "org_level"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(60))


class OrgNode(db.Model):
    __tablename__ = "org_node"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"), index=True)
    level_code: Mapped[str] = mapped_column(ForeignKey("org_level.code"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    path: Mapped[str] = mapped_column(PathColumnType(), index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # For member_household nodes: the Party member's own household.
    household_id: Mapped[Optional[int]] = mapped_column(ForeignKey("household.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[Optional["OrgNode"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["OrgNode"]] = relationship(back_populates="parent", order_by="OrgNode.code")
    level: Mapped[OrgLevel] = relationship(lazy="joined")
    liaison_households: Mapped[list["Household"]] = relationship(
        secondary="liaison_household", order_by="Household.id"
    )

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this node, read off the path."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<OrgNode {self.code} {self.level_code}>"


_NODE_LEVELS = select(OrgNode.id, OrgNode.level_code).where(OrgNode.id.in_(bindparam("ids", expanding=True)))


def node_at_level(path: str, level_code: str) -> int | None:
    """The id of the node at `level_code` on `path` (org node ids from the root down;
    the nearest to the end of the path if the level occurs twice), or None.

    An org node's level and its place in the tree never change (nodes are added, never
    moved, re-levelled or deleted), so each node's level is read from the database once
    and remembered by the application, and so is each answer: fire() asks this on every
    level change, mostly for paths it has seen before."""
    answers: dict[tuple[str, str], int | None] = current_app.extensions.setdefault("wuji.node_at_level", {})
    key = (path, level_code)
    answer = answers.get(key, _UNKNOWN)
    if answer is not _UNKNOWN:
        return answer
    ids = [int(part) for part in path.strip("/").split("/") if part]
    levels: dict[int, str] = current_app.extensions.setdefault("wuji.org_node_levels", {})
    missing = [node_id for node_id in ids if node_id not in levels]
    if missing:
        rows = db.session.execute(_NODE_LEVELS, {"ids": missing}).all()
        levels.update({row.id: row.level_code for row in rows})
    answer = next((node_id for node_id in reversed(ids) if levels.get(node_id) == level_code), None)
    if len(answers) >= _NODE_AT_LEVEL_ANSWERS:
        answers.clear()  # a bound on memory; the levels themselves stay remembered
    answers[key] = answer
    return answer


_NODE_AT_LEVEL_ANSWERS = 200_000
_UNKNOWN = object()


def _lives_under(person, condition) -> bool:
    """Does the person live in (or, as a member household, look after) a household meeting
    `condition`? Residents raise issues about their unit, building and estate."""
    ids = set(getattr(person, "household_ids", ()) or ())
    member_orgs = [m.org_id for m in getattr(person, "memberships", ()) if m.role == "member_household"]
    mine = [Household.id.in_(ids)] if ids else []
    if member_orgs:
        mine.append(Household.id.in_(
            select(LiaisonHousehold.household_id).where(LiaisonHousehold.org_id.in_(member_orgs))))
    if not mine:
        return False
    return db.session.scalar(select(Household.id).where(condition, or_(*mine)).limit(1)) is not None


class Estate(db.Model):
    """A residential estate (小区), answered for by an org node (usually a community committee)."""

    __tablename__ = "estate"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255), default="")
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)

    org: Mapped[OrgNode] = relationship()
    buildings: Mapped[list["Building"]] = relationship(
        back_populates="estate", order_by="Building.sort_key", cascade="all, delete-orphan"
    )

    def is_personal_to(self, person) -> bool:
        """The estate of the person's household: its public areas are theirs to report on."""
        return _lives_under(person, Household.estate_id == self.id)


class Building(db.Model):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    # The building group (楼院党小组) responsible; None means the estate's org answers for it.
    org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)

    estate: Mapped[Estate] = relationship(back_populates="buildings")
    org: Mapped[Optional[OrgNode]] = relationship()
    units: Mapped[list["StairwellUnit"]] = relationship(
        back_populates="building", order_by="StairwellUnit.sort_key", cascade="all, delete-orphan"
    )

    def is_personal_to(self, person) -> bool:
        return _lives_under(person, Household.unit_id.in_(
            select(StairwellUnit.id).where(StairwellUnit.building_id == self.id)))


def estate_reaches(estate_id: int, org_path: str) -> bool:
    """Does the org node at `org_path` hold part of the estate: the estate itself or one of
    its buildings lies in its subtree? (A grid holds some buildings of an estate that its
    community answers for as a whole.)"""
    high = org_path[:-1] + chr(ord(org_path[-1]) + 1)  # as core.types.under_path
    found = db.session.execute(_ESTATE_REACHES, {"estate_id": estate_id, "low": org_path, "high": high}).first()
    return found is not None


_ESTATE_REACHES = select(Building.id).where(
    Building.estate_id == bindparam("estate_id"),
    Building.path >= bindparam("low"), Building.path < bindparam("high"),
).limit(1)


def estates_reached(paths: list[str]):
    """SELECT of the ids of the estates that lie in, or have a building in, the subtrees at
    `paths` (org node paths)."""
    if not paths:
        return select(Estate.id).where(false())
    if "/" in paths:
        return select(Estate.id)
    return select(Building.estate_id).where(or_(*(under_path(Building.path, p) for p in paths))).union(
        select(Estate.id).where(or_(*(under_path(Estate.path, p) for p in paths))))


class StairwellUnit(db.Model):
    __tablename__ = "stairwell_unit"
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)

    building: Mapped[Building] = relationship(back_populates="units")
    households: Mapped[list["Household"]] = relationship(
        back_populates="unit", order_by="Household.sort_key", cascade="all, delete-orphan"
    )

    def is_personal_to(self, person) -> bool:
        return _lives_under(person, Household.unit_id == self.id)


class Household(db.Model):
    """One exclusive unit (户) with its registered floor area (专有部分面积)."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("unit_id", "room"),
        CheckConstraint("area >= 0", name="area_not_negative"),
        CheckConstraint("adult_count >= 0", name="adults_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("stairwell_unit.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    room: Mapped[str] = mapped_column(String(40))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    adult_count: Mapped[int] = mapped_column(Integer, default=0)
    # Unsold by the developer: all unsold units of an electorate count as one person.
    unsold: Mapped[bool] = mapped_column(Boolean, default=False)
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)

    unit: Mapped[StairwellUnit] = relationship(back_populates="households")
    estate: Mapped[Estate] = relationship()
    people: Mapped[list["HouseholdPerson"]] = relationship(
        back_populates="household", cascade="all, delete-orphan"
    )

    @property
    def owners(self) -> list["Person"]:
        return [link.person for link in self.people if link.relation == "owner"]

    @property
    def label(self) -> str:
        building = self.unit.building
        return f"{building.estate.name} {building.number} {self.unit.number} {self.room}"

    def is_personal_to(self, person) -> bool:
        """Own household, or a neighbour household (联系户) of the person's member household node."""
        if self.id in person.household_ids:
            return True
        member_orgs = [m.org_id for m in person.memberships if m.role == "member_household"]
        if not member_orgs:
            return False
        return any(db.session.get(LiaisonHousehold, (org_id, self.id)) is not None for org_id in member_orgs)


class Person(UserMixin, db.Model):
    """Anyone the system knows: staff with accounts, owners and residents (maybe without one)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    username: Mapped[Optional[str]] = mapped_column(String(80), unique=True)
    phone: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change so that other sessions and remember-me cookies die.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # Set when an administrator resets the password: the person must choose a new one at next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    locale: Mapped[Optional[str]] = mapped_column(String(20))
    email: Mapped[Optional[str]] = mapped_column(String(254))  # for notifications by mail (notify/)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )
    household_links: Mapped[list["HouseholdPerson"]] = relationship(back_populates="person")

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.must_change_password = False

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def household_ids(self) -> set[int]:
        return {link.household_id for link in self.household_links}


class HouseholdPerson(db.Model):
    """A person's tie to a household: owner (业主) or resident (居民)."""

    __tablename__ = "household_person"
    __table_args__ = (CheckConstraint("relation IN ('owner', 'resident')", name="relation_known"),)

    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(20), primary_key=True)

    household: Mapped[Household] = relationship(back_populates="people")
    person: Mapped[Person] = relationship(back_populates="household_links")


class Membership(db.Model):
    """A person acts in a role for an org node, within that node's subtree."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("person_id", "org_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="memberships")
    org: Mapped[OrgNode] = relationship(lazy="joined")


class LiaisonHousehold(db.Model):
    """A neighbour household (联系户) looked after by a member household node."""

    __tablename__ = "liaison_household"

    org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True, index=True)


class LoginAttempt(db.Model):
    """Failed logins, counted per account name and per client address for throttling."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ApiToken(db.Model):
    """A personal API token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    person: Mapped[Person] = relationship()


class RosterImport(db.Model):
    """A roster file uploaded on the web page, imported by a job outside the request
    (orgs.roster.run_import_job). Its state lives here, so that any app process shows
    the progress and a job whose process died is seen as interrupted.

    The summary and the problems are stored as text in the language of the upload.
    """

    __tablename__ = "roster_import"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        CheckConstraint("phase IS NULL OR phase IN ('read', 'write')", name="phase_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"), index=True)
    # Who uploaded the file: the job acts as them.
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))  # the file in core.storage
    size: Mapped[int] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    phase: Mapped[Optional[str]] = mapped_column(String(10))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[Optional[int]] = mapped_column(Integer)
    summary: Mapped[Optional[str]] = mapped_column(db.Text)
    counts: Mapped[Optional[dict]] = mapped_column(db.JSON)
    errors: Mapped[Optional[list]] = mapped_column(db.JSON)  # the first problems, as text
    errors_total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # the job's last sign of life
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    estate: Mapped[Estate] = relationship()
    person: Mapped[Person] = relationship()

    def state(self, stale_before: datetime) -> str:
        """The status, or "stale" for a queued or running job without a sign of life since
        `stale_before` (its process died, or no runner picks jobs up)."""
        if self.status in ("queued", "running") and self.updated_at < stale_before:
            return "stale"
        return self.status
