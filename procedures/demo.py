"""Demo steps for votes and notices, so that demo issues can reach construction.

`flask demo load` walks issues through the workflow; since a vote now decides
`vote_passed` and the notice period decides `start_construction`, the demo needs two
extra steps: a vote carried on paper by the grid worker, and a notice that already
ran its period (demo data pretends it was published earlier). Not for real use.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from core.db import write_transaction
from core.errors import InvalidTransition
from procedures import notice, voting


def unanimous_paper_vote(issue_id: int, officer, grid_worker, choice: str = "agree") -> voting.Vote:
    """The grid worker enters one paper ballot per voter of the issue's open vote, then
    the officer closes it (moving the issue on by the result)."""
    vote = voting.latest_vote("renovation_issue", issue_id)
    if vote is None or vote.state != "open":
        raise InvalidTransition("the issue has no open vote")
    seen: set[str] = set()
    entries = []
    for row in voting.paper_households(grid_worker, vote):
        if row.voter_key not in seen:
            seen.add(row.voter_key)
            entries.append(voting.PaperBallot(row.household_id, choice, f"演示纸质表决票 {row.household_id}"))
    if entries:
        voting.enter_paper_ballots(grid_worker, vote.id, entries)
    return voting.close_vote(officer, vote.id, voting.get_vote(officer, vote.id).version)


def notice_period_passed(issue_id: int) -> None:
    """Move the issue's latest notice into the past, as if its period had run out."""
    with write_transaction():
        item = notice.latest_notice("renovation_issue", issue_id)
        if item is None:
            raise InvalidTransition("the issue has no public notice")
        shift = item.ends_at - item.published_at + timedelta(seconds=1)
        item.published_at -= shift
        item.ends_at -= shift


def _vote_step(issue, actor, people: Callable[[str], object], **data) -> None:
    unanimous_paper_vote(issue.id, actor, people(data.get("grid", "grid")), data.get("choice", "agree"))


def _notice_step(issue, actor, people: Callable[[str], object], **data) -> None:
    notice_period_passed(issue.id)


# Pseudo-triggers a demo script may list among its steps: name -> step(issue, actor, people, **data).
STEPS: dict[str, Callable[..., None]] = {
    "paper_vote": _vote_step,
    "notice_period_passed": _notice_step,
}
