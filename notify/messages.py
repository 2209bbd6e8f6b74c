"""A notification in words, in the language of whoever reads it (the page's, or the
recipient's own for mail), with the link to what it is about."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _

from issues.models import RenovationIssue
from notify.models import (
    DEADLINE_NEAR, DEMAND_CHANGED, DISPATCH_RECEIVED, ITEM_REACHED, KINDS, NOTICE_PUBLISHED, REFERRAL, VOTE_OPENED,
    Notification,
)

# Where each kind of subject is shown: endpoint and how its arguments are made.
LINKS = {
    "renovation_issue": lambda n, data: ("issues.issue_page", {"issue_id": n.subject_id}),
    "dispatch_assignment": lambda n, data: ("dispatch.dispatch_page", {"dispatch_id": data.get("dispatch_id")}),
    "vote": lambda n, data: ("procedures.vote_page", {"vote_id": n.subject_id}),
    "public_notice": lambda n, data: ("procedures.notice_page", {"notice_id": n.subject_id}),
}


@dataclass(frozen=True)
class Words:
    kind_label: str
    title: str
    body: str
    url: str


def _when(value) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value))  # naive UTC, as stored
    return format_datetime(moment.replace(tzinfo=timezone.utc), "yyyy-MM-dd HH:mm")


def _state(name: str | None, *, public: bool = False) -> str:
    """A renovation issue's state in words (in the plain words residents read, for them)."""
    if not name:
        return ""
    state = RenovationIssue.workflow.states.get(name)
    if state is None:
        return name
    return str(state.public_label or state.label) if public else str(state.label)


def _title_and_body(kind: str, data: dict) -> tuple[str, str]:
    title = data.get("title", "")
    if kind == ITEM_REACHED:
        return (_("“%(title)s” now awaits your level", title=title),
                _("Current state: %(state)s.", state=_state(data.get("state"))))
    if kind == DEADLINE_NEAR:
        when = _when(data.get("due_at"))
        body = (_("Deadline: %(when)s. Current state: %(state)s.", when=when, state=_state(data.get("state")))
                if data.get("state") else _("Deadline: %(when)s.", when=when))
        return _("“%(title)s” is due within two working days", title=title), body
    if kind == REFERRAL:
        return (_("“%(title)s” was referred up to %(org)s", title=title, org=data.get("org", "")),
                _("Its deadline passed and %(org)s now answers for it.", org=data.get("org", "")))
    if kind == DISPATCH_RECEIVED:
        return (_("A task was sent down to %(org)s: %(title)s", org=data.get("org", ""), title=title),
                _("Acknowledge it and carry it out, or pass it on to the level below."))
    if kind == VOTE_OPENED:
        closes = _when(data.get("closes_at"))
        return (_("A vote opened where you live: %(title)s", title=title),
                _("Voting closes at %(when)s.", when=closes) if closes else _("Cast your vote online or on paper."))
    if kind == NOTICE_PUBLISHED:
        return (_("A public notice where you live: %(title)s", title=title),
                _("The notice runs until %(when)s; written objections may be filed until then.",
                  when=_when(data.get("ends_at"))))
    if kind == DEMAND_CHANGED:
        return (_("Your demand “%(title)s” changed", title=title),
                _("It is now: %(state)s.", state=_state(data.get("state"), public=True)))
    return title, ""


def words(notification: Notification, *, external: bool = False) -> Words:
    """Title, text and link of `notification` in the current locale (a request context,
    or one made for the mail: notify/mail.py)."""
    data = notification.data
    title, body = _title_and_body(notification.kind, data)
    link = LINKS.get(notification.subject_type)
    url = ""
    if link is not None:
        endpoint, values = link(notification, data)
        url = url_for(endpoint, **values, _external=external)
    return Words(str(KINDS.get(notification.kind, notification.kind)), title, body, url)
