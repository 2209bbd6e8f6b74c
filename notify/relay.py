"""The relay: delivers the notification events a process's requests committed, in a
thread of that process, after their responses.

A request that wrote events wakes the relay; the relay waits a moment (COALESCE) so
that the events of a burst of requests are fanned out together - one transaction for
many events instead of one per request, which matters on SQLite, where write
transactions run one at a time - then fans them out and mails what is due at once.
Whatever it has not done when the process stops (a rolled-back fan-out, a mail left
"sending") is taken up by the next delivery or the sweep: the outbox never loses an
event and never tells or mails twice (notify/events.py, notify/mail.py).

With NOTIFY_RELAY_THREAD off (the default under tests) the request delivers itself once
its response is closed, which keeps a test's order of events fixed.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, current_app

from core.extensions import db
from notify import events, mail

COALESCE = 0.05  # seconds a wake-up waits for more events


def deliver(app: Flask) -> None:
    """Fan out the waiting events and mail those due at once, in an app context."""
    with app.app_context():
        try:
            events.deliver_queued()
            if mail.configured():
                mail.send_pending()
        except Exception:  # noqa: BLE001 - the sweep delivers what this run could not
            app.logger.exception("notification delivery failed; the sweep will try again")
        finally:
            db.session.remove()


class Relay:
    """One per process and app: a daemon thread woken after each commit that wrote events."""

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.guard = threading.Lock()

    def poke(self) -> None:
        with self.guard:
            if self.thread is None or not self.thread.is_alive():  # first use, or after a fork
                self.thread = threading.Thread(target=self._run, name="wuji-notify-relay", daemon=True)
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            time.sleep(COALESCE)
            self.wake.clear()
            deliver(self.app)


def relay_for(app: Flask) -> Relay:
    relay = app.extensions.get("wuji_notify_relay")
    if relay is None:
        relay = app.extensions["wuji_notify_relay"] = Relay(app)
    return relay


def after_response(response):
    """A request committed notification events: hand them to the relay (or, with
    NOTIFY_RELAY_THREAD off, deliver them once the response is closed)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("NOTIFY_RELAY_THREAD", not app.testing):
        relay_for(app).poke()
    else:
        response.call_on_close(lambda: deliver(app))
    return response
