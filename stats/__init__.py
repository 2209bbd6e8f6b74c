"""Dashboards of the three rates (三率) per level, ledgers (台账) in Excel, a year of demo history."""
from __future__ import annotations

import click
from flask import Flask
from flask_babel import lazy_gettext as _l

from core.nav import add_nav
from orgs import permissions
from orgs.demo import add_loader
from stats import api, api_spec, history, ledger, ledger_views, views  # noqa: F401 - API routes and spec
from workflow import sweep


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(ledger_views.bp)
    add_nav(app, "stats.dashboard", _l("Dashboard"), 5, lambda user: permissions.can(user, "stats.view"))
    add_loader(app, history.load)
    sweep.register(app, ledger.sweep_step)

    @app.cli.group("stats")
    def stats_cli():
        """Dashboards and ledgers."""

    @stats_cli.command("run-ledgers")
    @click.option("--base-url", default="", help="Address printed in the ledgers' links to signed records.")
    def run_ledgers(base_url: str):
        """Write the queued ledger jobs (and mark those that stopped without finishing as failed)."""
        stale = ledger.fail_stale_jobs()
        if stale:
            click.echo(f"{stale} ledger job(s) that stopped without finishing marked as failed")
        ran = ledger.run_queued_jobs(base_url or app.config.get("PUBLIC_BASE_URL") or "")
        click.echo(f"{len(ran)} ledger(s) written")
