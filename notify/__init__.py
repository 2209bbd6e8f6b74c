"""Notifications: an inbox with an unread badge, and mail at once or in a daily digest,
for what reaches a person's level, deadlines near, referrals, tasks sent down, votes and
notices where they live and their own demands (see events.py for who is told what)."""
from __future__ import annotations

from flask import Flask, g
from flask_login import current_user

from notify import api, cli, demo, events, mail, relay, services, views  # noqa: F401 - API routes
from orgs.demo import add_loader
from workflow import engine, sweep


def sweep_step(now=None) -> dict[str, int]:
    """Events still waiting for their fan-out, deadlines two working days away, then the
    outbox of mail (tries again what failed)."""
    counts = {"notification_events": events.deliver_queued()}
    counts.update(services.announce_deadlines(now))
    counts.update({f"mail_{key}": value for key, value in mail.send_pending().items()})
    return counts


def _deliver_after_response(response):
    """A request committed notification events: deliver them after its response."""
    if g.pop("notify_outbox", False):
        return relay.after_response(response)
    return response


def _unread() -> int:
    return services.unread_count(current_user) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    events.listen_to_sessions()
    engine.observe(app, events.on_event)
    sweep.register(app, sweep_step)
    add_loader(app, demo.load)
    cli.register(app)
    app.after_request(_deliver_after_response)
    app.context_processor(lambda: {"unread_notifications": _unread})
