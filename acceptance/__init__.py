"""Joint acceptance (联合验收) with rectification rounds and the signed acceptance record;
it plugs into the renovation issue workflow (hooks)."""
from __future__ import annotations

from flask import Flask

from acceptance import demo, hooks, record, services, views  # noqa: F401 - hooks and record attach to workflows
from orgs.demo import add_loader
from workflow import sweep


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_loader(app, demo.load)
    sweep.register(app, services.sweep)
