"""Roles a membership can carry, the five levels, and the labels people read."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

STREET_OFFICER = "street_officer"
COMMUNITY_OFFICER = "community_officer"
GRID_WORKER = "grid_worker"
BUILDING_GROUP_LEADER = "building_group_leader"
MEMBER_HOUSEHOLD = "member_household"
RESIDENT = "resident"
OWNERS_COMMITTEE = "owners_committee"
PROPERTY_COMPANY = "property_company"
CONSTRUCTION_COMPANY = "construction_company"
SUPERVISION_COMPANY = "supervision_company"
ADMIN = "admin"

ROLE_LABELS = {
    STREET_OFFICER: _l("Street officer"),
    COMMUNITY_OFFICER: _l("Community officer"),
    GRID_WORKER: _l("Grid worker"),
    BUILDING_GROUP_LEADER: _l("Building group leader"),
    MEMBER_HOUSEHOLD: _l("Party member household"),
    RESIDENT: _l("Resident / owner"),
    OWNERS_COMMITTEE: _l("Owners' committee member"),
    PROPERTY_COMPANY: _l("Property management company"),
    CONSTRUCTION_COMPANY: _l("Construction company"),
    SUPERVISION_COMPANY: _l("Supervision company"),
    ADMIN: _l("System administrator"),
}
ALL_ROLES = tuple(ROLE_LABELS)



@dataclass(frozen=True)
class Level:
    """One of the five standard levels (DOMAIN.md section 1). Deployments may add levels
    between them (an estate level, micro-grids) as rows of org_level with ranks in between."""

    code: str
    rank: int  # the org_level row's rank: root first
    label: object  # lazy string
    staff_role: str  # the role of the people who act for a node of this level
    short: str  # in action names: dispatch.act_<short>
    colour: str  # in workflow diagrams


# The one table of the five levels, root first: everything that lists them reads it.
LEVELS = (
    Level("street_committee", 10, _l("Street Party working committee"), STREET_OFFICER, "street", "#e8f5e9"),
    Level("community_committee", 20, _l("Community Party committee"), COMMUNITY_OFFICER, "community", "#e3f2fd"),
    Level("grid_branch", 30, _l("Grid Party branch"), GRID_WORKER, "grid", "#ede7f6"),
    Level("building_group", 40, _l("Building Party group"), BUILDING_GROUP_LEADER, "building", "#fce4ec"),
    Level("member_household", 50, _l("Party member household"), MEMBER_HOUSEHOLD, "member", "#fff3e0"),
)
LEVEL_LABELS = {level.code: level.label for level in LEVELS}

# Staff of the five levels: they act on everything in their subtree.
OFFICERS = (STREET_OFFICER, COMMUNITY_OFFICER)
LEVEL_STAFF = tuple(level.staff_role for level in LEVELS)
COMPANIES = (PROPERTY_COMPANY, CONSTRUCTION_COMPANY, SUPERVISION_COMPANY)


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def level_label(level) -> str:
    """Label of an OrgLevel row (standard levels are translated, extra ones use their name)."""
    label = LEVEL_LABELS.get(level.code)
    return str(label) if label is not None else level.name
