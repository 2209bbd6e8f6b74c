"""Every UI text in the code has a Simplified Chinese translation, with the same
placeholders, in the one catalog the app loads."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
SKIP = (".venv", "tests", "bench", "migrations")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _code_messages() -> set[str]:
    found = set()
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None,
                                       "ngettext": (1, 2), "lazy_ngettext": (1, 2)},
        directory_filter=lambda path: not any(part in SKIP for part in Path(path).relative_to(ROOT).parts),
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog() -> dict:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}


def test_every_message_in_the_code_has_a_chinese_translation():
    catalog = _catalog()
    missing = []
    for msgid in sorted(_code_messages()):
        entry = catalog.get(msgid)
        text = entry.string if entry is not None else None
        if isinstance(text, tuple):
            text = text[0]
        if not text or "fuzzy" in (entry.flags if entry else ()):
            missing.append(msgid)
    assert missing == [], f"untranslated: {missing[:20]} (run make i18n-extract and translate)"


def test_translations_keep_their_placeholders():
    wrong = []
    for msgid, entry in _catalog().items():
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for text in strings:
            if text and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid)):
                wrong.append(msgid)
    assert wrong == []
