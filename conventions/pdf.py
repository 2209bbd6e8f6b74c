"""The signed PDF of a published convention version.

Rendered from templates/pdf/convention.html with documents.pdf, then signed twice
(PAdES, documents.signing): by the community committee that publishes it, and
countersigned by the street committee that holds its filing (备案). The PDF carries
a QR code of its public verification page. The signed bytes go to core.storage;
their SHA-256 is kept on the version and written into its audit chain.
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import force_locale

from conventions import keys
from conventions.models import ConventionVersion
from conventions.numerals import article_label, chapter_label
from core import storage
from core.db import lock, write_transaction
from core.extensions import db
from documents.pdf import render_template_pdf
from documents.signing import sign_pdf
from workflow import audit, tally

TEMPLATE = "pdf/convention.html"
SCOPE_NAMES = {"community": "社区", "estate": "小区", "building": "楼栋"}


def public_path(version: ConventionVersion, suffix: str = "") -> str:
    return f"/conventions/{version.convention_id}/versions/{version.number}{suffix}"


def verify_url(version: ConventionVersion) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return base + public_path(version, "/verify")


def _date(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def _vote_lines(version: ConventionVersion) -> list[str]:
    result = version.vote_tally()
    if result is None:
        return []
    with force_locale("zh_Hans_CN"):
        return tally.describe(result)


def _text(version: ConventionVersion) -> dict:
    chapters = [
        {"label": chapter_label(c.position), "title": c.title,
         "articles": [{"label": article_label(a.number), "text": a.text} for a in c.articles]}
        for c in version.chapters
    ]
    loose = [{"label": article_label(a.number), "text": a.text} for a in version.loose_articles()]
    return {"preamble": version.preamble, "loose_articles": loose, "chapters": chapters}


def document_context(version: ConventionVersion) -> dict:
    convention = version.convention
    community = convention.community
    street = community.parent
    return {
        "title": convention.title,
        "subtitle": f"{convention.scope_label} · 第{version.number}版",
        "document_number": version.filing_number or "",
        "scope": f"{SCOPE_NAMES[convention.scope_kind]}：{convention.scope_label}",
        "community": community.name,
        "street": street.name if street is not None else "",
        "version_number": version.number,
        "vote_date": _date(version.vote_date),
        "vote_reference": version.vote_reference or "",
        "vote_lines": _vote_lines(version),
        "filing_number": version.filing_number or "",
        "filing_date": _date(version.filing_date),
        "effective_date": _date(version.effective_date),
        "verify_url": verify_url(version),
        **_text(version),
    }


def build_signed_pdf(version: ConventionVersion) -> bytes:
    """Render and sign: the community committee, then the street committee's countersignature."""
    community = version.convention.community
    street = version.filed_by_org or community.parent
    pdf = render_template_pdf(None, TEMPLATE, document_context(version))
    location = community.name
    timestamp_url = current_app.config.get("TIMESTAMP_URL")
    signer = keys.credentials_for(community)
    pdf = sign_pdf(pdf, signer.key, signer.certificate, signer.chain, field_name="community",
                   reason=f"发布《{version.convention.title}》第{version.number}版", location=location,
                   signer_name=community.name, timestamp_url=timestamp_url)
    if street is not None:
        countersigner = keys.credentials_for(street)
        pdf = sign_pdf(pdf, countersigner.key, countersigner.certificate, countersigner.chain,
                       field_name="street", reason=f"备案会签（备案号：{version.filing_number}）",
                       location=street.name, signer_name=street.name, timestamp_url=timestamp_url)
    return pdf


def _store(version_id: int, digest: str) -> str:
    """Record the digest on the version and in its audit chain (first PDF wins)."""
    with write_transaction():
        version = lock(ConventionVersion, version_id)
        if version.pdf_sha256 and storage.exists(version.pdf_sha256):
            return version.pdf_sha256
        version.pdf_sha256 = digest
        audit.append(version, actor_id=None, actor_name="system", org_id=None, role=None, trigger="sign_pdf",
                     from_state=version.state, to_state=version.state, payload={"sha256": digest})
    return digest


def signed_pdf(version: ConventionVersion) -> bytes | None:
    """The stored signed PDF; for the version in force it is issued on first use.
    None for a version that is not in force and never had one."""
    if version.pdf_sha256 and storage.exists(version.pdf_sha256):
        return storage.get(version.pdf_sha256)
    if version.state != "published":
        return None
    return issue_signed_pdf(version.id)


def issue_signed_pdf(version_id: int) -> bytes:
    version = db.session.get(ConventionVersion, version_id)
    data = build_signed_pdf(version)
    digest = _store(version_id, storage.put(data))
    return storage.get(digest)


def issue_signed_pdf_safely(version_id: int) -> None:
    """After publication: issue the PDF now; if rendering or signing fails, log it and
    leave it to the first download (the publication itself stands)."""
    version = db.session.get(ConventionVersion, version_id)
    try:
        data = build_signed_pdf(version)
        digest = storage.put(data)
    except Exception:  # noqa: BLE001 - a failed side effect must not undo the publication
        current_app.logger.exception("signing the PDF of convention version %s failed", version_id)
        return
    _store(version_id, digest)
