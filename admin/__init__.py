"""First run, web administration of the org tree, places and accounts, household claims."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from admin import api, models, services, views  # noqa: F401 - models: tables, api: routes
from core.nav import add_nav
from orgs import permissions


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "admin.index", _l("System administration"), 90,
            lambda user: bool(permissions.subtree_paths(user, services.MANAGE)))
    add_nav(app, "admin.claims", _l("Household claims"), 91,
            lambda user: bool(permissions.subtree_paths(user, services.CLAIMS))
            and not permissions.subtree_paths(user, services.MANAGE))
    add_nav(app, "admin.claim", _l("My household"), 92,
            lambda user: getattr(user, "is_authenticated", False) and not permissions.is_staff(user))
