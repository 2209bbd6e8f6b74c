"""Where the renovation workflow meets the vote and notice procedures.

issues/renovation.py attaches these conditions and callbacks to its transitions:
`open_vote` opens the vote (with the electorate snapshot), `vote_passed` /
`vote_failed` follow the closed vote's result, entering `public_notice` publishes the
notice, `withdraw` cancels an open vote, and `start_construction` waits for the end
of the notice period and for every objection to be answered or withdrawn.

The procedure modules import the renovation models, so they are imported here only
when a hook runs.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workflow.engine import Condition


def open_vote(issue, ctx) -> None:
    from procedures import voting

    voting.open_for_issue(issue, ctx)


def cancel_open_vote(issue, ctx) -> None:
    from procedures import voting

    voting.cancel_open_votes(issue, ctx)


def publish_notice(issue, ctx) -> None:
    from procedures import notice

    notice.publish_for_issue(issue, ctx)


def _vote_outcome_is(expected: bool):
    def check(issue, ctx) -> bool:
        from procedures import voting

        return voting.latest_vote_outcome(issue) is expected

    return check


def _notice_over(issue, ctx) -> bool:
    from procedures import notice

    return notice.issue_notice_over(issue)


def _objections_settled(issue, ctx) -> bool:
    from procedures import notice

    return notice.issue_objections_settled(issue)


VOTE_PASSED = Condition(_vote_outcome_is(True), _l("The vote has not closed with a pass."))
VOTE_FAILED = Condition(_vote_outcome_is(False), _l("The vote has not closed with a fail."))
NOTICE_OVER = Condition(_notice_over, _l("The public notice period has not ended yet."))
OBJECTIONS_SETTLED = Condition(
    _objections_settled, _l("Every written objection must be answered or withdrawn first.")
)
