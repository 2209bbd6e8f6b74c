"""The acceptance history names each checklist item its entries record (issue 15 item 5)."""
from __future__ import annotations

import re

from tests.acceptance.acceptance_helpers import finished_issue, inspection_of, record


def test_each_recorded_result_names_its_item(app, client, auth, world):
    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        items = sorted(inspection.items, key=lambda i: i.position)
        labels = [item.label for item in items]
        record(inspection.id, results={items[0].position: "fail"})
    auth.login("community")
    page = client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
    history = re.search(r'id="timeline">(.*?)</section>', page, re.S).group(1)
    named = re.findall(r'<div class="timeline-item">(.*?)</div>', history)
    assert len(named) == len(labels) >= 2
    assert sorted(named) == sorted([f"{labels[0]}: 不合格"] + [f"{label}: 合格" for label in labels[1:]])


def test_recording_moves_on_to_the_next_item_and_the_rest_pass_in_one_tap(app, client, auth, world):
    from acceptance.models import JointInspection
    from core.extensions import db

    with app.app_context():
        issue_id = finished_issue(world)
        inspection = inspection_of(issue_id)
        items = sorted(inspection.items, key=lambda i: i.position)
        inspection_id, version = inspection.id, inspection.version
    auth.login("supervisor")
    first = auth.post(f"/acceptance/{inspection_id}/items/{items[0].id}",
                      {"version": str(version), "result": "fail", "notes": "扶手松动"})
    assert first.status_code == 302 and first.headers["Location"].endswith(f"#item-{items[1].id}")
    with app.app_context():
        version = db.session.get(JointInspection, inspection_id).version
    page = client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
    assert "其余项目全部合格" in page
    auth.logout()
    auth.login("resident")  # the residents' side reads the checklist; it does not record results
    refused = auth.post(f"/acceptance/{inspection_id}/items/rest-passed", {"version": str(version)})
    assert refused.status_code == 302
    assert "其余项目全部合格" not in client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(JointInspection, inspection_id).version == version  # nothing recorded
    auth.logout()
    auth.login("supervisor")
    rest = auth.post(f"/acceptance/{inspection_id}/items/rest-passed", {"version": str(version)})
    assert rest.status_code == 302 and rest.headers["Location"].endswith("#checklist-end")
    with app.app_context():
        inspection = db.session.get(JointInspection, inspection_id)
        results = {check.item_id: check.result for check in inspection.checks()}
        assert results[items[0].id] == "fail"  # what was recorded stays
        assert all(results[item.id] == "pass" for item in items[1:])
        assert inspection.state == "checking"  # the findings are still submitted by hand
    again = auth.post(f"/acceptance/{inspection_id}/items/rest-passed", {"version": str(version + len(items) - 1)})
    assert again.status_code == 302
    assert "本轮所有项目都已有结果" in client.get(f"/issues/{issue_id}/acceptance").get_data(as_text=True)
