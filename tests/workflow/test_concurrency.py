"""Sixteen people act on one issue at the same moment: exactly one wins.

Each thread has its own application context (so its own session and connection)
and fires a transition with the version they all read. The database serialises
them (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE on the file);
the losers must get StaleVersion, and the audit chain must stay intact with one
new entry. Runs on whichever backend the suite runs on (WUJI_TEST_BACKEND).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from core.errors import StaleVersion
from core.extensions import db
from tests.issues.helpers import issue, person, raise_demand
from issues import services
from workflow import audit

THREADS = 16
# Conflicting decisions the grid worker's level may take on an issue awaiting it.
DECISIONS = [
    ("escalate", {}),
    ("return_down", {"reason": "请楼院党小组先核实"}),
    ("resolve", {"reason": "网格已协调物业修复"}),
    ("reject", {"reason": "不属于改造范围"}),
]


def _fire_in_own_context(app, barrier: threading.Barrier, issue_id: int, version: int, index: int) -> str:
    trigger, data = DECISIONS[index % len(DECISIONS)]
    with app.app_context():
        actor = person("grid")
        db.session.commit()  # give the connection back: the pool holds fewer than 16
        barrier.wait(timeout=30)
        try:
            services.fire_issue(actor, issue_id, trigger, version, **data)
        except StaleVersion:
            return "stale"
        finally:
            db.session.remove()
    return trigger


def test_sixteen_conflicting_transitions_one_wins_others_are_stale(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        services.fire_issue(person("group"), issue_id, "escalate", 1)
        before = issue(issue_id)
        version, seq = before.version, before.audit_seq
        db.session.remove()
    barrier = threading.Barrier(THREADS)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(_fire_in_own_context, app, barrier, issue_id, version, i) for i in range(THREADS)]
        outcomes = [future.result(timeout=60) for future in futures]
    winners = [outcome for outcome in outcomes if outcome != "stale"]
    assert len(winners) == 1, outcomes
    assert outcomes.count("stale") == THREADS - 1
    with app.app_context():
        after = issue(issue_id)
        assert after.version == version + 1
        assert after.audit_seq == seq + 1
        entries = services.timeline(after)
        assert len(entries) == seq + 1
        assert entries[-1].trigger == winners[0]
        assert audit.verify() == []
