"""Management after acceptance (长效管理): patrols walked on phones whose findings become
issues, the handover to the property company with its signed record, repairs under the
builder's warranty with deadlines, and the maintenance fund decided by the owners' vote."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from orgs import permissions
from orgs.demo import add_loader
from aftercare import api, demo, services, views  # noqa: F401 - API routes, vote target
from workflow import sweep


def _visible(user) -> bool:
    return permissions.can(user, "aftercare.view") and permissions.is_staff(user)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "aftercare.estate_list", _l("After acceptance"), 27, _visible)
    add_loader(app, demo.load)
    sweep.register(app, services.sweep)
