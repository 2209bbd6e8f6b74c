"""The workflow engine: workflows declared as data, one shared transitions.Machine each.

`fire()` is the only way a subject changes state. In one database transaction it
locks the row, checks the version, the actor's permission and jurisdiction and the
transition's conditions, changes the state (through pytransitions), stamps the
deadline and the org node responsible for the new state (a transition that stays in
its state keeps them), appends the audit entry and commits. Side effects registered on the context run only after the commit. Any
exception rolls everything back; the session expires the object, so the half-made
in-memory change pytransitions leaves behind is never seen.
"""
from __future__ import annotations

import contextvars
import functools
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Iterable, Optional

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from transitions import Machine

from core.db import expire_all_except, in_write_transaction, lock, utcnow, write_transaction
from core.extensions import db
from core.errors import InvalidTransition, NotFound, NotPermitted, StaleVersion, ValidationError
from core.types import PathColumnType
from rules.calendar import LOCAL, add_working_days
from rules.policy import current_policy
from orgs import permissions
from workflow import audit


class SystemActor:
    """The actor of scheduled jobs (deadline sweeps); it holds no memberships."""

    id = None
    name = "system"
    is_authenticated = True
    memberships: list = []

    def __repr__(self) -> str:
        return "<system>"


SYSTEM = SystemActor()


@dataclass(frozen=True)
class Condition:
    """A guard on a transition, with the message people read when it does not hold."""

    check: Callable[[Any, "FireContext"], bool]
    message: Any


@dataclass(frozen=True)
class State:
    name: str
    label: Any  # lazy string
    level: Optional[str] = None  # org level responsible while in this state
    deadline: bool = True  # whether the city policy's deadline applies
    terminal: bool = False
    public_label: Any = None  # plain words for residents (defaults to label)


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: tuple[str, ...]
    dest: str
    permission: str
    label: Any
    reason: bool = False  # a written reason is required
    fields: tuple[str, ...] = ()  # other data keys required
    conditions: tuple[Condition, ...] = ()
    system: bool = False  # the deadline sweep may fire it
    before: tuple[Callable, ...] = ()  # (subject, ctx) inside the transaction, before the state changes
    after: tuple[Callable, ...] = ()  # (subject, ctx) inside the transaction, after it changed
    style: str = ""  # "primary" / "danger" for the button


@dataclass
class FireContext:
    actor: Any
    trigger: str
    data: dict
    transition: Transition | None = None
    membership: Any = None
    from_state: str | None = None
    payload: dict = field(default_factory=dict)  # what goes into the audit entry besides the reason
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return (self.data.get("reason") or "").strip()


@dataclass(frozen=True)
class Event:
    """Something that happened to a subject, as transition observers see it: a
    transition (fire), a first state (start) or an event without a state change
    (record_event, announce)."""

    subject: Any
    trigger: str
    actor: Any
    from_state: str | None = None
    to_state: str | None = None
    from_org_id: int | None = None  # the org node answering before (fire only)
    transition: Transition | None = None
    payload: dict = field(default_factory=dict)


def observe(app: Flask, callback: Callable[[Event], None]) -> None:
    """Call `callback(event)` after the audit entry of every transition, first state and
    recorded event, inside the same transaction: what it writes is committed or rolled
    back with the change that caused it (notifications, notify/)."""
    observers = app.extensions.setdefault("wuji_observers", [])
    if callback not in observers:
        observers.append(callback)


# The rows observers add while announce() calls them (see ride()).
_riders: contextvars.ContextVar[list | None] = contextvars.ContextVar("wuji_riders", default=None)


def announce(subject, trigger: str, actor, *, keep_riders: bool = False, **details) -> list:
    """Tell the observers about `subject` (inside the caller's transaction); the engine
    calls it itself, packages call it for events that are not audited (a notice published).

    The rows the observers `ride()` are written before it returns, unless `keep_riders`:
    then they are returned, for fire() to write with the subject's own row."""
    observers = current_app.extensions.get("wuji_observers")
    if not observers:
        return []
    event = Event(subject, trigger, actor, **details)
    riders: list = []
    token = _riders.set(riders)
    try:
        for callback in observers:
            callback(event)
    finally:
        _riders.reset(token)
    if keep_riders:
        return riders
    _write_riders(riders)
    return []


def ride(statement, params: dict) -> None:
    """An observer's INSERT of one row that rides with the transition's own write.

    fire() writes the subject's changed columns with one UPDATE; on PostgreSQL the
    rows observers add (a notification event, notify/) go into that same statement as
    data-modifying CTEs, so that they cost the transition no round trip to the server;
    elsewhere, or when the subject is left to the unit of work, each is a statement of
    its own in the same transaction. `statement` is built once and names its bound
    parameters so that they cannot clash with the UPDATE's (v_*, pk_). Outside an
    announce() the row is written at once."""
    riders = _riders.get()
    if riders is None:
        db.session.execute(statement, params)
    else:
        riders.append((statement, params))


def _write_riders(riders: list) -> None:
    if not riders:
        return
    connection = db.session.connection()
    for statement, params in riders:
        form = _driver_form(statement, connection.dialect)
        if form is None:
            connection.execute(statement, params)
        else:
            sql, order = form
            connection.exec_driver_sql(sql, tuple(params[name] if process is None else process(params[name])
                                                  for name, process in order))


@functools.lru_cache(maxsize=64)
def _driver_form(statement, dialect):
    """A rider as the driver takes it, where its parameters are positional (SQLite):
    the SQL compiled once and, in order, each parameter's name and the conversion its
    column type applies. Executing that skips SQLAlchemy's per-statement work, which
    costs more than SQLite's own one-row insert. None elsewhere."""
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None or "RETURNING" in compiled.string.upper():
        return None
    order = tuple((name, compiled.binds[name].type.bind_processor(dialect)) for name in compiled.positiontup)
    return compiled.string, order


class WorkflowSubject:
    """Columns every subject of a workflow carries."""

    subject_type: str = ""
    workflow: "Workflow"

    state: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state_entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[Optional[datetime]] = mapped_column(DateTime, index=True)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_hash: Mapped[Optional[str]] = mapped_column(String(64))
    audit_mac: Mapped[Optional[str]] = mapped_column(String(64))  # the head's keyed seal (workflow/audit.py)
    # Path of the place or org the subject belongs to: jurisdiction is a prefix test on it.
    path: Mapped[str] = mapped_column(PathColumnType(), index=True)

    @declared_attr
    def responsible_org_id(cls) -> Mapped[Optional[int]]:
        return mapped_column(ForeignKey("org_node.id"), index=True)

    def responsible_org_for(self, state: "State"):
        """The org node that answers for the subject in `state` (override per model)."""
        return None

    def responsible_org_id_for(self, state: "State") -> int | None:
        """The id of responsible_org_for(state); a model may answer it more cheaply."""
        org = self.responsible_org_for(state)
        return org.id if org is not None else None

    def deadline_days(self, state: "State") -> int | None:
        """Working days allowed in `state`: the city policy's, for this workflow."""
        return current_policy().deadline(self.workflow.name, state.name)


class Workflow:
    """States and transitions as data, one shared machine, and the checks around it."""

    def __init__(self, name: str, states: Iterable[State], transitions: Iterable[Transition], initial: str,
                 event_labels: dict[str, Any] | None = None):
        self.name = name
        self.states = {state.name: state for state in states}
        self.transitions = list(transitions)
        self.initial = initial
        # Words for audit entries that are not transitions ("create", "overdue_escalation"...).
        self.event_labels = dict(event_labels or {})
        for t in self.transitions:
            unknown = [s for s in (*t.source, t.dest) if s not in self.states]
            if unknown:
                raise ValueError(f"{name}: transition {t.trigger} names unknown states {unknown}")
            permissions.action(t.permission)  # fails early on an unregistered action
        self._build()

    def _build(self) -> None:
        self._candidates: dict[tuple[str, str], list[Transition]] = {}
        for t in self.transitions:
            for source in t.source:
                self._candidates.setdefault((source, t.trigger), []).append(t)
        self.machine = Machine(
            model=None,
            states=list(self.states),
            initial=self.initial,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
        )
        for t in self.transitions:
            self.machine.add_transition(
                t.trigger,
                list(t.source),
                t.dest,
                conditions=[self._chosen(t)],
                before=[self._machine_callback(cb) for cb in t.before],
                after=[self._machine_callback(cb) for cb in t.after],
            )

    def extend(self, trigger: str, *, dest: str | None = None, conditions: tuple[Condition, ...] = (),
               after: tuple[Callable, ...] = ()) -> None:
        """Attach another package's conditions and callbacks to the transitions of
        `trigger` (those into `dest` when given), at import time: the package that depends on this workflow plugs into
        it (joint acceptance into the renovation issue's `accept`), so the workflow's
        own package never imports it."""
        found = False
        for index, t in enumerate(self.transitions):
            if t.trigger == trigger and dest in (None, t.dest):
                self.transitions[index] = replace(t, conditions=t.conditions + tuple(conditions),
                                                  after=t.after + tuple(after))
                found = True
        if not found:
            raise ValueError(f"{self.name}: no transition {trigger}")
        self._build()

    @staticmethod
    def _chosen(transition: Transition):
        """The machine takes the transition fire() chose: the engine has evaluated its
        conditions once already (Workflow.choose, which words the refusal), and some
        of them read the database. Where one trigger leaves a state by several
        transitions (told apart by their conditions), this picks the chosen one."""
        return lambda event: event.kwargs["ctx"].transition is transition

    @staticmethod
    def _machine_callback(callback: Callable):
        return lambda event: callback(event.model, event.kwargs["ctx"])

    # --- reading the definition ------------------------------------------------

    def state(self, name: str) -> State:
        return self.states[name]

    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t.trigger for t in self.transitions))

    def candidates(self, state: str, trigger: str) -> list[Transition]:
        """The transitions `trigger` may take from `state`, in definition order."""
        return self._candidates.get((state, trigger), [])

    def transition_label(self, trigger: str):
        for t in self.transitions:
            if t.trigger == trigger:
                return t.label
        return trigger

    def event_label(self, trigger: str):
        """An audit entry's action in words: an event of its own, or the transition."""
        label = self.event_labels.get(trigger)
        return label if label is not None else self.transition_label(trigger)

    def state_label(self, name: str | None):
        """A state in words (the name itself if the workflow no longer has it)."""
        state = self.states.get(name) if name is not None else None
        return state.label if state is not None else name

    # --- deciding ----------------------------------------------------------------

    def choose(self, subject, trigger: str, ctx: FireContext) -> Transition:
        """The transition `trigger` would take from the subject's state, or a domain error."""
        candidates = self.candidates(subject.state, trigger)
        if not candidates:
            if trigger not in self.triggers():
                raise ValidationError(_("Unknown action: %(trigger)s.", trigger=trigger))
            raise InvalidTransition(
                _("This cannot be done while the item is in the state “%(state)s”.",
                  state=self.state(subject.state).label)
            )
        failed: Condition | None = None
        for candidate in candidates:
            blocking = next((c for c in candidate.conditions if not c.check(subject, ctx)), None)
            if blocking is None:
                return candidate
            failed = failed or blocking
        raise InvalidTransition(str(failed.message))

    def allowed(self, subject, actor, trigger: str) -> bool:
        """May `actor` fire `trigger` now? (decides which buttons a person sees)."""
        ctx = FireContext(actor=actor, trigger=trigger, data={})
        for candidate in self.candidates(subject.state, trigger):
            if not _permitted(actor, candidate, subject):
                continue
            if all(c.check(subject, ctx) for c in candidate.conditions):
                return True
        return False

    def available(self, subject, actor) -> list[Transition]:
        """The transitions `actor` may fire now, one per trigger, in definition order."""
        seen: set[str] = set()
        result = []
        for t in self.transitions:
            if t.trigger in seen or subject.state not in t.source:
                continue
            if self.allowed(subject, actor, t.trigger):
                seen.add(t.trigger)
                result.append(t)
        return result

    # --- entering a state ---------------------------------------------------------

    def enter(self, subject, state_name: str, now: datetime | None = None) -> None:
        """Stamp entry time, the org responsible and the deadline for `state_name`."""
        now = now or utcnow()
        state = self.states[state_name]
        if subject.state != state_name:  # fire(): the machine has set it already
            subject.state = state_name
        subject.state_entered_at = now
        # The lookup only reads the org tree: no need to flush the subject's changes first.
        session = db.session()
        autoflush, session.autoflush = session.autoflush, False
        try:
            subject.responsible_org_id = subject.responsible_org_id_for(state)
        finally:
            session.autoflush = autoflush
        days = subject.deadline_days(state) if (state.deadline and not state.terminal) else None
        subject.due_at = working_days_after(now, days) if days else None


def working_days_after(start_utc: datetime, days: int) -> datetime:
    """rules.calendar.add_working_days, remembered per local day: the deadline depends
    only on the local date it starts from, and each calendar lookup costs ~50 µs."""
    return _working_days_after_day(start_utc.replace(tzinfo=timezone.utc).astimezone(LOCAL).date(), days)


@functools.lru_cache(maxsize=2048)
def _working_days_after_day(local_day: date, days: int) -> datetime:
    noon = datetime.combine(local_day, time(12), tzinfo=LOCAL)
    return add_working_days(noon.astimezone(timezone.utc).replace(tzinfo=None), days)


def _permitted(actor, transition: Transition, subject) -> bool:
    if actor is SYSTEM:
        return transition.system
    return permissions.can(actor, transition.permission, subject)


def _membership_granting(actor, transition: Transition, subject):
    """The membership through which `actor` may take `transition` (None for the system
    actor on a transition the sweep may fire); NotPermitted if there is none."""
    if actor is SYSTEM:
        if transition.system:
            return None
    else:
        membership = permissions.granting_membership(actor, transition.permission, subject)
        if membership is not None:
            return membership
    raise NotPermitted(_("You are not permitted to do this."))


def check_data(transition: Transition, ctx: FireContext) -> None:
    errors = {}
    if transition.reason and not ctx.reason:
        errors["reason"] = _("Please give a reason.")
    for name in transition.fields:
        value = ctx.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = _("This field is required.")
    if errors:
        raise ValidationError(_("Some required information is missing."), fields=errors)


def fire(model: type, subject_id: int, trigger: str, actor, expected_version: int | None, **data):
    """Run one transition on the subject with id `subject_id` (see module docstring).

    Returns the subject after commit. Raises NotFound (missing or outside the actor's
    jurisdiction), NotPermitted, StaleVersion, InvalidTransition or ValidationError;
    on any of them nothing is written."""
    workflow: Workflow = model.workflow
    actor = _unproxied(actor)
    ctx = FireContext(actor=actor, trigger=trigger, data=data)
    commits_here = not in_write_transaction()
    with write_transaction(expire_on_commit=False, keep=_actor_objects(actor)):
        subject = lock(model, subject_id)
        if subject is None or (actor is not SYSTEM and not permissions.can_see(actor, subject)):
            raise NotFound(_("Not found."))
        if expected_version is not None and subject.version != expected_version:
            raise StaleVersion(
                _("Someone else changed this item in the meantime. Reload the page to see the current state."),
                version=subject.version,
                state=subject.state,
            )
        transition = workflow.choose(subject, trigger, ctx)
        ctx.transition = transition
        ctx.membership = _membership_granting(actor, transition, subject)
        ctx.from_state = subject.state
        from_org_id = subject.responsible_org_id
        check_data(transition, ctx)
        if not workflow.machine.events[trigger].trigger(subject, ctx=ctx):
            raise InvalidTransition(_("This cannot be done now."))
        now = utcnow()  # the state's entry time is its audit entry's time
        if transition.dest != ctx.from_state:
            # A transition that stays in its state (progress reported, an item recorded)
            # keeps the state's entry time, deadline and the org answering for it - which
            # the deadline sweep may have referred up.
            workflow.enter(subject, transition.dest, now)
        subject.version += 1
        audit.append(
            subject,
            now=now,
            actor_id=actor.id,
            actor_name=actor.name,
            org_id=ctx.membership.org_id if ctx.membership is not None else None,
            role=ctx.membership.role if ctx.membership is not None else None,
            trigger=trigger,
            from_state=ctx.from_state,
            to_state=transition.dest,
            reason=ctx.reason,
            payload=ctx.payload,
            due_at=subject.due_at if transition.dest != ctx.from_state else None,
        )
        riders = announce(subject, trigger, actor, keep_riders=True, from_state=ctx.from_state,
                          to_state=transition.dest, from_org_id=from_org_id, transition=transition,
                          payload=ctx.payload)
        _write_subject(subject, riders)
    if commits_here:
        # Everything else the session holds is read afresh next time, as after a plain
        # commit, except the subject - locked and written by this transaction, so
        # current - and the actor with the roles it acted in, loaded for this request.
        expire_all_except([subject, *_actor_objects(actor)])
    for effect in ctx.after_commit:
        effect()
    return subject


def _write_subject(subject, riders: list = ()) -> None:
    """Write the subject's changed columns now with one UPDATE by primary key, and the
    observers' `riders` (see ride()) with it.

    This is the statement the unit of work would emit at commit; its bookkeeping for a
    model with many relationships costs more than the statement itself, on every
    transition. Only plain column changes take this path: when a callback changed one
    of the subject's relationships, the commit's flush writes everything as usual."""
    state = instance_state(subject)
    committed = state.committed_state
    if not committed or state.key is None or state.deleted:
        _write_riders(riders)
        return
    mapper = state.mapper
    columns = _plain_columns(mapper)
    if columns is None:
        _write_riders(riders)
        return
    values = state.dict
    changed = []
    for key, old in committed.items():
        if key not in columns:
            _write_riders(riders)
            return  # a relationship (or anything else the flush must handle)
        # Like the unit of work, leave out what was set to the value it already had.
        if old is NO_VALUE or old != values.get(key):
            changed.append(key)
    if changed:
        riding = tuple(statement for statement, _ in riders)
        if riding and (db.engine.dialect.name != "postgresql" or len(set(riding)) != len(riding)):
            _write_riders(riders)
            riding = ()
        statement, names = _update_statement(mapper, frozenset(changed), riding)
        params = {name: values.get(key) for key, name in names}
        params["pk_"] = state.key[1][0]  # the persistent object's primary key, as loaded
        if riding:
            for _, rider_params in riders:
                params.update(rider_params)
        result = db.session.execute(statement, params)
        if result.rowcount != 1:
            raise RuntimeError(f"{mapper.class_.__name__} {params['pk_']}: {result.rowcount} rows updated")
    else:
        _write_riders(riders)
    # What the unit of work does after its own UPDATE: the values written are now the
    # committed state, and the subject is no longer pending in the session's flush.
    state._commit_all(values, db.session.identity_map)


@functools.lru_cache(maxsize=None)
def _plain_columns(mapper) -> frozenset[str] | None:
    """The keys of the mapper's column attributes, or None if _write_subject must leave
    its objects to the unit of work (a mapper that inherits writes several tables)."""
    if mapper.inherits is not None:
        return None
    return frozenset(mapper.column_attrs.keys())


@functools.lru_cache(maxsize=256)
def _update_statement(mapper, keys: frozenset[str], riders: tuple = ()):
    """The UPDATE of `keys` by primary key, with each of the `riders` statements as a
    data-modifying CTE (PostgreSQL), and (key, parameter name) pairs for it."""
    table = mapper.local_table
    (pk,) = mapper.primary_key
    values, names = {}, []
    for key in sorted(keys):
        column = mapper.column_attrs[key].columns[0]
        values[column.name] = bindparam(f"v_{key}", type_=column.type)
        names.append((key, f"v_{key}"))
    statement = update(table).where(pk == bindparam("pk_")).values(values)
    for index, rider in enumerate(riders):
        statement = statement.add_cte(rider.cte(f"rider_{index}"))
    return statement, tuple(names)


def _unproxied(actor):
    """The person behind Flask-Login's current_user proxy (compared by identity below)."""
    unwrap = getattr(actor, "_get_current_object", None)
    return unwrap() if unwrap is not None else actor


def _actor_objects(actor) -> list:
    """The acting person, their memberships, the memberships' org nodes and those
    nodes' levels - as far as the request has loaded them."""
    if actor is SYSTEM:
        return []
    objects = [actor]
    for membership in actor.__dict__.get("memberships", ()):
        objects.append(membership)
        org = membership.__dict__.get("org")
        if org is not None:
            objects.append(org)
            level = org.__dict__.get("level")
            if level is not None:
                objects.append(level)
    return objects


def record_event(subject, actor, trigger: str, *, reason: str = "", payload: dict | None = None, org_id=None) -> None:
    """Audit something that happened to a locked subject without a state change
    (an overdue escalation, a photo added...). Inside the caller's transaction."""
    subject.version += 1
    audit.append(
        subject,
        actor_id=actor.id,
        actor_name=actor.name,
        org_id=org_id,
        role=None,
        trigger=trigger,
        from_state=subject.state,
        to_state=subject.state,
        reason=reason,
        payload=payload,
    )
    announce(subject, trigger, actor, from_state=subject.state, to_state=subject.state, payload=payload or {})


def start(subject, actor, *, state: str | None = None, trigger: str = "create", reason: str = "",
          payload: dict | None = None) -> None:
    """Put a new subject into its first state (the workflow's initial one unless
    given) and write its first audit entry, inside the caller's transaction."""
    workflow: Workflow = type(subject).workflow
    first = state or workflow.initial
    db.session.add(subject)
    workflow.enter(subject, first)
    subject.version = 1
    db.session.flush()
    membership = None
    if actor is not SYSTEM:
        membership = next(
            (m for m in actor.memberships if subject.path.startswith(m.org.path)), None
        ) or (actor.memberships[0] if actor.memberships else None)
    audit.append(
        subject,
        actor_id=actor.id,
        actor_name=actor.name,
        org_id=membership.org_id if membership else None,
        role=membership.role if membership else None,
        trigger=trigger,
        from_state=None,
        to_state=first,
        reason=reason,
        payload=payload,
        due_at=subject.due_at,
    )
    announce(subject, trigger, actor, to_state=first, payload=payload or {})
