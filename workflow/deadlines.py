"""Deadlines: what the sweep does to a subject left past its deadline when no transition
moves it on (a renovation issue outside the review states, a joint inspection): the org
node above the one answering for it takes over, with a fresh deadline, audited as the
system actor.

The sweeps (issues/services.py, acceptance/services.py) decide which subjects
are overdue and lock each one; this is the step they share.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from orgs.models import OrgNode
from workflow import engine
from rules.calendar import add_working_days


def refer_to_parent(subject, current: OrgNode | None, now: datetime, *, default_days: int) -> OrgNode | None:
    """Make the parent of `current` (the org node answering for the locked `subject`)
    responsible, due the state's working days from `now` (the city policy's, else
    `default_days`), and audit it as the system actor, inside the caller's write
    transaction. Returns the parent; None when `current` is the top, with nothing written.

    The fresh deadline lies after `now`, so a sweep run again at once leaves the subject
    alone (idempotent)."""
    parent = current.parent if current is not None else None
    if parent is None:
        return None
    subject.responsible_org_id = parent.id
    days = subject.deadline_days(type(subject).workflow.state(subject.state)) or default_days
    subject.due_at = add_working_days(now, days)
    engine.record_event(
        subject, engine.SYSTEM, "overdue_escalation",
        reason=_("Deadline passed: referred to %(org)s.", org=parent.name),
        payload={"to_org": parent.id}, org_id=parent.id,
    )
    return parent
