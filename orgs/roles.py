"""Roles a membership can carry, and the labels people read."""
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

# Staff of the five levels: they act on everything in their subtree.
OFFICERS = (STREET_OFFICER, COMMUNITY_OFFICER)
LEVEL_STAFF = (STREET_OFFICER, COMMUNITY_OFFICER, GRID_WORKER, BUILDING_GROUP_LEADER, MEMBER_HOUSEHOLD)
COMPANIES = (PROPERTY_COMPANY, CONSTRUCTION_COMPANY, SUPERVISION_COMPANY)

LEVEL_LABELS = {
    "street_committee": _l("Street Party working committee"),
    "community_committee": _l("Community Party committee"),
    "grid_branch": _l("Grid Party branch"),
    "building_group": _l("Building Party group"),
    "member_household": _l("Party member household"),
}


def role_label(code: str) -> str:
    return str(ROLE_LABELS.get(code, code))


def level_label(level) -> str:
    """Label of an OrgLevel row (standard levels are translated, extra ones use their name)."""
    label = LEVEL_LABELS.get(level.code)
    return str(label) if label is not None else level.name
