"""CLI: flask conventions pdf VERSION_ID (keys and trust roots: flask pki ...)."""
from __future__ import annotations

import hashlib

import click
from flask import Flask
from flask.cli import AppGroup

from conventions.models import ConventionVersion
from conventions.pdf import signed_pdf
from core.extensions import db

conventions_cli = AppGroup("conventions", help="Conventions.")


@conventions_cli.command("pdf")
@click.argument("version_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the PDF here.")
def conventions_pdf(version_id: int, output: str | None) -> None:
    """Issue (if needed) and print the SHA-256 of the signed PDF of a public version."""
    version = db.session.get(ConventionVersion, version_id)
    data = signed_pdf(version) if version is not None and version.is_public else None
    if data is None:
        raise click.ClickException(f"version {version_id} is not public or has no signed PDF")
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
    click.echo(hashlib.sha256(data).hexdigest())


def register(app: Flask) -> None:
    app.cli.add_command(conventions_cli)
