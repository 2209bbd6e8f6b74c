"""The one permission function: may this person do this action on this object?

Actions are named and registered with the roles that may perform them and the
scope of each grant (FixMyStreet-style grants scoped to an org subtree):

- "subtree": the object's path lies under the org node of one of the person's
  memberships with that role;
- "own": the object is personal to the person (their household, their issue),
  decided by the object's `is_personal_to(person)`.

`require()` answers NotFound when the object is outside everything the person
may see (do not leak existence), NotPermitted when they may see it but not act.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, false, or_, true

from core.errors import NotFound, NotPermitted
from core.types import under_path
from orgs import roles as R

SUBTREE = "subtree"
OWN = "own"


class Scoped(Protocol):
    path: str


@dataclass(frozen=True)
class Action:
    name: str
    grants: dict[str, str]  # role -> scope
    # Subtree grants also reach objects spanning several subtrees (an estate-wide issue) from
    # every node holding part of them: for reading and working on them, never for the
    # estate's whole roster.
    reach: bool = False


_ACTIONS: dict[str, Action] = {}


def register(name: str, subtree: Iterable[str] = (), own: Iterable[str] = (), reach: bool = False) -> Action:
    """Declare an action. Admins may do everything in their subtree."""
    grants = {role: SUBTREE for role in subtree}
    grants.update({role: OWN for role in own})
    grants.setdefault(R.ADMIN, SUBTREE)
    action = Action(name, grants, reach)
    _ACTIONS[name] = action
    return action


def action(name: str) -> Action:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise KeyError(f"unregistered action {name!r}") from None


def registered_actions() -> dict[str, Action]:
    return dict(_ACTIONS)


ALL_STAFF = R.LEVEL_STAFF + R.COMPANIES + (R.OWNERS_COMMITTEE,)

register("org.view", subtree=ALL_STAFF)
register(
    "place.view",
    subtree=tuple(r for r in ALL_STAFF if r != R.MEMBER_HOUSEHOLD),
    own=(R.RESIDENT, R.MEMBER_HOUSEHOLD),
)
register("roster.import", subtree=R.OFFICERS)
register("roster.export", subtree=R.OFFICERS + (R.GRID_WORKER,))


def _under(path: str, prefix: str) -> bool:
    return path.startswith(prefix)


def _reaches(obj, org_path: str) -> bool:
    """An object spanning several subtrees (an issue about a whole estate, placed at the
    estate's org node) is within reach of every node below it that holds part of it."""
    if not org_path.startswith(obj.path):
        return False
    check = getattr(obj, "reaches", None)
    return bool(check and check(org_path))


def _personal(obj, person) -> bool:
    check = getattr(obj, "is_personal_to", None)
    return bool(check and check(person))


def can(person, name: str, obj: Scoped | None = None) -> bool:
    """May `person` perform action `name` on `obj` (or at all, when obj is None)?"""
    if person is None or not getattr(person, "is_authenticated", False):
        return False
    declared = action(name)
    grants = declared.grants
    for membership in person.memberships:
        scope = grants.get(membership.role)
        if scope is None:
            continue
        if obj is None:
            return True
        path = membership.org.path
        if scope == SUBTREE and (_under(obj.path, path) or (declared.reach and _reaches(obj, path))):
            return True
        if scope == OWN and _personal(obj, person):
            return True
    return False


def granting_membership(person, name: str, obj: Scoped):
    """The membership through which `person` may perform `name` on `obj` (the most
    specific one: deepest org node first), or None."""
    declared = action(name)
    grants = declared.grants
    for membership in sorted(person.memberships, key=lambda m: -len(m.org.path)):
        scope = grants.get(membership.role)
        path = membership.org.path
        if scope == SUBTREE and (_under(obj.path, path) or (declared.reach and _reaches(obj, path))):
            return membership
        if scope == OWN and _personal(obj, person):
            return membership
    return None


def can_see(person, obj: Scoped) -> bool:
    """Is `obj` within the person's jurisdiction at all (any role), or personal to them?"""
    if person is None or not getattr(person, "is_authenticated", False):
        return False
    staff = [m.org.path for m in person.memberships if m.role != R.RESIDENT]
    if any(_under(obj.path, path) or _reaches(obj, path) for path in staff):
        return True
    return _personal(obj, person)


def is_staff(person) -> bool:
    """Does the person act for any org node (anything beyond being a resident)?"""
    return bool(getattr(person, "is_authenticated", False)) and any(
        m.role != R.RESIDENT for m in person.memberships
    )


def require(person, name: str, obj: Scoped | None = None) -> None:
    """Raise NotFound outside jurisdiction, NotPermitted inside it, else return."""
    if can(person, name, obj):
        return
    if obj is not None and not can_see(person, obj):
        raise NotFound(_("Not found."))
    raise NotPermitted(_("You are not permitted to do this."))


def subtree_paths(person, name: str | None = None) -> list[str]:
    """Org paths under which the person holds a subtree grant (for `name`, or any staff role)."""
    if person is None or not getattr(person, "is_authenticated", False):
        return []
    if name is None:
        paths = [m.org.path for m in person.memberships if m.role != R.RESIDENT]
    else:
        grants = action(name).grants
        paths = [m.org.path for m in person.memberships if grants.get(m.role) == SUBTREE]
    # Drop paths already covered by a shorter one.
    paths.sort(key=len)
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(prefix) for prefix in kept):
            kept.append(path)
    return kept


def path_filter(column, paths: list[str]) -> ColumnElement[bool]:
    """SQL condition: column lies under one of `paths` (an indexed prefix match)."""
    if not paths:
        return false()
    if "/" in paths:
        return true()
    return or_(*(under_path(column, path) for path in paths))


def jurisdiction_filter(person, column, name: str | None = None) -> ColumnElement[bool]:
    return path_filter(column, subtree_paths(person, name))
