"""PAdES signatures with pyHanko.

Every signature is a PAdES baseline signature (SubFilter ETSI.CAdES.detached, SHA-256)
in an invisible signature field: B-B by default, B-T when a timestamp authority URL is
given. Signing appends an incremental update, so a document signed by one organisation
can be countersigned by the next one without disturbing the first signature.

Keys stay in memory: pyca/cryptography objects are translated to the ASN.1 structures
that pyHanko's ``SimpleSigner`` holds; nothing is written to disk.
"""
from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO

from cryptography import x509
from flask_babel import lazy_gettext
from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from documents.pki import SigningKey

DIGEST_ALGORITHM = "sha256"
TIMESTAMP_TIMEOUT_SECONDS = 10


class SigningError(ValueError):
    """The document cannot be signed as asked; ``str()`` is for the user."""


class TimestampUnavailable(RuntimeError):
    """The timestamp authority did not answer with a timestamp (B-T signing)."""


def make_signer(
    key: SigningKey, cert: x509.Certificate, chain: Iterable[x509.Certificate] = ()
) -> signers.SimpleSigner:
    """A pyHanko signer holding the key in memory; ``chain`` certificates are embedded
    in each signature so that verifiers can build the path to the root."""
    if key.public_key() != cert.public_key():
        raise SigningError(lazy_gettext("The private key does not match the certificate."))
    return signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
        signing_key=translate_pyca_cryptography_key_to_asn1(key),
        cert_registry=SimpleCertificateStore.from_certs(
            [translate_pyca_cryptography_cert_to_asn1(c) for c in chain]
        ),
    )


def _open_for_update(pdf_bytes: bytes, field_name: str) -> IncrementalPdfFileWriter:
    """A writer over the document, refusing a field name that is taken by a signature."""
    if not field_name or "." in field_name:
        raise SigningError(
            lazy_gettext("A signature field name must be non-empty and contain no dot.")
        )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes))
        existing = list(fields.enumerate_sig_fields(writer, filled_status=True))
    except (PdfError, ValueError) as error:
        raise SigningError(lazy_gettext("The document is not a readable PDF file.")) from error
    if any(name == field_name for name, _value, _ref in existing):
        raise SigningError(
            lazy_gettext(
                "The document already has a signature named %(field)s.", field=field_name
            )
        )
    return writer


def sign_pdf(
    pdf_bytes: bytes,
    key: SigningKey,
    cert: x509.Certificate,
    chain: Iterable[x509.Certificate] = (),
    *,
    field_name: str,
    reason: str,
    location: str,
    signer_name: str | None = None,
    timestamp_url: str | None = None,
) -> bytes:
    """The document with one more PAdES signature, in a new field ``field_name``.

    ``reason``, ``location`` and ``signer_name`` are recorded in the signature dictionary
    (Acrobat shows them); the signer's identity that verifiers trust is the certificate.
    With ``timestamp_url`` (an RFC 3161 TSA) the signature gets a signature timestamp
    (PAdES B-T); :class:`TimestampUnavailable` is raised when the TSA fails.
    """
    writer = _open_for_update(pdf_bytes, field_name)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        name=signer_name,
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    timestamper = (
        HTTPTimeStamper(timestamp_url, timeout=TIMESTAMP_TIMEOUT_SECONDS)
        if timestamp_url
        else None
    )
    try:
        output = signers.sign_pdf(
            writer, metadata, signer=make_signer(key, cert, chain), timestamper=timestamper
        )
    except TimestampRequestError as error:
        raise TimestampUnavailable(
            lazy_gettext("The timestamp authority did not return a timestamp.")
        ) from error
    return output.getvalue()
