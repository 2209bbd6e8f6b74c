"""What consultations, votes and notices are about: a generic (target_type, target_id) link.

A target is whatever a package registers: a renovation issue or an estate plan
(issues/targets.py), a convention version (conventions/ballot.py). Each resolves to a `Target`: its estate, its path
(jurisdiction is a prefix test on it), a label and the kind of matter it is, which
picks the default voting rule (rules.tally.default_rule_for).

The column on the models is `target_type`, not `subject_type`: audited workflow
subjects (workflow.audit) already use `subject_type` for their own kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Integer, String, and_, false, or_, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.errors import NotFound
from core.extensions import db
from core.types import PathColumnType
from orgs import permissions
from orgs import roles as R
from orgs.models import Estate, Household, estate_reaches, estates_reached
from rules.tally import SubjectKind

# Grants shared by the procedures. permissions.register() gives a role one scope per
# action, so the roles that read by subtree and those that read "their own" are disjoint:
# grid workers and building group leaders read records of the estate they work in even
# when the record's place (a whole estate) lies above their own org node.
VIEW_SUBTREE = (R.STREET_OFFICER, R.COMMUNITY_OFFICER, R.OWNERS_COMMITTEE, R.PROPERTY_COMPANY,
                R.CONSTRUCTION_COMPANY, R.SUPERVISION_COMPANY)
VIEW_OWN = (R.RESIDENT, R.MEMBER_HOUSEHOLD, R.GRID_WORKER, R.BUILDING_GROUP_LEADER)
# Everyone but the administrator (who holds every action by subtree anyway).
EVERYONE = tuple(role for role in R.ALL_ROLES if role != R.ADMIN)

@dataclass(frozen=True)
class Target:
    type: str
    id: int
    obj: object
    estate_id: int
    path: str
    label: str
    subject_kind: SubjectKind
    subcategory: str = ""

    def is_personal_to(self, person) -> bool:
        """Residents and owners of the target's estate, and staff working inside it."""
        return lives_in_estate(person, self.estate_id) or acts_within(person, self.path, self.estate_id)


@dataclass(frozen=True)
class Workplace:
    """A record's place seen as staff work: "own" grants hold for staff acting in its
    subtree, or holding part of its estate (a grid worker answering about a whole estate)."""

    path: str
    estate_id: Optional[int] = None

    def is_personal_to(self, person) -> bool:
        return acts_within(person, self.path, self.estate_id)


@dataclass(frozen=True)
class TargetKind:
    """A kind of target and how the procedures report to it.

    Procedures know nothing of what they are attached to: the package that owns a
    kind of target registers it here with its hooks (issues/targets.py for renovation
    issues and estate plans, conventions/ballot.py for convention versions).
    """

    name: str
    resolve: Callable[[int], Optional[Target]]
    label: Any = None  # the word on procedure pages
    # (actor, target_id, options, version) -> Vote: the vote opens through the target's own transition
    open_vote: Optional[Callable] = None
    # (vote, actor, on_failure, reason) -> None: a closed vote's outcome, told to the target
    vote_closed: Optional[Callable] = None
    # (actor, target object) -> bool: whether the person may see the target at all; its
    # procedure pages answer 404 where the target's own page does
    visible: Optional[Callable] = None


_KINDS: dict[str, TargetKind] = {}


def register_target(type_name: str, resolver: Callable[[int], Optional[Target]], *, label: Any = None,
                    open_vote: Optional[Callable] = None, vote_closed: Optional[Callable] = None,
                    visible: Optional[Callable] = None) -> None:
    """Declare a kind of target, with the hooks through which procedures report to it."""
    _KINDS[type_name] = TargetKind(type_name, resolver, label, open_vote, vote_closed, visible)


def target_kind(type_name: str) -> Optional[TargetKind]:
    return _KINDS.get(type_name)


def target_types() -> tuple[str, ...]:
    return tuple(_KINDS)


def resolve(type_name: str, ident: object) -> Target:
    """The target, or NotFound for an unknown type or id."""
    kind = _KINDS.get(type_name)
    try:
        number = int(ident)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = None
    target = kind.resolve(number) if kind is not None and number is not None else None
    if target is None:
        raise NotFound(_("Not found."))
    return target


def resolve_for(actor, type_name: str, ident: object) -> Target:
    """The target as `actor` may see it: NotFound where the target's kind hides it from them."""
    target = resolve(type_name, ident)
    kind = _KINDS[type_name]
    if kind.visible is not None and not kind.visible(actor, target.obj):
        raise NotFound(_("Not found."))
    return target


def lives_in_estate(person, estate_id: int) -> bool:
    ids = getattr(person, "household_ids", None)
    if not ids:
        return False
    found = db.session.scalar(
        select(Household.id).where(Household.id.in_(ids), Household.estate_id == estate_id).limit(1)
    )
    return found is not None


def workplace_filter(person, model):
    """SQL condition for the list pages: records of `model` (a TargetLink) placed in the
    person's staff subtrees, or about a whole estate the person holds part of (a grid
    worker enters the paper ballots of an estate-wide vote) - as acts_within reads one record."""
    paths = permissions.subtree_paths(person)
    if not paths:
        return false()
    estate_path = select(Estate.path).where(Estate.id == model.estate_id).scalar_subquery()
    return or_(permissions.path_filter(model.path, paths),
               and_(model.estate_id.in_(estates_reached(paths)), model.path == estate_path))


def acts_within(person, path: str, estate_id: Optional[int] = None) -> bool:
    """Does the person act, as staff, for an org node whose subtree holds `path`; or, for
    a record about a whole estate placed above their node (an estate-wide vote at the
    community's path), for a node holding part of that estate (estate_reaches) - the
    rule workplace_filter applies to the lists? Another estate's record in the same
    community is not theirs."""
    staff = [m for m in getattr(person, "memberships", ()) if m.role != R.RESIDENT]
    if any(path.startswith(m.org.path) for m in staff):
        return True
    return estate_id is not None and any(
        m.org.path.startswith(path) and estate_reaches(estate_id, _place_holder_path(m.org)) for m in staff)


def _place_holder_path(org) -> str:
    """The path of the node whose places an org node works in: a member household (党员中心户)
    holds no building of its own and works in its building group's."""
    if org.level_code == "member_household":
        return org.path[:org.path.rstrip("/").rfind("/") + 1]
    return org.path


class TargetLink:
    """Columns of a record about a target: the link, its estate and its path."""

    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)

    @declared_attr
    def estate_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("estate.id"), index=True)

    @property
    def target(self) -> Target:
        return resolve(self.target_type, self.target_id)

    def is_personal_to(self, person) -> bool:
        """Residents and owners of the estate, and staff working inside the record's place."""
        return lives_in_estate(person, self.estate_id) or acts_within(person, self.path, self.estate_id)
