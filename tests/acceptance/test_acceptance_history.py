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
