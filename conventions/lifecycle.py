"""Conditions and callbacks of the convention workflow (conventions/workflow.py).

They run inside engine.fire()'s transaction: anything they raise leaves nothing
changed. Side effects (the signed PDF) are queued with ctx.after_commit.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from conventions import vote as votes
from conventions.models import ConventionComment, ConventionVersion
from conventions.pdf import issue_signed_pdf_safely
from core.db import utcnow
from core.errors import ValidationError
from core.extensions import db
from rules import tally
from workflow import engine
from rules.calendar import LOCAL

MAX_REFERENCE = 120


def today() -> date:
    """Today in Asia/Shanghai (dates on conventions are local dates)."""
    return datetime.now(LOCAL).date()


def has_articles(version: ConventionVersion, ctx) -> bool:
    return bool(version.articles)


def all_comments_answered(version: ConventionVersion, ctx) -> bool:
    unanswered = db.session.scalar(
        select(func.count()).select_from(ConventionComment)
        .where(ConventionComment.version_id == version.id, ConventionComment.answer == "")
    )
    return not unanswered


def vote_passed(version: ConventionVersion, ctx) -> bool:
    return version.vote_passed is True


def is_filed(version: ConventionVersion, ctx) -> bool:
    return bool(version.filing_number and version.filing_date)


def newer_version_published(version: ConventionVersion, ctx) -> bool:
    newer = db.session.scalar(
        select(ConventionVersion.id).where(
            ConventionVersion.convention_id == version.convention_id,
            ConventionVersion.number > version.number,
            ConventionVersion.state == "published",
        ).limit(1)
    )
    return newer is not None


# --- the vote ----------------------------------------------------------------------

_COUNT_KEYS = ("entitled_heads", "agree_heads", "disagree_heads", "abstain_heads",
               "entitled_area", "agree_area", "disagree_area", "abstain_area")


def _entered_result(version: ConventionVersion, ctx) -> tally.TallyResult | None:
    """The result computed from the counts in ctx.data (None when none were given, as
    when the page asks which buttons to show); computed once per fire."""
    if not any(ctx.data.get(key) not in (None, "") for key in _COUNT_KEYS):
        return None
    cached = getattr(ctx, "convention_vote", None)
    if cached is None:
        rule = tally.get_rule(version.vote_rule, votes.city()) if version.vote_rule else votes.rule_for(
            version.convention)
        cached = votes.evaluate(rule, votes.parse_counts(ctx.data, rule))
        ctx.convention_vote = cached
    return cached


def entered_vote_fails(version: ConventionVersion, ctx) -> bool:
    result = _entered_result(version, ctx)
    return result is not None and not result.passed


def entered_vote_passes(version: ConventionVersion, ctx) -> bool:
    result = _entered_result(version, ctx)
    return result is None or result.passed


def prepare_vote(version: ConventionVersion, ctx) -> None:
    """Entering the vote: the rule is fixed by the kind of convention (and the city)."""
    rule = votes.rule_for(version.convention)
    version.vote_rule = rule.name
    version.vote_passed = None
    ctx.payload["rule"] = rule.name


def _vote_date(ctx) -> date:
    raw = ctx.data.get("vote_date")
    if raw in (None, ""):
        return today()
    try:
        value = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValidationError(_("Give a date as YYYY-MM-DD."), fields={"vote_date": _("Invalid date.")}) from None
    if value > today():
        raise ValidationError(_("The meeting cannot be in the future."), fields={"vote_date": _("Date in the future.")})
    return value


def _store_vote(version: ConventionVersion, ctx, result: tally.TallyResult) -> None:
    stored = {**result.as_dict(), "city": votes.city()}
    version.vote_result = json.dumps(stored, sort_keys=True)
    version.vote_passed = result.passed
    version.vote_date = _vote_date(ctx)
    version.vote_reference = str(ctx.data.get("vote_reference") or "").strip()[:MAX_REFERENCE]
    ctx.payload.update(vote=stored, vote_date=version.vote_date.isoformat(), vote_reference=version.vote_reference)


def record_passed_vote(version: ConventionVersion, ctx) -> None:
    _store_vote(version, ctx, _entered_result(version, ctx))
    version.adopted_at = utcnow()
    version.public_note = ""


def record_failed_vote(version: ConventionVersion, ctx) -> None:
    result = _entered_result(version, ctx)
    _store_vote(version, ctx, result)
    note = str(ctx.data.get("reason") or "").strip()
    ctx.data["reason"] = votes.failure_text(result) + (" " + note if note else "")
    version.public_note = ctx.data["reason"]


# --- filing and publication ----------------------------------------------------------


def _date_field(ctx, name: str) -> date:
    raw = ctx.data.get(name)
    try:
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("Give a date as YYYY-MM-DD."), fields={name: _("Invalid date.")}) from None


def record_filing(version: ConventionVersion, ctx) -> None:
    number = str(ctx.data.get("filing_number") or "").strip()
    if len(number) > 80:
        raise ValidationError(_("The filing number is too long."), fields={"filing_number": _("Too long.")})
    taken = db.session.scalar(
        select(ConventionVersion.id).where(ConventionVersion.filing_number == number,
                                           ConventionVersion.id != version.id).limit(1)
    )
    if taken is not None:
        raise ValidationError(
            _("The filing number %(number)s is already used by another convention.", number=number),
            fields={"filing_number": _("Already used.")},
        )
    filing_date = _date_field(ctx, "filing_date")
    if filing_date > today():
        raise ValidationError(_("The filing date cannot be in the future."),
                              fields={"filing_date": _("Date in the future.")})
    if version.vote_date and filing_date < version.vote_date:
        raise ValidationError(_("The filing date cannot be before the vote."),
                              fields={"filing_date": _("Before the vote.")})
    version.filing_number = number
    version.filing_date = filing_date
    version.filed_by_org_id = ctx.membership.org_id if ctx.membership is not None else None
    ctx.payload.update(filing_number=number, filing_date=filing_date.isoformat())


def check_effective_date(version: ConventionVersion, ctx) -> None:
    effective = _date_field(ctx, "effective_date")
    if version.filing_date and effective < version.filing_date:
        raise ValidationError(
            _("A convention cannot take effect before it was filed (%(date)s).", date=version.filing_date.isoformat()),
            fields={"effective_date": _("Before the filing date.")},
        )
    version.effective_date = effective
    version.published_at = utcnow()
    version.public_note = ""
    ctx.payload["effective_date"] = effective.isoformat()


def supersede_previous(version: ConventionVersion, ctx) -> None:
    """The version in force until now is superseded, in the same transaction."""
    previous = db.session.scalars(
        select(ConventionVersion.id).where(
            ConventionVersion.convention_id == version.convention_id,
            ConventionVersion.state == "published",
            ConventionVersion.id != version.id,
        )
    ).all()
    for previous_id in previous:
        engine.fire(ConventionVersion, previous_id, "supersede", ctx.actor, None,
                    reason=_("Replaced by version %(number)d, in force from %(date)s.",
                             number=version.number, date=version.effective_date.isoformat()),
                    ended_on=version.effective_date)
        ctx.payload.setdefault("superseded", []).append(previous_id)


def end_in_force(version: ConventionVersion, ctx) -> None:
    ended = ctx.data.get("ended_on")
    version.ended_on = ended if isinstance(ended, date) else today()


def sign_after_commit(version: ConventionVersion, ctx) -> None:
    version_id = version.id
    ctx.after_commit.append(lambda: issue_signed_pdf_safely(version_id))


# --- notes ---------------------------------------------------------------------------


def note_reason(version: ConventionVersion, ctx) -> None:
    version.public_note = ctx.reason


def clear_note(version: ConventionVersion, ctx) -> None:
    version.public_note = ""
