"""The signed acceptance record (验收记录) of an accepted joint inspection.

Issued after the acceptance has committed, never while a row lock is held: the PDF is
rendered (templates/pdf/acceptance_record.html, in Chinese), signed by the community
committee (PAdES; B-T when TIMESTAMP_URL is set), countersigned by the street
committee as an incremental signature when the street is a party, stored under its
content hash, and only then linked to the inspection in a short transaction (the
first record issued wins; issuing again returns it). The record carries a QR code of
its verification page, named by a reference code chosen before rendering.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale

from core.db import lock, write_transaction
from core.extensions import db
from documents import services as documents
from documents.models import StoredDocument
from documents.pdf import render_template_pdf
from workflow import engine
from acceptance.models import RESIDENTS, RESULTS, JointInspection, party_label
from acceptance.models import WORKFLOW as INSPECTION_WORKFLOW

KIND = "acceptance_record"
TEMPLATE = "pdf/acceptance_record.html"
# The record is a Chinese document (like the template it fills): fixed wording here.
TITLE = "老旧小区改造联合验收记录"
RESULT_WORDS = {"pass": "合格", "fail": "不合格"}
COMMUNITY_REASON = "联合验收签署"
STREET_REASON = "街道党工委会签"


def _history(item) -> str:
    """An item's results over the rounds, e.g. "第1轮：不合格（扶手松动）；第2轮：合格"."""
    checks = [c for c in item.checks if c.result is not None]
    if len(checks) == 1:
        return checks[0].notes
    parts = []
    for check in checks:
        note = f"（{check.notes}）" if check.notes else ""
        parts.append(f"第{check.round_number}轮：{RESULT_WORDS[check.result]}{note}")
    return "；".join(parts)


def _checklist(inspection: JointInspection) -> list[dict]:
    rows = []
    for item in inspection.items:
        latest = item.latest
        result = latest.result if latest is not None and latest.result in RESULTS else "na"
        rows.append({"item": item.label, "result": result, "notes": _history(item)})
    return rows


COMMITTEES = ("community_committee", "street_committee")


def _signoffs(inspection: JointInspection) -> list[dict]:
    """Every sign-off of every round. Committees sign for their org node; a company's
    account is the company; resident representatives sign as residents of the estate."""
    rows = []
    for signoff in inspection.signoffs:
        where = signoff.org.name if signoff.party in COMMITTEES and signoff.org is not None else ""
        if signoff.party == RESIDENTS:
            where = inspection.estate.name
        prefix = f"第{signoff.round_number}轮" if inspection.round > 1 else ""
        comment = "；".join(part for part in (prefix, signoff.comment) if part)
        rows.append({"name": signoff.person.name, "role": party_label(signoff.party), "organization": where,
                     "decision": signoff.decision, "comment": comment, "time": signoff.created_at})
    return rows


def _conclusion(inspection: JointInspection) -> str:
    count = len(inspection.items)
    if inspection.round == 1:
        return f"经联合检查，全部 {count} 项检查项目合格，各方一致同意通过验收。"
    return (f"经 {inspection.round} 轮检查，前期发现的问题已整改并经复验合格，"
            f"全部 {count} 项检查项目合格，各方一致同意通过验收。")


def _contractor(inspection: JointInspection) -> str:
    names = [s.person.name for s in inspection.signoffs if s.party == "construction_company"]
    return names[-1] if names else ""


def record_context(inspection: JointInspection, reference: str) -> dict:
    """The template context: plain strings and dicts, in Chinese."""
    issue, plan = inspection.issue, inspection.plan
    subject = {"reference": f"#{issue.id}", "title": issue.title, "description": issue.description} if issue else \
        {"reference": f"P{plan.id}", "title": plan.title, "description": plan.summary}
    with force_locale("zh_Hans_CN"):
        return {
            "title": TITLE,
            "subtitle": f"{inspection.estate.name} · {subject['title']}",
            "document_number": f"YS-{inspection.accepted_at:%Y}-{inspection.id:05d}",
            "estate": {"name": inspection.estate.name, "address": inspection.estate.address,
                       "community": inspection.community_org.name},
            "issue": {**subject, "contractor": _contractor(inspection)},
            "accepted_on": inspection.accepted_at,
            "checklist": _checklist(inspection),
            "conclusion": _conclusion(inspection),
            "signoffs": _signoffs(inspection),
            "verify_url": documents.verify_url(reference),
        }


def build_record(inspection: JointInspection, reference: str) -> bytes:
    """Render and sign: the community committee, then the street's countersignature."""
    pdf = render_template_pdf(None, TEMPLATE, record_context(inspection, reference))
    pdf = documents.sign_with_org(pdf, inspection.community_org, reason=COMMUNITY_REASON, field_name="community")
    if inspection.street_org is not None:
        pdf = documents.sign_with_org(pdf, inspection.street_org, reason=STREET_REASON, field_name="street")
    return pdf


def record_of(inspection: JointInspection) -> StoredDocument | None:
    if inspection.record_document_id is None:
        return None
    return db.session.get(StoredDocument, inspection.record_document_id)


def issue_record(inspection_id: int) -> StoredDocument:
    """The inspection's signed record, issued now if it has none (see the module docstring)."""
    inspection = db.session.get(JointInspection, inspection_id)
    if inspection is None or inspection.state != "accepted":
        raise ValueError(f"inspection {inspection_id} is not accepted")
    existing = record_of(inspection)
    if existing is not None:
        return existing
    reference = documents.new_reference()
    pdf = build_record(inspection, reference)
    document = documents.store(pdf, KIND, inspection, filename=f"acceptance-record-{inspection_id}.pdf",
                               title=f"{TITLE} {inspection.title}", reference=reference)
    with write_transaction():
        inspection = lock(JointInspection, inspection_id)
        if inspection.record_document_id is not None:
            return record_of(inspection)
        inspection.record_document_id = document.id
        engine.record_event(inspection, engine.SYSTEM, "record_signed",
                            payload={"sha256": document.sha256, "reference": reference})
    return document


def issue_record_safely(inspection_id: int) -> None:
    """After acceptance: issue the record now; a failure (no key, timestamp authority down)
    is logged and the record can be issued again from the acceptance page."""
    try:
        issue_record(inspection_id)
    except Exception:  # noqa: BLE001 - a failed side effect must not undo the acceptance
        current_app.logger.exception("issuing the acceptance record of inspection %s failed", inspection_id)


def _issue_after_commit(inspection: JointInspection, ctx) -> None:
    """Once every party has signed off, the record is issued after the commit."""
    inspection_id = inspection.id
    ctx.after_commit.append(lambda: issue_record_safely(inspection_id))


INSPECTION_WORKFLOW.extend("sign", dest="accepted", after=(_issue_after_commit,))
