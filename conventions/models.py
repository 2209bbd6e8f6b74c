"""Conventions (公约) and their versions, chapters, articles and consultation comments.

A convention has a kind and a scope (a community, an estate or a building); its
rows carry the path of the scope object, so jurisdiction is the usual prefix test.
Each version is a workflow subject with its own audit chain (conventions/workflow.py).
Articles are rows so that comments attach to them; their numbers (第一条 …) are
positions, renumbered automatically when the text changes.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conventions.numerals import article_label, chapter_label
from core.db import utcnow
from core.extensions import db
from core.types import PathColumnType, under_path
from orgs.models import Building, Estate, Household, OrgNode, Person, StairwellUnit
from rules import tally
from workflow import audit
from workflow.engine import WorkflowSubject

# The versions' states, grouped (the states themselves are declared in conventions/workflow.py).
PUBLIC_STATES = ("published", "superseded", "repealed")
# States residents of the scope do not see (the drafters' working text).
STAFF_ONLY_STATES = ("draft", "withdrawn")
OPEN_STATES = ("draft", "consultation", "street_review", "voting", "adopted", "filed")

KINDS = ("residents_convention", "ebike_shed", "management_rules", "other")
SCOPE_KINDS = ("community", "estate", "building")

# What a convention decides, for the voting rule (rules.tally.default_rule_for):
# the residents' convention is adopted by the residents' meeting (Organisation Law
# Art. 15); building an e-bike shed on common land changes the use of common parts
# (Civil Code Art. 278 item 8: three-quarters rule); management rules and other
# owners' matters take the majority rule.
SUBJECT_KINDS = {
    "residents_convention": tally.SubjectKind.RESIDENTS_CONVENTION,
    "ebike_shed": tally.SubjectKind.COMMON_PARTS_USE,
    "management_rules": tally.SubjectKind.MANAGEMENT_RULES,
    "other": tally.SubjectKind.OTHER,
}


class Convention(db.Model):
    __tablename__ = "convention"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('residents_convention', 'ebike_shed', 'management_rules', 'other')", name="kind_known"
        ),
        CheckConstraint("scope_kind IN ('community', 'estate', 'building')", name="scope_kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    scope_kind: Mapped[str] = mapped_column(String(20))
    # The community committee that drafts and supervises it (every scope has one).
    community_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"), index=True)
    estate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("estate.id"), index=True)
    building_id: Mapped[Optional[int]] = mapped_column(ForeignKey("building.id"), index=True)
    # Path of the scope object (org node, estate or building): jurisdiction.
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    community: Mapped[OrgNode] = relationship()
    estate: Mapped[Optional[Estate]] = relationship()
    building: Mapped[Optional[Building]] = relationship()
    versions: Mapped[list["ConventionVersion"]] = relationship(
        back_populates="convention", order_by="ConventionVersion.number",
        foreign_keys="ConventionVersion.convention_id",
    )

    @property
    def scope_label(self) -> str:
        if self.building is not None:
            return f"{self.building.estate.name} {self.building.number}"
        if self.estate is not None:
            return self.estate.name
        return self.community.name

    @property
    def subject_kind(self) -> tally.SubjectKind:
        return SUBJECT_KINDS[self.kind]

    def in_force(self) -> Optional["ConventionVersion"]:
        return next((v for v in self.versions if v.state == "published"), None)

    def public_versions(self) -> list["ConventionVersion"]:
        return [v for v in self.versions if v.state in PUBLIC_STATES]

    def household_filter(self):
        """SQL condition: a household lies in the convention's scope."""
        if self.building_id is not None:
            return Household.unit_id.in_(select(StairwellUnit.id).where(StairwellUnit.building_id == self.building_id))
        if self.estate_id is not None:
            return Household.estate_id == self.estate_id
        return under_path(Household.path, self.path)


@audit.register_subject
class ConventionVersion(WorkflowSubject, db.Model):
    """One version of a convention's text, walked from draft to published by the engine."""

    __tablename__ = "convention_version"
    __table_args__ = (
        UniqueConstraint("convention_id", "number"),
        Index("ix_convention_version_public", "convention_id", "state"),
    )
    subject_type = "convention_version"
    # `workflow` is set by conventions/workflow.py, which declares it.

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    based_on_id: Mapped[Optional[int]] = mapped_column(ForeignKey("convention_version.id"))
    preamble: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    # Why the text came back to the drafters (street review, failed vote), for everyone to read.
    public_note: Mapped[str] = mapped_column(Text, default="")
    # The vote: rule chosen by kind, the counts entered from the meeting record, the exact result.
    vote_rule: Mapped[Optional[str]] = mapped_column(String(60))
    vote_result: Mapped[Optional[str]] = mapped_column(Text)
    vote_passed: Mapped[Optional[bool]] = mapped_column(Boolean)
    vote_date: Mapped[Optional[date]] = mapped_column(Date)
    vote_reference: Mapped[str] = mapped_column(String(120), default="")
    adopted_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    # Filing (备案) with the street.
    filing_number: Mapped[Optional[str]] = mapped_column(String(80), unique=True)
    filing_date: Mapped[Optional[date]] = mapped_column(Date)
    filed_by_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"))
    # Publication: in force from the effective date until superseded or repealed.
    effective_date: Mapped[Optional[date]] = mapped_column(Date)
    published_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    ended_on: Mapped[Optional[date]] = mapped_column(Date)
    # The signed PDF (content address in core.storage).
    pdf_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    convention: Mapped[Convention] = relationship(back_populates="versions", foreign_keys=[convention_id])
    based_on: Mapped[Optional["ConventionVersion"]] = relationship(remote_side=[id])
    created_by: Mapped[Person] = relationship()
    filed_by_org: Mapped[Optional[OrgNode]] = relationship(foreign_keys=[filed_by_org_id])
    responsible_org: Mapped[Optional[OrgNode]] = relationship(foreign_keys="ConventionVersion.responsible_org_id")
    chapters: Mapped[list["ConventionChapter"]] = relationship(
        back_populates="version", order_by="ConventionChapter.position", cascade="all, delete-orphan"
    )
    articles: Mapped[list["ConventionArticle"]] = relationship(
        back_populates="version", order_by="ConventionArticle.number", cascade="all, delete-orphan"
    )
    comments: Mapped[list["ConventionComment"]] = relationship(
        back_populates="version", order_by="ConventionComment.id", cascade="all, delete-orphan"
    )

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    @property
    def vote_data(self) -> dict:
        return json.loads(self.vote_result) if self.vote_result else {}

    def vote_tally(self) -> Optional[tally.TallyResult]:
        """The stored result rebuilt exactly (so it can be described in any language)."""
        return result_from_dict(self.vote_data) if self.vote_result else None

    @property
    def building_id(self) -> Optional[int]:
        """The building a building-wide convention applies to (the default electorate of a ballot)."""
        return self.convention.building_id

    def loose_articles(self) -> list["ConventionArticle"]:
        return [a for a in self.articles if a.chapter_id is None]

    def is_personal_to(self, person) -> bool:
        """Residents and owners living in the convention's scope."""
        ids = getattr(person, "household_ids", None)
        if not ids:
            return False
        found = db.session.scalar(
            select(Household.id).where(Household.id.in_(ids), self.convention.household_filter()).limit(1)
        )
        return found is not None

    # Engine hooks -------------------------------------------------------------

    def responsible_org_for(self, state):
        community = self.convention.community
        if state.level == "community_committee":
            return community
        if state.level == "street_committee":
            return community.parent
        return None


class ConventionChapter(db.Model):
    __tablename__ = "convention_chapter"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_version.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))

    version: Mapped[ConventionVersion] = relationship(back_populates="chapters")
    articles: Mapped[list["ConventionArticle"]] = relationship(
        back_populates="chapter", order_by="ConventionArticle.number"
    )

    @property
    def label(self) -> str:
        return chapter_label(self.position)


class ConventionArticle(db.Model):
    __tablename__ = "convention_article"
    __table_args__ = (
        UniqueConstraint("version_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_version.id"), index=True)
    chapter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("convention_chapter.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    version: Mapped[ConventionVersion] = relationship(back_populates="articles")
    chapter: Mapped[Optional[ConventionChapter]] = relationship(back_populates="articles")

    @property
    def label(self) -> str:
        return article_label(self.number)


class ConventionComment(db.Model):
    """A resident's view on one article (or on the whole text) during consultation, and
    the drafters' answer. The article's number and text at the time are kept, so the
    consultation record stays readable after the text is revised."""

    __tablename__ = "convention_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_version.id"), index=True)
    article_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("convention_article.id", ondelete="SET NULL"), index=True
    )
    article_number: Mapped[Optional[int]] = mapped_column(Integer)
    article_text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    answered_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    version: Mapped[ConventionVersion] = relationship(back_populates="comments")
    article: Mapped[Optional[ConventionArticle]] = relationship()
    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[Optional[Person]] = relationship(foreign_keys=[answered_by_id])

    @property
    def answered(self) -> bool:
        return bool(self.answer)

    @property
    def article_label(self) -> str:
        return article_label(self.article_number) if self.article_number else ""


# --- stored vote results -------------------------------------------------------------

_CHECK_GROUPS = {
    "participation_area": (tally.Group.PARTICIPATING, tally.Group.ENTITLED),
    "participation_heads": (tally.Group.PARTICIPATING, tally.Group.ENTITLED),
    "quorum": (tally.Group.PARTICIPATING, tally.Group.ENTITLED),
    "consent_area": (tally.Group.AGREEING, tally.Group.PARTICIPATING),
    "consent_heads": (tally.Group.AGREEING, tally.Group.PARTICIPATING),
    "entitled_consent_area": (tally.Group.AGREEING, tally.Group.ENTITLED),
    "entitled_consent_heads": (tally.Group.AGREEING, tally.Group.ENTITLED),
    "decision": (tally.Group.AGREEING, tally.Group.PARTICIPATING),
}


def result_from_dict(data: dict) -> tally.TallyResult:
    """A TallyResult from TallyResult.as_dict() (exact strings back to Decimal/Fraction)."""
    checks = tuple(
        tally.Check(c["name"], tally.Measure(c["measure"]), *_CHECK_GROUPS[c["name"]],
                    Fraction(c["part"]), Fraction(c["whole"]),
                    tally.Threshold(Fraction(c["required"]), c["inclusive"]), c["met"])
        for c in data["checks"]
    )
    areas = {name: Decimal(str(data[name])) for name in data if name.endswith("_area")}
    heads = {name: int(data[name]) for name in data if name.endswith("_heads")}
    return tally.TallyResult(rule=tally.get_rule(data["rule"], data.get("city", tally.DEFAULT_CITY)),
                             checks=checks, passed=bool(data["passed"]), **areas, **heads)
