"""The five-level org tree, the places under it, people, memberships and permissions."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.extensions import login_manager
from core.nav import add_nav
from orgs import auth, cli, models, permissions, roster_views, token_views, views  # noqa: F401 - models: tables


def init_app(app: Flask) -> None:
    login_manager.user_loader(auth.load_user)
    login_manager.request_loader(auth.load_user_from_request)
    for blueprint in (auth.bp, views.bp, roster_views.bp, token_views.bp):
        app.register_blueprint(blueprint)
    add_nav(app, "orgs.tree_root", _l("Org tree"), 20, permissions.is_staff)
    add_nav(app, "tokens.tokens_page", _l("API tokens"), 95, permissions.is_staff)
    cli.register(app)
