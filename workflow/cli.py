"""CLI: flask audit verify, flask workflow sweep, flask workflow diagram."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

audit_cli = AppGroup("audit", help="Audit log.")
workflow_cli = AppGroup("workflow", help="Workflows.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every hash chain; exit 1 naming the first broken entry."""
    from workflow.audit import AuditEntry, verify
    from core.extensions import db
    from sqlalchemy import func, select

    breaks = verify()
    total = db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    if breaks:
        click.echo(f"audit chain broken: {breaks[0]}", err=True)
        for extra in breaks[1:10]:
            click.echo(f"  also: {extra}", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {total} entries")


@workflow_cli.command("sweep")
def workflow_sweep() -> None:
    """Escalate overdue items one level up (run it from cron; idempotent): renovation
    issues, dispatch assignments and joint inspections."""
    from acceptance.services import sweep as sweep_inspections
    from dispatch.services import sweep as sweep_dispatches
    from issues.services import sweep

    counts = sweep()
    counts.update(sweep_dispatches())
    counts.update(sweep_inspections())
    click.echo(", ".join(f"{key}: {value}" for key, value in counts.items()))


@workflow_cli.command("diagram")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg"]), default="svg")
def workflow_diagram(fmt: str) -> None:
    """Print the renovation workflow diagram generated from its definition."""
    from workflow.diagram import dot_source, svg

    click.echo(dot_source() if fmt == "dot" else svg())


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(workflow_cli)
