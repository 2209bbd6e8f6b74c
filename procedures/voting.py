"""Votes: owners' joint decisions (Civil Code Art. 278) and residents' meetings (Art. 9).

A vote is about a target (procedures.subjects), uses a named rule of the city's policy
(rules.tally) and counts an electorate SNAPSHOT taken when it opens: one row per
household of the estate, building or stairwell unit with its registered area, unsold
flag, adult count and voter key, and one row per owner/resident link. Later roster
changes do not change an open vote.

Ballots are kept with their history: a later ballot of the same voter replaces the
earlier one (only the latest is `is_current`) while the vote is open. Nothing about the
ballots is shown before the vote closes; closing counts them with rules.tally and
stores the exact result. Opening, every ballot and closing are entries of the vote's
hash-chained audit log; opening and closing run through the workflow engine.
"""
from __future__ import annotations

import decimal
import gc
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Iterator, Optional

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import storage
from core.db import is_sqlite, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, NotPermitted, ValidationError
from core.extensions import db
from orgs import permissions
from orgs import roles as R
from orgs.models import Building, Estate, Household, HouseholdPerson, OrgNode, Person, StairwellUnit
from rules import tally
from workflow import audit, engine
from rules.calendar import LOCAL, add_calendar_days
from workflow.engine import Condition, State, Transition, Workflow, WorkflowSubject
from rules.policy import voting_city
from procedures.subjects import (
    EVERYONE, VIEW_OWN, VIEW_SUBTREE, Target, TargetLink, acts_within, lives_in_estate, resolve_for, target_kind,
    workplace_filter,
)

# --- permissions ---------------------------------------------------------------------

permissions.register("vote.view", subtree=VIEW_SUBTREE, own=VIEW_OWN)
permissions.register("vote.open", subtree=R.OFFICERS)
permissions.register("vote.close", subtree=R.OFFICERS)
# Whether the person is in the electorate is decided by the snapshot (see cast_ballot).
permissions.register("vote.cast", own=EVERYONE)
# Checked against each household: the grid worker's subtree must hold it.
permissions.register("vote.enter_paper", subtree=(R.GRID_WORKER,))

SCOPE_KINDS = ("estate", "building", "unit")
CHANNELS = ("online", "paper", "door_to_door")
PAPER_CHANNELS = ("paper", "door_to_door")
CHOICES = tuple(choice.value for choice in tally.Choice)
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
EVIDENCE_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "application/pdf": b"%PDF-"}

CHOICE_LABELS = {
    "agree": _l("Agree"),
    "disagree": _l("Disagree"),
    "abstain": _l("Abstain"),
}
CHANNEL_LABELS = {
    "online": _l("Online"),
    "paper": _l("Paper ballot"),
    "door_to_door": _l("Door to door"),
}
SCOPE_LABELS = {
    "estate": _l("Whole estate"),
    "building": _l("Building"),
    "unit": _l("Stairwell unit"),
}

# Which groups a stored check compares (see tally.Rule.requirements).
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
_THRESHOLD_FIELDS = tuple(_CHECK_GROUPS)
_EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation])


# --- the vote workflow -------------------------------------------------------------


def _not_before_planned_close(vote: "Vote", ctx) -> bool:
    return vote.closes_at is None or utcnow() > vote.closes_at


def _count(vote: "Vote", ctx) -> None:
    """Count the ballots and store the result (inside the closing transaction)."""
    result = count_ballots(vote)
    vote.result_json = json.dumps(result.as_dict(), sort_keys=True)
    vote.passed = result.passed
    vote.closed_at = utcnow()
    vote.closed_by_id = getattr(ctx.actor, "id", None)
    ctx.payload.update(
        passed=result.passed,
        participating_heads=result.participating_heads,
        participating_area=str(result.participating_area),
        agreeing_heads=result.agreeing_heads,
        agreeing_area=str(result.agreeing_area),
        ballots_digest=ballots_digest(vote.id),
    )


def _note_reason(vote: "Vote", ctx) -> None:
    vote.public_note = ctx.reason


VOTE_STATES = [
    State("open", _l("Open for ballots"), level="community_committee", deadline=False,
          public_label=_l("Voting is open")),
    State("closed", _l("Closed and counted"), terminal=True, public_label=_l("Result published")),
    State("cancelled", _l("Cancelled"), terminal=True, public_label=_l("Cancelled (see the reason)")),
]
VOTE_TRANSITIONS = [
    Transition("close", ("open",), "closed", "vote.close", _l("Close the vote and count"),
               conditions=(Condition(_not_before_planned_close,
                                     _l("The voting period has not ended yet.")),),
               after=(_count,), style="primary"),
    Transition("cancel", ("open",), "cancelled", "vote.close", _l("Cancel the vote"), reason=True,
               after=(_note_reason,), style="danger"),
]
VOTE_WORKFLOW = Workflow("vote", VOTE_STATES, VOTE_TRANSITIONS, initial="open",
                         event_labels={"open": _l("Open the vote"), "ballot": _l("Ballot recorded")})


# --- models --------------------------------------------------------------------------


@audit.register_subject
class Vote(TargetLink, WorkflowSubject, db.Model):
    """One vote on one target, with its frozen rule and electorate."""

    __tablename__ = "vote"
    __table_args__ = (
        CheckConstraint("scope_kind IN ('estate', 'building', 'unit')", name="scope_kind_known"),
        CheckConstraint("electorate_kind IN ('owners', 'residents')", name="electorate_kind_known"),
        Index("ix_vote_target", "target_type", "target_id"),
    )
    subject_type = "vote"
    workflow = VOTE_WORKFLOW

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    subject_kind: Mapped[str] = mapped_column(String(40))
    scope_kind: Mapped[str] = mapped_column(String(20))
    scope_id: Mapped[int] = mapped_column(Integer)
    scope_label: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(60))
    rule_name: Mapped[str] = mapped_column(String(60))
    # The rule's thresholds as they stood when the vote opened (exact fractions as text).
    rule_spec: Mapped[str] = mapped_column(Text)
    electorate_kind: Mapped[str] = mapped_column(String(20))
    voter_count: Mapped[int] = mapped_column(Integer)
    household_count: Mapped[int] = mapped_column(Integer)
    entitled_area: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closes_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    passed: Mapped[Optional[bool]] = mapped_column(Boolean)
    result_json: Mapped[Optional[str]] = mapped_column(Text)
    # What residents read when the vote is cancelled.
    public_note: Mapped[str] = mapped_column(Text, default="")

    estate: Mapped[Estate] = relationship()
    opened_by: Mapped[Person] = relationship(foreign_keys=[opened_by_id])

    def responsible_org_for(self, state: State) -> Optional[OrgNode]:
        if not state.level:
            return None
        return db.session.get(Estate, self.estate_id).org

    def is_personal_to(self, person) -> bool:
        """In the electorate snapshot, living in the estate, or working inside the vote's place."""
        if person.id is None:
            return False
        if person.id in self.__dict__.get("_snapshot_people", ()):
            return True
        in_snapshot = db.session.connection().execute(
            _IN_SNAPSHOT, {"vote_id": self.id, "person_id": person.id}).first()
        return (in_snapshot is not None or lives_in_estate(person, self.estate_id)
                or acts_within(person, self.path, self.estate_id))

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def rule(self) -> tally.Rule:
        return frozen_rule(self.rule_spec)


class VoteHousehold(db.Model):
    """Snapshot: one household of the electorate as it stood when the vote opened."""

    __tablename__ = "vote_household"

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    # The counting person this household belongs to; NULL: nobody to count (no adults).
    voter_key: Mapped[Optional[str]] = mapped_column(String(40))
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unsold: Mapped[bool] = mapped_column(Boolean, default=False)
    adult_count: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[int] = mapped_column(Integer, default=0)


class VotePerson(db.Model):
    """Snapshot: an owner or resident link of a household of the electorate."""

    __tablename__ = "vote_person"
    # Covering, so that "this person's households in this vote" never scans the vote's links.
    __table_args__ = (Index("ix_vote_person_person", "vote_id", "person_id", "household_id", "relation"),)

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    relation: Mapped[str] = mapped_column(String(20), primary_key=True)


_IN_SNAPSHOT = select(VotePerson.person_id).where(
    VotePerson.vote_id == bindparam("vote_id"), VotePerson.person_id == bindparam("person_id")).limit(1)


class Ballot(db.Model):
    """One ballot as cast or entered. Replaced ballots stay, with `current` false."""

    __tablename__ = "vote_ballot"
    __table_args__ = (
        CheckConstraint("choice IN ('agree', 'disagree', 'abstain')", name="choice_known"),
        CheckConstraint("channel IN ('online', 'paper', 'door_to_door')", name="channel_known"),
        # One current ballot per voter, enforced by the database on both backends.
        Index("uq_vote_ballot_current_voter", "vote_id", "voter_key", unique=True,
              sqlite_where=db.text("is_current"), postgresql_where=db.text("is_current")),
        # Finding a voter's current ballot to replace it (the partial index above is not
        # chosen by SQLite for "is_current = 1").
        Index("ix_vote_ballot_voter", "vote_id", "voter_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"))
    voter_key: Mapped[str] = mapped_column(String(40))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    choice: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    evidence_ref: Mapped[str] = mapped_column(String(200), default="")
    evidence_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    cast_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    replaced_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    cast_by: Mapped[Person] = relationship()


# --- rules ---------------------------------------------------------------------------


def _threshold_spec(threshold: tally.Threshold) -> list:
    return [threshold.numerator, threshold.denominator, threshold.inclusive]


def rule_spec(rule: tally.Rule) -> str:
    fields = {name: _threshold_spec(getattr(rule, name)) for name in _THRESHOLD_FIELDS
              if getattr(rule, name) is not None}
    return json.dumps({"name": rule.name, "kind": rule.kind.value, "thresholds": fields}, sort_keys=True)


def frozen_rule(spec: str) -> tally.Rule:
    """The rule as stored when the vote opened; titles come from the current policy."""
    data = json.loads(spec)
    try:
        named = tally.get_rule(data["name"], city())
        title, basis = named.title, named.legal_basis
    except (tally.UnknownRule, tally.UnknownCity):
        title, basis = data["name"], ""
    thresholds = {name: tally.Threshold(Fraction(n, d), inclusive) for name, (n, d, inclusive)
                  in data["thresholds"].items()}
    return tally.Rule(name=data["name"], kind=data["kind"], title=title, legal_basis=basis, **thresholds)


def _strictness(threshold: tally.Threshold) -> tuple[Fraction, bool]:
    """Order thresholds: a larger share is stricter; at equal shares "more than" is stricter."""
    return threshold.fraction, not threshold.inclusive


def at_least_as_strict(rule: tally.Rule, base: tally.Rule) -> bool:
    """Does `rule` demand at least everything `base` demands? (A local rule may
    tighten the legal default, never loosen it.)"""
    if rule.kind is not base.kind:
        return False
    mine = {req.name: req.threshold for req in rule.requirements()}
    return all(
        req.name in mine and _strictness(mine[req.name]) >= _strictness(req.threshold)
        for req in base.requirements()
    )


def city() -> str:
    """The voting policy (rules/tally.py) of the configured city."""
    return voting_city()


def default_rule(target: Target) -> tally.Rule:
    return tally.default_rule_for(target.subject_kind, city())


def allowed_rules(target: Target) -> list[tally.Rule]:
    """The default rule for the target, then every stricter rule of the city's policy."""
    base = default_rule(target)
    policy = tally.VOTING_POLICIES[city()]
    names = list(tally.VOTING_POLICIES[tally.DEFAULT_CITY].rules) + list(policy.rules)
    rules = [tally.get_rule(name, city()) for name in dict.fromkeys(names)]
    return [base] + [r for r in rules if r.name != base.name and at_least_as_strict(r, base)]


def choose_rule(target: Target, rule_name: str | None) -> tally.Rule:
    if not rule_name:
        return default_rule(target)
    for rule in allowed_rules(target):
        if rule.name == rule_name:
            return rule
    raise ValidationError(
        _("The rule %(rule)s cannot be used here: a vote on this matter needs the rule %(default)s "
          "or a stricter one.", rule=rule_name, default=default_rule(target).name),
        fields={"rule": _("Unknown or too weak a rule.")},
    )


# --- opening -------------------------------------------------------------------------


@dataclass(frozen=True)
class VoteOptions:
    """What the organiser chooses when opening a vote (all optional)."""

    scope_kind: str | None = None
    scope_id: int | None = None
    rule_name: str | None = None
    title: str | None = None
    closes_on: date | None = None

    @classmethod
    def from_data(cls, data: dict) -> "VoteOptions":
        """From transition data (text, as forms and the issue API send it)."""
        errors: dict[str, str] = {}
        scope_kind = (data.get("scope_kind") or "").strip() or None
        if scope_kind is not None and scope_kind not in SCOPE_KINDS:
            errors["scope_kind"] = _("Choose the estate, a building or a stairwell unit.")
        scope_id = _optional_int(data.get("scope_id"), "scope_id", errors)
        closes_on = optional_date(data.get("closes_on"), "closes_on", errors)
        if errors:
            raise ValidationError(_("Some information is missing or invalid."), fields=errors)
        return cls(scope_kind, scope_id, (str(data.get("rule") or "").strip() or None),
                   (str(data.get("vote_title") or "").strip() or None), closes_on)


def _optional_int(raw: Any, name: str, errors: dict) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        errors[name] = _("Must be a whole number.")
        return None


def optional_date(raw: Any, name: str, errors: dict) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None


def _scope_object(target: Target, options: VoteOptions):
    """The estate, building or unit whose households vote (default: the target's narrowest place)."""
    kind, ident = options.scope_kind, options.scope_id
    if kind is None:
        kind, ident = default_scope(target)
    model = {"estate": Estate, "building": Building, "unit": StairwellUnit}[kind]
    place = db.session.get(model, ident) if ident is not None else None
    estate_id = None if place is None else _estate_id_of(place)
    if estate_id != target.estate_id:
        raise ValidationError(
            _("The electorate must be the estate, a building or a stairwell unit of the item's estate."),
            fields={"scope_id": _("Unknown place.")},
        )
    return kind, place


def default_scope(target: Target) -> tuple[str, int]:
    obj = target.obj
    if getattr(obj, "unit_id", None):
        return "unit", obj.unit_id
    if getattr(obj, "building_id", None):
        return "building", obj.building_id
    return "estate", target.estate_id


def _estate_id_of(place) -> int:
    if isinstance(place, Estate):
        return place.id
    if isinstance(place, Building):
        return place.estate_id
    return place.building.estate_id


def _scope_label(kind: str, place) -> str:
    if kind == "estate":
        return place.name
    if kind == "building":
        return f"{place.estate.name} {place.number}"
    return f"{place.building.estate.name} {place.building.number} {place.number}"


def _household_filter(kind: str, place):
    if kind == "estate":
        return Household.estate_id == place.id
    if kind == "building":
        return StairwellUnit.building_id == place.id
    return Household.unit_id == place.id


@dataclass
class Snapshot:
    households: list[dict]
    people: list[dict]
    voters: list[tally.Voter]


def take_snapshot(kind: str, place, electorate: tally.ElectorateKind) -> Snapshot:
    """Read the households and their people under the scope, and who counts as whom."""
    rows = db.session.execute(
        select(Household.id, Household.area, Household.unsold, Household.adult_count, Household.room,
               StairwellUnit.number, Building.number)
        .join(StairwellUnit, Household.unit_id == StairwellUnit.id)
        .join(Building, StairwellUnit.building_id == Building.id)
        .where(_household_filter(kind, place))
        .order_by(Building.sort_key, Building.id, StairwellUnit.sort_key, StairwellUnit.id,
                  Household.sort_key, Household.id)
    ).all()
    ids = [row[0] for row in rows]
    people = [
        {"household_id": hid, "person_id": pid, "relation": relation}
        for hid, pid, relation in db.session.execute(
            select(HouseholdPerson.household_id, HouseholdPerson.person_id, HouseholdPerson.relation)
            .where(HouseholdPerson.household_id.in_(ids))
        )
    ] if ids else []
    voters = _electorate(rows, people, electorate)
    key_of = tally.voter_for_household(voters)
    households = [
        {"household_id": hid, "voter_key": key_of.get(hid), "area": area, "unsold": bool(unsold),
         "adult_count": adults or 0, "label": f"{building} {unit} {room}", "sort_key": index}
        for index, (hid, area, unsold, adults, room, unit, building) in enumerate(rows)
    ]
    return Snapshot(households, people, voters)


def _electorate(rows, people: list[dict], electorate: tally.ElectorateKind) -> list[tally.Voter]:
    if electorate is tally.ElectorateKind.RESIDENTS:
        return tally.build_resident_electorate(
            (tally.ResidentHousehold(row[0], row[3] or 0) for row in rows), tally.ResidentMode.HOUSEHOLD
        )
    owners: dict[int, set[int]] = {}
    for link in people:
        if link["relation"] == "owner":
            owners.setdefault(link["household_id"], set()).add(link["person_id"])
    return tally.build_owner_electorate(
        tally.OwnerUnit(row[0], Decimal(row[1]), frozenset(owners.get(row[0], ())), bool(row[2])) for row in rows
    )


def _closes_at(closes_on: date | None) -> datetime | None:
    """The end of the chosen local day (Asia/Shanghai), as naive UTC."""
    if closes_on is None:
        return None
    if closes_on < datetime.now(LOCAL).date():
        raise ValidationError(_("The closing date cannot be in the past."),
                              fields={"closes_on": _("Date in the past.")})
    return add_calendar_days(datetime.combine(closes_on, datetime.min.time()), 0)


def create_vote(actor, target: Target, options: VoteOptions) -> Vote:
    """Snapshot the electorate and open a vote (inside the caller's transaction)."""
    kind, place = _scope_object(target, options)
    permissions.require(actor, "vote.open", place)
    if any(vote.state == "open" for vote in votes_for(target.type, target.id)):
        raise InvalidTransition(_("A vote on this item is already open."))
    rule = choose_rule(target, options.rule_name)
    snapshot = take_snapshot(kind, place, rule.kind)
    if not snapshot.voters:
        raise ValidationError(_("Nobody is entitled to vote in this electorate: check the roster first."))
    with decimal.localcontext(_EXACT):
        entitled_area = sum((voter.area for voter in snapshot.voters), Decimal(0))
    vote = Vote(
        target_type=target.type, target_id=target.id, estate_id=target.estate_id, path=place.path,
        title=(options.title or target.label)[:200], subject_kind=target.subject_kind.value,
        scope_kind=kind, scope_id=place.id, scope_label=_scope_label(kind, place)[:200],
        city=city(), rule_name=rule.name, rule_spec=rule_spec(rule), electorate_kind=rule.kind.value,
        voter_count=len(snapshot.voters), household_count=len(snapshot.households),
        entitled_area=entitled_area, opened_by_id=actor.id, closes_at=_closes_at(options.closes_on),
    )
    engine.start(vote, actor, trigger="open", payload={
        "target": f"{target.type}:{target.id}", "rule": rule.name, "scope": f"{kind}:{place.id}",
        "voters": len(snapshot.voters), "households": len(snapshot.households), "entitled_area": str(entitled_area),
    })
    _store_snapshot(vote.id, snapshot)
    return vote


def _store_snapshot(vote_id: int, snapshot: Snapshot) -> None:
    db.session.execute(insert(VoteHousehold), [dict(row, vote_id=vote_id) for row in snapshot.households])
    if snapshot.people:
        db.session.execute(insert(VotePerson), [dict(row, vote_id=vote_id) for row in snapshot.people])


def open_vote(actor, target_type: str, target_id: int, options: VoteOptions,
              target_version: int | None = None) -> Vote:
    """Open a vote on a target. Where the target's kind opens votes through its own
    transition (a renovation issue's `open_vote`), its hook does it."""
    kind = target_kind(target_type)
    if kind is not None and kind.open_vote is not None:
        return kind.open_vote(actor, target_id, options, target_version)
    with write_transaction():
        target = resolve_for(actor, target_type, target_id)
        permissions.require(actor, "vote.open", target)
        vote = create_vote(actor, target, options)
    return vote


def latest_vote(target_type: str, target_id: int) -> Optional[Vote]:
    return db.session.scalar(
        select(Vote).where(Vote.target_type == target_type, Vote.target_id == target_id)
        .order_by(Vote.id.desc()).limit(1)
    )


def votes_for(target_type: str, target_id: int) -> list[Vote]:
    return list(db.session.scalars(
        select(Vote).where(Vote.target_type == target_type, Vote.target_id == target_id).order_by(Vote.id)
    ))


# --- ballots -------------------------------------------------------------------------


def parse_choice(raw: object) -> tally.Choice:
    if isinstance(raw, str) and raw in CHOICES:
        return tally.Choice(raw)
    raise ValidationError(_("Choose one of: agree, disagree, abstain."),
                          fields={"choice": _("Unknown choice.")})


def get_vote(actor, vote_id: int, action: str = "vote.view") -> Vote:
    """The one loader: missing or outside what the actor may see is 404."""
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound(_("Not found."))
    permissions.require(actor, action, vote)
    return vote


@dataclass
class ChainHead:
    """The locked vote as a ballot needs it: its state and the head of its audit chain.

    Ballots are written with Core statements (one vote may take 10,000 of them);
    workflow.audit.append() advances `audit_seq`/`audit_hash` here and
    `_store_chain_head` writes them back."""

    id: int
    state: str
    audit_seq: int
    audit_hash: str | None
    audit_mac: str | None = None
    subject_type: str = "vote"


# Statements of the ballot path, built once: a vote may take 10,000 ballots, and building
# and keying a statement costs more than SQLite takes to run it.
_LOCK_VOTE = select(Vote.id, Vote.state, Vote.closes_at, Vote.audit_seq, Vote.audit_hash).where(
    Vote.id == bindparam("vote_id"))
_LOCK_VOTE_FOR_UPDATE = _LOCK_VOTE.with_for_update()
_STORE_CHAIN_HEAD = update(Vote).where(Vote.id == bindparam("head_vote")).values(
    audit_seq=bindparam("head_seq"), audit_hash=bindparam("head_hash"), audit_mac=bindparam("head_mac"))
_REPLACE_CURRENT = update(Ballot).where(
    Ballot.vote_id == bindparam("of_vote"), Ballot.voter_key == bindparam("of_voter"), Ballot.is_current.is_(True),
).values(is_current=False, replaced_at=bindparam("now"))
_INSERT_BALLOT = insert(Ballot).returning(Ballot.id)


def _lock_open_vote(vote_id: int) -> ChainHead:
    """Lock the vote row for a ballot: refused once the vote is closed or its period is over."""
    stmt = _LOCK_VOTE if is_sqlite() else _LOCK_VOTE_FOR_UPDATE
    row = db.session.connection().execute(stmt, {"vote_id": vote_id}).first()
    if row is None:
        raise NotFound(_("Not found."))
    if row.state != "open":
        raise InvalidTransition(_("This vote is closed: ballots are no longer accepted."))
    if row.closes_at is not None and utcnow() > row.closes_at:
        raise InvalidTransition(_("The voting period has ended: ballots are no longer accepted."))
    return ChainHead(row.id, row.state, row.audit_seq or 0, row.audit_hash)


def _store_chain_head(head: ChainHead) -> None:
    db.session.connection().execute(
        _STORE_CHAIN_HEAD, {"head_vote": head.id, "head_seq": head.audit_seq, "head_hash": head.audit_hash,
                            "head_mac": head.audit_mac})


@dataclass(frozen=True)
class Caster:
    """Who records a ballot, read before the write transaction (which expires the ORM actor)."""

    id: int
    name: str


def _linked_households(person_param: str = "person_id", owners_only: bool = False):
    """Households of the snapshot linked to a person (driven by the covering person index)."""
    links = select(VotePerson.household_id).where(
        VotePerson.vote_id == bindparam("vote_id"), VotePerson.person_id == bindparam(person_param))
    if owners_only:
        links = links.where(VotePerson.relation == "owner")
    return VoteHousehold.household_id.in_(links.scalar_subquery())


def _voter_query(owners_only: bool):
    return (
        select(VoteHousehold.household_id, VoteHousehold.voter_key)
        .where(VoteHousehold.vote_id == bindparam("vote_id"), _linked_households(owners_only=owners_only),
               VoteHousehold.voter_key.is_not(None))
        .order_by(VoteHousehold.household_id)
    )


_VOTER_FOR = {True: _voter_query(True), False: _voter_query(False)}


def own_voter(vote: Vote, actor, household_id: int | None) -> tuple[int, str]:
    """(household, voter key) the actor votes for, from the snapshot."""
    owners_only = vote.electorate_kind == tally.ElectorateKind.OWNERS.value
    rows = db.session.connection().execute(
        _VOTER_FOR[owners_only], {"vote_id": vote.id, "person_id": actor.id}).all()
    if household_id is not None:
        rows = [row for row in rows if row[0] == household_id]
    if not rows:
        raise NotPermitted(_("You are not in the electorate of this vote, so you cannot vote in it."))
    if len({key for _hid, key in rows}) > 1:
        raise ValidationError(_("You may vote for more than one household here: choose the household."),
                              fields={"household_id": _("Choose the household.")})
    # Remembered on this instance: the snapshot never changes (see Vote.is_personal_to).
    vote.__dict__.setdefault("_snapshot_people", set()).add(actor.id)
    return rows[0][0], rows[0][1]


def _record(head: ChainHead, *, caster: Caster, voter_key: str, household_id: int, choice: tally.Choice,
            channel: str, evidence_ref: str = "", evidence_sha256: str | None = None) -> Ballot:
    """Store a ballot; an earlier current ballot of the same voter is replaced (kept as
    history). Returns the stored ballot (not attached to the session)."""
    now = utcnow()
    connection = db.session.connection()
    connection.execute(_REPLACE_CURRENT, {"of_vote": head.id, "of_voter": voter_key, "now": now})
    values = dict(vote_id=head.id, voter_key=voter_key, household_id=household_id, choice=choice.value,
                  channel=channel, cast_by_id=caster.id, evidence_ref=evidence_ref,
                  evidence_sha256=evidence_sha256, cast_at=now, is_current=True, replaced_at=None)
    ballot = Ballot(id=connection.execute(_INSERT_BALLOT, values).scalar_one(), **values)
    _audit_ballot(head, caster, ballot)
    return ballot


def _audit_ballot(head: ChainHead, caster: Caster, ballot: Ballot) -> None:
    """Chain the ballot into the vote's audit log (the choice itself is not written there:
    the log is readable before the vote closes; the closing entry carries a digest of all)."""
    audit.append(
        head, actor_id=caster.id, actor_name=caster.name, org_id=None, role=None, trigger="ballot",
        from_state=head.state, to_state=head.state,
        payload={"ballot": ballot.id, "voter": ballot.voter_key, "household": ballot.household_id,
                 "channel": ballot.channel, "evidence": ballot.evidence_ref},
    )
    _store_chain_head(head)


def cast_ballot(actor, vote_id: int, choice: object, household_id: int | None = None) -> Ballot:
    """An owner (or, at a residents' meeting, a household's representative) votes online.

    Who may vote is read from the snapshot, which never changes, before the write
    transaction; whether the vote is still open is checked under the row lock."""
    parsed = parse_choice(choice)
    vote = db.session.get(Vote, vote_id)
    if vote is None:
        raise NotFound(_("Not found."))
    try:
        hid, key = own_voter(vote, actor, household_id)
    except NotPermitted:
        permissions.require(actor, "vote.cast", vote)  # outside what they may see: 404, not 403
        raise
    permissions.require(actor, "vote.cast", vote)
    caster = Caster(actor.id, actor.name)
    with write_transaction():
        return _record(_lock_open_vote(vote_id), caster=caster, voter_key=key, household_id=hid, choice=parsed,
                       channel="online")


@dataclass(frozen=True)
class PaperBallot:
    """A ballot collected on paper or door to door, entered by a grid worker."""

    household_id: int
    choice: str
    evidence_ref: str
    channel: str = "paper"
    evidence: bytes | None = None
    evidence_type: str = ""


def _check_paper(entry: PaperBallot, index: int) -> tally.Choice:
    prefix = f"ballots[{index}]."
    errors: dict[str, str] = {}
    if entry.channel not in PAPER_CHANNELS:
        errors[prefix + "channel"] = _("Choose paper or door to door.")
    if not (entry.evidence_ref or "").strip():
        errors[prefix + "evidence_ref"] = _("Give the evidence: the ballot number or the visit record.")
    elif len(entry.evidence_ref) > 200:
        errors[prefix + "evidence_ref"] = _("At most 200 characters.")
    if entry.evidence is not None:
        magic = EVIDENCE_TYPES.get(entry.evidence_type)
        if magic is None or not entry.evidence.startswith(magic) or len(entry.evidence) > MAX_EVIDENCE_BYTES:
            errors[prefix + "evidence"] = _("The evidence file must be a JPEG, PNG or PDF of at most 10 MB.")
    try:
        choice = parse_choice(entry.choice)
    except ValidationError:
        errors[prefix + "choice"] = _("Unknown choice.")
        choice = tally.Choice.ABSTAIN
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)
    return choice


def _paper_voter(vote: Vote, actor, household_id: int) -> str:
    row = db.session.get(VoteHousehold, (vote.id, household_id))
    if row is None or row.voter_key is None:
        raise ValidationError(_("Household %(household)s is not in this vote's electorate.", household=household_id),
                              fields={"household_id": _("Not in the electorate.")})
    household = db.session.get(Household, household_id)
    if household is None or not permissions.can(actor, "vote.enter_paper", household):
        raise NotPermitted(_("Only the grid worker responsible for household %(household)s may enter its ballot.",
                             household=row.label))
    return row.voter_key


def enter_paper_ballots(actor, vote_id: int, entries: Iterable[PaperBallot], replace: bool = True) -> list[Ballot]:
    """Enter ballots collected on paper or door to door; all or nothing. Two ballots of
    the same voter in one request are refused (which one should count?). With
    replace=False, a voter who already has a ballot (online, or entered for another of
    their flats: one owner holds one vote for all of them) is refused with what it was,
    so that the person entering confirms the replacement."""
    entries = list(entries)
    if not entries:
        raise ValidationError(_("Enter at least one ballot."))
    choices = [_check_paper(entry, index) for index, entry in enumerate(entries)]
    vote = get_vote(actor, vote_id)
    keys = [_paper_voter(vote, actor, entry.household_id) for entry in entries]
    _refuse_repeats(vote, keys, entries)
    caster = Caster(actor.id, actor.name)
    with write_transaction():
        head = _lock_open_vote(vote_id)
        if not replace:
            _refuse_silent_replacement(vote_id, keys)
        return [
            _record(head, caster=caster, voter_key=key, household_id=entry.household_id, choice=choice,
                    channel=entry.channel, evidence_ref=entry.evidence_ref.strip(),
                    evidence_sha256=storage.put(entry.evidence) if entry.evidence is not None else None)
            for key, entry, choice in zip(keys, entries, choices)
        ]


def _refuse_silent_replacement(vote_id: int, keys: list[str]) -> None:
    existing = db.session.execute(
        select(Ballot.household_id, Ballot.choice, Ballot.channel, Ballot.cast_at, VoteHousehold.label)
        .join(VoteHousehold, (VoteHousehold.vote_id == Ballot.vote_id) & (VoteHousehold.household_id == Ballot.household_id))
        .where(Ballot.vote_id == vote_id, Ballot.voter_key.in_(keys), Ballot.is_current.is_(True))
        .order_by(Ballot.id)
    ).first()
    if existing is None:
        return
    raise ValidationError(
        _("This voter already has a ballot: %(flat)s, %(choice)s (%(channel)s, %(when)s). One owner has one "
          "vote for all their flats: entering this ballot replaces that one. Confirm to replace it.",
          flat=existing.label, choice=CHOICE_LABELS[existing.choice], channel=CHANNEL_LABELS[existing.channel],
          when=format_datetime(existing.cast_at.replace(tzinfo=timezone.utc), "yyyy-MM-dd HH:mm")),
        fields={"replace": _("Confirm that this ballot replaces the earlier one.")},
    )


def entered_labels(vote: Vote, ballots: list[Ballot]) -> dict[int, str]:
    """The flats (as the snapshot names them) of the ballots shown to the person entering."""
    return _household_labels(vote, [b.household_id for b in ballots])


def _household_labels(vote: Vote, household_ids: list[int]) -> dict[int, str]:
    ids = set(household_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(VoteHousehold.household_id, VoteHousehold.label)
        .where(VoteHousehold.vote_id == vote.id, VoteHousehold.household_id.in_(ids))
    ).all())


def _refuse_repeats(vote: Vote, keys: list[str], entries: list[PaperBallot]) -> None:
    first: dict[str, int] = {}
    for key, entry in zip(keys, entries):
        if key in first:
            labels = _household_labels(vote, [first[key], entry.household_id])
            raise ValidationError(
                _("Two ballots in this request belong to the same voter (households %(a)s and %(b)s): "
                  "enter only one.", a=labels[first[key]], b=labels[entry.household_id]),
                fields={"ballots": _("The same voter twice.")},
            )
        first[key] = entry.household_id


def my_ballots(actor, vote: Vote) -> list[Ballot]:
    """The actor's own ballots in this vote (current first, then the replaced ones)."""
    keys = select(VoteHousehold.voter_key).where(VoteHousehold.vote_id == bindparam("vote_id"),
                                                 _linked_households())
    return list(db.session.scalars(
        select(Ballot).where(Ballot.vote_id == vote.id, Ballot.voter_key.in_(keys))
        .order_by(Ballot.is_current.desc(), Ballot.id.desc()),
        {"vote_id": vote.id, "person_id": actor.id},
    ))


def entered_by(actor, vote: Vote, limit: int = 50) -> list[Ballot]:
    """Ballots this grid worker entered (their own work, not a tally)."""
    return list(db.session.scalars(
        select(Ballot).where(Ballot.vote_id == vote.id, Ballot.cast_by_id == actor.id,
                             Ballot.channel != "online").order_by(Ballot.id.desc()).limit(limit)
    ))


def paper_households(actor, vote: Vote) -> list[VoteHousehold]:
    """Households of the electorate the actor may enter paper ballots for."""
    paths = permissions.subtree_paths(actor, "vote.enter_paper")
    if not paths:
        return []
    return list(db.session.scalars(
        select(VoteHousehold).join(Household, Household.id == VoteHousehold.household_id)
        .where(VoteHousehold.vote_id == vote.id, VoteHousehold.voter_key.is_not(None),
               permissions.path_filter(Household.path, paths))
        .order_by(VoteHousehold.sort_key)
    ))


def turnout(vote: Vote) -> tuple[int, int]:
    """Voters with a ballot so far, and all voters of the electorate (no choices: those stay
    secret until the vote closes)."""
    voted = db.session.scalar(
        select(func.count(func.distinct(Ballot.voter_key))).where(Ballot.vote_id == vote.id, Ballot.is_current.is_(True))
    ) or 0
    return voted, vote.voter_count


def not_voted(actor, vote: Vote, limit: int = 300) -> list[VoteHousehold]:
    """Households of the electorate whose voter has no ballot yet, for the staff who go door
    to door: a grid worker sees those they may enter ballots for, officers the whole electorate."""
    if permissions.can(actor, "vote.close", vote):
        place = true()
    else:
        paths = permissions.subtree_paths(actor, "vote.enter_paper")
        if not paths:
            return []
        place = permissions.path_filter(Household.path, paths)
    has_ballot = select(Ballot.id).where(Ballot.vote_id == vote.id, Ballot.voter_key == VoteHousehold.voter_key,
                                         Ballot.is_current.is_(True)).exists()
    return list(db.session.scalars(
        select(VoteHousehold).join(Household, Household.id == VoteHousehold.household_id)
        .where(VoteHousehold.vote_id == vote.id, VoteHousehold.voter_key.is_not(None), place, ~has_ballot)
        .order_by(VoteHousehold.sort_key).limit(limit)
    ))


# --- counting ------------------------------------------------------------------------


def snapshot_voters(vote: Vote) -> list[tally.Voter]:
    """The electorate from the snapshot rows: households grouped by voter key."""
    grouped: dict[str, tuple[Decimal, list[int]]] = {}
    rows = db.session.connection().execute(  # Core rows: no ORM loading for 10,000 of them
        select(VoteHousehold.voter_key, VoteHousehold.household_id, VoteHousehold.area)
        .where(VoteHousehold.vote_id == vote.id, VoteHousehold.voter_key.is_not(None))
    )
    kind = tally.ElectorateKind(vote.electorate_kind)
    owners = kind is tally.ElectorateKind.OWNERS
    with decimal.localcontext(_EXACT):
        for key, hid, area in rows:
            total, ids = grouped.get(key, (Decimal(0), []))
            ids.append(hid)
            grouped[key] = (total + area if owners else total, ids)
    return [tally.Voter(key, kind, area, tuple(sorted(ids))) for key, (area, ids) in grouped.items()]


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Counting allocates tens of thousands of small acyclic objects; in an application
    process (a heap of ~250,000 tracked objects) the full collections they trigger cost
    more than the count itself (measured for 10,000 households: 37 ms paused, 40-120 ms not)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def count_ballots(vote: Vote) -> tally.TallyResult:
    """Tally the ballots against the frozen rule and the snapshot (every ballot in the
    order cast: a later ballot of the same voter replaces the earlier one)."""
    with _cycle_collection_paused():
        voters = snapshot_voters(vote)
        cast = db.session.connection().execute(
            select(Ballot.household_id, Ballot.choice).where(Ballot.vote_id == vote.id).order_by(Ballot.id)
        ).all()
        try:
            return tally.tally(vote.rule, voters, tally.ballots_by_voter(voters, cast))
        except tally.TallyInputError as err:
            raise ValidationError(err.message) from err


def ballots_digest(vote_id: int) -> str:
    """SHA-256 over every ballot (history included), written into the closing audit
    entry: any later change to a ballot row no longer matches."""
    digest = hashlib.sha256()
    for row in db.session.execute(
        select(Ballot.id, Ballot.voter_key, Ballot.household_id, Ballot.choice, Ballot.channel,
               Ballot.cast_by_id, Ballot.evidence_ref, Ballot.cast_at).where(Ballot.vote_id == vote_id)
        .order_by(Ballot.id)
    ):
        digest.update(json.dumps([str(value) for value in row], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def stored_result(vote: Vote) -> tally.TallyResult:
    """The result stored at closing, rebuilt exactly (so it can be described in any language)."""
    data = json.loads(vote.result_json or "{}")
    checks = tuple(
        tally.Check(c["name"], tally.Measure(c["measure"]), *_CHECK_GROUPS[c["name"]],
                    Fraction(c["part"]), Fraction(c["whole"]),
                    tally.Threshold(Fraction(c["required"]), c["inclusive"]), c["met"])
        for c in data["checks"]
    )
    areas = {name: Decimal(data[name]) for name in data if name.endswith("_area")}
    heads = {name: int(data[name]) for name in data if name.endswith("_heads")}
    return tally.TallyResult(rule=vote.rule, checks=checks, passed=bool(data["passed"]), **areas, **heads)


def result(actor, vote_id: int) -> tally.TallyResult:
    """The published result; refused (409) while the vote is open."""
    vote = get_vote(actor, vote_id)
    if vote.state != "closed":
        raise InvalidTransition(_("The result is published when the vote closes."), state=vote.state)
    return stored_result(vote)


# --- closing -------------------------------------------------------------------------

ON_FAILURE = ("revise", "withdraw")


def close_vote(actor, vote_id: int, version: int | None, *, on_failure: str = "revise", reason: str = "") -> Vote:
    """Close and count, then tell the target the outcome (its kind's `vote_closed` hook:
    a renovation issue in its voting state moves on to public notice, back to the plan
    for revision, or is withdrawn); `reason` is shown to residents."""
    if on_failure not in ON_FAILURE:
        raise ValidationError(_("Choose what happens if the vote fails: revise or withdraw."),
                              fields={"on_failure": _("Unknown value.")})
    with write_transaction():
        vote = engine.fire(Vote, vote_id, "close", actor, version)
        kind = target_kind(vote.target_type)
        if kind is not None and kind.vote_closed is not None:
            kind.vote_closed(vote, actor, on_failure, (reason or "").strip())
    return vote


def cancel_vote(actor, vote_id: int, version: int | None, reason: str) -> Vote:
    return engine.fire(Vote, vote_id, "cancel", actor, version, reason=reason)


def failure_reason(vote: Vote) -> str:
    failed = [str(tally.CHECK_LABELS[c.name]) for c in stored_result(vote).checks if not c.met]
    return _("The vote did not pass: %(checks)s not met.", checks="; ".join(failed) or _("no ballots"))


def visible_votes(actor, limit: int = 100) -> list[Vote]:
    """Votes the actor may see: in their electorate or estate, or in their jurisdiction."""
    conditions = [permissions.jurisdiction_filter(actor, Vote.path, "vote.view")]
    conditions.append(workplace_filter(actor, Vote))
    if actor.household_ids:
        estates = select(Household.estate_id).where(Household.id.in_(actor.household_ids))
        conditions.append(Vote.estate_id.in_(estates))
    conditions.append(Vote.id.in_(select(VotePerson.vote_id).where(VotePerson.person_id == actor.id)))
    return list(db.session.scalars(
        select(Vote).where(or_(*conditions)).order_by(Vote.state != "open", Vote.id.desc()).limit(limit)
    ))
