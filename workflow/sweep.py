"""One deadline sweep for every workflow.

Each package registers its step when the app is built (`register`); `flask workflow
sweep` (from cron) runs them all (`run`). A step lists its overdue subjects, ends the
read, and refers each one in its own transaction (`overdue_loop`), counting outcomes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable

from flask import Flask, current_app
from sqlalchemy import Select

from core.db import utcnow
from core.extensions import db

Step = Callable[[datetime | None], dict[str, int]]


def register(app: Flask, step: Step) -> None:
    steps = app.extensions.setdefault("wuji_sweep", [])
    if step not in steps:
        steps.append(step)


def run(now: datetime | None = None) -> dict[str, int]:
    """Every registered step, in registration order, with their counts."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for step in current_app.extensions.get("wuji_sweep", []):
        counts.update(step(now))
    return counts


def overdue_loop(overdue_ids: Select, refer_one: Callable[[int, datetime], str | None],
                 outcomes: Iterable[str], now: datetime) -> dict[str, int]:
    """Refer each overdue subject (one transaction each, in `refer_one`); `refer_one`
    answers the outcome to count, or None when the subject no longer needs it (someone
    acted meanwhile, or another sweep got there first)."""
    ids = db.session.scalars(overdue_ids).all()
    db.session.rollback()  # end the read: each referral is its own transaction
    counts = dict.fromkeys(outcomes, 0)
    for ident in ids:
        outcome = refer_one(ident, now)
        if outcome:
            counts[outcome] += 1
    return counts
