"""Conventions (公约): texts and versions from draft to publication, and public pages."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from conventions import api, ballot, cli, demo, diagram, home, public, views  # noqa: F401 - API routes, ballot target
from core.nav import add_home_panel, add_nav
from orgs.demo import add_loader
from workflow.diagram import add_drawing


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(public.bp)
    add_nav(app, "conventions.index", _l("Drafting conventions"), 40, lambda user: user.is_authenticated)
    add_nav(app, "public.index", _l("Conventions"), 60)
    add_drawing(app, diagram.DRAWING)
    add_home_panel(app, home.in_force, 60)
    add_loader(app, demo.load)
    cli.register(app)
