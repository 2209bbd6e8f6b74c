"""The page header on a phone (390 x 844) keeps the main navigation behind a "菜单"
button; on a wide screen the entries show inline. Every entry a person may use is
there, in the order the packages gave them."""
import pytest
from flask import url_for
from flask_login import login_user

from core.extensions import db
from core.nav import nav_items
from orgs.models import Person
from tests.browser.conftest import login
from tests.conftest import PASSWORD

MENU = "header summary:has-text('菜单')"
ENTRIES = "header nav a"
HEADER_MAX_HEIGHT = 120


@pytest.fixture
def wide_page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _allowed_entries(app, person_id: int) -> list[str]:
    """The addresses the person may use, as core.nav decides them, home first."""
    with app.test_request_context():
        login_user(db.session.get(Person, person_id))
        return [url_for("orgs.home")] + [item["url"] for item in nav_items()]


def _entry_addresses(page) -> list[str]:
    return page.locator(ENTRIES).evaluate_all("links => links.map(link => link.getAttribute('href'))")


def _header_height(page) -> float:
    return page.locator("header.topbar").bounding_box()["height"]


def _visible_entries(page) -> list[bool]:
    return [link.is_visible() for link in page.locator(ENTRIES).all()]


def test_on_a_phone_the_entries_wait_behind_the_menu_button(live_server, page, world, app):
    login(page, live_server, "street", PASSWORD)
    assert _header_height(page) <= HEADER_MAX_HEIGHT
    assert page.locator(MENU).is_visible()
    assert page.locator("header").get_by_text("退出登录").is_visible()
    assert not any(_visible_entries(page))

    page.click(MENU)
    assert _entry_addresses(page) == _allowed_entries(app, world.person_ids["street"])
    assert all(_visible_entries(page))
    page.click("header nav a:has-text('组织架构')")
    assert page.locator("h1").inner_text().startswith("测试街道党工委")


def test_on_a_phone_the_open_menu_marks_the_current_page(live_server, page, world):
    login(page, live_server, "street", PASSWORD)
    page.goto(f"{live_server}/issues/")
    assert not page.locator("header nav a:has-text('改造事项')").is_visible()
    page.click(MENU)
    assert page.locator("header nav a[aria-current=page]").all_inner_texts() == ["改造事项"]


def test_the_menu_opens_and_closes_from_the_keyboard(live_server, page, world):
    login(page, live_server, "street", PASSWORD)
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('summary')"):
            break
    assert page.locator(MENU).evaluate("button => document.activeElement === button")
    assert page.locator(MENU).evaluate("button => getComputedStyle(button).outlineStyle") != "none"

    page.keyboard.press("Enter")
    assert all(_visible_entries(page))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "首页"

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert not any(_visible_entries(page))


def test_on_a_wide_screen_the_entries_show_without_pressing_anything(live_server, wide_page, world, app):
    login(wide_page, live_server, "street", PASSWORD)
    assert not wide_page.locator(MENU).is_visible()
    assert _entry_addresses(wide_page) == _allowed_entries(app, world.person_ids["street"])
    assert all(_visible_entries(wide_page))
    assert _header_height(wide_page) <= HEADER_MAX_HEIGHT
    wide_page.click("header nav a:has-text('改造事项')")
    assert wide_page.locator("h1").inner_text() == "改造事项"


def test_a_resident_opens_the_menu_to_reach_the_issue_list_and_still_logs_out(live_server, page, world, app):
    login(page, live_server, "resident", PASSWORD)
    assert _header_height(page) <= HEADER_MAX_HEIGHT
    assert not any(_visible_entries(page))

    page.click(MENU)
    assert _entry_addresses(page) == _allowed_entries(app, world.person_ids["resident"])
    assert "组织架构" not in page.locator(ENTRIES).all_inner_texts()
    page.click("header nav a:has-text('改造事项')")
    assert page.locator("h1").inner_text() == "改造事项"

    page.click("header button:has-text('退出登录')")
    assert page.locator("header").get_by_text("登录", exact=True).is_visible()


def test_a_visitor_sees_log_in_beside_the_menu_and_the_public_entries_inside_it(live_server, page, world):
    page.goto(f"{live_server}/conventions/")
    assert page.locator("header a:has-text('登录')").is_visible()
    assert not any(_visible_entries(page))
    page.click(MENU)
    assert "居民公约" in page.locator(ENTRIES).all_inner_texts()
    assert all(_visible_entries(page))
    assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
