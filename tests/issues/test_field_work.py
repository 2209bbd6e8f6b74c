"""Field work as the builder and the raiser do it on a phone (issue 15 item 8): progress
reports go forward and say what was done (a note or photos); photos can be added to an
issue after it was raised (a returned demand)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import ValidationError
from core.extensions import db
from issues.models import IssuePhoto
from tests.issues.helpers import fire, issue, raise_demand
from tests.procedures.vote_helpers import end_notice_period, pass_vote
from workflow import audit


def _png(colour: str = "blue") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _under_construction(world) -> int:
    issue_id = raise_demand(world)
    for username, trigger in (("group", "escalate"), ("grid", "escalate"), ("community", "include_in_plan"),
                              ("community", "start_consultation"), ("community", "open_vote")):
        fire(username, issue_id, trigger)
    pass_vote(issue_id)
    end_notice_period(issue_id)
    fire("community", issue_id, "start_construction")
    return issue_id


def test_progress_goes_forward_and_says_what_was_done(app, world):
    with app.app_context():
        issue_id = _under_construction(world)
        fire("builder", issue_id, "report_progress", progress="40", reason="管线已铺设")
        before = issue(issue_id)
        with pytest.raises(ValidationError) as backwards:
            fire("builder", issue_id, "report_progress", progress="30", reason="返工")
        assert "进度不能倒退：当前进度为 40%" in backwards.value.message
        with pytest.raises(ValidationError) as silent:
            fire("builder", issue_id, "report_progress", progress="50")
        assert "请说明完成了哪些工作" in silent.value.message
        after = issue(issue_id)
        assert (after.progress, after.version, after.audit_seq) == (40, before.version, before.audit_seq)
        fire("builder", issue_id, "report_progress", progress="40", reason="雨天停工")  # the same figure is fine
        assert audit.timeline(issue(issue_id))[-1].reason == "雨天停工"


def test_a_progress_report_with_photos_and_no_note_on_the_page(app, client, auth, world):
    with app.app_context():
        issue_id = _under_construction(world)
        version = issue(issue_id).version
    auth.login("builder")
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
    response = auth.post(f"/issues/{issue_id}/transitions", {
        "trigger": "report_progress", "version": str(version), "progress": "70",
        "photos": (io.BytesIO(_png()), "site.png", "image/png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        item = issue(issue_id)
        assert item.progress == 70
        assert [p.filename for p in item.photos] == ["site.png"]
        assert audit.timeline(item)[-1].data["photos"] == 1


def test_the_raiser_adds_a_photo_to_a_returned_demand(app, client, auth, world):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "return_down", reason="请补充楼道灯的照片")  # sent back for a picture
        assert issue(issue_id).state == "review_building"
        seq = issue(issue_id).audit_seq
    auth.login("resident")
    assert 'id="add-photos"' in client.get(f"/issues/{issue_id}").get_data(as_text=True)
    response = auth.post(f"/issues/{issue_id}/photos", {"photos": (io.BytesIO(_png("green")), "灯.png", "image/png")},
                         content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        item = issue(issue_id)
        assert [p.filename for p in item.photos] == ["灯.png"] and item.audit_seq == seq + 1
        assert audit.timeline(item)[-1].trigger == "add_photos"
    not_a_picture = auth.post(f"/issues/{issue_id}/photos",
                              {"photos": (io.BytesIO(b"\x89PNG\r\n\x1a\n<html>"), "x.png", "image/png")},
                              content_type="multipart/form-data")
    assert not_a_picture.status_code == 422
    auth.logout()
    auth.login("grid2")  # another community: the issue does not exist for them
    response = auth.post(f"/issues/{issue_id}/photos", {"photos": (io.BytesIO(_png()), "y.png", "image/png")},
                         content_type="multipart/form-data")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.query(IssuePhoto).filter_by(issue_id=issue_id).count() == 1
