"""Shared helpers for workflow tests."""
from datetime import timedelta

import pytest

from core.db import utcnow
from core.extensions import db
from orgs.models import Person
from issues import services
from issues.models import RenovationIssue
from workflow import audit, engine


def person(username: str) -> Person:
    return db.session.scalar(db.select(Person).where(Person.username == username))


def raise_demand(world, username="resident", household_index=0, **overrides) -> int:
    fields = dict(
        title="楼道灯不亮", description="3号楼2单元楼道灯坏了一个月", category="basic", subcategory="stairs",
        place_kind="household", place_id=world.household_ids[household_index],
    )
    fields.update(overrides)
    return services.raise_issue(person(username), **fields).id


def raised_earlier(world, days: int, **overrides) -> int:
    """An item raised `days` ago: the workflow's clock (state entry, deadline, audit entry)
    set back while it is raised; the transitions after it run at the real time."""
    then = utcnow() - timedelta(days=days)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "utcnow", lambda: then)
        patch.setattr(audit, "utcnow", lambda: then)
        return raise_demand(world, **overrides)


def issue(issue_id: int) -> RenovationIssue:
    db.session.expire_all()
    return db.session.get(RenovationIssue, issue_id)


def fire(username: str, issue_id: int, trigger: str, **data):
    current = issue(issue_id)
    return services.fire_issue(person(username), issue_id, trigger, current.version, **data)


def sweep_counts(output: str) -> dict[str, int]:
    """`flask workflow sweep`'s line (`escalated: 1, raised_to_parent: 0, ...`) as a dict."""
    return {key: int(value) for key, value in (part.split(": ") for part in output.strip().split(", "))}
