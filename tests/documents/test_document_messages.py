"""User-facing messages: the catalog keeps their placeholders, and a Chinese request reads them in Chinese."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from babel.messages.pofile import read_po

from documents import pki
from documents.verify import verify_pdf

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_Hans_CN")


def test_translations_keep_their_placeholders():
    for message in _catalog():
        if message.id and "%(" in message.id:
            for name in ("field", "signer", "key_type"):
                assert (f"%({name})s" in message.id) == (f"%({name})s" in message.string)


@pytest.fixture
def chinese_request():
    """A bare Flask request context whose locale is zh_Hans_CN, with the app's compiled catalog."""
    flask = pytest.importorskip("flask")
    flask_babel = pytest.importorskip("flask_babel")
    app = flask.Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")
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
