"""Every renovation transition, tried through the API by every role, inside and outside
the jurisdiction.

For each transition (trigger, source state, destination) an issue is driven to the
source state through the services (and the vote, notice and joint inspection
procedures where the workflow waits for them); then each account of the test world
fires the trigger. The expected outcome is written out below by hand from the rules
in DOMAIN.md (who acts at which level), not read from the workflow definition:
allowed ⇒ 200 and the destination state; refused ⇒ 403 inside the jurisdiction,
404 outside it, and nothing changed.

The issue concerns household 2 of estate E1: a neighbour household of the member
household C1G1B1M1, which recorded it; the resident is linked to it as an owner.
"""
from __future__ import annotations

import pytest

from core.db import write_transaction
from core.extensions import db
from orgs import services as org_services
from orgs import tokens
from orgs.models import Household
from tests.acceptance.acceptance_helpers import inspection_of, pass_inspection, record, submit
from tests.issues.helpers import issue, person, raise_demand
from issues import services
from procedures.demo import STEPS
from issues.renovation import WORKFLOW

ACCOUNTS = ("admin", "street", "community", "community2", "grid", "grid2", "group", "member", "owners",
            "property", "builder", "supervisor", "resident")
OUTSIDE = {"community2", "grid2"}  # the other community: must not learn the issue exists
HOUSEHOLD = 2

REVIEWER = {
    "review_household": "member",
    "review_building": "group",
    "review_grid": "grid",
    "review_community": "community",
    "review_street": "street",
}
REVIEW_TRIGGERS = ("escalate", "return_down", "resolve", "merge", "reject")
PLANNERS = {"community", "street"}
WORKS = {"builder", "supervisor", "community"}
DISPUTE_RAISERS = {"street", "community", "grid", "group", "owners", "member", "resident"}
DISPUTE_HANDLERS = {"community", "street", "grid"}
# Who may fire each trigger, besides the system administrator (who may do anything in the subtree).
EXPECTED = {
    "include_in_plan": PLANNERS,
    "start_consultation": PLANNERS,
    "open_vote": PLANNERS,
    "skip_vote": PLANNERS,
    "vote_passed": PLANNERS,
    "vote_failed": PLANNERS,
    "withdraw": PLANNERS,
    "start_construction": PLANNERS,
    "report_progress": WORKS,
    "finish_construction": WORKS,
    "request_reinspection": WORKS,
    "accept": set(),  # see DECIDED_BY_PROCEDURE
    "require_rectification": set(),
    "close": {"community", "street"},
    "raise_dispute": DISPUTE_RAISERS,
    "to_mediation": DISPUTE_HANDLERS,
    "to_litigation": DISPUTE_HANDLERS,
    "settle": DISPUTE_HANDLERS,
    "record_agreement": DISPUTE_HANDLERS,
    "record_judgment": DISPUTE_HANDLERS,
    "close_by_judgment": DISPUTE_HANDLERS,
    "rate": {"resident"},
    "record_rating": {"grid", "group", "member"},  # the household's answer collected on paper
}
RATINGS = {"rate", "record_rating"}
NOT_SATISFIED = {"satisfaction": "1", "comment": "扶手松动，仍不满意"}

# How to reach each state from the start (review at the member household). Besides
# triggers, a route may name a procedure step (PROCEDURE_STEPS): a vote carried on
# paper, a notice whose period has run, a joint inspection that passes or fails.
UP = ["escalate"] * 4
NOTICE_OVER = "notice_period_passed"
ROUTES = {
    "review_household": [],
    "review_building": UP[:1],
    "review_grid": UP[:2],
    "review_community": UP[:3],
    "review_street": UP[:4],
    "resolved": ["resolve"],
    "planned": UP[:3] + ["include_in_plan"],
}
ROUTES["consultation"] = ROUTES["planned"] + ["start_consultation"]
ROUTES["voting"] = ROUTES["consultation"] + ["open_vote"]
ROUTES["public_notice"] = ROUTES["consultation"] + ["skip_vote"]
ROUTES["construction"] = ROUTES["public_notice"] + [NOTICE_OVER, "start_construction"]
ROUTES["acceptance"] = ROUTES["construction"] + ["finish_construction"]
ROUTES["rectification"] = ROUTES["acceptance"] + ["inspection_fails"]  # the result moves the issue on
ROUTES["long_term_management"] = ROUTES["acceptance"] + ["inspection_passes"]
ROUTES["closed"] = ROUTES["resolved"] + ["close"]
DISPUTE_STATES = {"negotiation": [], "mediation": ["to_mediation"], "litigation": ["to_litigation"]}
RESUMES_AT = {"settle", "record_agreement", "record_judgment"}  # the destination is where the dispute left
# What must have happened before a trigger may be fired by hand (its conditions). A
# vote that closes while the issue is in a dispute moves nothing; the issue returns to
# "voting" with the result recorded, and someone records it by hand.
DECIDED_IN_A_DISPUTE = {"vote_passed": "paper_vote", "vote_failed": "paper_vote_fails"}
# The joint inspection alone decides these: the system fires them when it ends, and
# by hand nobody may (409 inside the jurisdiction, 404 outside it).
DECIDED_BY_PROCEDURE = {"accept", "require_rectification"}


def _inspection(result: str):
    """Every party of the joint inspection records `result` for every item; the findings
    are submitted, and on a pass every party signs its approval."""

    def step(issue, actor, people, *, world, **data) -> None:
        inspection_id = inspection_of(issue.id).id
        if result == "pass":
            pass_inspection(world, issue.id)
            return
        record(inspection_id, default=result)
        submit(inspection_id)

    return step


def _paper_vote_fails(issue, actor, people, **data) -> None:
    STEPS["paper_vote"](issue, actor, people, choice="disagree")


PROCEDURE_STEPS = {
    **STEPS,
    "paper_vote_fails": _paper_vote_fails,
    "inspection_passes": _inspection("pass"),
    "inspection_fails": _inspection("fail"),
}


def prepared(trigger: str, steps: list[str]) -> list[str]:
    if trigger == "start_construction":
        return steps + [NOTICE_OVER]
    if trigger in DECIDED_IN_A_DISPUTE:
        return steps + ["raise_dispute", DECIDED_IN_A_DISPUTE[trigger], "settle"]
    return steps


def expected_allowed(trigger: str, source: str) -> set[str]:
    if trigger in DECIDED_BY_PROCEDURE:
        return set()
    if trigger in REVIEW_TRIGGERS and source in REVIEWER:
        allowed = {REVIEWER[source]}
    else:
        assert trigger in EXPECTED, f"add who may fire {trigger!r} to EXPECTED in {__file__}"
        allowed = set(EXPECTED[trigger])
    return allowed | {"admin"}


def route_to(trigger: str, source: str, dest: str) -> list[str]:
    if trigger in RATINGS and dest != source and source == "resolved":
        return ROUTES[dest] + ["resolve"]  # "not satisfied" goes back to the level that resolved it
    if source not in DISPUTE_STATES:
        return prepared(trigger, ROUTES[source])
    left_from = dest if trigger in RESUMES_AT else "construction"
    return ROUTES[left_from] + ["raise_dispute"] + DISPUTE_STATES[source]


def cases() -> list:
    result = []
    for t in WORKFLOW.transitions:
        for source in t.source:
            result.append(pytest.param(t.trigger, source, t.dest, id=f"{t.trigger}:{source}->{t.dest}"))
    return result


class Scene:
    """The test world plus a token per account and an issue to merge duplicates into."""

    def __init__(self, app, client, world):
        self.app, self.client, self.world = app, client, world
        with app.app_context():
            with write_transaction():
                household = db.session.get(Household, world.household_ids[HOUSEHOLD])
                org_services.link_household(person("resident"), household, "owner")
            self.headers = {name: self._bearer(name) for name in ACCOUNTS}
            self.merge_target = raise_demand(world, username="resident", household_index=0)

    @staticmethod
    def _bearer(username: str) -> dict[str, str]:
        _row, secret = tokens.create(person(username), "matrix")
        return {"Authorization": f"Bearer {secret}"}

    def data(self) -> dict[str, str]:
        return {"reason": "矩阵测试", "merge_into": str(self.merge_target), "progress": "50",
                "agreement_ref": "调解书1号", "judgment_ref": "判决书1号", "satisfaction": "4",
                "household_id": str(self.world.household_ids[HOUSEHOLD])}

    def issue_at(self, steps: list[str]) -> int:
        with self.app.app_context():
            issue_id = raise_demand(self.world, username="member", household_index=HOUSEHOLD)
            admin = person("admin")
            for step in steps:
                current = issue(issue_id)
                if step in PROCEDURE_STEPS:
                    PROCEDURE_STEPS[step](current, person("community"), person, world=self.world, **self.data())
                else:
                    services.fire_issue(admin, issue_id, step, current.version, **self.data())
            return issue_id

    def snapshot(self, issue_id: int) -> tuple[str, int, int]:
        with self.app.app_context():
            current = issue(issue_id)
            return current.state, current.version, current.audit_seq

    def fire(self, username: str, issue_id: int, trigger: str, version: int, extra: dict | None = None):
        body = {"trigger": trigger, "version": version, **self.data(), **(extra or {})}
        return self.client.post(f"/api/v1/issues/{issue_id}/transitions", json=body, headers=self.headers[username])


@pytest.fixture
def scene(app, client, world) -> Scene:
    return Scene(app, client, world)


def test_every_trigger_of_the_workflow_has_an_expectation():
    review_only = set(REVIEW_TRIGGERS)
    assert set(WORKFLOW.triggers()) <= set(EXPECTED) | review_only


@pytest.mark.parametrize("trigger, source, dest", cases())
def test_transition_is_allowed_and_refused_by_role_and_jurisdiction(scene, trigger, source, dest):
    steps = route_to(trigger, source, dest)
    allowed = expected_allowed(trigger, source)
    extra = NOT_SATISFIED if trigger in RATINGS and dest != source else None
    refused_issue = scene.issue_at(steps)
    before = scene.snapshot(refused_issue)
    assert before[0] == source
    refused_inside = 409 if trigger in DECIDED_BY_PROCEDURE else 403
    for username in sorted(set(ACCOUNTS) - allowed):
        response = scene.fire(username, refused_issue, trigger, before[1], extra)
        expected_status = 404 if username in OUTSIDE else refused_inside
        assert response.status_code == expected_status, (username, response.get_json())
        assert scene.snapshot(refused_issue) == before, username
    for username in sorted(allowed):
        issue_id = scene.issue_at(steps)
        state, version, seq = scene.snapshot(issue_id)
        response = scene.fire(username, issue_id, trigger, version, extra)
        assert response.status_code == 200, (username, response.get_json())
        assert (response.get_json()["state"], response.get_json()["version"]) == (dest, version + 1)
        assert scene.snapshot(issue_id) == (dest, version + 1, seq + 1), username
