"""A residents' convention from draft to the version in force: the community opens the
consultation, a resident comments on an article, the drafters answer, the street
reviews, the meeting's vote is recorded, the street files it, the community publishes
it, and a resident finds and reads it on a phone (390 x 844) without logging in."""
from datetime import date, timedelta

from conventions import services
from core.extensions import db
from orgs.models import Person
from tests.browser.conftest import login
from tests.conftest import PASSWORD


def _logout(page, base):
    page.goto(f"{base}/")
    page.click("text=退出登录")


def _open_as(page, base, username, url):
    login(page, base, username, PASSWORD)
    page.goto(url)


def _fire(page, trigger, fields=None):
    """Click an engine-decided action; actions that need data open a form first."""
    if fields:
        page.click(f"summary[data-open={trigger}]")
        for name, value in fields.items():
            page.fill(f"details[open] [name={name}]", value)
        page.click(f"details[open] button[data-trigger={trigger}]")
    else:
        page.click(f"form.action button[data-trigger={trigger}]")
    page.wait_for_load_state()
    assert "已完成：" in page.content()


def test_from_draft_to_a_resident_reading_it_on_a_phone(live_server, page, world, app):
    with app.app_context():
        community = db.session.scalar(db.select(Person).where(Person.username == "community"))
        draft = services.create_convention(community, kind="residents_convention", scope_kind="estate",
                                           scope_id=world.estate_ids[0])
        url = f"{live_server}/manage/conventions/versions/{draft.id}"
        convention_id = draft.convention_id
    today = date.today()

    _open_as(page, live_server, "community", url)
    assert "草案" in page.content()
    _fire(page, "submit_for_consultation")
    assert "征求意见" in page.content()
    _logout(page, live_server)

    _open_as(page, live_server, "resident", url)
    page.click("#article-12 summary")
    page.fill("#comment-12", "建议车棚建成前设置过渡期。")
    page.click("button[data-action=comment-12]")
    page.wait_for_load_state()
    assert "您的意见已记录" in page.content()
    _logout(page, live_server)

    _open_as(page, live_server, "community", url)
    assert "建议车棚建成前设置过渡期。" in page.content()
    page.fill("#article-12 textarea[name=answer]", "已采纳，增加三个月过渡期。")
    page.click("#article-12 button[data-action^=answer-]")
    page.wait_for_load_state()
    _fire(page, "close_consultation")
    _logout(page, live_server)

    _open_as(page, live_server, "street", url)
    _fire(page, "approve_review")
    _logout(page, live_server)

    _open_as(page, live_server, "community", url)
    _fire(page, "record_vote", {"agree_heads": "11", "disagree_heads": "1", "abstain_heads": "0",
                                "vote_date": (today - timedelta(days=3)).isoformat(),
                                "vote_reference": "居民会议记录第1号"})
    assert "已通过，待备案" in page.content()
    _logout(page, live_server)

    _open_as(page, live_server, "street", url)
    _fire(page, "file", {"filing_number": "测街备〔2026〕8号", "filing_date": (today - timedelta(days=1)).isoformat()})
    _logout(page, live_server)

    _open_as(page, live_server, "community", url)
    _fire(page, "publish", {"effective_date": today.isoformat()})
    assert "现行有效" in page.content()
    _logout(page, live_server)

    assert page.viewport_size == {"width": 390, "height": 844}
    page.goto(f"{live_server}/conventions/")
    page.fill("#q", "测试1")
    page.click("form.search-box button.primary")
    page.click("text=测试1小区")
    page.click("text=测试1小区居民公约")
    assert page.url.endswith(f"/conventions/{convention_id}")
    assert page.locator("#article-3").is_visible()
    assert "第十九条" in page.content() and "测街备〔2026〕8号" in page.content()
    assert "表决结果：通过" in page.content()
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.click("a[href='#article-3']")
    assert page.url.endswith("#article-3")
    with page.expect_download() as download:
        page.click("a[data-action=download-pdf]")
    assert download.value.suggested_filename.endswith(".pdf")
