"""Who may sign for which party, record items and ask for re-inspection: a person signs
only for a role they hold over the issue's place, a resident representative lives in
the estate, and anyone outside the jurisdiction learns nothing (404).

Expected outcomes are written out by hand from DOMAIN.md section 2 step 6, not read
from the workflow definition."""
import pytest

from core.errors import NotFound, NotPermitted, ValidationError
from tests.conftest import csrf_token
from tests.acceptance.acceptance_helpers import (
    add_resident,
    finished_issue,
    inspection_of,
    person,
    record,
    submit,
    with_second_representative,
)
from acceptance import services as acceptance

OK, OUTSIDE, FORBIDDEN, NOT_ELIGIBLE = "ok", NotFound, NotPermitted, ValidationError
SIGN_MATRIX = [
    ("community", "community_committee", OK),
    ("street", "street_committee", OK),
    ("supervisor", "supervision_company", OK),
    ("builder", "construction_company", OK),
    ("property", "property_company", OK),
    ("resident", "resident_representative", OK),
    ("resident2", "resident_representative", OK),
    ("community", "street_committee", NOT_ELIGIBLE),
    ("street", "community_committee", NOT_ELIGIBLE),
    ("supervisor", "construction_company", NOT_ELIGIBLE),
    ("builder", "supervision_company", NOT_ELIGIBLE),
    ("property", "community_committee", NOT_ELIGIBLE),
    ("resident", "community_committee", NOT_ELIGIBLE),
    ("owners", "resident_representative", NOT_ELIGIBLE),  # the owners' committee member lives elsewhere
    ("member", "resident_representative", NOT_ELIGIBLE),
    ("admin", "community_committee", NOT_ELIGIBLE),  # nobody signs on another's behalf
    ("admin", "resident_representative", NOT_ELIGIBLE),
    ("grid", "community_committee", FORBIDDEN),
    ("group", "resident_representative", FORBIDDEN),
    ("community2", "community_committee", OUTSIDE),
    ("grid2", "community_committee", OUTSIDE),
    ("outsider", "resident_representative", OUTSIDE),  # a resident of the other estate
]
RECORD_MATRIX = [("supervisor", OK), ("community", OK), ("street", OK), ("admin", OK), ("builder", FORBIDDEN),
                 ("property", FORBIDDEN), ("resident", FORBIDDEN), ("community2", OUTSIDE)]
REINSPECT_MATRIX = [("builder", OK), ("supervisor", OK), ("community", OK), ("property", FORBIDDEN),
                    ("resident", FORBIDDEN), ("grid2", OUTSIDE)]


def _signing(app, world) -> tuple[int, int]:
    with app.app_context():
        with_second_representative(world)
        add_resident("outsider", world.household_ids[16])
        issue_id = finished_issue(world)
        inspection_id = inspection_of(issue_id).id
        record(inspection_id)
        submit(inspection_id)
    return issue_id, inspection_id


def _outcome(call) -> object:
    try:
        call()
    except (NotFound, NotPermitted, ValidationError) as err:
        return type(err)
    return OK


@pytest.mark.parametrize("username,party,expected", SIGN_MATRIX, ids=[f"{u}-{p}" for u, p, _e in SIGN_MATRIX])
def test_who_may_sign_for_which_party(app, world, username, party, expected):
    issue_id, inspection_id = _signing(app, world)
    with app.app_context():
        outcome = _outcome(lambda: acceptance.sign(person(username), inspection_id, None, party=party,
                                                   decision="approve", comment="同意"))
        assert outcome == expected
        signed = inspection_of(issue_id).round_signoffs()
        assert [(s.person.username, s.party) for s in signed] == ([(username, party)] if expected == OK else [])


@pytest.mark.parametrize("username,expected", RECORD_MATRIX, ids=[u for u, _e in RECORD_MATRIX])
def test_who_may_record_checklist_results(app, world, username, expected):
    with app.app_context():
        inspection = inspection_of(finished_issue(world))
        check = inspection.checks()[0]
        assert _outcome(lambda: acceptance.record_item(person(username), inspection.id, None,
                                                       item_id=check.item_id, result="pass")) == expected


@pytest.mark.parametrize("username,expected", REINSPECT_MATRIX, ids=[u for u, _e in REINSPECT_MATRIX])
def test_who_may_ask_for_reinspection(app, world, username, expected):
    with app.app_context():
        inspection = inspection_of(finished_issue(world))
        record(inspection.id, {0: "fail"})
        submit(inspection.id)
        assert _outcome(lambda: acceptance.reinspect(person(username), inspection.id, None)) == expected
        assert inspection_of(inspection.issue_id).round == (2 if expected == OK else 1)


def test_residents_of_the_estate_see_the_acceptance_page_outsiders_get_404(app, client, auth, world):
    issue_id, inspection_id = _signing(app, world)
    expected = {"resident2": 200, "grid": 200, "builder": 200, "community2": 404, "grid2": 404, "outsider": 404}
    for username, status in expected.items():
        auth.login(username)
        assert client.get(f"/issues/{issue_id}/acceptance").status_code == status, username
        auth.logout()


def test_signing_from_outside_the_jurisdiction_answers_404_and_changes_nothing(app, client, auth, world):
    issue_id, inspection_id = _signing(app, world)
    auth.login("community2")
    response = client.post(f"/acceptance/{inspection_id}/signoffs", data={
        "csrf_token": csrf_token(client), "version": "0", "party": "community_committee", "decision": "approve",
    })
    assert response.status_code == 404
    with app.app_context():
        assert inspection_of(issue_id).round_signoffs() == []


def test_the_page_offers_a_person_only_the_parties_they_may_sign_for(app, client, auth, world):
    issue_id, _inspection_id = _signing(app, world)
    auth.login("supervisor")
    page = client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
    assert 'value="supervision_company"' in page
    assert 'value="community_committee"' not in page
    auth.logout()
    auth.login("grid")
    assert 'name="party"' not in client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
