"""Verification of signed PDFs against the deployment's trust roots.

A document is valid when it has at least one signature and every signature is valid. A
signature is valid when it is

- **intact**: the bytes it covers hash to the signed digest, the cryptographic signature
  checks out, and the unsigned ``/Contents`` gap holds exactly a canonical signature
  container (see :mod:`documents.cms_check`), so that no byte of the file, signature
  included, can change unnoticed;
- **trusted**: the signer's certificate chains to one of the given trust roots, is within
  its validity period, allows digitalSignature or nonRepudiation, and any signature
  timestamp is itself valid and trusted (certificates are not fetched from the network and
  revocation is checked only from what the document embeds: "soft-fail");
- **covering the document**: the last signature covers the entire file (pyHanko's
  coverage ``ENTIRE_FILE``; even trailing bytes that are no revision break this). An
  earlier signature covers its own revision entirely, every later revision is one that
  adds a later signature, and pyHanko's difference analysis finds nothing beyond
  signature fields being added and filled (modification level at most ``FORM_FILLING``).
  So a countersignature keeps earlier signatures valid, while any other incremental
  update (an annotation, a new ``/Info``, an edited page, trailing bytes, even a DSS or
  document timestamp) makes the document invalid. That is stricter than pyHanko's
  default policy and than poppler's pdfsig, which both accept some later changes.

Anything that cannot be read (not a PDF, a damaged file, a damaged signature) gives a
report with ``valid`` False and a reason; :func:`verify_pdf` does not raise for bad input.
Reasons are ``lazy_gettext`` strings: English outside a request, translated inside one.
``code`` fields carry the same outcome as stable keys for APIs and tests.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from cryptography import x509
from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    KeyUsageConstraints,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    async_validate_pdf_signature,
)
from pyhanko_certvalidator import ValidationContext

from documents.cms_check import Container, check_contents

_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})


@dataclass(frozen=True)
class SignatureReport:
    """One signature of the document, as the verification page shows it."""

    field_name: str
    signer_common_name: str | None
    signer_organization: str | None
    signing_time: datetime | None
    timestamped: bool
    intact: bool
    trusted: bool
    covers_document: bool
    code: str
    reason: LazyString
    # The signed byte range is the whole file, as poppler's pdfsig reports it ("Total
    # document signed"); an earlier signature followed only by countersignatures covers
    # the document (covers_document) but not the whole file.
    whole_file: bool = False

    @property
    def valid(self) -> bool:
        return self.intact and self.trusted and self.covers_document


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on a whole document: ``valid`` only if every signature is valid."""

    valid: bool
    code: str
    reason: LazyString
    signatures: tuple[SignatureReport, ...] = ()


def _document_failure(code: str, reason: LazyString) -> VerificationReport:
    return VerificationReport(valid=False, code=code, reason=reason)


def _looks_like_pdf(data: bytes) -> bool:
    """A PDF header or end marker: a damaged header alone should read as "altered"."""
    return b"%PDF-" in data[:1024] or b"%%EOF" in data[-1024:]


def _read_signatures(
    pdf_bytes: bytes,
) -> tuple[PdfFileReader, list[EmbeddedPdfSignature]] | VerificationReport:
    """The reader and its signatures, or the report saying why there are none."""
    if not isinstance(pdf_bytes, (bytes, bytearray)) or not _looks_like_pdf(pdf_bytes):
        return _document_failure("not_pdf", lazy_gettext("The file is not a PDF document."))
    try:
        reader = PdfFileReader(BytesIO(bytes(pdf_bytes)))
        signatures = list(reader.embedded_signatures)
    except Exception:
        return _document_failure(
            "unreadable",
            lazy_gettext(
                "The file is damaged or was altered and cannot be read as a PDF document."
            ),
        )
    if not signatures:
        return _document_failure("no_signatures", lazy_gettext("The document is not signed."))
    return reader, signatures


def verify_pdf(pdf_bytes: bytes, trust_roots: Sequence[x509.Certificate]) -> VerificationReport:
    """Verify every signature of the document; see the module docstring for the rules.

    Runs pyHanko's asynchronous validator in its own event loop, so call it from
    synchronous code (a request handler, a CLI command, a worker), not from a coroutine.
    """
    read = _read_signatures(pdf_bytes)
    if isinstance(read, VerificationReport):
        return read
    reader, signatures = read
    return _summarise(asyncio.run(_check_all(reader, signatures, trust_roots)))


def _summarise(reports: list[SignatureReport]) -> VerificationReport:
    failed = [report for report in reports if not report.valid]
    if failed:
        return VerificationReport(
            valid=False, code=failed[0].code, reason=failed[0].reason, signatures=tuple(reports)
        )
    return VerificationReport(
        valid=True,
        code="valid",
        reason=lazy_gettext(
            "The document has not changed since it was signed, and every signature on it "
            "is valid and trusted."
        ),
        signatures=tuple(reports),
    )


@dataclass(frozen=True)
class _Document:
    """What every signature's check needs to know about the whole document."""

    reader: PdfFileReader
    trust_roots: tuple[x509.Certificate, ...]
    signature_revisions: frozenset[int | None]


async def _check_all(
    reader: PdfFileReader,
    signatures: list[EmbeddedPdfSignature],
    trust_roots: Sequence[x509.Certificate],
) -> list[SignatureReport]:
    document = _Document(
        reader=reader,
        trust_roots=tuple(trust_roots),
        signature_revisions=frozenset(_signed_revision(s) for s in signatures),
    )
    context = ValidationContext(
        trust_roots=[translate_pyca_cryptography_cert_to_asn1(root) for root in trust_roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        return [await _check_one(document, signature, context) for signature in signatures]
    finally:
        await context.aclose()


def _signed_revision(signature: EmbeddedPdfSignature) -> int | None:
    try:
        return signature.signed_revision
    except Exception:
        return None


def _field_name(signature: EmbeddedPdfSignature) -> str:
    try:
        return str(signature.field_name)
    except Exception:
        return "?"


async def _check_one(
    document: _Document, signature: EmbeddedPdfSignature, context: ValidationContext
) -> SignatureReport:
    field = _field_name(signature)
    if signature.sig_object_type != "/Sig":
        return _unusable(field, "unsupported", lazy_gettext(
            "Signature %(field)s is a document timestamp, which this system does not "
            "verify.", field=field))
    try:
        status = await async_validate_pdf_signature(
            signature, context, key_usage_settings=_KEY_USAGE
        )
        return _report(document, signature, field, status)
    except Exception:
        return _unusable(field, "damaged", lazy_gettext(
            "Signature %(field)s is damaged and cannot be checked.", field=field))


def _report(
    document: _Document,
    signature: EmbeddedPdfSignature,
    field: str,
    status: PdfSignatureStatus,
) -> SignatureReport:
    container = _container(document, signature)
    intact = status.intact and status.valid and container is not Container.ALTERED
    trusted = intact and _trusted(status)
    if trusted and container is Container.UNVERIFIABLE:
        # A trusted signature carrying an extra certificate nobody can check: its bytes
        # could have been changed, so the signature is not taken as intact.
        intact = trusted = False
    covers = intact and _covers_document(document, signature, status)
    signing_time, timestamped = _signing_time(status)
    common_name, organization = _subject(status)
    code, reason = _signature_outcome(
        organization or common_name or field, intact, trusted, covers
    )
    return SignatureReport(
        field_name=field,
        signer_common_name=common_name,
        signer_organization=organization,
        signing_time=signing_time,
        timestamped=timestamped,
        intact=intact,
        trusted=trusted,
        covers_document=covers,
        code=code,
        reason=reason,
        whole_file=intact and status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
    )


def _unusable(field: str, code: str, reason: LazyString) -> SignatureReport:
    return SignatureReport(
        field_name=field, signer_common_name=None, signer_organization=None,
        signing_time=None, timestamped=False, intact=False, trusted=False,
        covers_document=False, code=code, reason=reason,
    )


def _signature_outcome(
    signer: str, intact: bool, trusted: bool, covers: bool
) -> tuple[str, LazyString]:
    """The outcome code and the sentence the verification page shows for it."""
    if not intact:
        return "altered", lazy_gettext(
            "The signature of %(signer)s does not match the document: the document or the "
            "signature was changed after signing.", signer=signer)
    if not covers:
        return "modified_after_signing", lazy_gettext(
            "The document was changed after %(signer)s signed it.", signer=signer)
    if not trusted:
        return "untrusted", lazy_gettext(
            "The certificate of %(signer)s is not trusted: it was not issued by a trusted "
            "certificate authority, or it has expired or been revoked.", signer=signer)
    return "valid", lazy_gettext("The signature of %(signer)s is valid.", signer=signer)


def _container(document: _Document, signature: EmbeddedPdfSignature) -> Container:
    """Check the unsigned ``/Contents`` gap of the file (see :mod:`documents.cms_check`)."""
    try:
        start, length, second_start, _second_length = (int(n) for n in signature.byte_range)
    except (TypeError, ValueError):
        return Container.ALTERED
    stream = document.reader.stream
    stream.seek(start + length)
    gap = stream.read(max(second_start - start - length, 0))
    return check_contents(gap, signature.pkcs7_content, document.trust_roots)


def _trusted(status: PdfSignatureStatus) -> bool:
    timestamp = status.timestamp_validity
    timestamp_ok = timestamp is None or (
        timestamp.intact and timestamp.valid and timestamp.trusted
    )
    return status.trusted and timestamp_ok


def _covers_document(
    document: _Document, signature: EmbeddedPdfSignature, status: PdfSignatureStatus
) -> bool:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return True
    total_revisions = document.reader.xrefs.total_revisions
    later_revisions = range(signature.signed_revision + 1, total_revisions)
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION or not later_revisions:
        return False
    only_signatures_follow = all(
        revision in document.signature_revisions for revision in later_revisions
    )
    diff = status.diff_result
    return (
        only_signatures_follow
        and isinstance(diff, DiffResult)
        and diff.modification_level <= ModificationLevel.FORM_FILLING
    )


def _signing_time(status: PdfSignatureStatus) -> tuple[datetime | None, bool]:
    """The time from a trusted timestamp token if there is one, else the signer's claim."""
    timestamp = status.timestamp_validity
    if timestamp is not None and timestamp.trusted:
        return timestamp.timestamp, True
    return status.signer_reported_dt, False


def _subject(status: PdfSignatureStatus) -> tuple[str | None, str | None]:
    subject = status.signing_cert.subject.native
    return _first(subject.get("common_name")), _first(subject.get("organization_name"))


def _first(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return value[0] if value else None
    return value
