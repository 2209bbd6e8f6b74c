"""Shared helpers for convention tests: walk a version through its lifecycle."""
from __future__ import annotations

from datetime import date, timedelta

from conventions import services
from conventions.models import ConventionVersion
from core.extensions import db
from orgs.models import Person

TODAY = date.today()
# A residents' meeting of the 16 households of a test estate (one representative each).
VOTE_DATE = (TODAY - timedelta(days=5)).isoformat()
MEETING_PASSES = {"entitled_heads": "16", "agree_heads": "10", "disagree_heads": "1", "abstain_heads": "1",
                  "vote_date": VOTE_DATE}
# Exactly half attend: "more than half" is not met.
MEETING_NO_QUORUM = {"entitled_heads": "16", "agree_heads": "8", "disagree_heads": "0", "abstain_heads": "0",
                     "vote_date": VOTE_DATE}
FILING = {"filing_number": "测街备〔2026〕1号", "filing_date": (TODAY - timedelta(days=2)).isoformat()}
PUBLISH = {"effective_date": TODAY.isoformat()}
STEPS = [
    ("draft", "community", "submit_for_consultation", {}),
    ("consultation", "community", "close_consultation", {}),
    ("street_review", "street", "approve_review", {}),
    ("voting", "community", "record_vote", MEETING_PASSES),
    ("adopted", "street", "file", FILING),
    ("filed", "community", "publish", PUBLISH),
]


def person(username: str) -> Person:
    return db.session.scalar(db.select(Person).where(Person.username == username))


def version(version_id: int) -> ConventionVersion:
    db.session.expire_all()
    return db.session.get(ConventionVersion, version_id)


def create(world, kind: str = "residents_convention", username: str = "community", text: str | None = None,
           scope_kind: str = "estate", scope_id: int | None = None, title: str = "") -> int:
    ident = scope_id if scope_id is not None else world.estate_ids[0]
    created = services.create_convention(
        person(username), kind=kind, scope_kind=scope_kind, scope_id=ident,
        use_draft=text is None, text=text or "", title=title or ("测试公约" if kind == "other" else ""),
    )
    return created.id


def fire(username: str, version_id: int, trigger: str, **data) -> ConventionVersion:
    current = version(version_id)
    return services.fire_version(person(username), version_id, trigger, current.version, **data)


def walk_to(version_id: int, state: str, filing: dict | None = None) -> ConventionVersion:
    """Fire the usual steps until the version is in `state`."""
    for source, username, trigger, data in STEPS:
        if version(version_id).state == state:
            break
        assert version(version_id).state == source
        if trigger == "file" and filing is not None:
            data = filing
        fire(username, version_id, trigger, **data)
    current = version(version_id)
    assert current.state == state
    return current


SHORT_TEXT = """## 第一章 总则

第一条 爱护公共设施。

第二条 垃圾分类投放。

## 第二章 附则

第三条 本公约自公布之日起施行。
"""
