"""Public pages without login: only published, superseded and repealed versions ever show."""
import pytest

from conventions import services
from tests.conventions.helpers import FILING, create, person, version, walk_to

SECRET_WORD = "草案里才有的一句话"


def _published(app, world, **kwargs) -> tuple[int, int]:
    with app.app_context():
        version_id = create(world, **kwargs)
        walk_to(version_id, "published")
        return version(version_id).convention_id, version_id


def test_index_lists_communities_and_estates_and_finds_an_estate(app, world, client):
    _published(app, world)
    page = client.get("/conventions/").get_data(as_text=True)
    assert "第1社区党委" in page and "测试1小区" in page and "测试2小区" in page
    assert "现行 1 件" in page
    found = client.get("/conventions/?q=测试2").get_data(as_text=True)
    assert "测试2小区" in found and "测试1小区" not in found
    assert "没有找到" in client.get("/conventions/?q=不存在的小区").get_data(as_text=True)


def test_a_published_convention_reads_on_its_own_with_anchors_vote_and_filing(app, world, client):
    convention_id, _version_id = _published(app, world)
    response = client.get(f"/conventions/{convention_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="article-3"' in page and 'href="#article-3"' in page and "第十九条" in page
    assert "居民会议决定" in page and "表决结果：通过" in page
    assert FILING["filing_number"] in page and "现行有效" in page
    assert f"/conventions/{convention_id}/versions/1/pdf" in page
    assert 'name="viewport"' in page
    estate_page = client.get(f"/conventions/estates/{world.estate_ids[0]}").get_data(as_text=True)
    assert "测试1小区居民公约" in estate_page


@pytest.mark.parametrize("state", ["draft", "consultation", "street_review", "voting", "adopted", "filed"])
def test_unpublished_versions_never_leak(app, world, client, state):
    with app.app_context():
        version_id = create(world, text=f"第一条 {SECRET_WORD}。")
        walk_to(version_id, state)
        convention_id = version(version_id).convention_id
    for path in (f"/conventions/{convention_id}", f"/conventions/{convention_id}/versions/1",
                 f"/conventions/{convention_id}/versions/1/pdf", f"/conventions/{convention_id}/versions/1/verify",
                 f"/conventions/{convention_id}/diff?from=1&to=1"):
        assert client.get(path).status_code == 404, path
    assert "共找到 0 条" in client.get(f"/conventions/search?q={SECRET_WORD}").get_data(as_text=True)
    assert "测试1小区居民公约" not in client.get(f"/conventions/estates/{world.estate_ids[0]}").get_data(as_text=True)


def test_an_amendment_in_progress_stays_hidden_while_the_version_in_force_shows(app, world, client):
    convention_id, first_id = _published(app, world)
    with app.app_context():
        second = services.amend(person("community"), convention_id)
        services.update_article(person("community"), second.id, version(second.id).version, 1, SECRET_WORD)
        walk_to(second.id, "consultation")
    assert client.get(f"/conventions/{convention_id}/versions/2").status_code == 404
    page = client.get(f"/conventions/{convention_id}").get_data(as_text=True)
    assert SECRET_WORD not in page and "第1版" in page
    assert "共找到 0 条" in client.get(f"/conventions/search?q={SECRET_WORD}").get_data(as_text=True)


def test_history_and_diff_after_an_amendment_is_published(app, world, client):
    convention_id, first_id = _published(app, world)
    with app.app_context():
        second = services.amend(person("community"), convention_id)
        services.update_article(person("community"), second.id, version(second.id).version, 12,
                                "电动自行车应当在车棚内有序停放和充电，禁止入户充电。")
        walk_to(second.id, "published", filing={**FILING, "filing_number": "测街备〔2026〕2号"})
    page = client.get(f"/conventions/{convention_id}").get_data(as_text=True)
    assert "第2版" in page and "已被新版本取代" in page
    old = client.get(f"/conventions/{convention_id}/versions/1").get_data(as_text=True)
    assert "这是以前的版本" in old and 'data-state="superseded"' in old
    diff = client.get(f"/conventions/{convention_id}/diff?from=1&to=2").get_data(as_text=True)
    assert "修改 1 条" in diff and "<ins>" in diff and "<del>" in diff and "第十二条" in diff


def test_search_across_conventions_in_force(app, world, client):
    convention_id, _ = _published(app, world)
    page = client.get("/conventions/search?q=宠物").get_data(as_text=True)
    assert "共找到 1 条" in page and "<mark>宠物</mark>" in page
    assert f"/conventions/{convention_id}#article-9" in page
    assert "共找到 0 条" in client.get("/conventions/search?q=%25").get_data(as_text=True)
    assert "共找到 0 条" in client.get("/conventions/search?q=_").get_data(as_text=True)
    assert "共找到 1 条" in client.get("/conventions/search?q=宠物 粪便").get_data(as_text=True)


def test_community_page_and_unknown_places(app, world, client):
    _published(app, world)
    assert client.get(f"/conventions/communities/{world.node_ids['C1']}").status_code == 200
    assert client.get(f"/conventions/communities/{world.node_ids['S1']}").status_code == 404
    assert client.get("/conventions/estates/99999").status_code == 404
    assert client.get("/conventions/99999").status_code == 404


def test_how_a_convention_is_made_is_drawn_from_the_workflow(client):
    page = client.get("/conventions/how-it-works").get_data(as_text=True)
    assert "<svg" in page and "征求意见" in page and "街道审核" in page and "公约是怎样制定的" in page


def test_search_finds_an_article_by_the_word_residents_use(app, world, client):
    """电动车 is what people type; the convention says 电动自行车 (issue 15 item 8)."""
    _published(app, world)
    page = client.get("/conventions/search?q=电动车").get_data(as_text=True)
    assert "共找到 1 条" in page and "#article-12" in page
    assert "<mark>电动自行车</mark>" in page
    assert "共找到 1 条" in client.get("/conventions/search?q=电瓶车 飞线").get_data(as_text=True)
    assert "共找到 0 条" in client.get("/conventions/search?q=电动汽车").get_data(as_text=True)


def test_the_signed_pdf_opens_in_the_reader(app, world, client):
    convention_id, version_id = _published(app, world)
    with app.app_context():
        number = version(version_id).number
    response = client.get(f"/conventions/{convention_id}/versions/{number}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("inline;")
    saved = client.get(f"/conventions/{convention_id}/versions/{number}/pdf?download=1")
    assert saved.headers["Content-Disposition"].startswith("attachment;") and saved.data == response.data
