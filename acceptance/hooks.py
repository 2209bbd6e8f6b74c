"""Joint acceptance plugs into the renovation issue workflow (issues/renovation.py).

Attached on import: `finish_construction` opens the joint inspection, `accept` needs
the inspection accepted and `require_rectification` an inspection sent to
rectification (the inspection fires both itself, as the system actor), and
`request_reinspection` starts the next inspection round. The issues package never
imports acceptance: acceptance depends on issues, not the other way round.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from acceptance.services import covering_inspection, open_for_issue, reinspect_for_issue
from issues.renovation import WORKFLOW
from workflow.engine import Condition


def _covering_state(issue) -> str | None:
    inspection = covering_inspection(issue)
    return inspection.state if inspection is not None else None


INSPECTION_ACCEPTED = Condition(
    lambda issue, ctx: _covering_state(issue) == "accepted",
    _l("The joint inspection has not been approved by every party yet."),
)
INSPECTION_FAILED = Condition(
    lambda issue, ctx: _covering_state(issue) == "rectification",
    _l("Rectification follows from the joint inspection: a failed item or a party's rejection."),
)

WORKFLOW.extend("finish_construction", after=(open_for_issue,))
WORKFLOW.extend("accept", conditions=(INSPECTION_ACCEPTED,))
WORKFLOW.extend("require_rectification", conditions=(INSPECTION_FAILED,))
WORKFLOW.extend("request_reinspection", after=(reinspect_for_issue,))
