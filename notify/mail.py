"""Mail: the outbox of notifications sent at once, and the daily digest, through the
SMTP server of MAIL_SERVER etc. (smtplib).

Never twice: a notification is claimed (pending -> sending) by a committed UPDATE that
only one sender can win, sent, then marked sent. A send that fails goes back to pending
with a later try (backoff doubling from BACKOFF_FIRST up to BACKOFF_MAX, failed after
MAX_ATTEMPTS); one left "sending" by a crashed sender is not sent again but marked
failed after STALE. The Message-ID is made from the notification's id, so a receiving
server also recognises a copy.
"""
from __future__ import annotations

import contextlib

import smtplib
import ssl
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, format_datetime as mail_date, parseaddr

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from core.db import utcnow, write_transaction
from core.extensions import db
from notify import events
from notify.messages import Words, words
from notify.models import DIGEST, FAILED, PENDING, SENDING, SENT, Notification
from orgs.models import Person

MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
STALE = timedelta(hours=1)
BATCH = 200
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


# --- the SMTP connection ---------------------------------------------------------------------


class Mailer:
    """One SMTP session, opened at the first message of a batch."""

    def __init__(self):
        self.connection: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = _connect()
        self.connection.send_message(message)

    def close(self) -> None:
        if self.connection is not None:
            # A server that already dropped the connection has nothing left to say goodbye to.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 0)
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    if config.get("MAIL_USE_SSL"):
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=timeout,
                                                    context=ssl.create_default_context())
    else:
        connection = smtplib.SMTP(host, port or 25, timeout=timeout)
        if config.get("MAIL_USE_TLS"):
            connection.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return connection


def _sender() -> str:
    return current_app.config.get("MAIL_DEFAULT_SENDER") or "wuji@localhost"


def _domain() -> str:
    address = parseaddr(_sender())[1]
    return address.rpartition("@")[2] or "localhost"


def _message(person: Person, subject: str, text: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = _sender()
    message["To"] = formataddr((person.name, person.email))
    message["Subject"] = subject
    message["Date"] = mail_date(datetime.now().astimezone())
    message["Message-ID"] = f"<{message_id}@{_domain()}>"
    message.set_content(text)
    return message


def _in_language_of(person: Person):
    """The recipient's language and a request context for absolute links."""
    base = current_app.config.get("PUBLIC_BASE_URL") or DEVELOPMENT_BASE_URL
    context = current_app.test_request_context("/", base_url=base)
    locale = person.locale if person.locale in current_app.config["LANGUAGES"] else \
        current_app.config["BABEL_DEFAULT_LOCALE"]
    return context, force_locale(locale)


def _footer() -> str:
    return _("You receive this because of your notification settings: %(url)s",
             url=_external("notify.preferences_page"))


def _external(endpoint: str) -> str:
    return url_for(endpoint, _external=True)


def _one_text(words_: Words) -> str:
    return "\n\n".join(part for part in (words_.body, words_.url) if part)


# --- at once ----------------------------------------------------------------------------------


def _claim(notification_id: int, now: datetime) -> bool:
    with write_transaction():
        result = db.session.execute(
            update(Notification).where(Notification.id == notification_id, Notification.email_state == PENDING)
            .values(email_state=SENDING, attempts=Notification.attempts + 1, next_attempt_at=now)
        )
    return result.rowcount == 1


def _finish(notification_id: int, **values) -> None:
    with write_transaction():
        db.session.execute(update(Notification).where(Notification.id == notification_id).values(**values))


def _give_up_stale(now: datetime) -> int:
    with write_transaction():
        result = db.session.execute(
            update(Notification).where(Notification.email_state == SENDING, Notification.next_attempt_at < now - STALE)
            .values(email_state=FAILED, last_error="interrupted while sending: not sent again")
        )
    return result.rowcount


def send_pending(now: datetime | None = None) -> dict[str, int]:
    """Send the notifications due in the outbox; counts of sent, retried and failed."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not configured():
        return counts
    events.deliver_queued()
    now = now or utcnow()
    counts["failed"] += _give_up_stale(now)
    ids = db.session.scalars(
        select(Notification.id).where(Notification.email_state == PENDING, Notification.next_attempt_at <= now)
        .order_by(Notification.id).limit(BATCH)
    ).all()
    db.session.rollback()
    mailer = Mailer()
    try:
        for ident in ids:
            if not _claim(ident, now):
                continue  # another sender has it
            outcome = _send_one(mailer, ident, now)
            counts[outcome] += 1
            if outcome == "retry" and mailer.connection is None:
                break  # the server cannot be reached: the rest wait for the next run
    finally:
        mailer.close()
    return counts


def _send_one(mailer: Mailer, ident: int, now: datetime) -> str:
    notification = db.session.get(Notification, ident)
    person = notification.person
    context, language = _in_language_of(person)
    with context, language:
        text = words(notification, external=True)
        message = _message(person, text.title, _one_text(text) + "\n\n-- \n" + _footer(), f"notification-{ident}")
    try:
        mailer.send(message)
    except (smtplib.SMTPException, OSError) as error:
        mailer.close()
        attempts = notification.attempts
        db.session.rollback()
        state = FAILED if attempts >= MAX_ATTEMPTS else PENDING
        _finish(ident, email_state=state, next_attempt_at=now + backoff(attempts), last_error=str(error)[:500])
        return "failed" if state == FAILED else "retry"
    db.session.rollback()
    _finish(ident, email_state=SENT, sent_at=utcnow(), last_error=None)
    return "sent"


# --- the daily digest -------------------------------------------------------------------------


def send_digests(now: datetime | None = None) -> dict[str, int]:
    """One mail per person with the notifications they chose to receive as a digest
    and no digest has carried yet (the day's, when run daily)."""
    counts = {"digests": 0, "notifications": 0, "retry": 0}
    if not configured():
        return counts
    events.deliver_queued()
    now = now or utcnow()
    people = db.session.scalars(
        select(Notification.person_id).where(Notification.delivery == DIGEST, Notification.digest_token.is_(None),
                                             Notification.created_at <= now).distinct()
    ).all()
    db.session.rollback()
    mailer = Mailer()
    try:
        for person_id in people:
            sent = _digest_for(mailer, person_id, now)
            if sent is None:
                counts["retry"] += 1
            else:
                counts["digests"] += bool(sent)
                counts["notifications"] += sent
    finally:
        mailer.close()
    return counts


def _digest_for(mailer: Mailer, person_id: int, now: datetime) -> int | None:
    """Claim the person's waiting notifications under a token and mail them; None when
    the mail could not be sent (the claim is released for the next run)."""
    token = uuid.uuid4().hex
    with write_transaction():
        db.session.execute(
            update(Notification).where(Notification.person_id == person_id, Notification.delivery == DIGEST,
                                       Notification.digest_token.is_(None), Notification.created_at <= now)
            .values(digest_token=token)
        )
    person = db.session.get(Person, person_id)
    rows = db.session.scalars(select(Notification).where(Notification.digest_token == token)
                              .order_by(Notification.id)).all()
    if not rows or not person.email:
        db.session.rollback()
        return 0  # nothing to mail (no address: the inbox holds them)
    context, language = _in_language_of(person)
    with context, language:
        lines = []
        for notification in rows:
            text = words(notification, external=True)
            lines.append("- " + text.title + ("\n  " + text.body if text.body else "") +
                         ("\n  " + text.url if text.url else ""))
        subject = _("Your daily digest: %(count)d notifications", count=len(rows))
        body = "\n\n".join(lines) + "\n\n-- \n" + _external("notify.inbox_page") + "\n" + _footer()
        message = _message(person, subject, body, f"digest-{token}")
    db.session.rollback()
    try:
        mailer.send(message)
    except (smtplib.SMTPException, OSError):
        mailer.close()
        with write_transaction():
            db.session.execute(update(Notification).where(Notification.digest_token == token).values(digest_token=None))
        return None
    return len(rows)
