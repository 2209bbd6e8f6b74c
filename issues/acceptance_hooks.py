"""Where the renovation workflow meets joint acceptance (acceptance/models.py).

issues/renovation.py attaches these to its transitions: `finish_construction` opens
the joint inspection, `accept` needs the inspection accepted and `require_rectification`
an inspection sent to rectification (the inspection fires both itself, as the system
actor), and `request_reinspection` starts the next inspection round.

The acceptance modules import the renovation models, so they are imported here only
when a hook runs.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workflow.engine import Condition


def _covering_state(issue) -> str | None:
    from acceptance.services import covering_inspection

    inspection = covering_inspection(issue)
    return inspection.state if inspection is not None else None


def open_inspection(issue, ctx) -> None:
    from acceptance.services import open_for_issue

    open_for_issue(issue, ctx)


def start_reinspection(issue, ctx) -> None:
    from acceptance.services import reinspect_for_issue

    reinspect_for_issue(issue, ctx)


INSPECTION_ACCEPTED = Condition(
    lambda issue, ctx: _covering_state(issue) == "accepted",
    _l("The joint inspection has not been approved by every party yet."),
)
INSPECTION_FAILED = Condition(
    lambda issue, ctx: _covering_state(issue) == "rectification",
    _l("Rectification follows from the joint inspection: a failed item or a party's rejection."),
)
