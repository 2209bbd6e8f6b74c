"""Issue pages: raising, the worklist, buttons decided by the engine, forms and errors."""
import io

import pytest
from PIL import Image

from core.extensions import db
from tests.issues.helpers import issue, raise_demand
from issues.models import RenovationIssue


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


def test_resident_raises_a_demand_with_a_photo(client, auth, world, app):
    auth.login("resident")
    page = client.get("/issues/new").get_data(as_text=True)
    assert "测试1小区 1号楼 1单元 101" in page
    response = auth.post("/issues/new", {
        "title": "单元门禁损坏", "description": "门禁刷卡无反应", "category": "basic", "subcategory": "stairs",
        "place": f"household:{world.household_ids[0]}", "mode": "demand",
        "photos": (io.BytesIO(PNG), "door.png", "image/png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        item = db.session.scalar(db.select(RenovationIssue))
        assert (item.title, item.state, len(item.photos)) == ("单元门禁损坏", "review_building", 1)
        photo_url = f"/issues/{item.id}/photos/{item.photos[0].id}"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "单元门禁损坏" in detail and "楼院党小组" in detail
    assert client.get(photo_url).data == PNG


def test_raise_form_rejects_missing_title_and_foreign_place(client, auth, world, app):
    auth.login("resident")
    response = auth.post("/issues/new", {"title": "", "category": "basic", "subcategory": "stairs",
                                         "place": f"household:{world.household_ids[0]}", "mode": "demand"})
    assert response.status_code == 422
    response = auth.post("/issues/new", {"title": "x", "category": "basic", "subcategory": "stairs",
                                         "place": f"household:{world.household_ids[5]}", "mode": "demand"})
    assert response.status_code == 422  # not one of the resident's places: not a valid choice
    response = auth.post("/issues/new", {"title": "x", "category": "basic", "subcategory": "parking",
                                         "place": f"household:{world.household_ids[0]}", "mode": "demand"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(RenovationIssue).count() == 0


def test_raise_rejects_a_file_that_is_not_a_picture(client, auth, world, app):
    auth.login("resident")
    response = auth.post("/issues/new", {
        "title": "单元门禁损坏", "category": "basic", "subcategory": "stairs",
        "place": f"household:{world.household_ids[0]}", "mode": "demand",
        "photos": (io.BytesIO(b"MZ not a picture"), "virus.png", "image/png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "不是 JPEG、PNG 或 WebP 图片" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(RenovationIssue).count() == 0


@pytest.mark.parametrize("data,declared", [
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "image/png"),  # a signature, then HTML
    (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64), "image/webp"),  # a RIFF file that is a sound
    (PNG[:40], "image/png"),  # a picture cut short
    (PNG, "image/jpeg"),  # a PNG declared as a JPEG
])
def test_raise_refuses_files_that_only_look_like_pictures(client, auth, world, app, data, declared):
    auth.login("resident")
    response = auth.post("/issues/new", {
        "title": "单元门禁损坏", "category": "basic", "subcategory": "stairs",
        "place": f"household:{world.household_ids[0]}", "mode": "demand",
        "photos": (io.BytesIO(data), "door.png", declared),
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "不是 JPEG、PNG 或 WebP 图片" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(RenovationIssue).count() == 0


def test_worklist_shows_what_awaits_my_level(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    page = client.get("/issues/").get_data(as_text=True)
    assert f"#{issue_id} 楼道灯不亮" in page
    auth.logout()
    auth.login("grid")
    assert "楼道灯不亮" not in client.get("/issues/").get_data(as_text=True)
    assert "楼道灯不亮" in client.get("/issues/?queue=all").get_data(as_text=True)


def test_overdue_issues_carry_a_badge_and_filter(client, auth, world, app):
    from datetime import datetime

    with app.app_context():
        issue_id = raise_demand(world)
        db.session.execute(db.update(RenovationIssue).values(due_at=datetime(2020, 1, 1)))
        db.session.commit()
    auth.login("group")
    page = client.get("/issues/?overdue=1").get_data(as_text=True)
    assert f"#{issue_id}" in page and "已超期" in page


def test_issue_page_shows_only_allowed_actions(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "上报上一级" in page and "驳回" in page
    assert "验收通过" not in page
    auth.logout()
    auth.login("grid")
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "上报上一级" not in page
    assert "当前阶段无需您处理" in page


def test_transition_form_moves_the_issue_and_shows_the_timeline(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "escalate", "version": 1})
    assert response.status_code == 302
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "网格党支部审核" in page
    assert "group用户" in page and "第1社区楼院党小组" in page
    with app.app_context():
        assert issue(issue_id).state == "review_grid"


def test_stale_form_gets_a_conflict_and_changes_nothing(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    auth.post(f"/issues/{issue_id}/transitions", {"trigger": "escalate", "version": 1})
    auth.logout()
    auth.login("admin")
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "return_down", "version": 1, "reason": "x"})
    assert response.status_code == 409
    assert "已被他人修改" in response.get_data(as_text=True)
    with app.app_context():
        assert issue(issue_id).state == "review_grid"


def test_reject_without_reason_is_422(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "reject", "version": 1})
    assert response.status_code == 422
    assert "请填写理由" in response.get_data(as_text=True)


def test_other_community_gets_404(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("community2")
    assert client.get(f"/issues/{issue_id}").status_code == 404
    response = auth.post(f"/issues/{issue_id}/transitions", {"trigger": "escalate", "version": 1})
    assert response.status_code == 404


def test_resident_sees_plain_words_and_the_reason(client, auth, world, app):
    with app.app_context():
        issue_id = raise_demand(world)
    auth.login("group")
    auth.post(f"/issues/{issue_id}/transitions", {"trigger": "reject", "version": 1, "reason": "已由物业当场修复"})
    auth.logout()
    auth.login("resident")
    page = client.get(f"/issues/{issue_id}").get_data(as_text=True)
    assert "未予采纳（见理由）" in page
    assert "已由物业当场修复" in page


def test_diagram_is_generated_from_the_definition(client, world):
    page = client.get("/help/workflow").get_data(as_text=True)
    assert "<svg" in page
    assert "楼院党小组审核" in page and "人民调解" in page


def test_construction_page_takes_progress_reports_in_both_languages(client, auth, world, app):
    """The progress form's label carries a percent sign, which the page's gettext
    treats as a format: the page rendered a 500 for the construction company."""
    from tests.issues.helpers import fire
    from tests.procedures.vote_helpers import end_notice_period, pass_vote

    with app.app_context():
        issue_id = raise_demand(world)
        for username, trigger in (("group", "escalate"), ("grid", "escalate"), ("community", "include_in_plan"),
                                  ("community", "start_consultation"), ("community", "open_vote")):
            fire(username, issue_id, trigger)
        pass_vote(issue_id)
        end_notice_period(issue_id)
        fire("community", issue_id, "start_construction")
        version = issue(issue_id).version
    auth.login("builder")
    response = client.get(f"/issues/{issue_id}")
    assert response.status_code == 200
    assert "进度（%）" in response.get_data(as_text=True)
    response = auth.post(f"/issues/{issue_id}/transitions",
                         {"trigger": "report_progress", "version": version, "progress": "60", "reason": "外墙已完成六成"})
    assert response.status_code == 302
    auth.post("/language", {"locale": "en", "next": "/"})
    response = client.get(f"/issues/{issue_id}")
    assert response.status_code == 200
    assert "Progress (%)" in response.get_data(as_text=True) and 'value="60"' in response.get_data(as_text=True)
    with app.app_context():
        assert (issue(issue_id).state, issue(issue_id).progress) == ("construction", 60)
