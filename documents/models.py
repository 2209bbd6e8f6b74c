"""What the deployment keeps about signing: its certificate authorities, each signing
organisation's key, and the signed documents it issued.

Private keys are stored encrypted (documents.pki.encrypt_private_key with the
configured KEY_ENCRYPTION_SECRET) and are never shown. Documents themselves live in
core.storage under the SHA-256 of their bytes; a row here says what they are.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from cryptography import x509
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import utcnow
from core.extensions import db
from documents import pki
from orgs.models import OrgNode

LOCAL_SLOT = "local"


class DeploymentCA(db.Model):
    """A certificate authority this deployment trusts (a trust root for verification).

    The local CA (created by `flask pki init`) also holds its encrypted private key and
    the unique slot "local": a deployment issues from one local CA at a time. Roots of
    licensed CAs (imported with an organisation's PKCS#12) carry no key.
    """

    __tablename__ = "deployment_ca"
    __table_args__ = (CheckConstraint("origin IN ('local', 'imported')", name="origin_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot: Mapped[Optional[str]] = mapped_column(String(20), unique=True)
    origin: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, lower-case hex
    certificate_pem: Mapped[str] = mapped_column(Text)
    private_key_encrypted: Mapped[Optional[str]] = mapped_column(Text)
    trusted: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def certificate(self) -> x509.Certificate:
        return pki.load_certificates(self.certificate_pem.encode("ascii"))[0]


class SigningCredential(db.Model):
    """An organisation's signing key and certificate chain. One is active per org node;
    older ones stay for the record (documents they signed still verify)."""

    __tablename__ = "signing_credential"
    __table_args__ = (
        CheckConstraint("origin IN ('local_ca', 'pkcs12')", name="origin_known"),
        Index("ix_signing_credential_org_active", "org_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org_node.id"))
    origin: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    chain_pem: Mapped[str] = mapped_column(Text, default="")  # issuers, leaf's issuer first
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    not_after: Mapped[datetime] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    org: Mapped[OrgNode] = relationship()

    @property
    def certificate(self) -> x509.Certificate:
        return pki.load_certificates(self.certificate_pem.encode("ascii"))[0]

    @property
    def chain(self) -> list[x509.Certificate]:
        if not self.chain_pem:
            return []
        return pki.load_certificates(self.chain_pem.encode("ascii"))


class StoredDocument(db.Model):
    """A signed document the deployment issued, stored under its content hash.

    `reference` is the code printed in the document's QR link (/verify/<reference>): a
    document cannot contain its own hash, so the link names it by this code; the page
    also answers /verify/<sha256>. `signers` lists the signatures found in the bytes
    (field, organisation, certificate subject, time), as JSON.
    """

    __tablename__ = "stored_document"
    __table_args__ = (Index("ix_stored_document_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[Optional[str]] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    signers_json: Mapped[str] = mapped_column("signers", Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def signers(self) -> list[dict]:
        return json.loads(self.signers_json or "[]")
