"""Signing keys for convention PDFs: one key per signing organisation (community and
street committees), certified by the deployment's local CA (documents.pki).

This is a small file-based key store so that conventions can be signed today; the
shared key store of the documents package (imported PKCS#12 from a licensed CA,
`flask pki ...`) can replace it by changing `credentials_for()` and `trust_roots()`
only. Keys are kept encrypted at rest with KEY_ENCRYPTION_SECRET, each key and its
certificate together in one file created atomically (two processes creating the same
key at once end up using the same one).
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass

from cryptography import x509
from flask import current_app

from documents import pki

CA_NAME = "无极试点电子签名根证书"
CA_ORGANIZATION = "无极老旧小区改造治理平台（试点）"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Credentials:
    key: pki.SigningKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def keys_dir() -> str:
    configured = current_app.config.get("SIGNING_KEYS_DIR")
    if configured:
        return configured
    return os.path.join(os.path.dirname(os.path.abspath(current_app.config["STORAGE_DIR"])), "signing-keys")


def _secret() -> str:
    return current_app.config["KEY_ENCRYPTION_SECRET"]


def _bundle(key: pki.SigningKey, certificate: x509.Certificate) -> bytes:
    return pki.encrypt_private_key(key, _secret()) + pki.certificate_to_pem(certificate)


def _read(path: str) -> tuple[pki.SigningKey, x509.Certificate]:
    with open(path, "rb") as handle:
        data = handle.read()
    marker = b"-----BEGIN CERTIFICATE-----"
    key_part, _sep, cert_part = data.partition(marker)
    return pki.decrypt_private_key(key_part, _secret()), pki.load_certificates(marker + cert_part)[0]


def _create_once(path: str, make) -> tuple[pki.SigningKey, x509.Certificate]:
    """Load the key in `path`, or make one and publish it atomically (first writer wins)."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        key, certificate = make()
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_bundle(key, certificate))
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return _read(path)


def _ca() -> tuple[pki.SigningKey, x509.Certificate]:
    return _create_once(os.path.join(keys_dir(), "ca.pem"), lambda: pki.create_ca(CA_NAME, CA_ORGANIZATION))


def trust_roots() -> list[x509.Certificate]:
    """The certificates a verifier of convention PDFs trusts."""
    return [_ca()[1]]


def credentials_for(org) -> Credentials:
    """The signing key and certificate of an org node (a community or street committee)."""
    ca_key, ca_cert = _ca()
    path = os.path.join(keys_dir(), f"org-{_SAFE.sub('_', org.code)}.pem")
    key, certificate = _create_once(
        path, lambda: pki.issue_org_certificate(ca_key, ca_cert, org.name[:64], org.code[:64])
    )
    return Credentials(key, certificate, (ca_cert,))
