"""First run, administration of the org tree, places and accounts, and household claims.

Plain functions, one transaction each; every administrative change writes one AdminLog
line in the same transaction. Permissions: "admin.manage" (system administrators and
officers in their subtree), "admin.claims" (grid workers and officers decide claims)."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from admin.models import APPROVED, PENDING, REJECTED, AdminLog, HouseholdClaim
from core.db import lock, utcnow, write_transaction
from core.errors import NotFound, NotPermitted, TooManyRequests, ValidationError
from core.extensions import db
from orgs import permissions
from orgs import roles as R
from orgs import services as S
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
)

MANAGE = "admin.manage"
CLAIMS = "admin.claims"
permissions.register(MANAGE, subtree=R.OFFICERS)
permissions.register(CLAIMS, subtree=R.OFFICERS + (R.GRID_WORKER,))

ROOT_LEVEL = "street_committee"
MOBILE_RE = re.compile(r"^1\d{10}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
# Open to the public: registrations per client address, claims per person per day
# and claims waiting at once, so that nobody floods grid workers or guesses owners' mobiles.
REGISTRATIONS_PER_WINDOW = 10  # LOGIN_FAILURE_WINDOW: the login throttle's table and window
CLAIMS_PER_DAY = 10
CLAIMS_WAITING = 3


def _log(actor, action: str, obj, detail: str = "", path: str | None = None) -> None:
    db.session.add(AdminLog(
        actor_id=actor.id if actor is not None else None, action=action, object_type=type(obj).__tablename__,
        object_id=obj.id, detail=detail[:2000], path=path or getattr(obj, "path", None) or "/",
    ))


def _text(value: str | None, label: str, max_len: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("%(field)s is required.", field=label))
    if len(value) > max_len:
        raise ValidationError(_("%(field)s is too long.", field=label))
    return value


def _code(value: str | None) -> str:
    value = (value or "").strip()
    if not CODE_RE.match(value):
        raise ValidationError(_("A code is 1 to 40 letters, digits, dots, dashes or underscores."))
    return value


def _username(value: str | None) -> str:
    value = (value or "").strip()
    if not USERNAME_RE.match(value):
        raise ValidationError(_("An account name is 2 to 80 letters, digits or . _ @ -"))
    if db.session.scalar(select(Person.id).where(Person.username == value)) is not None:
        raise ValidationError(_("The account name %(name)s is taken.", name=value))
    return value


def _mobile(value: str | None, *, free: bool = False) -> str:
    value = re.sub(r"[\s-]", "", value or "")
    if not MOBILE_RE.match(value):
        raise ValidationError(_("A mobile number has 11 digits and starts with 1."))
    if free and db.session.scalar(select(Person.id).where(Person.phone == value)) is not None:
        raise ValidationError(
            _("This mobile number is already registered: log in, or ask your grid worker for help."))
    return value


def _passwords(password: str, confirm: str) -> None:
    if password != confirm:
        raise ValidationError(_("The two passwords differ."))
    S.validate_password(password)


def _get(model, ident):
    obj = db.session.get(model, ident) if ident is not None else None
    if obj is None:
        raise NotFound(_("Not found."))
    return obj


def load(actor, model, ident, action: str = MANAGE):
    """An object the actor may administer: missing or outside jurisdiction is 404, inside
    but not permitted 403."""
    obj = _get(model, ident)
    permissions.require(actor, action, obj)
    return obj


def temporary_password() -> str:
    return secrets.token_urlsafe(9)  # 12 characters


# --- first run ---------------------------------------------------------------------

def setup_open() -> bool:
    """Is this an empty deployment (nobody at all in the database)?"""
    return db.session.scalar(select(Person.id).limit(1)) is None


def first_run(name: str, username: str, password: str, confirm: str, street_code: str, street_name: str) -> int:
    """Create the street (街道党工委) node and its first system administrator. Exactly one
    of concurrent first runs succeeds: on PostgreSQL a transaction advisory lock, on
    SQLite the IMMEDIATE write transaction, serialise the check and the insert."""
    with write_transaction():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext("wuji.first_run"))))
        if not setup_open():
            raise NotFound(_("Not found."))
        name = _text(name, _("Name"), 80)
        username = _username(username)
        _passwords(password, confirm)
        street = S.add_org_node(None, ROOT_LEVEL, _code(street_code), _text(street_name, _("Name of the street"), 120))
        person = S.add_person(name, username=username, password=password)
        S.grant_role(person, street, R.ADMIN)
        db.session.flush()
        _log(person, "setup", street, f"{street.name}; {username}")
        return person.id


# --- the org tree ------------------------------------------------------------------

def child_levels(node: OrgNode) -> list[OrgLevel]:
    """The levels a child of `node` may have: the next level down first, then lower ones."""
    return list(db.session.scalars(select(OrgLevel).where(OrgLevel.rank > node.level.rank).order_by(OrgLevel.rank)))


def add_child(actor, parent_id: int, level_code: str, code: str, name: str) -> OrgNode:
    with write_transaction():
        parent = load(actor, OrgNode, parent_id)
        node = S.add_org_node(parent, level_code, _code(code), _text(name, _("Name"), 120))
        db.session.flush()
        _log(actor, "org.add", node, f"{node.code} {node.name}")
        return node


def rename_node(actor, node_id: int, name: str) -> None:
    with write_transaction():
        node = load(actor, OrgNode, node_id)
        old, node.name = node.name, _text(name, _("Name"), 120)
        _log(actor, "org.rename", node, f"{old} -> {node.name}")


# --- places ------------------------------------------------------------------------

def add_estate(actor, org_id: int, code: str, name: str, address: str = "") -> Estate:
    with write_transaction():
        org = load(actor, OrgNode, org_id)
        estate = S.add_estate(org, _code(code), _text(name, _("Name"), 120), (address or "").strip()[:255])
        db.session.flush()
        _log(actor, "estate.add", estate, f"{estate.code} {estate.name}")
        return estate


def edit_estate(actor, estate_id: int, name: str, address: str) -> None:
    with write_transaction():
        estate = load(actor, Estate, estate_id)
        estate.name = _text(name, _("Name"), 120)
        estate.address = (address or "").strip()[:255]
        _log(actor, "estate.edit", estate, f"{estate.name}; {estate.address}")


def building_orgs(estate: Estate) -> list[OrgNode]:
    """Nodes below the estate's org that may answer for one of its buildings."""
    return list(db.session.scalars(
        select(OrgNode).where(OrgNode.path.startswith(estate.path), OrgNode.id != estate.org_id).order_by(OrgNode.path)))


def add_building(actor, estate_id: int, number: str, org_id: int | None = None) -> Building:
    with write_transaction():
        estate = load(actor, Estate, estate_id)
        number = _text(number, _("Building number"), 40)
        org = None
        if org_id:
            org = load(actor, OrgNode, org_id)
            if not org.path.startswith(estate.path):
                raise ValidationError(_("The building's group must be below the estate's org."))
        if db.session.scalar(select(Building.id).where(Building.estate_id == estate.id, Building.number == number)):
            raise ValidationError(_("This estate already has a building %(number)s.", number=number))
        sort_key = (db.session.scalar(select(func.max(Building.sort_key)).where(Building.estate_id == estate.id)) or 0) + 1
        building = S.add_building(estate, number, org=org, sort_key=sort_key)
        db.session.flush()
        _log(actor, "building.add", building, f"{estate.name} {number}")
        return building


def add_unit(actor, building_id: int, number: str) -> StairwellUnit:
    with write_transaction():
        building = load(actor, Building, building_id)
        number = _text(number, _("Unit number"), 40)
        if db.session.scalar(select(StairwellUnit.id).where(
                StairwellUnit.building_id == building.id, StairwellUnit.number == number)):
            raise ValidationError(_("This building already has a unit %(number)s.", number=number))
        sort_key = (db.session.scalar(
            select(func.max(StairwellUnit.sort_key)).where(StairwellUnit.building_id == building.id)) or 0) + 1
        unit = S.add_unit(building, number, sort_key=sort_key)
        db.session.flush()
        _log(actor, "unit.add", unit, f"{building.estate.name} {building.number} {number}")
        return unit


def _area(value) -> Decimal:
    try:
        area = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("The area must be a number of square metres.")) from None
    if not area.is_finite() or area < 0 or area >= Decimal("100000"):
        raise ValidationError(_("The area must be a number of square metres."))
    return area.quantize(Decimal("0.01"))


def _adults(value) -> int:
    try:
        count = int(value or 0)
    except (TypeError, ValueError):
        raise ValidationError(_("The number of adults must be a whole number.")) from None
    if not 0 <= count <= 100:
        raise ValidationError(_("The number of adults must be a whole number."))
    return count


def add_household(actor, unit_id: int, room: str, area, adult_count=0) -> Household:
    with write_transaction():
        unit = load(actor, StairwellUnit, unit_id)
        room = _text(room, _("Room"), 40)
        if db.session.scalar(select(Household.id).where(Household.unit_id == unit.id, Household.room == room)):
            raise ValidationError(_("This unit already has a room %(room)s.", room=room))
        sort_key = (db.session.scalar(select(func.max(Household.sort_key)).where(Household.unit_id == unit.id)) or 0) + 1
        household = S.add_household(unit, room, _area(area), _adults(adult_count), sort_key=sort_key)
        db.session.flush()
        _log(actor, "household.add", household, f"{household.label} {household.area}")
        return household


def edit_household(actor, household_id: int, area, adult_count) -> None:
    with write_transaction():
        household = load(actor, Household, household_id)
        old = household.area
        household.area = _area(area)
        household.adult_count = _adults(adult_count)
        _log(actor, "household.edit", household, f"{household.label}: {old} -> {household.area}")


# --- accounts ----------------------------------------------------------------------

def _may_grant(actor, org: OrgNode, role: str) -> None:
    if role not in R.ALL_ROLES:
        raise ValidationError(_("Unknown role %(role)s.", role=role))
    permissions.require(actor, MANAGE, org)
    if role == R.ADMIN and not any(m.role == R.ADMIN and org.path.startswith(m.org.path) for m in actor.memberships):
        raise NotPermitted(_("Only a system administrator may make another one."))


NODE_CHOICES = 2000  # the org nodes offered as codes to pick from; more can still be typed


def node_choices(actor) -> list[tuple[str, str]]:
    """(code, name) of the org nodes in the actor's subtrees, in tree order: the
    suggestions of the forms that take a node's code."""
    paths = permissions.subtree_paths(actor, MANAGE)
    return [tuple(row) for row in db.session.execute(
        select(OrgNode.code, OrgNode.name).where(permissions.path_filter(OrgNode.path, paths))
        .order_by(OrgNode.path).limit(NODE_CHOICES))]


def manageable_people_query(actor):
    """People with a role, or a household in the roster, somewhere in the actor's subtrees."""
    paths = permissions.subtree_paths(actor, MANAGE)
    with_role = select(Membership.person_id).join(OrgNode, Membership.org_id == OrgNode.id).where(
        permissions.path_filter(OrgNode.path, paths))
    in_roster = select(HouseholdPerson.person_id).join(Household, HouseholdPerson.household_id == Household.id).where(
        permissions.path_filter(Household.path, paths))
    return select(Person).where(or_(Person.id.in_(with_role), Person.id.in_(in_roster)))


def load_person(actor, person_id: int) -> Person:
    """A person the actor manages: every role they hold and every household they are in
    lies in the actor's subtrees (a community officer cannot reset the street officer's
    password); anyone else is 404. An owner in the roster without an account is given one
    by resetting the password: they log in with their mobile and the temporary password."""
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound(_("Not found."))
    scopes = [m.org for m in person.memberships] + [link.household for link in person.household_links]
    if not scopes or not all(permissions.can(actor, MANAGE, scope) for scope in scopes):
        raise NotFound(_("Not found."))
    return person


def create_account(actor, name: str, username: str, phone: str | None, org_id: int, role: str) -> tuple[int, str]:
    """A new account with one role; returns its id and a temporary password (shown once,
    to be changed at first login)."""
    with write_transaction():
        org = _get(OrgNode, org_id)
        _may_grant(actor, org, role)
        name = _text(name, _("Name"), 80)
        username = _username(username)
        phone = _mobile(phone, free=True) if (phone or "").strip() else None
        password = temporary_password()
        person = S.add_person(name, username=username, phone=phone, password=password)
        person.must_change_password = True
        S.grant_role(person, org, role)
        db.session.flush()
        _log(actor, "account.create", person, f"{username} {role}@{org.code}", path=org.path)
        return person.id, password


def grant(actor, person_id: int, org_id: int, role: str) -> None:
    with write_transaction():
        person = load_person(actor, person_id)
        org = _get(OrgNode, org_id)
        _may_grant(actor, org, role)
        if db.session.scalar(select(Membership.id).where(
                Membership.person_id == person.id, Membership.org_id == org.id, Membership.role == role)):
            raise ValidationError(_("The person already has this role there."))
        S.grant_role(person, org, role)
        _log(actor, "role.grant", person, f"{role}@{org.code}", path=org.path)


def revoke(actor, membership_id: int) -> None:
    with write_transaction():
        membership = _get(Membership, membership_id)
        load_person(actor, membership.person_id)
        _may_grant(actor, membership.org, membership.role)
        if membership.person_id == actor.id and membership.role == R.ADMIN:
            raise ValidationError(_("You cannot take away your own administrator role."))
        person = membership.person
        _log(actor, "role.revoke", person, f"{membership.role}@{membership.org.code}", path=membership.org.path)
        db.session.delete(membership)


def reset_password(actor, person_id: int) -> str:
    """A temporary password, shown once; every session of the person ends and they must
    choose a new password at next login."""
    with write_transaction():
        load_person(actor, person_id)
        person = lock(Person, person_id)
        if not person.username and not person.phone:
            raise ValidationError(_("This person has no account to log in with."))
        password = temporary_password()
        person.set_password(password)
        person.must_change_password = True
        person.session_epoch += 1
        _log(actor, "account.reset_password", person, person.username or person.phone or "", path=_place_of(person))
        return password


def _place_of(person: Person) -> str:
    """The highest place the person holds a role or a household in (the log's path)."""
    return min([m.org.path for m in person.memberships] + [h.household.path for h in person.household_links],
               key=len)


def set_active(actor, person_id: int, active: bool) -> bool:
    """Deactivate an account (someone who left: they cannot log in, every session and API
    token stops working at once, their roles and history stay) or activate it again.
    Returns whether anything changed."""
    with write_transaction():
        load_person(actor, person_id)
        if person_id == actor.id and not active:
            raise ValidationError(_("You cannot deactivate your own account."))
        person = lock(Person, person_id)
        if person.active == active:
            return False
        person.active = active
        if not active:
            person.session_epoch += 1
        _log(actor, "account.activate" if active else "account.deactivate", person,
             person.username or person.phone or "", path=_place_of(person))
    return True


# --- household claims --------------------------------------------------------------

def register_resident(name: str, mobile: str, password: str, confirm: str, address: str | None = None) -> int:
    with write_transaction():
        if address:
            key = "register:" + address[:100]
            if db.engine.dialect.name == "postgresql":
                db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
            recent = db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.key == key, LoginAttempt.at >= utcnow() - current_app.config["LOGIN_FAILURE_WINDOW"])) or 0
            if recent >= REGISTRATIONS_PER_WINDOW:
                raise TooManyRequests(_("Too many attempts. Please wait and try again."))
            db.session.add(LoginAttempt(key=key))
        name = _text(name, _("Name"), 80)
        known = db.session.scalar(select(Person).where(Person.phone == _mobile(mobile)))
        if known is not None and not known.password_hash:
            raise ValidationError(_("This mobile number is in the roster: your community or grid worker can give "
                                    "you an account with a temporary password."))
        mobile = _mobile(mobile, free=True)
        _passwords(password, confirm)
        person = S.add_person(name, phone=mobile, password=password)
        db.session.flush()
        _log(person, "account.register", person, mobile)
        return person.id


def _building_org_id(household: Household) -> int:
    return int(household.path.strip("/").split("/")[-1])


def _approve(claim: HouseholdClaim) -> None:
    person, household = claim.person, claim.household
    if not db.session.get(HouseholdPerson, (household.id, person.id, "resident")):
        S.link_household(person, household, "resident")
    org = db.session.get(OrgNode, _building_org_id(household))
    if not any(m.role == R.RESIDENT and m.org_id == org.id for m in person.memberships):
        S.grant_role(person, org, R.RESIDENT)
    claim.status = APPROVED
    claim.decided_at = utcnow()


def submit_claim(person, household_id: int, owner_phone: str) -> HouseholdClaim:
    """Claim a household. Approved at once when an owner of it in the roster has the
    mobile given; otherwise it waits for the grid worker of its building."""
    with write_transaction():
        household = _get(Household, household_id)
        owner_phone = _mobile(owner_phone)
        if household.id in person.household_ids:
            raise ValidationError(_("You are already registered in this household."))
        if db.session.scalar(select(HouseholdClaim.id).where(
                HouseholdClaim.person_id == person.id, HouseholdClaim.household_id == household.id,
                HouseholdClaim.status == PENDING)):
            raise ValidationError(_("Your claim for this household is already waiting."))
        mine = select(func.count()).select_from(HouseholdClaim).where(HouseholdClaim.person_id == person.id)
        if (db.session.scalar(mine.where(HouseholdClaim.status == PENDING)) or 0) >= CLAIMS_WAITING or (
                db.session.scalar(mine.where(HouseholdClaim.created_at >= utcnow() - timedelta(days=1))) or 0
        ) >= CLAIMS_PER_DAY:
            raise TooManyRequests(_("Too many attempts. Please wait and try again."))
        claim = HouseholdClaim(person_id=person.id, household_id=household.id, owner_phone=owner_phone,
                               path=household.path, status=PENDING, reason="")
        db.session.add(claim)
        db.session.flush()
        if any(owner.phone == owner_phone for owner in household.owners):
            _approve(claim)
            claim.reason = _("The owner's mobile matches the roster.")
        _log(person, "claim." + claim.status, claim, household.label)
        return claim


def decide_claim(actor, claim_id: int, approve: bool, reason: str) -> None:
    with write_transaction():
        claim = load(actor, HouseholdClaim, claim_id, CLAIMS)
        if claim.status != PENDING:
            raise ValidationError(_("This claim has already been decided."))
        reason = (reason or "").strip()[:2000]
        if approve:
            _approve(claim)
        else:
            if not reason:
                raise ValidationError(_("Give a reason for rejecting the claim."))
            claim.status = REJECTED
            claim.decided_at = utcnow()
        claim.reason = reason
        claim.decided_by_id = actor.id
        _log(actor, "claim." + claim.status, claim, reason)


def pending_claims(actor) -> list[HouseholdClaim]:
    paths = permissions.subtree_paths(actor, CLAIMS)
    return list(db.session.scalars(select(HouseholdClaim).where(
        HouseholdClaim.status == PENDING, permissions.path_filter(HouseholdClaim.path, paths)
    ).order_by(HouseholdClaim.id).limit(200)))


def my_claims(person) -> list[HouseholdClaim]:
    return list(db.session.scalars(
        select(HouseholdClaim).where(HouseholdClaim.person_id == person.id).order_by(HouseholdClaim.id.desc())))


def recent_log(actor, limit: int = 50) -> list[AdminLog]:
    paths = permissions.subtree_paths(actor, MANAGE)
    return list(db.session.scalars(select(AdminLog).where(permissions.path_filter(AdminLog.path, paths))
                                   .order_by(AdminLog.id.desc()).limit(limit)))
