"""The signed PDF of a version in force: its text, two valid signatures (community,
then the street's countersignature, with the deployment's keys from documents.services),
its record among the stored documents, and the public verification pages."""
from __future__ import annotations

import shutil
import subprocess

import os

import pytest

from conventions.pdf import signed_pdf
from core import storage
from documents import pki
from documents import services as documents
from documents.verify import verify_pdf
from tests.conventions.helpers import FILING, create, version, walk_to


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: poppler-utils / libnss3-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # make test installs them: never skip the independent check in CI
        pytest.skip(message)
    return path


@pytest.fixture
def published(app, world):
    """(convention id, version id, signed PDF bytes, trust roots) of a published residents' convention."""
    with app.app_context():
        version_id = create(world)
        walk_to(version_id, "published")
        item = version(version_id)
        assert item.pdf_sha256 and storage.exists(item.pdf_sha256)
        return item.convention_id, version_id, storage.get(item.pdf_sha256), documents.trust_roots()


def _flat_text(data: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext extracts it, without any whitespace."""
    path = tmp_path / "convention.pdf"
    path.write_bytes(data)
    text = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return "".join(text.split())


def test_the_pdf_carries_title_scope_articles_vote_filing_and_effective_date(published, tmp_path):
    _convention_id, _version_id, data, _roots = published
    flat = _flat_text(data, tmp_path)
    for expected in ("测试1小区居民公约", "小区：测试1小区", "第一条", "第十九条", "本公约的修改，按照制定时的程序进行。",
                     "表决结果", "居民会议决定", "表决结果：通过", FILING["filing_number"], "备案日期", "生效日期",
                     "第1社区党委", "测试街道党工委", "电子签名核验", "/verify/"):
        assert expected in flat, expected


def test_both_signatures_are_valid_and_the_countersignature_covers_the_whole_file(published, tmp_path):
    _convention_id, _version_id, data, roots = published
    report = verify_pdf(data, roots)
    assert report.valid, report.reason
    assert [s.field_name for s in report.signatures] == ["community", "street"]
    assert [s.signer_organization for s in report.signatures] == ["第1社区党委", "测试街道党工委"]
    nss = tmp_path / "nss"
    nss.mkdir()
    (nss / "ca.pem").write_bytes(pki.certificate_to_pem(roots[0]))
    certutil = _tool("certutil")
    subprocess.run([certutil, "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run([certutil, "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "C,C,C", "-i", str(nss / "ca.pem")],
                   check=True)
    path = tmp_path / "convention.pdf"
    path.write_bytes(data)
    output = subprocess.run([_tool("pdfsig"), "-nssdir", f"sql:{nss}", str(path)], capture_output=True,
                            text=True).stdout
    first, second = output.split("Signature #2:")
    assert "Signature is Valid" in first and "Certificate is Trusted" in first
    assert "Signature is Valid" in second and "Certificate is Trusted" in second
    assert "Total document signed" in second and "Not total" not in second
    assert "Signer Certificate Common Name: 测试街道党工委" in second
    # This app reports each signature's coverage as pdfsig does.
    pdfsig_whole = ["Total document signed" in part for part in (first, second)]
    assert [s.whole_file for s in report.signatures] == pdfsig_whole == [False, True]
    assert [s.covers_document for s in report.signatures] == [True, True]


def test_a_changed_byte_is_detected(published):
    _convention_id, _version_id, data, roots = published
    tampered = data.replace("第一条".encode("utf-16-be"), "第二条".encode("utf-16-be"), 1)
    if tampered == data:
        index = len(data) // 3
        tampered = data[:index] + bytes([data[index] ^ 1]) + data[index + 1:]
    assert not verify_pdf(tampered, roots).valid


def test_public_download_and_verification_page(published, client, app):
    convention_id, version_id, data, _roots = published
    response = client.get(f"/conventions/{convention_id}/versions/1/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == data
    page = client.get(f"/conventions/{convention_id}/versions/1/verify").get_data(as_text=True)
    assert 'data-valid="yes"' in page and "第1社区党委" in page and "测试街道党工委" in page
    with app.app_context():
        assert signed_pdf(version(version_id)) == data


def test_a_lost_pdf_of_the_version_in_force_is_issued_again(published, client, app, tmp_path):
    convention_id, version_id, data, _roots = published
    with app.app_context():
        digest = version(version_id).pdf_sha256
    shutil.rmtree(app.config["STORAGE_DIR"])
    response = client.get(f"/conventions/{convention_id}/versions/1/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    with app.app_context():
        assert version(version_id).pdf_sha256 != digest


def test_superseded_versions_keep_their_pdf(published, app, client):
    convention_id, version_id, data, _roots = published
    from conventions import services
    from tests.conventions.helpers import person

    with app.app_context():
        second = services.amend(person("community"), convention_id)
        walk_to(second.id, "published", filing={**FILING, "filing_number": "测街备〔2026〕5号"})
    assert client.get(f"/conventions/{convention_id}/versions/1/pdf").data == data
    assert client.get(f"/conventions/{convention_id}/versions/2/pdf").data != data


def test_cli_prints_the_pdf_digest(published, runner, tmp_path):
    _convention_id, version_id, data, _roots = published
    target = tmp_path / "out.pdf"
    digest = runner.invoke(args=["conventions", "pdf", str(version_id), "-o", str(target)])
    assert digest.exit_code == 0 and target.read_bytes() == data
    import hashlib

    assert digest.output.strip() == hashlib.sha256(data).hexdigest()
    assert runner.invoke(args=["conventions", "pdf", "99999"]).exit_code != 0


def test_the_pdf_is_a_stored_document_whose_qr_link_verifies_it(published, app, client, tmp_path):
    _convention_id, version_id, data, _roots = published
    with app.app_context():
        document = documents.document_for("convention_version", version(version_id))
        assert document is not None and document.sha256 == version(version_id).pdf_sha256
        assert [s["organization"] for s in document.signers] == ["第1社区党委", "测试街道党工委"]
        reference = document.reference
    assert f"/verify/{reference}" in _flat_text(data, tmp_path)
    page = client.get(f"/verify/{reference}")
    assert page.status_code == 200 and "测试1小区居民公约" in page.get_data(as_text=True)
    assert "convention_version" not in page.get_data(as_text=True)  # the kind in words, not its code
