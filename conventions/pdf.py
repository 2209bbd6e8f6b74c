"""The signed PDF of a published convention version.

Rendered from templates/pdf/convention.html with documents.pdf, then signed twice
through the deployment's key store (documents.services): by the community committee
that publishes it, and countersigned by the street committee that holds its filing
(备案). The PDF carries the QR code of the public verification page (/verify/<code>).
documents.services keeps the signed bytes (core.storage) and what they are; the
version keeps their SHA-256, which is also written into its audit chain.
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import force_locale

from conventions.models import ConventionVersion
from conventions.numerals import article_label, chapter_label
from core import storage
from core.db import lock, write_transaction
from core.extensions import db
from documents import services as documents
from documents.pdf import render_template_pdf
from rules import tally
from workflow import audit

TEMPLATE = "pdf/convention.html"
KIND = "convention_version"
SCOPE_NAMES = {"community": "社区", "estate": "小区", "building": "楼栋"}


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


def document_context(version: ConventionVersion, verify_url: str) -> dict:
    convention = version.convention
    community = convention.community
    street = version.filed_by_org or community.parent
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
        "verify_url": verify_url,
        **_text(version),
    }


def build_signed_pdf(version: ConventionVersion, reference: str) -> bytes:
    """Render and sign: the community committee, then the street committee's countersignature."""
    community = version.convention.community
    street = version.filed_by_org or community.parent
    pdf = render_template_pdf(None, TEMPLATE, document_context(version, documents.verify_url(reference)))
    pdf = documents.sign_with_org(pdf, community, field_name="community",
                                  reason=f"发布《{version.convention.title}》第{version.number}版")
    if street is not None:
        pdf = documents.sign_with_org(pdf, street, field_name="street",
                                      reason=f"备案会签（备案号：{version.filing_number}）")
    return pdf


def _record(version_id: int, digest: str) -> str:
    """Keep the digest on the version and in its audit chain (the first PDF issued wins)."""
    with write_transaction():
        version = lock(ConventionVersion, version_id)
        if version.pdf_sha256 and storage.exists(version.pdf_sha256):
            return version.pdf_sha256
        version.pdf_sha256 = digest
        audit.append(version, actor_id=None, actor_name="system", org_id=None, role=None, trigger="sign_pdf",
                     from_state=version.state, to_state=version.state, payload={"sha256": digest})
    return digest


def issue_signed_pdf(version_id: int) -> bytes:
    """Render, sign and store the PDF of a version in force (outside any row lock)."""
    version = db.session.get(ConventionVersion, version_id)
    reference = documents.new_reference()
    data = build_signed_pdf(version, reference)
    document = documents.store(data, KIND, version, reference=reference,
                               filename=f"convention-{version.convention_id}-v{version.number}.pdf",
                               title=f"{version.convention.title}（第{version.number}版）")
    return storage.get(_record(version_id, document.sha256))


def signed_pdf(version: ConventionVersion) -> bytes | None:
    """The stored signed PDF; for the version in force it is issued on first use.
    None for a version that is not in force and never had one."""
    if version.pdf_sha256 and storage.exists(version.pdf_sha256):
        return storage.get(version.pdf_sha256)
    if version.state != "published":
        return None
    return issue_signed_pdf(version.id)


def issue_signed_pdf_safely(version_id: int) -> None:
    """After publication: issue the PDF now; if signing is not possible (no key in
    production, a rendering failure), log it and leave it to the first download: the
    publication itself stands."""
    try:
        issue_signed_pdf(version_id)
    except Exception:  # noqa: BLE001 - a failed side effect must not undo the publication
        current_app.logger.exception("signing the PDF of convention version %s failed", version_id)
