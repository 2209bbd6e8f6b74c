"""CLI: flask demo load, flask user create, flask roster import/export/template/run-jobs."""
from __future__ import annotations

import itertools
import os
import tempfile

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from core.db import write_transaction
from core.errors import DomainError
from core.extensions import db
from orgs import demo, roster, services
from orgs.models import Person, RosterImport

demo_cli = AppGroup("demo", help="Demo data.")
user_cli = AppGroup("user", help="Accounts.")
orgs_cli = AppGroup("orgs", help="The org tree and its estates.")


@orgs_cli.command("add")
@click.argument("code")
@click.option("--level", "level_code", required=True, help="Org level code, e.g. street_committee.")
@click.option("--name", required=True)
@click.option("--parent", "parent_code", default=None, help="Code of the parent node (none for a root).")
def orgs_add(code: str, level_code: str, name: str, parent_code: str | None) -> None:
    """Add an org node under PARENT (or a root street committee)."""
    try:
        with write_transaction():
            parent = services.get_org(parent_code) if parent_code else None
            node = services.add_org_node(parent, level_code, code, name)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"added {code} at {node.path}")


@orgs_cli.command("add-estate")
@click.argument("code")
@click.option("--org", "org_code", required=True, help="Code of the org node answering for the estate.")
@click.option("--name", required=True)
@click.option("--address", default="")
def orgs_add_estate(code: str, org_code: str, name: str, address: str) -> None:
    """Add an estate answered for by an org node (usually a community committee)."""
    try:
        with write_transaction():
            services.add_estate(services.get_org(org_code), code, name, address)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"added estate {code}")
roster_cli = AppGroup("roster", help="Roster of an estate as .xlsx: import, export, blank template, "
                                    "the web page's import jobs.")

# The account the roster commands act as unless --as names another: the system
# administrator that `flask demo load` creates (or `flask user create admin --role admin ...`).
DEFAULT_CLI_ACCOUNT = "admin"


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo sub-district once (idempotent) and print the demo accounts."""
    loaded = demo.load()
    click.echo("loaded: " + (", ".join(loaded) if loaded else "nothing new (already loaded)"))
    click.echo(f"demo accounts (password: {demo.DEMO_PASSWORD}):")
    for username, name, role in demo.accounts():
        click.echo(f"  {username:<12} {role} - {name}")


@user_cli.command("create")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--org", "org_code", required=True, help="Org node code the person acts for.")
@click.option("--role", required=True)
@click.password_option()
def user_create(username: str, name: str, org_code: str, role: str, password: str) -> None:
    """Create an account with one role at one org node."""
    try:
        services.validate_password(password)
        with write_transaction():
            person = services.add_person(name, username=username, password=password)
            services.grant_role(person, services.get_org(org_code), role)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"created {username}")


def _account(username: str) -> Person:
    person = db.session.scalar(select(Person).where(Person.username == username))
    if person is None or not person.active:
        raise click.ClickException(_("No active account named %(name)s (choose one with --as).", name=username))
    return person


class _ProgressBars:
    """click progress bars driven by the import's progress callback, one per stage."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.close()
            label = _("Reading rows") if stage == roster.READ else _("Writing households")
            # Without a known total the bar shows the count only (an iterable without length).
            self.bar = click.progressbar(length=total, label=label, show_pos=True) if total else \
                click.progressbar(itertools.repeat(None), label=label, show_pos=True)
            self.bar.__enter__()
            self.stage, self.done = stage, 0
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@roster_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--estate", "estate_code", required=True, help="Code of the estate.")
@click.option("--as", "username", default=DEFAULT_CLI_ACCOUNT, show_default=True,
              help="Account the import acts as; it needs roster.import on the estate.")
def roster_import(file, estate_code: str, username: str) -> None:
    """Import an estate's households from an .xlsx FILE; any bad row imports nothing (exit 1)."""
    bars = _ProgressBars()
    try:
        report = roster.import_roster(_account(username), estate_code, file, progress=bars)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    finally:
        bars.close()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise click.exceptions.Exit(1)


@roster_cli.command("export")
@click.option("--estate", "estate_code", required=True, help="Code of the estate.")
@click.option("--as", "username", default=DEFAULT_CLI_ACCOUNT, show_default=True,
              help="Account the export acts as; it needs roster.export on the estate.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def roster_export(estate_code: str, username: str, file: str) -> None:
    """Export an estate's households to FILE (.xlsx) in the import layout."""
    _write_atomically(file, lambda handle: click.echo(
        _("Exported %(n)d households.", n=roster.export_roster(_account(username), estate_code, handle))
    ))


@roster_cli.command("template")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def roster_template(file: str) -> None:
    """Write the blank roster layout, with a sheet explaining each column, to FILE (.xlsx)."""
    _write_atomically(file, roster.write_template)


@roster_cli.command("run-jobs")
def roster_run_jobs() -> None:
    """Run the imports uploaded on the roster page that are waiting, oldest first, and mark
    those that stopped without finishing as failed. For a systemd timer or cron when the web
    processes do not run imports themselves (ROSTER_IMPORTS_IN_THREAD = False)."""
    stale = roster.fail_stale_jobs()
    if stale:
        click.echo(_("%(n)d roster imports that stopped without finishing were marked as failed.", n=stale))
    for job_id in roster.run_queued_jobs():
        job = db.session.get(RosterImport, job_id)
        click.echo(_("Roster import %(id)d (%(file)s): %(summary)s", id=job.id, file=job.filename,
                     summary=job.summary))


def _write_atomically(path: str, write) -> None:
    """Write to a temporary file beside `path`, then rename: a failure leaves no half file."""
    directory = os.path.dirname(os.path.abspath(path))
    handle = tempfile.NamedTemporaryFile(dir=directory, suffix=".xlsx", delete=False)
    try:
        with handle:
            write(handle)
        os.replace(handle.name, path)
    except DomainError as err:
        os.unlink(handle.name)
        raise click.ClickException(err.message) from None
    except BaseException:
        os.unlink(handle.name)
        raise


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(roster_cli)
