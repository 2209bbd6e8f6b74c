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
- Satisfied: rated 4 or 5 (satisfaction rate = satisfied / rated).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, literal, not_, or_, select
from sqlalchemy.orm import aliased

from issues.models import RenovationIssue
from workflow.audit import AuditEntry

RESOLVED_STATES = ("resolved", "long_term_management", "closed")
ENDED_STATES = RESOLVED_STATES + ("rejected",)
SATISFIED_MIN = 4

_FIRST = aliased(AuditEntry, name="first_entry")
_NEXT = aliased(AuditEntry, name="next_entry")


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


def _first_entry(*conditions):
    return (_FIRST.subject_type == RenovationIssue.subject_type, _FIRST.subject_id == RenovationIssue.id,
            _FIRST.seq == 1, *conditions)


def responded_on_time():
    """The second entry is a person's (not the raiser's) action within the first deadline."""
    return exists(
        select(1).select_from(_NEXT).join(
            _FIRST, and_(_FIRST.subject_type == _NEXT.subject_type, _FIRST.subject_id == _NEXT.subject_id,
                         _FIRST.seq == 1))
        .where(_NEXT.subject_type == RenovationIssue.subject_type, _NEXT.subject_id == RenovationIssue.id,
               _NEXT.seq == 2, _NEXT.actor_id.is_not(None), _NEXT.actor_id != RenovationIssue.raised_by_id,
               or_(_FIRST.due_at.is_(None), _NEXT.created_at <= _FIRST.due_at))
    )


def _has_next():
    return exists(select(1).select_from(_NEXT).where(
        _NEXT.subject_type == RenovationIssue.subject_type, _NEXT.subject_id == RenovationIssue.id, _NEXT.seq == 2))


def _first_deadline_passed(now: datetime):
    return exists(select(1).select_from(_FIRST).where(*_first_entry(_FIRST.due_at < now)))


def responded_late(now: datetime):
    """Not on time, and either answered (late, or by the sweep) or past the deadline unanswered."""
    return and_(not_(responded_on_time()), or_(_has_next(), _first_deadline_passed(now)))


# The same response classes for an aggregate over many issues: two outer joins (one
# index lookup each) instead of the correlated subqueries above, one class per issue.
FIRST_JOINED = aliased(AuditEntry, name="first_joined")
NEXT_JOINED = aliased(AuditEntry, name="next_joined")


def with_first_entries(stmt):
    """`stmt` (over renovation_issue) outer-joined with each issue's first two audit entries."""
    return (stmt
            .outerjoin(FIRST_JOINED, and_(FIRST_JOINED.subject_type == RenovationIssue.subject_type,
                                          FIRST_JOINED.subject_id == RenovationIssue.id, FIRST_JOINED.seq == 1))
            .outerjoin(NEXT_JOINED, and_(NEXT_JOINED.subject_type == RenovationIssue.subject_type,
                                         NEXT_JOINED.subject_id == RenovationIssue.id, NEXT_JOINED.seq == 2)))


def response_class(now: datetime):
    """"on_time", "late" or "pending", over with_first_entries(): as responded_on_time()
    and responded_late(now) decide."""
    on_time = and_(NEXT_JOINED.actor_id.is_not(None), NEXT_JOINED.actor_id != RenovationIssue.raised_by_id,
                   or_(FIRST_JOINED.due_at.is_(None), NEXT_JOINED.created_at <= FIRST_JOINED.due_at))
    return case((on_time, literal("on_time")),
                (or_(NEXT_JOINED.id.is_not(None), FIRST_JOINED.due_at < now), literal("late")),
                else_=literal("pending"))


RESPONSES = ("on_time", "late")
OUTCOMES = ("ended", "resolved")
RATINGS = ("rated", "satisfied")


def response(kind: str, now: datetime):
    return responded_on_time() if kind == "on_time" else responded_late(now)


def outcome(kind: str):
    return resolved() if kind == "resolved" else ended()


def rating(kind: str):
    return satisfied() if kind == "satisfied" else rated()
