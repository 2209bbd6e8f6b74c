"""The estate plan in public (一小区一方案) and demand collection campaigns (问需于民).

Other packages add sections to the plan page through plans.sections.add_section.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from orgs.demo import add_loader
from plans import api, demo, sections, views  # noqa: F401 - api: the JSON routes

__all__ = ["init_app", "sections"]


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_nav(app, "plans.index", _l("Estate plans"), 12)
    add_loader(app, demo.load)
