"""Keys, signing, storage and verification for the whole deployment.

The pure machinery (documents.pdf, pki, signing, verify) knows nothing of the database;
these services add the deployment around it: the local certificate authority and the
trust roots (DeploymentCA), one signing key per organisation (SigningCredential), and
the signed documents issued (StoredDocument, bytes in core.storage under their SHA-256).

Packages that issue signed PDFs (acceptance records, conventions) call, after their
own transaction has committed and never while they hold a row lock:

    pdf = sign_with_org(pdf, community, reason="...", field_name="community")
    pdf = sign_with_org(pdf, street, reason="...", field_name="street")  # incremental
    document = store(pdf, "acceptance_record", inspection, filename="...")

Keys: `flask pki init` creates the local CA, `flask pki issue` / `flask pki import` give
an organisation its key. Outside production (or with PKI_AUTO_INIT = True) the local
CA and an organisation's key from it are created on first use, so that pilots and
tests sign without set-up; production fails with NoSigningKey instead.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timezone
from io import BytesIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select, update

from core import storage
from core.db import lock, utcnow, write_transaction
from core.errors import DomainError, ValidationError
from core.extensions import db
from documents import pki
from documents.models import LOCAL_SLOT, DeploymentCA, SigningCredential, StoredDocument
from documents.signing import sign_pdf
from documents.verify import VerificationReport, verify_pdf
from orgs.models import OrgNode

DEFAULT_CA_NAME = "无极试点电子签名根证书"
DEFAULT_CA_ORGANIZATION = "无极老旧小区改造治理平台（试点）"
REFERENCE_BYTES = 15  # 120 bits: the QR link cannot be guessed


class NoSigningKey(DomainError):
    """The organisation has no signing key and none can be issued here."""

    status = 409
    code = "no_signing_key"


@dataclass(frozen=True)
class Credentials:
    """A decrypted signing key with its certificate and the issuers to embed."""

    key: pki.SigningKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


# --- certificate authorities and trust roots -----------------------------------------


def _secret() -> str:
    return current_app.config["KEY_ENCRYPTION_SECRET"]


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _pem(certificates) -> str:
    return "".join(pki.certificate_to_pem(c).decode("ascii") for c in certificates)


def trust_roots_pem() -> str:
    """This deployment's trust roots in PEM, for download."""
    return _pem(trust_roots())


def auto_init_allowed() -> bool:
    configured = current_app.config.get("PKI_AUTO_INIT")
    if configured is not None:
        return bool(configured)
    return current_app.config.get("ENV_NAME") != "production"


def local_ca() -> DeploymentCA | None:
    return db.session.scalar(select(DeploymentCA).where(DeploymentCA.slot == LOCAL_SLOT))


def init_local_ca(common_name: str | None = None, organization: str | None = None) -> DeploymentCA:
    """Create the deployment's local certificate authority (once)."""
    key, certificate = pki.create_ca(common_name or DEFAULT_CA_NAME, organization or DEFAULT_CA_ORGANIZATION)
    with write_transaction():
        if local_ca() is not None:
            raise ValidationError(_("This deployment already has a local certificate authority."))
        ca = DeploymentCA(
            slot=LOCAL_SLOT, origin="local", subject=certificate.subject.rfc4514_string()[:255],
            fingerprint=_fingerprint(certificate), certificate_pem=_pem([certificate]),
            private_key_encrypted=pki.encrypt_private_key(key, _secret()).decode("ascii"), trusted=True,
        )
        db.session.add(ca)
    return ca


def _local_ca_or_auto() -> DeploymentCA:
    ca = local_ca()
    if ca is not None:
        return ca
    if not auto_init_allowed():
        raise NoSigningKey(_("This deployment has no certificate authority: run “flask pki init” "
                             "or import a certificate with “flask pki import”."))
    try:
        return init_local_ca()
    except ValidationError:  # another process created it in the meantime
        return local_ca()


def trust_roots() -> list[x509.Certificate]:
    """The certificates verification trusts: the local CA and imported roots."""
    rows = db.session.scalars(select(DeploymentCA).where(DeploymentCA.trusted.is_(True)).order_by(DeploymentCA.id))
    return [row.certificate for row in rows]


def add_trust_root(certificate: x509.Certificate) -> tuple[DeploymentCA, bool]:
    """Trust a CA certificate (idempotent); returns the row and whether it is new."""
    fingerprint = _fingerprint(certificate)
    with write_transaction():
        existing = db.session.scalar(select(DeploymentCA).where(DeploymentCA.fingerprint == fingerprint))
        if existing is not None:
            existing.trusted = True
            return existing, False
        row = DeploymentCA(origin="imported", subject=certificate.subject.rfc4514_string()[:255],
                           fingerprint=fingerprint, certificate_pem=_pem([certificate]), trusted=True)
        db.session.add(row)
    return row, True


# --- organisation keys --------------------------------------------------------------


def active_credential(org: OrgNode) -> SigningCredential | None:
    return db.session.scalar(
        select(SigningCredential).where(SigningCredential.org_id == org.id, SigningCredential.active.is_(True))
    )


def _save_credential(org_id: int, origin: str, key: pki.SigningKey, certificate: x509.Certificate,
                     chain: list[x509.Certificate]) -> SigningCredential:
    """Make this the org's active key; inside the caller's transaction, org row locked."""
    db.session.execute(
        update(SigningCredential).where(SigningCredential.org_id == org_id).values(active=False)
    )
    credential = SigningCredential(
        org_id=org_id, origin=origin, subject=certificate.subject.rfc4514_string()[:255],
        fingerprint=_fingerprint(certificate), certificate_pem=_pem([certificate]), chain_pem=_pem(chain),
        private_key_encrypted=pki.encrypt_private_key(key, _secret()).decode("ascii"),
        not_after=certificate.not_valid_after_utc.astimezone(timezone.utc).replace(tzinfo=None), active=True,
    )
    db.session.add(credential)
    return credential


def _lock_org(org_id: int) -> None:
    """Lock the org node's row (its key changes one at a time)."""
    if lock(OrgNode, org_id) is None:
        raise ValidationError(_("Unknown org unit."))


def issue_credential(org: OrgNode) -> SigningCredential:
    """A new key for the organisation, certified by the local CA; it replaces the active one."""
    ca = _local_ca_or_auto()
    ca_key = pki.decrypt_private_key(ca.private_key_encrypted.encode("ascii"), _secret())
    ca_cert = ca.certificate
    key, certificate = pki.issue_org_certificate(ca_key, ca_cert, org.name[:64], org.code[:64])
    with write_transaction():
        _lock_org(org.id)
        return _save_credential(org.id, "local_ca", key, certificate, [ca_cert])


def import_credential(org: OrgNode, data: bytes,
                      password: bytes | None) -> tuple[SigningCredential, list[DeploymentCA]]:
    """Make a PKCS#12 file from a licensed CA the organisation's active key.

    Self-signed certificates in the file's chain (the CA's root) become trust roots;
    they are returned so that the operator sees what is now trusted."""
    try:
        key, certificate, chain = pki.load_pkcs12(data, password)
    except pki.PKIError as error:
        raise ValidationError(str(error)) from error
    with write_transaction():
        _lock_org(org.id)
        credential = _save_credential(org.id, "pkcs12", key, certificate, chain)
    roots = [add_trust_root(c) for c in chain if c.issuer == c.subject]
    return credential, [row for row, new in roots if new]


def ensure_credential(org: OrgNode) -> SigningCredential:
    """The organisation's active key, issued from the local CA on first use (or when the
    active certificate has expired) where a local CA exists or may be created."""
    credential = active_credential(org)
    if credential is not None and credential.not_after > utcnow():
        return credential
    if local_ca() is None and not auto_init_allowed():
        raise NoSigningKey(_("%(org)s has no signing key: run “flask pki issue --org %(code)s” or import one.",
                             org=org.name, code=org.code))
    return issue_credential(org)


def credentials_for(org: OrgNode) -> Credentials:
    """The organisation's decrypted key, certificate and chain (kept in memory only)."""
    credential = ensure_credential(org)
    key = pki.decrypt_private_key(credential.private_key_encrypted.encode("ascii"), _secret())
    return Credentials(key, credential.certificate, tuple(credential.chain))


# --- signing and storing --------------------------------------------------------------


def sign_with_org(pdf_bytes: bytes, org: OrgNode, *, reason: str, field_name: str,
                  location: str | None = None) -> bytes:
    """The document with one more PAdES signature by the organisation's key (B-B, or B-T
    when TIMESTAMP_URL is configured). A signed document gets it as an incremental
    update, so earlier signatures stay valid. Call after commit, holding no row lock."""
    credentials = credentials_for(org)
    return sign_pdf(
        pdf_bytes, credentials.key, credentials.certificate, credentials.chain,
        field_name=field_name, reason=reason, location=location or org.name, signer_name=org.name,
        timestamp_url=current_app.config.get("TIMESTAMP_URL"),
    )


def new_reference() -> str:
    """The code a document's QR link names it by (printed before the document is signed)."""
    return secrets.token_hex(REFERENCE_BYTES)


DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def verify_url(key: str) -> str:
    """The verification link printed on a document: PUBLIC_BASE_URL (required in production);
    without it, the address the request came to (a pilot on a laptop or an intranet host),
    or `make run`'s address from the command line."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        base = request.host_url if has_request_context() else DEVELOPMENT_BASE_URL
    return base.rstrip("/") + "/verify/" + key


def signers_of(pdf_bytes: bytes) -> list[dict]:
    """The signatures in the document as stored facts: field, certificate subject and
    organisation, fingerprint, and the time the signer claims."""
    result = []
    for signature in PdfFileReader(BytesIO(pdf_bytes)).embedded_signatures:
        cert = signature.signer_cert
        subject = cert.subject.native
        claimed = signature.self_reported_timestamp
        result.append({
            "field": signature.field_name,
            "organization": subject.get("organization_name"),
            "common_name": subject.get("common_name"),
            "subject": cert.subject.human_friendly,
            "fingerprint": hashlib.sha256(cert.dump()).hexdigest(),
            "signed_at": claimed.astimezone(timezone.utc).isoformat() if claimed else None,
        })
    return result


def _subject_key(subject) -> tuple[str, int]:
    if isinstance(subject, tuple):
        return subject
    return getattr(subject, "subject_type", None) or subject.__tablename__, subject.id


def store(pdf_bytes: bytes, kind: str, subject, *, filename: str, title: str = "",
          reference: str | None = None) -> StoredDocument:
    """Keep a signed document under its content hash and record what it is.

    `subject` is the model row it belongs to (or a (type, id) pair). Storing the same
    bytes again returns the existing row. Joins the caller's transaction if any."""
    digest = storage.put(pdf_bytes)
    subject_type, subject_id = _subject_key(subject)
    signers = json.dumps(signers_of(pdf_bytes), ensure_ascii=False)
    with write_transaction():
        existing = db.session.scalar(select(StoredDocument).where(StoredDocument.sha256 == digest))
        if existing is not None:
            return existing
        document = StoredDocument(
            sha256=digest, reference=reference, kind=kind, subject_type=subject_type, subject_id=subject_id,
            title=title[:200], filename=filename[:200], size=len(pdf_bytes), signers_json=signers,
        )
        db.session.add(document)
    return document


def find_document(key: str) -> StoredDocument | None:
    """A stored document by its SHA-256 (64 hex digits) or by its reference code."""
    key = (key or "").strip().lower()
    if len(key) == 64:
        return db.session.scalar(select(StoredDocument).where(StoredDocument.sha256 == key))
    return db.session.scalar(select(StoredDocument).where(StoredDocument.reference == key))


def document_for(kind: str, subject) -> StoredDocument | None:
    """The latest document of a kind issued for a subject."""
    subject_type, subject_id = _subject_key(subject)
    return db.session.scalar(
        select(StoredDocument)
        .where(StoredDocument.kind == kind, StoredDocument.subject_type == subject_type,
               StoredDocument.subject_id == subject_id)
        .order_by(StoredDocument.id.desc()).limit(1)
    )


def document_bytes(document: StoredDocument) -> bytes:
    """Exactly the bytes that were stored (checked against the content address)."""
    data = storage.get(document.sha256)
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise RuntimeError(f"stored document {document.sha256} is damaged")
    return data


# --- verification -------------------------------------------------------------------------


def verify(pdf_bytes: bytes) -> VerificationReport:
    """Verify a PDF against this deployment's trust roots (see documents.verify)."""
    return verify_pdf(pdf_bytes, trust_roots())


def report_json(report: VerificationReport, pdf_bytes: bytes) -> dict:
    """The report as the API answers it."""
    digest = hashlib.sha256(pdf_bytes).hexdigest()
    stored = find_document(digest)
    return {
        "valid": report.valid,
        "code": report.code,
        "reason": str(report.reason),
        "sha256": digest,
        "issued_here": stored is not None,
        "signatures": [
            {
                "field": s.field_name,
                "organization": s.signer_organization,
                "common_name": s.signer_common_name,
                "signed_at": s.signing_time.astimezone(timezone.utc).isoformat() if s.signing_time else None,
                "timestamped": s.timestamped,
                "intact": s.intact,
                "trusted": s.trusted,
                "covers_document": s.covers_document,
                "whole_file": s.whole_file,
                "valid": s.valid,
                "code": s.code,
                "reason": str(s.reason),
            }
            for s in report.signatures
        ],
    }
