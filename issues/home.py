"""Cards this package puts on the signed-in home page (core.nav.add_home_panel): the
one-tap report (随手拍) and the items the person's household is asked to rate."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup
from sqlalchemy import and_, or_, select

from core.extensions import db
from orgs import permissions
from orgs.models import Household, StairwellUnit
from issues.models import RATING_STATES, RenovationIssue, SatisfactionResponse
from issues.views import RaiseForm, fill_raise_form


def quick_report(person) -> Markup | None:
    """A photo, a few words and the place: the issue's title comes from the words."""
    if not permissions.can(person, "issue.raise"):
        return None
    form = RaiseForm()
    fill_raise_form(form)
    if not form.place.choices:
        return None
    return Markup(render_template("issues/_home_quick.html", form=form))


def to_rate(person) -> Markup | None:
    """Items resolved or accepted about the person's households (or raised by them) that
    their household has not rated since they came to be rated."""
    ids = set(person.household_ids)
    rows = db.session.execute(
        select(Household.id, Household.estate_id, Household.unit_id, StairwellUnit.building_id)
        .join(StairwellUnit, StairwellUnit.id == Household.unit_id).where(Household.id.in_(ids))
    ).all() if ids else []
    issue = RenovationIssue
    concerns = [issue.raised_by_id == person.id]
    if rows:
        concerns += [
            issue.household_id.in_({r.id for r in rows}),
            and_(issue.household_id.is_(None), issue.unit_id.in_({r.unit_id for r in rows})),
            and_(issue.unit_id.is_(None), issue.building_id.in_({r.building_id for r in rows})),
            and_(issue.building_id.is_(None), issue.estate_id.in_({r.estate_id for r in rows})),
        ]
    answered = select(SatisfactionResponse.id).where(
        SatisfactionResponse.issue_id == issue.id, SatisfactionResponse.created_at >= issue.state_entered_at,
        or_(SatisfactionResponse.respondent_id == person.id,
            SatisfactionResponse.household_id.in_(ids or {-1}))).exists()
    items = db.session.scalars(
        select(issue).where(issue.state.in_(RATING_STATES[:2]), or_(*concerns), ~answered)
        .order_by(issue.state_entered_at.desc()).limit(20)
    ).all()
    if not items:
        return None
    return Markup(render_template("issues/_home_rate.html", items=items))
