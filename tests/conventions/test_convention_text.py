"""The plain-text form of a convention: chapters, automatic numbering, label clashes."""
import pytest

from conventions import drafts
from conventions import text as texts
from core.errors import ValidationError


def test_starting_drafts_parse_into_chapters_and_numbered_articles():
    for kind in drafts.DRAFTS:
        parsed = texts.parse(drafts.load(kind, "测试小区"))
        assert parsed.chapters and parsed.article_count >= 10
        assert "测试小区" in parsed.preamble and "【本小区】" not in parsed.preamble


def test_render_then_parse_gives_the_same_text():
    parsed = texts.parse(drafts.load("residents_convention", "测试小区"))
    rendered = texts.render("", parsed.preamble, parsed.loose_articles,
                            [(c.title, c.articles) for c in parsed.chapters])
    again = texts.parse(rendered)
    assert (again.preamble, again.loose_articles, again.chapters) == (
        parsed.preamble, parsed.loose_articles, parsed.chapters)
    assert "第十九条 本公约的修改" in rendered and "## 第六章 附则" in rendered


def test_labels_are_optional_and_a_lagging_label_is_renumbered():
    parsed = texts.parse("第一条 甲。\n\n新插入的条文。\n\n第二条 乙。\n")
    assert parsed.loose_articles == ["甲。", "新插入的条文。", "乙。"]


def test_multi_line_articles_keep_their_lines():
    parsed = texts.parse("第一条 居民应当：\n（一）爱护设施；\n（二）垃圾分类。\n")
    assert parsed.loose_articles == ["居民应当：\n（一）爱护设施；\n（二）垃圾分类。"]


@pytest.mark.parametrize("text", ["第一条 甲。\n\n第一条 乙。", "第三条 甲。\n\n第二条 乙。"])
def test_a_number_used_twice_or_backwards_is_a_clash(text):
    with pytest.raises(ValidationError) as caught:
        texts.parse(text)
    assert "clash" in caught.value.message and "text" in caught.value.details["fields"]


def test_structured_articles_with_numbers_clash_too():
    with pytest.raises(ValidationError):
        texts.from_structure("", [], [{"title": "总则", "articles": [{"number": 2, "text": "甲"},
                                                                   {"number": 2, "text": "乙"}]}])
    parsed = texts.from_structure("序言", ["甲"], [{"title": "第二章 附则", "articles": [{"text": "乙"}]}])
    assert parsed.loose_articles == ["甲"] and parsed.chapters[0].title == "附则"


def test_empty_chapter_title_and_oversized_article_are_refused():
    with pytest.raises(ValidationError):
        texts.parse("## 第二章\n\n甲")
    with pytest.raises(ValidationError):
        texts.parse("长" * (texts.MAX_ARTICLE_CHARS + 1))
