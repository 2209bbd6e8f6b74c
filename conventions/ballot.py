"""A ballot of the households (procedures.voting) as the vote on a convention version.

The vote on a version can be decided two ways. A residents' meeting held in person
is recorded with the counts from its minutes (record_vote, conventions/vote.py).
Or the community opens a ballot through procedures.voting (open_ballot here, or the
generic "open a vote" page of the procedures): an electorate snapshot of the scope's
households, ballots online, on paper or door to door, the count when it closes. Once
the ballot is closed, take_ballot_result moves the version on by its result: passed →
adopted, failed → back to draft with the reason. A ballot counts for the current
round only if it was opened after the street approved the text for this vote.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Optional

from flask_babel import gettext as _
from sqlalchemy import select

from conventions.models import ConventionVersion
from core.db import utcnow
from core.errors import ValidationError
from core.extensions import db
from procedures import voting
from workflow.audit import AuditEntry
from rules.calendar import LOCAL
from procedures.subjects import Target, register_target, resolve

TARGET = "convention_version"


def _target(ident: int) -> Optional[Target]:
    """Convention versions of an estate or building can be voted on by ballot."""
    version = db.session.get(ConventionVersion, ident)
    if version is None or version.convention.estate_id is None:
        return None
    convention = version.convention
    return Target(TARGET, version.id, version, convention.estate_id, version.path,
                  f"{convention.title}（第{version.number}版）", convention.subject_kind)


register_target(TARGET, _target)


def _round_started(version: ConventionVersion) -> Optional[datetime]:
    """When the street last approved the text for the vote (the start of this round)."""
    return db.session.scalar(
        select(AuditEntry.created_at)
        .where(AuditEntry.subject_type == version.subject_type, AuditEntry.subject_id == version.id,
               AuditEntry.trigger == "approve_review")
        .order_by(AuditEntry.seq.desc()).limit(1)
    )


def current_ballot(version: ConventionVersion) -> Optional[voting.Vote]:
    """The ballot of this voting round (not cancelled), if one was opened."""
    started = _round_started(version)
    if started is None:
        return None
    ballots = [v for v in voting.votes_for(TARGET, version.id) if v.state != "cancelled" and v.opened_at >= started]
    return ballots[-1] if ballots else None


# --- conditions --------------------------------------------------------------------


def no_ballot(version: ConventionVersion, ctx) -> bool:
    return current_ballot(version) is None


def ballot_possible(version: ConventionVersion, ctx) -> bool:
    return version.convention.estate_id is not None


def ballot_passed(version: ConventionVersion, ctx) -> bool:
    ballot = current_ballot(version)
    return ballot is not None and ballot.state == "closed" and bool(ballot.passed)


def ballot_failed(version: ConventionVersion, ctx) -> bool:
    ballot = current_ballot(version)
    return ballot is not None and ballot.state == "closed" and not ballot.passed


# --- callbacks ---------------------------------------------------------------------


def open_ballot(version: ConventionVersion, ctx) -> None:
    """Open the ballot over the convention's scope with the rule chosen by its kind."""
    convention = version.convention
    errors: dict[str, str] = {}
    closes_on = voting.optional_date(ctx.data.get("closes_on"), "closes_on", errors)
    if errors:
        raise ValidationError(_("Some information is missing or invalid."), fields=errors)
    scope = ("building", convention.building_id) if convention.building_id else ("estate", convention.estate_id)
    options = voting.VoteOptions(scope_kind=scope[0], scope_id=scope[1], rule_name=version.vote_rule,
                                 closes_on=closes_on)
    ballot = voting.create_vote(ctx.actor, resolve(TARGET, version.id), options)
    ctx.payload.update(vote_id=ballot.id, rule=ballot.rule_name, voters=ballot.voter_count)


def _store_result(version: ConventionVersion, ctx, ballot: voting.Vote) -> None:
    result = voting.stored_result(ballot)
    stored = {**result.as_dict(), "city": ballot.city, "vote_id": ballot.id}
    version.vote_result = json.dumps(stored, sort_keys=True)
    version.vote_passed = result.passed
    version.vote_date = ballot.closed_at.replace(tzinfo=timezone.utc).astimezone(LOCAL).date()
    version.vote_reference = _("Ballot no. %(id)d", id=ballot.id)
    ctx.payload.update(vote=stored, vote_id=ballot.id)


def take_passed_ballot(version: ConventionVersion, ctx) -> None:
    _store_result(version, ctx, current_ballot(version))
    version.adopted_at = utcnow()
    version.public_note = ""


def take_failed_ballot(version: ConventionVersion, ctx) -> None:
    ballot = current_ballot(version)
    _store_result(version, ctx, ballot)
    note = str(ctx.data.get("reason") or "").strip()
    ctx.data["reason"] = voting.failure_reason(ballot) + (" " + note if note else "")
    version.public_note = ctx.data["reason"]
