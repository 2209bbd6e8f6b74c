"""Satisfaction follow-up (回访): every household concerned is asked once an item is resolved
or accepted, and "not satisfied" with a reason sends the item back.

A household answers online (someone living there, through the `rate` transition) or on
paper / at the door (its member household, building group leader or grid worker, through
`record_rating`). Both transitions call `record`, which writes one SatisfactionResponse per
household and round (a round starts each time the item enters the state it is rated in).
A rating of 2 or less needs a reason and moves the item back: from "resolved" to the level
that resolved it, from "long_term_management" to rectification, as FixMyStreet's
questionnaire reopens a report. The level may still close an item whose standing rating is
low, but only with a written reason (the `close` transitions in renovation.py).
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from core.errors import NotPermitted, ValidationError
from core.extensions import db
from orgs import permissions
from orgs.models import Household, LiaisonHousehold, StairwellUnit
from workflow.engine import Condition
from issues.models import RATING_STATES, RenovationIssue, SatisfactionResponse, lives_in_place, place_filter

LOW = 2  # a rating at or below this is "not satisfied"
CHANNELS = ("online", "paper", "door_to_door")
CHANNEL_LABELS = {"online": _l("Online"), "paper": _l("Paper form"), "door_to_door": _l("Door-to-door visit")}


def _score(data: dict) -> int | None:
    try:
        score = int(data.get("satisfaction"))
    except (TypeError, ValueError):
        return None
    return score if 1 <= score <= 5 else None


def is_low(data: dict) -> bool:
    score = _score(data)
    return score is not None and score <= LOW


RATED_LOW = Condition(lambda issue, ctx: is_low(ctx.data), _l("The rating is not a low one."))
NOT_RATED_LOW = Condition(lambda issue, ctx: not is_low(ctx.data),
                          _l("Not satisfied: the item goes back to the level responsible."))
STANDING_LOW = Condition(lambda issue, ctx: standing_low(issue),
                         _l("The residents' standing rating is not a low one."))
NOT_STANDING_LOW = Condition(lambda issue, ctx: not standing_low(issue),
                             _l("A household is not satisfied: close only with a written reason."))


def standing_low(issue: RenovationIssue) -> bool:
    """Is the latest answer about the item "not satisfied"?"""
    return issue.satisfaction is not None and issue.satisfaction <= LOW


# --- who is asked ----------------------------------------------------------------------


def shared_place_filter(person):
    """SQL condition on RenovationIssue: items about a shared place (a unit, building or the
    estate) the person lives in, once they are rated - the households there are asked."""
    ids = set(person.household_ids)
    if not ids:
        return None
    rows = db.session.execute(
        select(Household.estate_id, Household.unit_id, StairwellUnit.building_id)
        .join(StairwellUnit, StairwellUnit.id == Household.unit_id).where(Household.id.in_(ids))
    ).all()
    estates = {r.estate_id for r in rows}
    units = {r.unit_id for r in rows}
    buildings = {r.building_id for r in rows}
    issue = RenovationIssue
    return and_(
        issue.household_id.is_(None), issue.state.in_(RATING_STATES),
        or_(
            issue.unit_id.in_(units),
            and_(issue.unit_id.is_(None), issue.building_id.in_(buildings)),
            and_(issue.building_id.is_(None), issue.estate_id.in_(estates)),
        ),
    )


def households_to_enter(actor, issue: RenovationIssue, limit: int = 500) -> list[Household]:
    """Households of the place whose answer the actor may enter (paper or visit) and which
    have not answered in this round."""
    paths = permissions.subtree_paths(actor, "issue.rate_enter")
    member_orgs = [m.org_id for m in actor.memberships if m.role == "member_household"]
    mine = []
    if paths:
        mine.append(permissions.path_filter(Household.path, paths))
    if member_orgs:
        mine.append(Household.id.in_(
            select(LiaisonHousehold.household_id).where(LiaisonHousehold.org_id.in_(member_orgs))))
    if not mine:
        return []
    answered = select(SatisfactionResponse.household_id).where(
        SatisfactionResponse.issue_id == issue.id, SatisfactionResponse.household_id.is_not(None),
        SatisfactionResponse.created_at >= issue.state_entered_at)
    return list(db.session.scalars(
        select(Household).where(place_filter(issue), or_(*mine), Household.id.not_in(answered))
        .order_by(Household.path, Household.sort_key, Household.id).limit(limit)
    ))


# --- recording an answer (the callback of `rate` and `record_rating`) ----------------------


def record(issue: RenovationIssue, ctx) -> None:
    score = _score(ctx.data)
    if score is None:
        raise ValidationError(_("Choose a satisfaction score from 1 to 5."), fields={"satisfaction": _("Invalid number.")})
    comment = (ctx.data.get("comment") or "").strip()[:2000]
    if score <= LOW and not comment:
        raise ValidationError(
            _("Tell us what is not right: the item goes back to the level responsible with your words."),
            fields={"comment": _("Please give a reason.")})
    household_id, channel = _respondent(issue, ctx)
    _refuse_second_answer(issue, household_id, ctx.actor)
    db.session.add(SatisfactionResponse(
        issue_id=issue.id, household_id=household_id, respondent_id=ctx.actor.id, channel=channel,
        rating=score, comment=comment, state=ctx.from_state))
    issue.satisfaction = score
    issue.satisfaction_comment = comment
    ctx.payload["satisfaction"] = score
    if household_id is not None:
        ctx.payload["household"] = household_id
    if channel != "online":
        ctx.payload["channel"] = channel
    if score <= LOW and ctx.transition.dest != ctx.from_state:
        # The level the item returns to reads why in the audit trail (its timeline).
        ctx.data["reason"] = comment


def _respondent(issue: RenovationIssue, ctx) -> tuple[int | None, str]:
    """The household answering and how: online by someone living there, or entered by the
    staff who collected it (then the household must be named)."""
    actor = ctx.actor
    raw = ctx.data.get("household_id")
    entering = ctx.transition.trigger == "record_rating"
    household_id = None
    if raw not in (None, ""):
        try:
            household_id = int(raw)
        except (TypeError, ValueError):
            raise ValidationError(_("Choose the household."), fields={"household_id": _("Invalid number.")})
    if entering:
        channel = (ctx.data.get("channel") or "paper").strip()
        if channel not in ("paper", "door_to_door"):
            raise ValidationError(_("Choose how the answer was collected."), fields={"channel": _("Invalid choice.")})
        if household_id is None:
            raise ValidationError(_("Choose the household."), fields={"household_id": _("This field is required.")})
        household = _household_of_place(issue, household_id)
        if not permissions.can(actor, "issue.rate_enter", household):
            raise NotPermitted(_("Only the household's member household, building group or grid worker may enter its answer."))
        return household.id, channel
    own = _own_households(issue, actor)
    if household_id is not None:
        if household_id not in own:
            household = db.session.get(Household, household_id)
            if household is not None and permissions.can(actor, "issue.rate_enter", household):
                return _household_of_place(issue, household_id).id, "paper"  # an administrator's entry
            raise ValidationError(_("You may answer only for your own household."),
                                  fields={"household_id": _("Invalid choice.")})
        return household_id, "online"
    if len(own) == 1:
        return own[0], "online"
    if len(own) > 1:
        raise ValidationError(_("You live in several households this item concerns: choose one."),
                              fields={"household_id": _("This field is required.")})
    if issue.raised_by_id == actor.id:
        return None, "online"  # the raiser, living elsewhere
    raise NotPermitted(_("This item does not concern your household."))


def _household_of_place(issue: RenovationIssue, household_id: int) -> Household:
    household = db.session.scalar(select(Household).where(Household.id == household_id, place_filter(issue)))
    if household is None:
        raise ValidationError(_("This household is not one the item concerns."),
                              fields={"household_id": _("Invalid choice.")})
    return household


def _own_households(issue: RenovationIssue, actor) -> list[int]:
    ids = set(actor.household_ids)
    if not ids:
        return []
    return list(db.session.scalars(
        select(Household.id).where(Household.id.in_(ids), place_filter(issue)).order_by(Household.id)))


def _refuse_second_answer(issue: RenovationIssue, household_id: int | None, actor) -> None:
    """One answer per household (or per raiser without one) each time the item is rated."""
    who = (SatisfactionResponse.household_id == household_id if household_id is not None
           else and_(SatisfactionResponse.household_id.is_(None), SatisfactionResponse.respondent_id == actor.id))
    found = db.session.scalar(select(SatisfactionResponse.id).where(
        SatisfactionResponse.issue_id == issue.id, who, SatisfactionResponse.created_at >= issue.state_entered_at
    ).limit(1))
    if found is not None:
        raise ValidationError(_("This household has already answered."), fields={"satisfaction": _("Already answered.")})


# --- reading -------------------------------------------------------------------------


def summary(issue: RenovationIssue) -> dict:
    """Answers of the current round and all rounds: count, satisfied (4-5), mean."""
    rows = db.session.execute(
        select(func.count(), func.sum(case((SatisfactionResponse.rating >= 4, 1), else_=0)),
               func.avg(SatisfactionResponse.rating))
        .where(SatisfactionResponse.issue_id == issue.id)
    ).one()
    count = rows[0] or 0
    asked = db.session.scalar(select(func.count()).select_from(Household).where(place_filter(issue))) or 0
    return {"count": count, "satisfied": int(rows[1] or 0), "mean": float(rows[2]) if count else None,
            "asked": asked}


def responses(issue: RenovationIssue, limit: int = 200) -> list[SatisfactionResponse]:
    return list(db.session.scalars(
        select(SatisfactionResponse).where(SatisfactionResponse.issue_id == issue.id)
        .order_by(SatisfactionResponse.created_at.desc(), SatisfactionResponse.id.desc()).limit(limit)))
