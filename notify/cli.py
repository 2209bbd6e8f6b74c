"""CLI: flask notify send (the outbox, with retries), flask notify digest (daily)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from notify import mail

notify_cli = AppGroup("notify", help="Notifications by email.")


def _report(counts: dict[str, int]) -> None:
    click.echo(", ".join(f"{key}: {value}" for key, value in counts.items()))


@notify_cli.command("send")
def send() -> None:
    """Mail the notifications due in the outbox (failed sends are tried again later with
    a growing wait; none is ever sent twice). Run it from cron every few minutes; the
    deadline sweep runs it too."""
    if not mail.configured():
        raise click.ClickException("MAIL_SERVER is not set: nothing can be sent")
    _report(mail.send_pending())


@notify_cli.command("digest")
def digest() -> None:
    """Mail each person who chose the daily digest the notifications it has not carried
    yet (run it from cron once a day)."""
    if not mail.configured():
        raise click.ClickException("MAIL_SERVER is not set: nothing can be sent")
    _report(mail.send_digests())


def register(app: Flask) -> None:
    app.cli.add_command(notify_cli)
