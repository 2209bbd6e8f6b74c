"""Every message of the conventions package has a Chinese translation (in the main
catalog or in the package's fragment), and the fragment holds nothing stale."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conventions.catalog import read_fragment

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
# Labels the package adds to app.py (the navigation).
APP_LABELS = {"Drafting conventions", "Conventions"}


def _extract(folder: Path, method: str, pattern: str) -> set[str]:
    options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
    found = extract_from_dir(folder, method_map=[(pattern, method)], keywords=KEYWORDS,
                             options_map={pattern: options})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _source_msgids() -> set[str]:
    return (_extract(ROOT / "conventions", "python", "**.py")
            | _extract(ROOT / "templates" / "conventions", "jinja2", "**.html") | APP_LABELS)


def _main():
    with MAIN.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def test_every_message_has_a_chinese_translation():
    fragment, main = read_fragment(), _main()
    missing = [m for m in _source_msgids()
               if not ((fragment.get(m) and fragment.get(m).string) or (main.get(m) and main.get(m).string))]
    assert missing == []




