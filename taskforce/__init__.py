"""The standing task force of each estate (改造工作专班): members by party, recurring progress
meetings with an iCal feed, attendance, minutes approved by the members present and signed
as a PDF, and action items that become renovation issues or tasks sent down."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from orgs import permissions
from orgs.demo import add_loader
from plans import sections as plan_sections
from taskforce import api, demo, sections, services, views  # noqa: F401 - API routes


def _visible(user) -> bool:
    """Staff who see task forces in their subtree, and the members themselves (residents among them)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(permissions.subtree_paths(user, "taskforce.view")) or services.is_member(user)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "taskforce.task_force_list", _l("Task forces"), 25, _visible)
    add_loader(app, demo.load)
    # The estate plan page shows the meetings held and their signed minutes.
    plan_sections.add_section(app, "meetings", lambda plan, viewer, public: sections.minutes_section(plan.estate_id),
                              order=40, public=True)
