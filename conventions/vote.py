"""The vote on a convention version: the rule follows the kind, the counts come from
the meeting record, the decision from the rule's exact thresholds.

A residents' convention is decided by the residents' meeting (Organisation Law
Arts. 9 and 15); an e-bike shed built on common land and management rules are
owners' joint decisions (Civil Code Art. 278). The city's policy may name other
rules (rules.tally.default_rule_for). The officer enters what the meeting record
says: how many are entitled, and how many agreed, disagreed or abstained (with the
exclusive areas for owners' votes); participation is their sum, and the decision is
computed here, never typed in.
"""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ValidationError
from core.extensions import db
from orgs.models import Household, HouseholdPerson
from rules import tally
from rules.policy import voting_city

_EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation])
CHOICES = ("agree", "disagree", "abstain")
MAX_AREA = Decimal("100000000")


def city() -> str:
    """The voting policy (rules/tally.py) of the configured city."""
    return voting_city()


def rule_for(convention) -> tally.Rule:
    """The voting rule for this kind of convention under the city's policy."""
    return tally.default_rule_for(convention.subject_kind, city())


def counts_area(rule: tally.Rule) -> bool:
    return rule.kind is tally.ElectorateKind.OWNERS


@dataclass(frozen=True)
class EnteredCounts:
    entitled_heads: int
    entitled_area: Decimal
    heads: dict[str, int]
    areas: dict[str, Decimal]

    @property
    def participating_heads(self) -> int:
        return sum(self.heads.values())

    @property
    def participating_area(self) -> Decimal:
        with decimal.localcontext(_EXACT):
            return sum(self.areas.values(), Decimal(0))


def _heads(data: dict, name: str, errors: dict) -> int:
    raw = data.get(name)
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        errors[name] = _("Give a whole number, zero or more.")
        return 0
    return value


def _area(data: dict, name: str, errors: dict) -> Decimal:
    raw = str(data.get(name) if data.get(name) is not None else "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value < 0 or value > MAX_AREA or not isinstance(exponent, int) or exponent < -2:
        errors[name] = _("Give square metres with at most two decimals, zero or more.")
        return Decimal(0)
    return value


def parse_counts(data: dict, rule: tally.Rule) -> EnteredCounts:
    """The counts from a form or JSON (text or numbers); ValidationError names each bad field."""
    errors: dict[str, str] = {}
    heads = {choice: _heads(data, f"{choice}_heads", errors) for choice in CHOICES}
    entitled_heads = _heads(data, "entitled_heads", errors)
    if counts_area(rule):
        areas = {choice: _area(data, f"{choice}_area", errors) for choice in CHOICES}
        entitled_area = _area(data, "entitled_area", errors)
    else:
        areas = {choice: Decimal(0) for choice in CHOICES}
        entitled_area = Decimal(0)
    if errors:
        raise ValidationError(_("Some vote counts are missing or invalid."), fields=errors)
    counts = EnteredCounts(entitled_heads, entitled_area, heads, areas)
    _check_totals(counts)
    return counts


def _check_totals(counts: EnteredCounts) -> None:
    if counts.participating_heads > counts.entitled_heads:
        raise ValidationError(
            _("More people voted (%(voted)d) than are entitled to vote (%(entitled)d).",
              voted=counts.participating_heads, entitled=counts.entitled_heads),
            fields={"entitled_heads": _("Fewer than those who voted.")},
        )
    if counts.participating_area > counts.entitled_area:
        raise ValidationError(
            _("The area of those who voted is larger than the whole exclusive area."),
            fields={"entitled_area": _("Smaller than the area of those who voted.")},
        )


def evaluate(rule: tally.Rule, counts: EnteredCounts) -> tally.TallyResult:
    """Check every requirement of the rule against the entered counts, exactly."""
    values = {
        (tally.Group.ENTITLED, tally.Measure.AREA): Fraction(counts.entitled_area),
        (tally.Group.ENTITLED, tally.Measure.HEADS): Fraction(counts.entitled_heads),
        (tally.Group.PARTICIPATING, tally.Measure.AREA): Fraction(counts.participating_area),
        (tally.Group.PARTICIPATING, tally.Measure.HEADS): Fraction(counts.participating_heads),
        (tally.Group.AGREEING, tally.Measure.AREA): Fraction(counts.areas["agree"]),
        (tally.Group.AGREEING, tally.Measure.HEADS): Fraction(counts.heads["agree"]),
    }
    checks = tuple(
        tally.Check(req.name, req.measure, req.part, req.whole, values[(req.part, req.measure)],
                    values[(req.whole, req.measure)], req.threshold,
                    req.threshold.is_met(values[(req.part, req.measure)], values[(req.whole, req.measure)]))
        for req in rule.requirements()
    )
    return tally.TallyResult(
        rule=rule,
        entitled_area=counts.entitled_area, entitled_heads=counts.entitled_heads,
        participating_area=counts.participating_area, participating_heads=counts.participating_heads,
        agreeing_area=counts.areas["agree"], agreeing_heads=counts.heads["agree"],
        disagreeing_area=counts.areas["disagree"], disagreeing_heads=counts.heads["disagree"],
        abstaining_area=counts.areas["abstain"], abstaining_heads=counts.heads["abstain"],
        checks=checks, passed=bool(checks) and all(check.met for check in checks),
    )


def failure_text(result: tally.TallyResult) -> str:
    failed = "; ".join(str(tally.CHECK_LABELS[c.name]) for c in result.checks if not c.met)
    return _("The vote did not adopt the text: %(checks)s not met.", checks=failed)


def roster_electorate(convention, rule: tally.Rule) -> tuple[int, Decimal]:
    """Who the roster says is entitled in the convention's scope: (heads, exclusive area).

    Owners are counted by the Supreme People's Court rules (rules.tally); the
    residents' meeting as one representative per household with an adult."""
    rows = db.session.execute(
        select(Household.id, Household.area, Household.unsold, Household.adult_count)
        .where(convention.household_filter())
    ).all()
    if rule.kind is tally.ElectorateKind.RESIDENTS:
        voters = tally.build_resident_electorate(
            (tally.ResidentHousehold(r[0], r[3] or 0) for r in rows), tally.ResidentMode.HOUSEHOLD
        )
        return len(voters), Decimal(0)
    owners: dict[int, set[int]] = {}
    ids = [r[0] for r in rows]
    if ids:
        for household_id, person_id in db.session.execute(
            select(HouseholdPerson.household_id, HouseholdPerson.person_id)
            .where(HouseholdPerson.household_id.in_(ids), HouseholdPerson.relation == "owner")
        ):
            owners.setdefault(household_id, set()).add(person_id)
    voters = tally.build_owner_electorate(
        tally.OwnerUnit(r[0], Decimal(r[1]), frozenset(owners.get(r[0], ())), bool(r[2])) for r in rows
    )
    with decimal.localcontext(_EXACT):
        area = sum((v.area for v in voters), Decimal(0))
    return len(voters), area
