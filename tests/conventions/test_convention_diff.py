"""Word and article diffs: lossless tokens, operations that rebuild the new text, readable HTML."""
from hypothesis import given, settings
from hypothesis import strategies as st

from conventions.diff import ArticleText, Piece, apply, diff_articles, to_html, tokenize, word_diff

# Text like conventions: CJK, Latin words, digits, punctuation, spaces and newlines.
ALPHABET = st.sampled_from(list("居民公约电动车棚充电停放业主应当不得禁止第一二三条，。；、（）") +
                           list("abcXYZ0123 \n.-") + ["😀", "\u3000"])
TEXTS = st.text(alphabet=ALPHABET, max_size=80)


@given(TEXTS)
def test_tokens_join_back_to_the_text(text):
    assert "".join(tokenize(text)) == text


def test_cjk_characters_are_tokens_and_latin_runs_are_words():
    assert tokenize("电动车 EV-2 充电12小时") == ["电", "动", "车", " ", "EV-2", " ", "充", "电", "12", "小", "时"]


@given(TEXTS, TEXTS)
@settings(max_examples=300)
def test_applying_the_operations_to_the_old_text_gives_the_new_text(old, new):
    pieces = word_diff(old, new)
    assert apply(old, pieces) == new
    inverse = [Piece({"insert": "delete", "delete": "insert"}.get(p.op, p.op), p.text) for p in pieces]
    assert apply(new, inverse) == old


@given(TEXTS)
def test_a_text_compared_with_itself_is_all_equal(text):
    assert all(p.op == "equal" for p in word_diff(text, text))


def test_a_changed_word_is_marked_inside_the_article():
    pieces = word_diff("电动车应当在车棚内停放。", "电动自行车应当在车棚内有序停放。")
    html = str(to_html(pieces))
    assert "<ins>自行</ins>" in html and "<ins>有序</ins>" in html and "<del>" not in html


def test_html_is_escaped():
    html = str(to_html(word_diff("<b>旧</b>", "<script>新</script>")))
    assert "<script" not in html and "<b>" not in html and html.count("&lt;") == 2 and html.count("&gt;") == 2


def _articles(*texts):
    return [ArticleText(n, t, "总则") for n, t in enumerate(texts, start=1)]


def test_an_inserted_article_renumbers_the_rest_without_marking_them_changed():
    old = _articles("爱护公共设施。", "垃圾分类投放。", "本公约自公布之日起施行。")
    new = _articles("爱护公共设施。", "文明饲养宠物。", "垃圾分类投放。", "本公约自公布之日起施行。")
    result = diff_articles(old, new)
    assert [c.kind for c in result.changes] == ["unchanged", "added", "unchanged", "unchanged"]
    assert result.changes[2].renumbered and (result.changes[2].old.number, result.changes[2].new.number) == (2, 3)
    assert (result.count("added"), result.count("removed"), result.count("changed")) == (1, 0, 0)


def test_edited_removed_and_added_articles():
    old = _articles("爱护公共设施，不得损坏。", "禁止高空抛物。", "本公约自公布之日起施行。")
    new = _articles("爱护公共设施和绿地，不得损坏。", "本公约自备案之日起施行。", "电动车不得入户充电。")
    kinds = [(c.kind, c.old.number if c.old else None, c.new.number if c.new else None)
             for c in diff_articles(old, new).changes]
    assert kinds == [("changed", 1, 1), ("removed", 2, None), ("changed", 3, 2), ("added", None, 3)]


def test_identical_versions():
    articles = _articles("一。", "二。")
    assert diff_articles(articles, articles, "序言", "序言").identical


def test_one_article_rewritten_in_place_is_changed_not_removed_and_added():
    old = _articles("爱护公共设施。", "电动车应当停放在指定地点。", "附则。")
    new = _articles("爱护公共设施。", "禁止入户充电，违者劝阻。", "附则。")
    assert [c.kind for c in diff_articles(old, new).changes] == ["unchanged", "changed", "unchanged"]
