"""Fixtures for the document machinery: a throwaway CA per session, rendered and signed
PDFs, poppler's command-line tools and a local RFC 3161 timestamp authority."""
from __future__ import annotations

import shutil
import subprocess
import threading
from contextlib import contextmanager
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import os

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.sign.timestamps import DummyTimeStamper

from documents import pki
from documents.pdf import render_template_pdf
from documents.samples import sample_acceptance_record
from documents.signing import sign_pdf

ACCEPTANCE_TEMPLATE = "pdf/acceptance_record.html"


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: poppler-utils / libnss3-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # make test installs them: never skip the independent check in CI
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def ca() -> tuple[pki.SigningKey, x509.Certificate]:
    return pki.create_ca("无极测试根证书", "无极测试认证中心")


@pytest.fixture(scope="session")
def other_ca() -> tuple[pki.SigningKey, x509.Certificate]:
    return pki.create_ca("其他根证书", "其他认证中心")


@pytest.fixture(scope="session")
def committee(ca) -> tuple[pki.SigningKey, x509.Certificate]:
    ca_key, ca_cert = ca
    return pki.issue_org_certificate(ca_key, ca_cert, "和平社区居民委员会", "553703037628401234")


@pytest.fixture(scope="session")
def owners(ca) -> tuple[pki.SigningKey, x509.Certificate]:
    ca_key, ca_cert = ca
    return pki.issue_org_certificate(ca_key, ca_cert, "东高小区业主委员会", "753703030000123456")


@pytest.fixture(scope="session")
def record_context() -> dict:
    return sample_acceptance_record()


@pytest.fixture(scope="session")
def record_pdf(record_context) -> bytes:
    return render_template_pdf(None, ACCEPTANCE_TEMPLATE, record_context)


@pytest.fixture(scope="session")
def signed_pdf(record_pdf, committee, ca) -> bytes:
    key, cert = committee
    return sign_pdf(
        record_pdf, key, cert, [ca[1]],
        field_name="committee", reason="联合验收签署", location="山东省淄博市张店区",
        signer_name="李秀英",
    )


@pytest.fixture(scope="session")
def countersigned_pdf(signed_pdf, owners, ca) -> bytes:
    key, cert = owners
    return sign_pdf(
        signed_pdf, key, cert, [ca[1]],
        field_name="owners", reason="业主委员会会签", location="山东省淄博市张店区",
    )


@pytest.fixture(scope="session")
def run_tool() -> Callable[..., str]:
    """Run a poppler tool on PDF bytes written to a temporary file; return its output.

    The command line is ``tool *options file *after`` (pdftotext takes "-" after the file
    to write to stdout).
    """

    def run(
        tool: str, pdf: bytes, *options: str, tmp_dir: Path, after: tuple[str, ...] = ()
    ) -> str:
        executable = _require_tool(tool)
        path = tmp_dir / "document.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(
            [executable, *options, str(path), *after], capture_output=True, text=True, timeout=60
        )
        return result.stdout + result.stderr

    return run


@pytest.fixture
def pdf_text(run_tool, tmp_path) -> Callable[[bytes], str]:
    """The text pdftotext extracts (UTF-8), pages separated by form feeds."""
    return lambda pdf: run_tool("pdftotext", pdf, "-enc", "UTF-8", tmp_dir=tmp_path, after=("-",))


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory, ca) -> str:
    """An NSS database trusting the test CA, as pdfsig needs (DESIGN.md "Pitfalls")."""
    certutil = _require_tool("certutil")
    directory = tmp_path_factory.mktemp("nss")
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(pki.certificate_to_pem(ca[1]))
    nss = f"sql:{directory}"
    subprocess.run([certutil, "-N", "-d", nss, "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-A", "-d", nss, "-n", "root", "-t", "C,C,C", "-i", str(ca_pem)], check=True
    )
    return nss


@pytest.fixture
def pdfsig(run_tool, nss_db, tmp_path) -> Callable[[bytes], str]:
    return lambda pdf: run_tool("pdfsig", pdf, "-nssdir", nss_db, tmp_dir=tmp_path)


def _tsa_certificate(ca) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A timestamping certificate from the test CA (RSA: pyHanko's test TSA signs RSA only)."""
    ca_key, ca_cert = ca
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试时间戳服务")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


@contextmanager
def _serve_tsa(ca) -> Iterator[str]:
    """An RFC 3161 timestamp authority on localhost, signing with a certificate from ``ca``."""
    key, cert = _tsa_certificate(ca)
    stamper = DummyTimeStamper(
        tsa_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        tsa_key=translate_pyca_cryptography_key_to_asn1(key),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            response = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(response)))
            self.end_headers()
            self.wfile.write(response)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def tsa_url(ca) -> Iterator[str]:
    """A timestamp authority whose certificate comes from the trusted test CA."""
    with _serve_tsa(ca) as url:
        yield url


@pytest.fixture(scope="session")
def untrusted_tsa_url(other_ca) -> Iterator[str]:
    """A timestamp authority whose certificate comes from a CA the tests do not trust."""
    with _serve_tsa(other_ca) as url:
        yield url
