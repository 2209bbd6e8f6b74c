"""Tasks sent down the five levels and the reports that come back up."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from dispatch import api, demo, services, views  # noqa: F401 - API routes
from orgs import permissions
from orgs.demo import add_loader
from workflow import sweep


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "dispatch.dispatch_list", _l("Tasks sent down"), 15,
            lambda user: permissions.can(user, "dispatch.view"))
    add_loader(app, demo.load)
    sweep.register(app, services.sweep)
