"""Who is told what: the observer of the workflow engine (workflow.engine.observe).

It runs inside the transaction of the change, after its audit entry, and writes one
`NotificationEvent` (the transactional outbox): the audiences to tell and the values
their words need, one small INSERT into a table with no secondary index, so that a
transition with its notifications costs little more than one without; a rolled-back
transition leaves none. After the commit, `deliver_queued` fans each event out into one
notification per recipient with one INSERT ... SELECT per event (the preference of each
recipient is joined in the same statement) and deletes it, in one transaction: the
request that committed it does so once its response is sent (notify.init_app), the
sweep, the mail sender and the inbox do it for whatever is still waiting (a worker that
died after its commit, a command line). Recipients are resolved at the fan-out.

Recipients:

- an item reaching a level (a renovation issue entering a state answered for by an org
  node, escalated or returned to it) and a referral up by the deadline sweep: the
  people holding the staff role of that node (orgs/roles.py LEVELS);
- a dispatch assignment sent to a node: the staff of that node;
- a vote opened, a public notice published: the people linked to a household of the
  vote's estate, building or stairwell unit / the notice's estate ("where I live");
- a demand changing state: the person who raised it.

The person who acted is never told about their own action.
"""
from __future__ import annotations

import functools
import json
from typing import Callable

from flask import g, has_app_context
from sqlalchemy import String, and_, bindparam, case, delete, event, exists, func, insert, literal_column, select, union_all
from sqlalchemy.orm import Session, aliased

from core.db import utcnow, write_transaction
from core.extensions import db
from dispatch.models import DispatchAssignment
from issues.models import RenovationIssue
from notify.models import (
    DEFAULT_DELIVERY, DEMAND_CHANGED, DISPATCH_RECEIVED, EMAIL, ITEM_REACHED, KINDS, NOTICE_PUBLISHED, PENDING,
    REFERRAL, VOTE_OPENED, Notification, NotificationEvent, NotificationPreference,
)
from orgs.models import Household, HouseholdPerson, Membership, OrgNode, Person, StairwellUnit
from orgs.roles import LEVEL_STAFF
from procedures.notice import Notice
from procedures.voting import Vote
from workflow import engine
from workflow.engine import SYSTEM, Event

_COLUMNS = ("person_id", "kind", "subject_type", "subject_id", "params", "once_key", "created_at", "delivery",
            "email_state", "attempts", "next_attempt_at")
NO_PERSON = -1  # stands for the system actor in "not the actor"
OUTBOX_FLAG = "wuji_notify_outbox"
# Built once (json.dumps with options builds an encoder per call).
_PARAMS_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
KIND_NAMES = {kind: kind for kind in KINDS}  # only these are ever written into SQL


# --- the statements, built once --------------------------------------------------------


def _sql_text(value: str):
    """A constant of this module written into the SQL (fewer parameters to bind on the
    path of every transition); only fixed words, never data."""
    if value and not value.replace("_", "").isalnum():
        raise ValueError(value)
    return literal_column("'%s'" % value)


def _insert_for(recipients) -> object:
    """SELECT the notification rows for `recipients` (a subquery of person_id and kind),
    each with the recipient's preference for the kind."""
    preference = aliased(NotificationPreference)
    delivery = func.coalesce(preference.delivery, _sql_text(DEFAULT_DELIVERY))
    now = bindparam("now")
    return (
        select(
            recipients.c.person_id,
            recipients.c.kind,
            bindparam("subject_type", type_=String),
            bindparam("subject_id"),
            bindparam("params", type_=String),
            bindparam("once_key", type_=String),
            now,
            delivery,
            case((and_(delivery == _sql_text(EMAIL), Person.email.is_not(None), Person.email != _sql_text("")),
                  _sql_text(PENDING)), else_=None),
            literal_column("0"),
            now,
        )
        .select_from(recipients)
        .join(Person, Person.id == recipients.c.person_id)
        .outerjoin(preference, and_(preference.person_id == recipients.c.person_id,
                                    preference.kind == recipients.c.kind))
        .where(Person.active.is_(True))
    )


def _once(rows, recipients):
    """Leave out the people already told (the same kind and once_key)."""
    told = aliased(Notification)
    return rows.where(~exists().where(
        told.person_id == recipients.c.person_id, told.kind == recipients.c.kind,
        told.once_key == bindparam("once_key", type_=String)))


@functools.lru_cache(maxsize=None)
def _statement(audiences: tuple[tuple[str, str], ...], once: bool):
    """One INSERT ... SELECT for every (kind, recipients) pair of `audiences`: a
    transition telling two audiences (the level it reaches, the resident who raised it)
    runs one statement. The kinds are constants of notify.models, written into the SQL."""
    branches = []
    for kind, recipients in audiences:
        people = RECIPIENTS[recipients]().subquery()
        branches.append(select(people.c.person_id, literal_column("'%s'" % KIND_NAMES[kind]).label("kind")))
    chosen = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    rows = _insert_for(chosen)
    table = Notification.__table__
    if once:
        # Counted (the sweep reports how many were told); psycopg reports no row count
        # for INSERT ... SELECT, hence RETURNING. Transitions need no count.
        return insert(table).from_select(list(_COLUMNS), _once(rows, chosen)).returning(table.c.id)
    return insert(table).from_select(list(_COLUMNS), rows)


def _staff_of_org():
    # The roles written into the SQL: an IN list of bound values is expanded on every execution.
    roles = [literal_column("'%s'" % role) for role in LEVEL_STAFF]
    return (select(Membership.person_id).where(
        Membership.org_id == bindparam("org_id"), Membership.role.in_(roles),
        Membership.person_id != bindparam("actor_id")).distinct())


def _one_person():
    return select(Person.id.label("person_id")).where(
        Person.id == bindparam("person_id"), Person.id != bindparam("actor_id"))


def _residents_of_unit():
    return (select(HouseholdPerson.person_id)
            .join(Household, Household.id == HouseholdPerson.household_id)
            .where(Household.unit_id == bindparam("unit_id"),
                   HouseholdPerson.person_id != bindparam("actor_id")).distinct())


def _residents_of_building():
    return (select(HouseholdPerson.person_id)
            .join(Household, Household.id == HouseholdPerson.household_id)
            .join(StairwellUnit, StairwellUnit.id == Household.unit_id)
            .where(StairwellUnit.building_id == bindparam("building_id"),
                   HouseholdPerson.person_id != bindparam("actor_id")).distinct())


def _residents_of_estate():
    return (select(HouseholdPerson.person_id)
            .join(Household, Household.id == HouseholdPerson.household_id)
            .where(Household.estate_id == bindparam("estate_id"),
                   HouseholdPerson.person_id != bindparam("actor_id")).distinct())


RECIPIENTS: dict[str, Callable] = {
    "staff": _staff_of_org,
    "person": _one_person,
    "unit": _residents_of_unit,
    "building": _residents_of_building,
    "estate": _residents_of_estate,
}


def write(kind: str, subject_type: str, subject_id: int, params: dict, recipients: str, *,
          actor_id: int | None = None, once_key: str | None = None, **values) -> int | None:
    """Write one notification of `kind` for each of `recipients` (see write_all)."""
    return write_all(((kind, recipients),), subject_type, subject_id, params, actor_id=actor_id,
                     once_key=once_key, **values)


def write_all(audiences: tuple[tuple[str, str], ...], subject_type: str, subject_id: int, params: dict | str, *,
              actor_id: int | None = None, once_key: str | None = None, now=None, **values) -> int | None:
    """Write one notification for each person of each (kind, recipients) audience, in one
    statement inside the caller's transaction; `values` are the recipients' parameters
    (org_id, person_id...), `params` the words' values (a dict, or as JSON already).
    With a `once_key`, nobody already told under that key is told again, and the number
    written is returned; otherwise None."""
    once = once_key is not None
    result = db.session.connection().execute(_statement(audiences, once), {
        "subject_type": subject_type, "subject_id": subject_id,
        "params": params if isinstance(params, str) else _PARAMS_ENCODER.encode(params),
        "once_key": once_key, "now": now or utcnow(),
        "actor_id": actor_id if actor_id is not None else NO_PERSON, **values,
    })
    db.session.info[OUTBOX_FLAG] = True
    return len(result.all()) if once else None


# --- the outbox of events: one row in the transaction, fanned out after the commit ----------

# Its parameters are named apart from those of the UPDATE it may ride in (engine.ride).
_EVENT_INSERT = insert(NotificationEvent.__table__).values(
    {name: bindparam(f"ne_{name}", type_=NotificationEvent.__table__.c[name].type)
     for name in ("audiences", "subject_type", "subject_id", "params", "targets", "actor_id", "created_at")})
_TARGETS_ENCODER = json.JSONEncoder(separators=(",", ":"))
FAN_OUT_BATCH = 200


@functools.lru_cache(maxsize=None)
def _audiences_text(audiences: tuple[tuple[str, str], ...]) -> str:
    for kind, recipients in audiences:
        if kind not in KIND_NAMES or recipients not in RECIPIENTS:
            raise ValueError(f"unknown audience {kind}:{recipients}")
    return ";".join(f"{KIND_NAMES[kind]}:{recipients}" for kind, recipients in audiences)


def _audiences_of(text_: str) -> tuple[tuple[str, str], ...]:
    pairs = tuple(tuple(part.split(":", 1)) for part in text_.split(";"))
    for kind, recipients in pairs:
        if kind not in KIND_NAMES or recipients not in RECIPIENTS:
            raise ValueError(f"unknown audience {kind}:{recipients}")
    return pairs  # type: ignore[return-value]


def queue(audiences: tuple[tuple[str, str], ...], subject_type: str, subject_id: int, params: dict, *,
          actor_id: int | None = None, **values) -> None:
    """Write the event that tells `audiences` (one row, inside the caller's
    transaction: with the transition's own UPDATE where the engine can, engine.ride);
    it becomes one notification per recipient after the commit."""
    engine.ride(_EVENT_INSERT, {
        "ne_audiences": _audiences_text(audiences), "ne_subject_type": subject_type, "ne_subject_id": subject_id,
        "ne_params": _PARAMS_ENCODER.encode(params), "ne_targets": _TARGETS_ENCODER.encode(values),
        "ne_actor_id": actor_id, "ne_created_at": utcnow(),
    })
    db.session.info[OUTBOX_FLAG] = True


def _claim(batch: int):
    """Take (delete and return) the oldest waiting events; on PostgreSQL another
    fan-out running at the same time skips the rows this one holds (SQLite's write
    transactions already run one at a time)."""
    table = NotificationEvent.__table__
    oldest = (select(table.c.id).order_by(table.c.id).limit(batch)
              .with_for_update(skip_locked=True).scalar_subquery())
    return delete(table).where(table.c.id.in_(oldest)).returning(*table.c)


def queued() -> bool:
    """Are events waiting to be fanned out? (reads one key)"""
    return db.session.scalar(select(NotificationEvent.id).limit(1)) is not None


def deliver_queued(batch: int = FAN_OUT_BATCH) -> int:
    """Fan the waiting events out into per-person notifications, each event in the
    transaction that deletes it (never twice, never lost); returns how many events."""
    done = 0
    while queued():
        with write_transaction():
            rows = sorted(db.session.execute(_claim(batch)).all(), key=lambda row: row.id)
            for row in rows:
                write_all(_audiences_of(row.audiences), row.subject_type, row.subject_id, row.params,
                          actor_id=row.actor_id, now=row.created_at, **json.loads(row.targets))
        done += len(rows)
        if not rows:
            break
    return done


# --- the observer ------------------------------------------------------------------------


def on_event(event: Event) -> None:
    handler = HANDLERS.get(type(event.subject).__tablename__)
    if handler is not None:
        handler(event)


def _actor_id(event: Event) -> int | None:
    return None if event.actor is SYSTEM else event.actor.id


def _org_name(org_id: int | None) -> str:
    org = db.session.get(OrgNode, org_id) if org_id is not None else None
    return org.name if org is not None else ""


def _issue(event: Event) -> None:
    issue: RenovationIssue = event.subject
    actor_id = _actor_id(event)
    params = {"title": issue.title, "state": issue.state}
    if event.trigger == "overdue_escalation":  # the sweep referred it up (workflow/deadlines.py)
        org_id = issue.responsible_org_id
        queue(((REFERRAL, "staff"),), issue.subject_type, issue.id, {**params, "org": _org_name(org_id)},
              actor_id=actor_id, org_id=org_id)
        return
    if event.transition is None and event.from_state is not None:
        return  # recorded on the item (a photo, a meeting...): nobody new answers for it
    changed = event.from_state != event.to_state
    org_id = issue.responsible_org_id
    audiences = []
    if org_id is not None and (changed or org_id != event.from_org_id):
        if event.actor is SYSTEM and event.trigger == "escalate":
            audiences.append((REFERRAL, "staff"))
            params["org"] = _org_name(org_id)
        else:
            audiences.append((ITEM_REACHED, "staff"))
    if changed and event.from_state is not None and issue.direction == "demand":
        audiences.append((DEMAND_CHANGED, "person"))
    if audiences:
        queue(tuple(audiences), issue.subject_type, issue.id, params, actor_id=actor_id, org_id=org_id,
              person_id=issue.raised_by_id)


def _dispatch(event: Event) -> None:
    assignment: DispatchAssignment = event.subject
    if event.from_state is not None or event.to_state != "sent":
        return
    queue(((DISPATCH_RECEIVED, "staff"),), assignment.subject_type, assignment.id,
          {"title": assignment.dispatch.title, "dispatch_id": assignment.dispatch_id,
           "org": assignment.org.name}, actor_id=_actor_id(event), org_id=assignment.org_id)


def _vote(event: Event) -> None:
    vote: Vote = event.subject
    if event.from_state is not None or event.trigger != "open":
        return
    # The households of the vote's place (its electorate's estate, building or stairwell unit).
    queue(((VOTE_OPENED, vote.scope_kind),), vote.subject_type, vote.id,
          {"title": vote.title, "closes_at": vote.closes_at},
          actor_id=_actor_id(event), **{f"{vote.scope_kind}_id": vote.scope_id})


def _notice(event: Event) -> None:
    notice: Notice = event.subject
    queue(((NOTICE_PUBLISHED, "estate"),), "public_notice", notice.id,
          {"title": notice.title, "ends_at": notice.ends_at}, actor_id=_actor_id(event), estate_id=notice.estate_id)


HANDLERS: dict[str, Callable[[Event], None]] = {
    RenovationIssue.__tablename__: _issue,
    DispatchAssignment.__tablename__: _dispatch,
    Vote.__tablename__: _vote,
    Notice.__tablename__: _notice,
}


# --- after the commit -----------------------------------------------------------------------


def _after_commit(session: Session) -> None:
    """Notifications were committed: the request delivers the mail after its response
    (notify.init_app); elsewhere `flask notify send` and the sweep do."""
    if session.info.pop(OUTBOX_FLAG, False) and has_app_context():
        g.notify_outbox = True


def _after_rollback(session: Session) -> None:
    session.info.pop(OUTBOX_FLAG, None)


@functools.cache
def listen_to_sessions() -> None:
    """Once per process: every session reports its commits and rollbacks."""
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", lambda session, previous: _after_rollback(session))
