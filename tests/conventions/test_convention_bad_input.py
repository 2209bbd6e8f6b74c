"""Bad input gets a clear Chinese message and a 4xx answer, and changes nothing."""
from conventions import services
from core.extensions import db
from tests.conventions.helpers import FILING, MEETING_PASSES, create, fire, person, version, walk_to


def _state(app, version_id):
    with app.app_context():
        item = version(version_id)
        return item.state, item.version, [a.text for a in item.articles], len(item.comments), item.audit_seq


def _make(app, world, state):
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, state)
    return version_id


def test_editing_a_published_version_is_refused(app, world, auth, client):
    version_id = _make(app, world, "published")
    before = _state(app, version_id)
    auth.login("community")
    response = auth.post(f"/manage/conventions/versions/{version_id}/text",
                         data={"version": before[1], "text": "第一条 改过的文字。"})
    assert response.status_code == 409
    assert "只有草案可以修改" in response.get_data(as_text=True) and "发起修订" in response.get_data(as_text=True)
    assert _state(app, version_id) == before


def test_editing_a_version_in_consultation_is_refused_through_the_api(app, world, auth, client):
    version_id = _make(app, world, "consultation")
    before = _state(app, version_id)
    auth.login("community")
    response = client.patch(f"/api/v1/convention-versions/{version_id}/articles/1",
                            json={"version": before[1], "text": "改过的文字。"},
                            headers={"X-CSRFToken": _token(client)})
    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_transition"
    assert "只有草案可以修改" in response.get_json()["message"]
    assert _state(app, version_id) == before


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client, "/manage/conventions/")


def test_publishing_without_a_passed_vote_is_refused(app, world, auth):
    version_id = _make(app, world, "voting")
    before = _state(app, version_id)
    auth.login("community")
    response = auth.post(f"/manage/conventions/versions/{version_id}/transitions",
                         data={"trigger": "publish", "version": before[1], "effective_date": "2026-12-01"})
    assert response.status_code == 409
    assert "表决尚未通过" in response.get_data(as_text=True)
    assert _state(app, version_id) == before


def test_publishing_without_a_filing_is_refused(app, world, auth):
    version_id = _make(app, world, "adopted")
    before = _state(app, version_id)
    auth.login("community")
    response = auth.post(f"/manage/conventions/versions/{version_id}/transitions",
                         data={"trigger": "publish", "version": before[1], "effective_date": "2026-12-01"})
    assert response.status_code == 409
    assert "尚未向街道备案" in response.get_data(as_text=True)
    assert _state(app, version_id) == before


def test_an_article_number_clash_is_refused(app, world, auth):
    with app.app_context():
        version_id = create(world)
    before = _state(app, version_id)
    auth.login("community")
    text = "## 第一章 总则\n\n第一条 爱护公共设施。\n\n第二条 垃圾分类投放。\n\n第二条 文明饲养宠物。\n"
    response = auth.post(f"/manage/conventions/versions/{version_id}/text", data={"version": before[1], "text": text})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "条文序号冲突：第二条重复出现或顺序颠倒" in page
    assert _state(app, version_id) == before


def test_an_article_number_clash_through_the_api(app, world, auth, client):
    with app.app_context():
        version_id = create(world)
    before = _state(app, version_id)
    auth.login("community")
    body = {"version": before[1], "preamble": "",
            "chapters": [{"title": "总则", "articles": [{"number": 1, "text": "甲"}, {"number": 1, "text": "乙"}]}]}
    response = client.put(f"/api/v1/convention-versions/{version_id}/text", json=body,
                          headers={"X-CSRFToken": _token(client)})
    assert response.status_code == 422 and "条文序号冲突" in response.get_json()["message"]
    assert _state(app, version_id) == before


def test_a_comment_after_the_consultation_closed_is_refused(app, world, auth):
    version_id = _make(app, world, "street_review")
    before = _state(app, version_id)
    auth.login("resident")
    response = auth.post(f"/manage/conventions/versions/{version_id}/comments", data={"article": "1", "text": "晚了"})
    assert response.status_code == 409
    assert "征求意见已结束" in response.get_data(as_text=True)
    assert _state(app, version_id) == before


def test_a_stale_form_is_refused(app, world, auth):
    with app.app_context():
        version_id = create(world)
    before = _state(app, version_id)
    auth.login("community")
    response = auth.post(f"/manage/conventions/versions/{version_id}/transitions",
                         data={"trigger": "submit_for_consultation", "version": before[1] + 1})
    assert response.status_code == 409
    assert "已被他人修改，请刷新页面" in response.get_data(as_text=True)
    assert _state(app, version_id) == before


def test_vote_counts_that_do_not_add_up_are_refused(app, world, auth):
    version_id = _make(app, world, "voting")
    before = _state(app, version_id)
    auth.login("community")
    data = {**MEETING_PASSES, "agree_heads": "20", "trigger": "record_vote", "version": before[1]}
    response = auth.post(f"/manage/conventions/versions/{version_id}/transitions", data=data)
    assert response.status_code == 422
    assert "多于应参加表决的人数" in response.get_data(as_text=True)
    data = {**MEETING_PASSES, "agree_heads": "十", "trigger": "record_vote", "version": before[1]}
    assert auth.post(f"/manage/conventions/versions/{version_id}/transitions", data=data).status_code == 422
    assert _state(app, version_id) == before


def test_a_filing_number_used_twice_and_an_effective_date_before_filing(app, world):
    first = _make(app, world, "published")
    with app.app_context():
        second = create(world, kind="management_rules", text="第一条 甲。")
        walk_to(second, "voting")
        fire("community", second, "record_vote", entitled_heads="16", entitled_area="1400", agree_heads="12",
             agree_area="1100", disagree_heads="0", disagree_area="0", abstain_heads="0", abstain_area="0",
             vote_date=MEETING_PASSES["vote_date"])
        from core.errors import ValidationError

        try:
            fire("street", second, "file", **FILING)
        except ValidationError as err:
            assert "已被其他公约使用" in err.message
        else:
            raise AssertionError("a filing number was used twice")
        assert version(second).state == "adopted"
        fire("street", second, "file", filing_number="测街备〔2026〕9号", filing_date=FILING["filing_date"])
        try:
            fire("community", second, "publish", effective_date="2020-01-01")
        except ValidationError as err:
            assert "生效日期不能早于备案日期" in err.message
        else:
            raise AssertionError("published before its filing")
        assert version(second).state == "filed"
        assert version(first).filing_number == FILING["filing_number"]


def test_amending_while_another_version_is_open_is_refused(app, world, auth):
    version_id = _make(app, world, "published")
    with app.app_context():
        convention_id = version(version_id).convention_id
        services.amend(person("community"), convention_id)
        count = len(db.session.get(type(version(version_id).convention), convention_id).versions)
    auth.login("community")
    response = auth.post(f"/manage/conventions/{convention_id}/amend", data={"change_note": ""})
    assert response.status_code == 409 and "尚在办理中" in response.get_data(as_text=True)
    with app.app_context():
        assert len(version(version_id).convention.versions) == count
