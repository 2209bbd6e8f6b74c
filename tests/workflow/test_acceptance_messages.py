"""Every message of joint acceptance and document verification has a Chinese translation
(in the main catalog or in translations/fragments/acceptance.po), and the fragment holds
nothing stale."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from tests.workflow.acceptance_helpers import read_fragment

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
SOURCES = [
    *sorted((ROOT / "workflow").glob("acceptance*.py")),
    *(ROOT / "documents" / name for name in ("models.py", "services.py", "views.py", "cli.py")),
]
TEMPLATES = [*sorted((ROOT / "templates" / "workflow" / "acceptance").glob("*.html")),
             *sorted((ROOT / "templates" / "documents").glob("*.html"))]
APP_LABELS = {"Verify a document"}  # the navigation entry this work adds in app.py


def _msgids() -> set[str]:
    found = set(APP_LABELS)
    for path in SOURCES:
        found |= {m if isinstance(m, str) else m[0] for _n, m, _c, _x in extract_from_file("python", path, KEYWORDS)}
    for path in TEMPLATES:
        messages = extract_from_file("jinja2", path, KEYWORDS, options={"extensions": "jinja2.ext.i18n"})
        found |= {m if isinstance(m, str) else m[0] for _n, m, _c, _x in messages}
    return found


def _main():
    with MAIN.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def test_every_message_has_a_chinese_translation():
    fragment, main = read_fragment(), _main()
    missing = sorted(m for m in _msgids()
                     if not ((fragment.get(m) and fragment.get(m).string) or (main.get(m) and main.get(m).string)))
    assert missing == []




