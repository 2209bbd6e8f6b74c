"""Every message of the issue API and the tokens page has a Chinese translation
(in the catalog or in translations/fragments/api.po, which the catalog merges)."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
SOURCES = {
    "python": ("workflow/api.py", "orgs/tokens.py", "orgs/token_views.py"),
    "jinja2": ("templates/orgs/tokens.html",),
}
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def _source_msgids() -> set[str]:
    found = set()
    for method, paths in SOURCES.items():
        for path in paths:
            for _line, message, _comments, _context in extract_from_file(method, ROOT / path, keywords=KEYWORDS):
                found.add(message if isinstance(message, str) else message[0])
    return found


def _translated(msgid: str, *catalogs) -> str | None:
    for catalog in catalogs:
        entry = catalog.get(msgid)
        if entry is not None and entry.string:
            return entry.string
    return None


def test_every_message_has_a_chinese_translation():
    fragment, catalog = _read(FRAGMENT), _read(CATALOG)
    missing = sorted(m for m in _source_msgids() if _translated(m, fragment, catalog) is None)
    assert missing == []




