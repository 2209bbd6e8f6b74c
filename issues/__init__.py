"""Renovation issues: the workflow (renovation), models, services, pages and JSON API,
and the issue as a target of votes and notices (targets)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_home_panel, add_nav
from issues import api, demo, home, renovation, services, targets, views  # noqa: F401 - API routes, targets
from orgs.demo import add_loader
from workflow import sweep
from workflow.diagram import add_drawing


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "issues.worklist", _l("Issues"), 10, lambda user: user.is_authenticated)
    add_nav(app, "issues.diagram", _l("How an issue moves"), 90)
    add_drawing(app, renovation.DRAWING)
    add_home_panel(app, home.to_rate, 10)
    add_home_panel(app, home.quick_report, 20)
    add_loader(app, demo.load)
    sweep.register(app, services.sweep)
