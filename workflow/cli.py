"""CLI: flask audit verify, flask workflow sweep, flask workflow diagram."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from core.db import write_transaction
from core.extensions import db
from workflow import diagram, sweep
from workflow.audit import AuditEntry, seal_unsealed, verify

audit_cli = AppGroup("audit", help="Audit log.")
workflow_cli = AppGroup("workflow", help="Workflows.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every hash chain; exit 1 naming the first broken entry."""
    breaks = verify()
    total = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    if breaks:
        click.echo(f"audit chain broken: {breaks[0]}", err=True)
        for extra in breaks[1:10]:
            click.echo(f"  also: {extra}", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {total} entries")


@audit_cli.command("seal")
def audit_seal() -> None:
    """Seal the chain heads written before seals existed (once, after upgrading)."""
    with write_transaction():
        count = seal_unsealed()
    click.echo(f"sealed {count} chain heads")


@workflow_cli.command("sweep")
def workflow_sweep() -> None:
    """Escalate overdue items one level up (run it from cron; idempotent): every workflow
    whose package registered a sweep step (renovation issues, dispatch assignments,
    joint inspections)."""
    counts = sweep.run()
    click.echo(", ".join(f"{key}: {value}" for key, value in counts.items()))


@workflow_cli.command("diagram")
@click.argument("name", default="renovation_issue")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg"]), default="svg")
def workflow_diagram(name: str, fmt: str) -> None:
    """Print a workflow's diagram (default: the renovation issue) generated from its definition."""
    drawings = current_app.extensions.get("wuji_drawings", {})
    if name not in drawings:
        raise click.BadParameter(f"choose one of {', '.join(sorted(drawings))}", param_hint="NAME")
    drawing = drawings[name]
    click.echo(diagram.dot_source(drawing) if fmt == "dot" else diagram.svg(drawing))


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(workflow_cli)
