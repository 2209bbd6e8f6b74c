"""The household claims API: the grid worker's waiting claims and the decision."""
from __future__ import annotations

from sqlalchemy import select

from admin import services
from admin.models import HouseholdClaim
from core.extensions import db
from orgs.models import Person
from tests.conftest import PASSWORD
from tests.issues.test_api import bearer


def _waiting_claim(app, world) -> int:
    with app.app_context():
        person_id = services.register_resident("孙租户", "13822223333", PASSWORD, PASSWORD)
        claim = services.submit_claim(db.session.get(Person, person_id), world.household_ids[3], "13999999999")
        return claim.id


def test_grid_worker_lists_and_decides_claims(app, world, client):
    claim_id = _waiting_claim(app, world)
    grid = bearer(app, "grid")
    listed = client.get("/api/v1/admin/claims", headers=grid).get_json()
    assert [item["id"] for item in listed["items"]] == [claim_id]
    assert listed["items"][0]["person"]["name"] == "孙租户"
    other = bearer(app, "grid2")
    assert client.get("/api/v1/admin/claims", headers=other).get_json()["items"] == []
    assert client.post(f"/api/v1/admin/claims/{claim_id}/decision", json={"decision": "approve"},
                       headers=other).status_code == 404
    bad = client.post(f"/api/v1/admin/claims/{claim_id}/decision", json={"decision": "maybe"}, headers=grid)
    assert bad.status_code == 422 and "decision" in bad.get_json()["fields"]
    no_reason = client.post(f"/api/v1/admin/claims/{claim_id}/decision", json={"decision": "reject"}, headers=grid)
    assert no_reason.status_code == 422
    done = client.post(f"/api/v1/admin/claims/{claim_id}/decision", json={"decision": "approve"}, headers=grid)
    assert done.status_code == 200 and done.get_json()["status"] == "approved"
    with app.app_context():
        assert db.session.get(HouseholdClaim, claim_id).decided_by_id == world.person_ids["grid"]
        person = db.session.scalar(select(Person).where(Person.phone == "13822223333"))
        assert world.household_ids[3] in person.household_ids
    assert client.get("/api/v1/admin/claims").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/admin/claims/{claim_id}/decision" in spec["paths"]
