"""The measures of the "三率" as SQL conditions on renovation issues.

Defined once here, so that the dashboard's figures (stats/) and the worklist filtered
to exactly those items (issues.services.issue_query) count the same rows.

- Ended: the item reached an outcome: resolved at a level, accepted (long-term
  management), closed, or rejected. A merged duplicate is counted by the item it
  was merged into.
- Resolved: ended as resolved, accepted or closed (resolution rate = resolved / ended).
- Response: the first action on the item by someone other than the person who raised
  it (its second audit entry) came at or before the deadline of the state the item
  was raised into (stored on the first audit entry when the state was entered).
  Late: that action came after the deadline, or came from the deadline sweep (the
  system), or none came and the deadline has passed. Otherwise still pending.
  These facts of the audit trail are kept on the issue row when the entries are
  written (first_due_at, responded_at, responded_on_time: RenovationIssue.audit_appended),
  so the measures read one row per issue, not its entries.
- Satisfied: rated 4 or 5 (satisfaction rate = satisfied / rated).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_

from issues.models import RenovationIssue

RESOLVED_STATES = ("resolved", "long_term_management", "closed")
ENDED_STATES = RESOLVED_STATES + ("rejected",)
SATISFIED_MIN = 4


def ended():
    return RenovationIssue.state.in_(ENDED_STATES)


def resolved():
    return RenovationIssue.state.in_(RESOLVED_STATES)


def rated():
    return RenovationIssue.satisfaction.is_not(None)


def satisfied():
    return RenovationIssue.satisfaction >= SATISFIED_MIN


def overdue(now: datetime):
    return and_(RenovationIssue.open.is_(True), RenovationIssue.due_at < now)


def responded_on_time():
    """The second entry is a person's (not the raiser's) action within the first deadline."""
    return RenovationIssue.responded_on_time.is_(True)


def responded_late(now: datetime):
    """Not on time, and either answered (late, or by the sweep) or past the deadline unanswered."""
    return and_(RenovationIssue.responded_on_time.is_(False),
                or_(RenovationIssue.responded_at.is_not(None), RenovationIssue.first_due_at < now))


RESPONSES = ("on_time", "late")
OUTCOMES = ("ended", "resolved")
RATINGS = ("rated", "satisfied")


def response(kind: str, now: datetime):
    return responded_on_time() if kind == "on_time" else responded_late(now)


def outcome(kind: str):
    return resolved() if kind == "resolved" else ended()


def rating(kind: str):
    return satisfied() if kind == "satisfied" else rated()
