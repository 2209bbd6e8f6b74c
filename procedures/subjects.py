"""What consultations, votes and notices are about: a generic (target_type, target_id) link.

A target is a renovation issue, an estate plan or (registered by the conventions
package) a convention version. Each resolves to a `Target`: its estate, its path
(jurisdiction is a prefix test on it), a label and the kind of matter it is, which
picks the default voting rule (rules.tally.default_rule_for).

The column on the models is `target_type`, not `subject_type`: audited workflow
subjects (workflow.audit) already use `subject_type` for their own kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from core.errors import NotFound
from core.extensions import db
from core.types import PathColumnType
from orgs import roles as R
from orgs.models import Household
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

# Sub-categories of renovation issues that build on or change the use of common parts
# (Civil Code Art. 278 item 8); everything else alters buildings or their ancillary
# facilities (item 7). Both take the three-quarters rule nationally.
COMMON_PARTS_SUBCATEGORIES = frozenset({
    "parking", "ev_charging", "ebike_shed", "parcel_lockers", "elderly_care", "childcare", "canteen",
})


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
        return lives_in_estate(person, self.estate_id) or acts_within(person, self.path)


@dataclass(frozen=True)
class Workplace:
    """A record's place seen as staff work: "own" grants hold for staff acting on the
    same branch of the tree (a grid worker answering about a whole estate)."""

    path: str

    def is_personal_to(self, person) -> bool:
        return acts_within(person, self.path)


_RESOLVERS: dict[str, Callable[[int], Optional[Target]]] = {}


def register_target(type_name: str, resolver: Callable[[int], Optional[Target]]) -> None:
    """Declare a kind of target (the conventions package registers "convention_version")."""
    _RESOLVERS[type_name] = resolver


def target_types() -> tuple[str, ...]:
    return tuple(_RESOLVERS)


def resolve(type_name: str, ident: object) -> Target:
    """The target, or NotFound for an unknown type or id."""
    resolver = _RESOLVERS.get(type_name)
    try:
        number = int(ident)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = None
    target = resolver(number) if resolver is not None and number is not None else None
    if target is None:
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


def acts_within(person, path: str) -> bool:
    """Does the person act for an org node on the same branch as `path` (above or below it)?"""
    return any(
        m.role != R.RESIDENT and (m.org.path.startswith(path) or path.startswith(m.org.path))
        for m in getattr(person, "memberships", ())
    )


def issue_subject_kind(subcategory: str) -> SubjectKind:
    if subcategory == "elevator":
        return SubjectKind.ELEVATOR_RETROFIT
    if subcategory in COMMON_PARTS_SUBCATEGORIES:
        return SubjectKind.COMMON_PARTS_USE
    return SubjectKind.RENOVATION_PLAN


def _issue(ident: int) -> Optional[Target]:
    from issues.models import RenovationIssue

    issue = db.session.get(RenovationIssue, ident)
    if issue is None:
        return None
    return Target("renovation_issue", issue.id, issue, issue.estate_id, issue.path,
                  f"#{issue.id} {issue.title}", issue_subject_kind(issue.subcategory), issue.subcategory)


def _plan(ident: int) -> Optional[Target]:
    from issues.models import EstatePlan

    plan = db.session.get(EstatePlan, ident)
    if plan is None:
        return None
    return Target("estate_plan", plan.id, plan, plan.estate_id, plan.path, plan.title,
                  SubjectKind.RENOVATION_PLAN)


register_target("renovation_issue", _issue)
register_target("estate_plan", _plan)


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
        return lives_in_estate(person, self.estate_id) or acts_within(person, self.path)
