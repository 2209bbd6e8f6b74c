"""User-facing messages: every msgid has a Chinese translation, and it is used in a request."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from documents import pki
from documents.verify import verify_pdf

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _catalog():
    with FRAGMENT.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def _source_msgids() -> set[str]:
    extracted = extract_from_dir(
        ROOT / "documents", method_map=[("**.py", "python")], keywords={"lazy_gettext": None}
    )
    return {message for _file, _line, message, _comments, _context in extracted}


def test_every_message_in_the_code_has_a_chinese_translation():
    catalog = _catalog()
    msgids = _source_msgids()
    assert msgids
    for msgid in msgids:
        entry = catalog.get(msgid)
        assert entry is not None and entry.string, msgid




def test_translations_keep_their_placeholders():
    for message in _catalog():
        if message.id and "%(" in message.id:
            for name in ("field", "signer", "key_type"):
                assert (f"%({name})s" in message.id) == (f"%({name})s" in message.string)


@pytest.fixture
def chinese_request(tmp_path):
    """A bare Flask request context whose locale is zh_Hans_CN, using the fragment."""
    flask = pytest.importorskip("flask")
    flask_babel = pytest.importorskip("flask_babel")
    target = tmp_path / "zh_Hans_CN" / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True)
    with target.open("wb") as handle:
        write_mo(handle, _catalog())
    app = flask.Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(tmp_path)
    flask_babel.Babel(app, locale_selector=lambda: "zh_Hans_CN")
    with app.test_request_context():
        yield


def test_reasons_are_english_outside_a_request(ca):
    assert str(verify_pdf(b"hello", [ca[1]]).reason) == "The file is not a PDF document."


def test_reasons_are_chinese_inside_a_chinese_request(chinese_request, signed_pdf, other_ca):
    report = verify_pdf(signed_pdf, [other_ca[1]])
    assert str(report.reason) == (
        "和平社区居民委员会的证书不可信：该证书并非由受信任的证书机构签发，或已过期、已被吊销。"
    )
    with pytest.raises(pki.Pkcs12PasswordError) as raised:
        pki.load_pkcs12(_encrypted_pkcs12(), b"wrong")
    assert str(raised.value) == "PKCS#12 文件密码错误。"


def _encrypted_pkcs12() -> bytes:
    key, cert = pki.issue_org_certificate(*pki.create_ca("根", "测试"), "测试单位", "X3")
    return pkcs12.serialize_key_and_certificates(
        b"org", key, cert, None, serialization.BestAvailableEncryption(b"right")
    )
