"""Consultation (meetings and comments), votes counted by the law and public notices,
attached to any target a package registers (procedures/subjects.py)."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from procedures import api, consultation, notice, views, voting  # noqa: F401 - models and API routes


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "procedures.vote_list", _l("Votes"), 15, lambda user: user.is_authenticated)
