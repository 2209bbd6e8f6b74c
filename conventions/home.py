"""The home page card of conventions (core.nav.add_home_panel): those in force where the
person lives, and the way to all of them."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from conventions import services
from core.extensions import db
from orgs.models import Estate, Household


def in_force(person) -> Markup:
    ids = set(person.household_ids)
    estates = db.session.scalars(
        select(Estate).where(Estate.id.in_(select(Household.estate_id).where(Household.id.in_(ids))))
        .order_by(Estate.code)) if ids else []
    places = [(estate, services.in_force_for_estate(estate)) for estate in estates]
    return Markup(render_template("conventions/_home.html", places=places))
