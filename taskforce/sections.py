"""Sections other pages show (the estate plan page plugs these in): the meetings held and their
signed minutes, readable by anyone (the minutes link to the public verification page)."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from taskforce import services


def minutes_section(estate_id: int) -> Markup:
    """The estate's meetings with signed minutes, newest first, as an HTML fragment."""
    meetings = services.approved_minutes(estate_id)
    documents = {m.id: services.minutes_document(m) for m in meetings}
    return Markup(render_template("taskforce/_minutes_section.html", meetings=meetings, documents=documents))
