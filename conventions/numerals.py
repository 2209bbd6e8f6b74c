"""Chinese numerals for article and chapter labels (第一条, 第十二章, 第一百零一条).

Written out by the standard reading rules: zeros at the end of a four-digit group
are not read, a run of zeros inside a group is read as one 零, and a group after
万/亿 that is below a thousand starts with 零 (10010 一万零一十). Ten to nineteen are
written 十, 十一 … 十九 at the start of a number, but 一十 inside one (110 一百一十).
"""
from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
_LARGE_UNITS = ((10**8, "亿"), (10**4, "万"))
MAX_NUMBER = 10**12 - 1

_DIGIT_VALUES = {ch: value for value, ch in enumerate(DIGITS)} | {"〇": 0, "两": 2}
_UNIT_VALUES = {"十": 10, "百": 100, "千": 1000}
_SECTION_VALUES = {"万": 10**4, "亿": 10**8}
LABEL_RE = re.compile(r"^第([0-9零〇一二两三四五六七八九十百千万亿]+)([条章])")


def to_chinese(number: int) -> str:
    """1 → 一, 10 → 十, 101 → 一百零一, 110 → 一百一十, 10010 → 一万零一十."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError("a whole number is needed")
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"{number} is outside 0..{MAX_NUMBER}")
    if number == 0:
        return DIGITS[0]
    return _convert(number, leading=True)


def _convert(number: int, leading: bool) -> str:
    for size, unit in _LARGE_UNITS:
        if number >= size:
            high, low = divmod(number, size)
            text = _convert(high, leading) + unit
            if low:
                text += (DIGITS[0] if low < size // 10 else "") + _convert(low, leading=False)
            return text
    return _group(number, leading)


def _group(number: int, leading: bool) -> str:
    """0 < number < 10000."""
    text = ""
    pending_zero = False
    for size, unit in _SMALL_UNITS:
        digit = number // size % 10
        if digit == 0:
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += DIGITS[0]
            pending_zero = False
        text += DIGITS[digit] + unit
    if leading and text.startswith("一十"):
        text = text[1:]
    return text


def from_chinese(text: str) -> int:
    """The value of a Chinese (or Arabic) numeral: 十二 → 12, 一百零一 → 101, 12 → 12."""
    if not text:
        raise ValueError("empty numeral")
    if text.isascii() and text.isdigit():
        return int(text)
    total = section = digit = 0
    for ch in text:
        if ch in _DIGIT_VALUES:
            digit = _DIGIT_VALUES[ch]
        elif ch in _UNIT_VALUES:
            section += (digit or 1) * _UNIT_VALUES[ch]
            digit = 0
        elif ch in _SECTION_VALUES:
            size = _SECTION_VALUES[ch]
            total = (total + section + digit) * size if size > 10**4 else total + (section + digit) * size
            section = digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + digit


def article_label(number: int) -> str:
    return f"第{to_chinese(number)}条"


def chapter_label(number: int) -> str:
    return f"第{to_chinese(number)}章"


def split_label(text: str, kind: str) -> tuple[int | None, str]:
    """("第三条 业主应当…", "条") → (3, "业主应当…"); text without that label → (None, text)."""
    match = LABEL_RE.match(text)
    if match is None or match.group(2) != kind:
        return None, text
    try:
        number = from_chinese(match.group(1))
    except ValueError:
        return None, text
    return number, text[match.end():].lstrip(" \u3000：:")
