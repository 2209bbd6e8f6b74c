"""Staff pages: create a draft, edit it, consultation comments and answers, engine-decided buttons."""
import re

from conventions.models import ConventionVersion
from core.extensions import db
from tests.conventions.helpers import create, version, walk_to


def _version_id_from(response) -> int:
    return int(re.search(r"/manage/conventions/versions/(\d+)", response.headers["Location"]).group(1))


def test_a_community_officer_creates_a_draft_from_the_starting_draft(app, world, auth, client):
    auth.login("community")
    form = client.get("/manage/conventions/new").get_data(as_text=True)
    assert f'value="estate:{world.estate_ids[0]}"' in form and f'value="estate:{world.estate_ids[1]}"' not in form
    response = auth.post("/manage/conventions/new", data={
        "kind": "ebike_shed", "scope": f"estate:{world.estate_ids[0]}", "title": "", "use_draft": "y"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "测试1小区电动车棚建设和管理公约" in page and "第十三条" in page
    assert 'data-trigger="submit_for_consultation"' in page and 'name="text"' in page
    assert "起草" in page  # the timeline's first entry


def test_residents_and_street_officers_cannot_create(app, world, auth, client):
    auth.login("resident")
    assert client.get("/manage/conventions/new").status_code == 403
    auth.logout()
    auth.login("community2")
    response = auth.post("/manage/conventions/new", data={
        "kind": "residents_convention", "scope": f"estate:{world.estate_ids[0]}", "use_draft": "y"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.query(ConventionVersion).count() == 0


def test_editing_the_text_renumbers_and_records_an_audit_entry(app, world, auth, client):
    with app.app_context():
        version_id = create(world)
        current = version(version_id).version
    auth.login("community")
    text = "> 序言。\n\n## 第一章 总则\n\n第一条 甲。\n\n新增的一条。\n\n第二条 乙。\n\n## 附则\n\n丙。\n"
    response = auth.post(f"/manage/conventions/versions/{version_id}/text", data={"version": current, "text": text})
    assert response.status_code == 302
    with app.app_context():
        item = version(version_id)
        assert [(a.number, a.text, a.chapter.position) for a in item.articles] == [
            (1, "甲。", 1), (2, "新增的一条。", 1), (3, "乙。", 1), (4, "丙。", 2)]
        assert [c.title for c in item.chapters] == ["总则", "附则"] and item.preamble == "序言。"
        assert item.version == current + 1
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert "修改文本" in page and "第四条" in page


def test_consultation_comment_and_answer_on_the_page(app, world, auth, client):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "consultation")
    auth.login("resident")
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert 'data-action="comment-3"' in page and "data-trigger" not in page
    response = auth.post(f"/manage/conventions/versions/{version_id}/comments", data={"article": "3", "text": "赞成。"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#article-3")
    auth.logout()
    auth.login("community")
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert "赞成。" in page and 'data-trigger="close_consultation"' not in page
    assert "结束征求意见前，须逐条答复居民意见" in page
    with app.app_context():
        comment_id = version(version_id).comments[0].id
    response = auth.post(f"/manage/conventions/comments/{comment_id}/answer", data={"answer": "谢谢支持。"})
    assert response.status_code == 302
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert "谢谢支持。" in page and 'data-trigger="close_consultation"' in page


def test_each_state_shows_the_buttons_of_the_person_who_acts(app, world, auth, client):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "voting")
    auth.login("street")
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert "data-trigger" not in page and "当前阶段无需您处理" in page
    auth.logout()
    auth.login("community")
    page = client.get(f"/manage/conventions/versions/{version_id}").get_data(as_text=True)
    assert 'data-open="record_vote"' in page and 'name="entitled_heads" value="16"' in page
    assert 'name="agree_area"' not in page  # a residents' meeting counts people only
    assert "居民会议决定" in page


def test_index_diff_and_text_download(app, world, auth, client):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "published")
        convention_id = version(version_id).convention_id
    auth.login("community")
    index = client.get("/manage/conventions/").get_data(as_text=True)
    assert "测试1小区居民公约" in index and "现行有效" in index
    page = client.get(f"/manage/conventions/{convention_id}").get_data(as_text=True)
    assert 'data-action="amend"' in page
    response = auth.post(f"/manage/conventions/{convention_id}/amend", data={"change_note": "增加宠物条款"})
    second_id = _version_id_from(response)
    assert "与第1版相比" in client.get(f"/manage/conventions/versions/{second_id}/diff").get_data(as_text=True)
    text = client.get(f"/manage/conventions/versions/{second_id}/text.txt")
    assert text.mimetype == "text/plain" and "第一条" in text.get_data(as_text=True)
    auth.logout()
    auth.login("resident")
    assert client.get(f"/manage/conventions/versions/{second_id}").status_code == 404
    assert client.get(f"/manage/conventions/versions/{version_id}").status_code == 200
