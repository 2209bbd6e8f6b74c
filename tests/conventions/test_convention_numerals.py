"""Chinese numerals for article labels: the standard reading rules, checked up to 9999."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conventions.numerals import MAX_NUMBER, article_label, chapter_label, from_chinese, split_label, to_chinese

KNOWN = {
    1: "一", 2: "二", 9: "九", 10: "十", 11: "十一", 15: "十五", 19: "十九", 20: "二十", 21: "二十一", 30: "三十",
    99: "九十九", 100: "一百", 101: "一百零一", 105: "一百零五", 110: "一百一十", 111: "一百一十一",
    119: "一百一十九", 120: "一百二十", 200: "二百", 208: "二百零八", 210: "二百一十", 999: "九百九十九",
    1000: "一千", 1001: "一千零一", 1010: "一千零一十", 1011: "一千零一十一", 1100: "一千一百",
    1101: "一千一百零一", 2019: "二千零一十九", 9999: "九千九百九十九", 10000: "一万", 10001: "一万零一",
    10010: "一万零一十", 10100: "一万零一百", 11000: "一万一千", 100000: "十万", 110000: "十一万",
    1000001: "一百万零一", 10001000: "一千万一千", 100000000: "一亿", 100010000: "一亿零一万",
    123456789: "一亿二千三百四十五万六千七百八十九",
}


@pytest.mark.parametrize(("number", "text"), sorted(KNOWN.items()))
def test_known_numerals(number, text):
    assert to_chinese(number) == text
    assert from_chinese(text) == number


def test_every_number_up_to_9999_reads_back_and_is_unique():
    seen = {}
    for number in range(1, 10000):
        text = to_chinese(number)
        assert from_chinese(text) == number, number
        assert text not in seen, (number, seen.get(text))
        seen[text] = number
        assert "零零" not in text and not text.endswith("零") and not text.startswith("零")


def test_ten_to_nineteen_drop_the_leading_one_only_at_the_start():
    assert [to_chinese(n) for n in range(10, 20)] == ["十", "十一", "十二", "十三", "十四", "十五", "十六", "十七",
                                                       "十八", "十九"]
    assert to_chinese(310) == "三百一十" and to_chinese(2015) == "二千零一十五"


@given(st.integers(min_value=0, max_value=MAX_NUMBER))
def test_round_trip_for_large_numbers(number):
    assert from_chinese(to_chinese(number)) == number


def test_labels():
    assert article_label(1) == "第一条" and article_label(12) == "第十二条" and article_label(101) == "第一百零一条"
    assert chapter_label(3) == "第三章"
    assert split_label("第十二条　居民应当……", "条") == (12, "居民应当……")
    assert split_label("第3条 文字", "条") == (3, "文字")
    assert split_label("第二章 总则", "条") == (None, "第二章 总则")
    assert split_label("没有编号的条文", "条") == (None, "没有编号的条文")


def test_out_of_range_and_wrong_types_are_refused():
    with pytest.raises(ValueError):
        to_chinese(-1)
    with pytest.raises(ValueError):
        to_chinese(MAX_NUMBER + 1)
    with pytest.raises(TypeError):
        to_chinese(True)
    with pytest.raises(ValueError):
        from_chinese("十二条")
