"""CLI: flask demo load, flask user create, flask roster import/export."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from core.db import write_transaction
from core.errors import DomainError
from orgs import demo, services

demo_cli = AppGroup("demo", help="Demo data.")
user_cli = AppGroup("user", help="Accounts.")


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


def register(app: Flask) -> None:
    app.cli.add_command(demo_cli)
    app.cli.add_command(user_cli)
