"""The deployment around the document machinery: `flask pki ...` keys kept encrypted,
organisation signatures, content-addressed storage, and verification against this
deployment's trust roots on the public /verify page, the API and `flask documents verify`."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from io import BytesIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from core.db import write_transaction
from core.extensions import db
from documents import pki
from documents import services as documents
from documents.models import DeploymentCA, SigningCredential
from orgs.models import OrgNode

TAMPER_CASES = ("header", "content_stream", "incremental_update")


def _org(code: str) -> OrgNode:
    return db.session.scalar(select(OrgNode).where(OrgNode.code == code))


@pytest.fixture
def deployment_signed(app, world, record_pdf) -> bytes:
    """The sample acceptance record signed by community C1 and countersigned by street S1."""
    with app.app_context():
        pdf = documents.sign_with_org(record_pdf, _org("C1"), reason="联合验收签署", field_name="community")
        return documents.sign_with_org(pdf, _org("S1"), reason="街道党工委会签", field_name="street")


def _flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0xFF
    return bytes(changed)


def _content_stream_offset(pdf: bytes) -> int:
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    contents = page.raw_get("/Contents")
    if isinstance(contents, generic.ArrayObject):
        contents = contents[0]
    start = re.search(rb"(?<![0-9])%d 0 obj" % contents.idnum, pdf).start()
    data_start = pdf.index(b"stream", start) + len(b"stream\n")
    return data_start + int(contents.get_object().raw_get("/Length")) // 2


def _with_incremental_update(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("篡改")}))
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def _tampered(pdf: bytes, case: str) -> bytes:
    if case == "header":
        return _flip(pdf, 3)
    if case == "content_stream":
        return _flip(pdf, _content_stream_offset(pdf))
    return _with_incremental_update(pdf)


def _p12(ca, password: bytes) -> bytes:
    key, cert = pki.issue_org_certificate(*ca, "第1社区党委（CA证书）", "553703037628409999")
    return pkcs12.serialize_key_and_certificates(
        b"org", key, cert, [ca[1]], serialization.BestAvailableEncryption(password)
    )


# --- keys ---------------------------------------------------------------------------------


def test_pki_init_creates_the_local_ca_once_and_shows_no_key(app, runner, tmp_path):
    cert_file = tmp_path / "ca.pem"
    result = runner.invoke(args=["pki", "init", "--cert-out", str(cert_file)])
    assert result.exit_code == 0, result.output
    assert "SHA-256 fingerprint" in result.output and "PRIVATE KEY" not in result.output
    assert pki.load_certificates(cert_file.read_bytes())[0].subject.rfc4514_string().startswith("CN=")
    again = runner.invoke(args=["pki", "init"])
    assert again.exit_code == 1
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(DeploymentCA)) == 1


def test_pki_issue_gives_the_org_a_key_encrypted_at_rest(app, runner, world):
    runner.invoke(args=["pki", "init"])
    first = runner.invoke(args=["pki", "issue", "--org", "C1"])
    second = runner.invoke(args=["pki", "issue", "--org", "C1"])
    assert first.exit_code == second.exit_code == 0, first.output
    assert "PRIVATE KEY" not in first.output + second.output
    with app.app_context():
        rows = db.session.scalars(select(SigningCredential).order_by(SigningCredential.id)).all()
        assert [(row.org.code, row.active, row.origin) for row in rows] == [("C1", False, "local_ca"),
                                                                             ("C1", True, "local_ca")]
        blob = rows[1].private_key_encrypted.encode()
        assert blob.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        key = pki.decrypt_private_key(blob, app.config["KEY_ENCRYPTION_SECRET"])
        assert key.public_key() == rows[1].certificate.public_key()
        with pytest.raises(pki.KeyDecryptionError):
            pki.decrypt_private_key(blob, "another secret")
    listing = runner.invoke(args=["pki", "list"])
    assert "C1" in listing.output and "PRIVATE" not in listing.output


def test_pki_import_reads_a_pkcs12_with_the_password_asked_for(app, runner, world, ca, tmp_path):
    p12 = tmp_path / "org.p12"
    p12.write_bytes(_p12(ca, b"s3cret"))
    wrong = runner.invoke(args=["pki", "import", "--org", "C1", str(p12)], input="wrong\n")
    assert wrong.exit_code == 1 and "密码错误" in wrong.output
    result = runner.invoke(args=["pki", "import", "--org", "C1", str(p12)], input="s3cret\n")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output and "now trusted" in result.output
    with app.app_context():
        credential = documents.active_credential(_org("C1"))
        assert credential.origin == "pkcs12"
        assert ca[1] in documents.trust_roots()


def test_an_unknown_org_code_is_refused(runner, world):
    result = runner.invoke(args=["pki", "issue", "--org", "NOPE"])
    assert result.exit_code == 1


def test_a_document_signed_with_an_imported_key_verifies_as_trusted(app, world, ca, record_pdf):
    with app.app_context():
        documents.import_credential(_org("C1"), _p12(ca, b"pw"), b"pw")
        report = documents.verify(documents.sign_with_org(record_pdf, _org("C1"), reason="签署", field_name="c1"))
        assert report.valid, report.reason
        assert report.signatures[0].signer_organization == "第1社区党委（CA证书）"


def test_an_expired_key_is_replaced_from_the_local_ca(app, world, record_pdf):
    with app.app_context():
        old = documents.issue_credential(_org("C1"))
        with write_transaction():
            db.session.get(SigningCredential, old.id).not_after = datetime(2020, 1, 1)
        signed = documents.sign_with_org(record_pdf, _org("C1"), reason="签署", field_name="c1")
        current = documents.active_credential(_org("C1"))
        assert current.id != old.id and documents.verify(signed).valid


def test_production_does_not_create_keys_on_first_use(app, world, record_pdf):
    app.config["ENV_NAME"] = "production"
    with app.app_context():
        with pytest.raises(documents.NoSigningKey):
            documents.sign_with_org(record_pdf, _org("C1"), reason="签署", field_name="c1")


# --- storage -------------------------------------------------------------------------------


def test_storing_the_same_bytes_again_returns_the_same_document(app, deployment_signed):
    with app.app_context():
        org = _org("C1")
        first = documents.store(deployment_signed, "test_record", org, filename="a.pdf", reference="abc123")
        again = documents.store(deployment_signed, "test_record", org, filename="b.pdf")
        assert again.id == first.id
        assert documents.document_bytes(first) == deployment_signed
        assert first.sha256 == hashlib.sha256(deployment_signed).hexdigest()
        assert documents.find_document(first.sha256).id == documents.find_document("abc123").id == first.id
        assert [s["field"] for s in first.signers] == ["community", "street"]
        assert documents.document_for("test_record", org).id == first.id


def test_timestamped_signatures_when_a_timestamp_authority_is_configured(app, world, record_pdf, tsa_url, ca):
    app.config["TIMESTAMP_URL"] = tsa_url
    with app.app_context():
        documents.add_trust_root(ca[1])  # the test authority's certificate comes from this CA
        report = documents.verify(documents.sign_with_org(record_pdf, _org("C1"), reason="签署", field_name="c1"))
        assert report.valid, report.reason
        assert report.signatures[0].timestamped


# --- verification: page, API, CLI --------------------------------------------------------------


def _upload(client, pdf: bytes):
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/verify", data={"csrf_token": token, "document": (BytesIO(pdf), "record.pdf")},
                       content_type="multipart/form-data")


def test_the_verify_page_shows_who_signed_and_that_nothing_changed(client, deployment_signed):
    page = _upload(client, deployment_signed).get_data(as_text=True)
    assert 'data-code="valid"' in page
    assert "第1社区党委" in page and "测试街道党工委" in page
    assert "文件自签署以来未被改动，所有签名均有效且可信。" in page
    # Coverage as pdfsig reports it: the countersignature covers the whole file; the first
    # signature covers the document as signed, followed only by the countersignature.
    assert page.count('data-coverage="file"') == 1 and page.count('data-coverage="document"') == 1
    assert "整个文件" in page and "此后只追加了其他签名" in page and "证书受本系统信任" in page


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_the_verify_page_rejects_a_tampered_document_with_the_reason_in_chinese(client, deployment_signed, case):
    response = _upload(client, _tampered(deployment_signed, case))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-code="valid"' not in page and "verdict-invalid" in page
    reason = re.search(r'<p id="verdict-reason">([^<]+)</p>', page).group(1)
    assert re.search(r"[\u4e00-\u9fff]", reason) and not re.search(r"[A-Za-z]{4,}", reason), reason


def test_the_verify_form_needs_its_csrf_token(client, deployment_signed):
    response = client.post("/verify", data={"document": (BytesIO(deployment_signed), "r.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_the_cli_exits_1_for_a_tampered_document(runner, deployment_signed, tmp_path, case):
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(deployment_signed)
    bad.write_bytes(_tampered(deployment_signed, case))
    valid = runner.invoke(args=["documents", "verify", str(good)])
    assert valid.exit_code == 0 and valid.output.startswith("VALID"), valid.output
    result = runner.invoke(args=["documents", "verify", str(bad)])
    assert result.exit_code == 1 and result.output.startswith("NOT VALID"), result.output


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_the_api_verifies_without_login_or_csrf_token(client, deployment_signed, case):
    good = client.post("/api/v1/documents/verify", data={"file": (BytesIO(deployment_signed), "r.pdf")},
                       content_type="multipart/form-data")
    assert good.status_code == 200 and good.get_json()["valid"] is True
    assert [s["organization"] for s in good.get_json()["signatures"]] == ["第1社区党委", "测试街道党工委"]
    bad = client.post("/api/v1/documents/verify", data={"file": (BytesIO(_tampered(deployment_signed, case)), "r.pdf")},
                      content_type="multipart/form-data")
    body = bad.get_json()
    assert bad.status_code == 200 and body["valid"] is False and body["reason"]


def test_the_api_needs_a_file(client):
    response = client.post("/api/v1/documents/verify", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and response.get_json()["error"] == "validation_error"


def test_the_api_is_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/documents/verify"]["post"]
    assert operation["security"] == []
    assert "multipart/form-data" in operation["requestBody"]["content"]


def test_the_qr_link_and_the_content_hash_open_the_stored_original(app, client, deployment_signed):
    with app.app_context():
        stored = documents.store(deployment_signed, "acceptance_record", _org("C1"), filename="r.pdf",
                                 title="验收记录", reference=documents.new_reference())
        reference, digest = stored.reference, stored.sha256
        assert documents.verify_url(reference) == f"http://127.0.0.1:5000/verify/{reference}"  # no request, no setting
    for key in (reference, digest):
        page = client.get(f"/verify/{key}").get_data(as_text=True)
        assert 'data-code="valid"' in page and "联合验收记录" in page and digest in page
    assert client.get("/verify/" + "0" * 64).status_code == 404
    assert client.get("/verify/unknown").status_code == 404


def test_the_verification_link_follows_the_host_served_or_the_setting(app):
    with app.test_request_context("/", base_url="http://wuji.example.test:8080"):
        assert documents.verify_url("abc") == "http://wuji.example.test:8080/verify/abc"
    app.config["PUBLIC_BASE_URL"] = "https://wuji.qingdao.gov.cn/"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert documents.verify_url("abc") == "https://wuji.qingdao.gov.cn/verify/abc"


def test_production_refuses_to_start_without_a_public_base_url(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("WUJI_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL must be set in production"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})


def test_the_trust_roots_can_be_downloaded_and_verify_the_signatures(client, deployment_signed):
    from cryptography import x509

    from documents.verify import verify_pdf

    assert 'href="/verify/trust-roots.pem"' in client.get("/verify").get_data(as_text=True)
    response = client.get("/verify/trust-roots.pem")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    roots = x509.load_pem_x509_certificates(response.data)
    assert roots and verify_pdf(deployment_signed, roots).valid  # what a reader's own tools can check


def test_no_trust_roots_yet_is_not_found(client, world):
    assert client.get("/verify/trust-roots.pem").status_code == 404
