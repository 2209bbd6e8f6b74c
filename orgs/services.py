"""Services for the org tree, places and people. Each write is one transaction."""
from __future__ import annotations

import secrets
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import lock, utcnow, write_transaction
from core.errors import NotFound, TooManyRequests, ValidationError
from core.extensions import db
from core.types import under_path
from orgs.models import (
    Building,
    Estate,
    Household,
    HouseholdPerson,
    LoginAttempt,
    Membership,
    OrgLevel,
    OrgNode,
    Person,
    StairwellUnit,
    estates_reached,
)
from orgs.roles import ALL_ROLES

MIN_PASSWORD_LENGTH = 10


# --- the org tree -----------------------------------------------------------------

def add_org_node(parent: OrgNode | None, level_code: str, code: str, name: str) -> OrgNode:
    """Create a node under `parent` (None for a root) and give it its materialized path.

    Runs inside the caller's transaction; levels must go strictly down the tree."""
    level = db.session.get(OrgLevel, level_code)
    if level is None:
        raise ValidationError(_("Unknown org level %(code)s.", code=level_code))
    if parent is not None and parent.level.rank >= level.rank:
        raise ValidationError(_("A child org must be at a lower level than its parent."))
    if db.session.scalar(select(OrgNode.id).where(OrgNode.code == code)) is not None:
        raise ValidationError(_("An org node with code %(code)s already exists.", code=code))
    node = OrgNode(parent=parent, level_code=level_code, code=code, name=name, level=level)
    db.session.add(node)
    db.session.flush()
    node.path = (parent.path if parent else "/") + f"{node.id}/"
    node.depth = parent.depth + 1 if parent else 0
    return node


def get_org(code: str) -> OrgNode:
    node = db.session.scalar(select(OrgNode).where(OrgNode.code == code))
    if node is None:
        raise NotFound(_("No org node with code %(code)s.", code=code))
    return node


def subtree_counts(node: OrgNode) -> dict[str, int]:
    """Households, estates and org nodes under `node` (prefix range queries on path)."""
    return {
        "households": db.session.scalar(
            select(func.count()).select_from(Household).where(under_path(Household.path, node.path))
        ) or 0,
        # Estates in the subtree, or with buildings in it (a grid holds part of an estate).
        "estates": db.session.scalar(
            select(func.count()).select_from(estates_reached([node.path]).subquery())
        ) or 0,
        "nodes": (db.session.scalar(
            select(func.count()).select_from(OrgNode).where(under_path(OrgNode.path, node.path))
        ) or 1) - 1,
    }


def child_counts(node: OrgNode) -> dict[int, int]:
    """Household count under each direct child of `node`, in one grouped query."""
    counts: dict[int, int] = {}
    for child in node.children:
        counts[child.id] = 0
    if not counts:
        return counts
    # Path segment after the parent's path identifies the child.
    rows = db.session.execute(
        select(Household.path, func.count()).where(under_path(Household.path, node.path)).group_by(Household.path)
    )
    prefix_len = len(node.path)
    for path, count in rows:
        rest = path[prefix_len:]
        if rest:
            child_id = int(rest.split("/", 1)[0])
            if child_id in counts:
                counts[child_id] += count
    return counts


# --- places ------------------------------------------------------------------------

def add_estate(org: OrgNode, code: str, name: str, address: str = "") -> Estate:
    if db.session.scalar(select(Estate.id).where(Estate.code == code)) is not None:
        raise ValidationError(_("An estate with code %(code)s already exists.", code=code))
    estate = Estate(org=org, code=code, name=name, address=address, path=org.path)
    db.session.add(estate)
    return estate


def add_building(estate: Estate, number: str, org: OrgNode | None = None, sort_key: int = 0) -> Building:
    building = Building(
        estate=estate, number=number, org=org, sort_key=sort_key, path=org.path if org else estate.path
    )
    db.session.add(building)
    return building


def add_unit(building: Building, number: str, sort_key: int = 0) -> StairwellUnit:
    unit = StairwellUnit(building=building, number=number, sort_key=sort_key, path=building.path)
    db.session.add(unit)
    return unit


def add_household(
    unit: StairwellUnit, room: str, area: Decimal, adult_count: int = 0, unsold: bool = False, sort_key: int = 0
) -> Household:
    household = Household(
        unit=unit,
        estate=unit.building.estate,
        room=room,
        area=area,
        adult_count=adult_count,
        unsold=unsold,
        sort_key=sort_key,
        path=unit.path,
    )
    db.session.add(household)
    return household


# --- people ------------------------------------------------------------------------

def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )


def add_person(name: str, username: str | None = None, phone: str | None = None, password: str | None = None) -> Person:
    person = Person(name=name, username=username, phone=phone)
    if password:
        person.set_password(password)
    db.session.add(person)
    return person


def grant_role(person: Person, org: OrgNode, role: str) -> Membership:
    if role not in ALL_ROLES:
        raise ValidationError(_("Unknown role %(role)s.", role=role))
    membership = Membership(person=person, org=org, role=role)
    db.session.add(membership)
    return membership


def link_household(person: Person, household: Household, relation: str) -> HouseholdPerson:
    link = HouseholdPerson(person=person, household=household, relation=relation)
    db.session.add(link)
    return link


def find_account(login: str) -> Person | None:
    login = (login or "").strip()
    if not login:
        return None
    return db.session.scalar(select(Person).where((Person.username == login) | (Person.phone == login)))


def _throttle_keys(login: str, address: str | None) -> list[str]:
    keys = ["user:" + login.strip().lower()[:100]]
    if address:
        keys.append("ip:" + address[:100])
    return keys


def _serialise(keys: list[str]) -> None:
    """Count and record failures for these keys one login at a time: on PostgreSQL a
    transaction-scoped advisory lock per key (in a fixed order); SQLite's write
    transaction (BEGIN IMMEDIATE) already admits one writer at a time."""
    if db.engine.dialect.name != "postgresql":
        return
    for key in sorted(keys):
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


_DUMMY_HASHES: dict[str, str] = {}


def _spend_like_a_password_check(password: str) -> None:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    check_password_hash(_DUMMY_HASHES[method], password)


def end_sessions(person_id: int) -> None:
    """Log the person out everywhere: every session and remember-me cookie carries the
    session epoch (Person.get_id), so moving it on revokes them all, copies included."""
    with write_transaction():
        person = lock(Person, person_id)
        if person is not None:
            person.session_epoch += 1


def authenticate(login: str, password: str, address: str | None) -> Person:
    """Check a login; too many recent failures for the account name or the client
    address refuse further tries for a while, whether the password is right or not."""
    config = current_app.config
    since = utcnow() - config["LOGIN_FAILURE_WINDOW"]
    keys = _throttle_keys(login, address)
    with write_transaction():
        _serialise(keys)
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
        # The address key sees every account tried from it, so it allows more failures.
        per_key = {
            key: db.session.scalar(
                select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.at >= since)
            ) or 0
            for key in keys
        }
        limit = config["LOGIN_MAX_FAILURES"]
        if any(count >= (limit if key.startswith("user:") else limit * 4) for key, count in per_key.items()):
            minutes = int(config["LOGIN_FAILURE_WINDOW"].total_seconds() // 60)
            raise TooManyRequests(
                _("Too many failed logins. Please wait %(minutes)d minutes and try again.", minutes=minutes)
            )
        person = find_account(login)
        if person is None:
            _spend_like_a_password_check(password)  # an unknown account takes as long as a known one
        if person is None or not person.active or not person.check_password(password):
            for key in keys:
                db.session.add(LoginAttempt(key=key))
            person = None
        else:
            db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[0]))
    if person is None:
        raise ValidationError(_("Wrong account name or password."))
    return person


def change_password(person: Person, current: str, new: str, confirm: str) -> None:
    if not person.check_password(current):
        raise ValidationError(_("The current password is wrong."))
    if new != confirm:
        raise ValidationError(_("The two new passwords differ."))
    validate_password(new)
    with write_transaction():
        fresh = db.session.get(Person, person.id)
        fresh.set_password(new)
        fresh.session_epoch += 1
