"""Checks that the unsigned bytes of a PDF signature are exactly what a signer writes.

A PDF signature hashes every byte of the file except its own ``/Contents`` string, and the
CMS object in that string is itself only partly signed: the signer's signature covers the
signed attributes (which hold the document digest), but not the container around them
(versions, the digest algorithm list, the embedded certificates, the zero padding). pyHanko
validates what matters for trust, yet a changed bit in, say, the embedded copy of the root
certificate or in the outer length (swallowing padding) leaves its verdict unchanged. The
Electronic Signature Law asks that any change to the signature be detectable, so this
module requires the container to be canonical:

- ``/Contents`` is one hex string in one letter case: the CMS object, then zero bytes;
- the CMS object has a DER tag-length structure (no hidden slack for a changed length);
- versions and the digest algorithm list are the ones RFC 5652 prescribes for the
  signer info, the content is detached ``data`` (or ``tst_info`` in a timestamp token),
  and the signer identifier names an embedded certificate exactly;
- every embedded certificate and CRL is signed by its issuer, found among the embedded
  certificates or the trust roots, so no byte of any of them can change unnoticed;
- the only unsigned attributes are signature timestamp tokens, checked the same way.

A certificate whose issuer is neither embedded nor trusted cannot be checked: the result is
then ``UNVERIFIABLE`` rather than ``ALTERED``, and the caller decides (such a signature does
not chain to a trust root either, unless the certificate is a stray extra).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import IntEnum

from asn1crypto import cms, core
from asn1crypto import parser as asn1_parser
from cryptography import x509

_CANONICAL_HEX = re.compile(rb"<(?:[0-9a-f]*|[0-9A-F]*)>")
_TIMESTAMP_TOKEN = "signature_time_stamp_token"
_UNIVERSAL_CONSTRUCTED = {16, 17}  # SEQUENCE and SET; DER encodes other universal types primitive
_MAX_DER_DEPTH = 32
_BIT_STRING = 3


class Container(IntEnum):
    """Outcome of the check; a larger value is worse, so ``max`` combines outcomes."""

    CANONICAL = 0
    UNVERIFIABLE = 1
    ALTERED = 2


def _worst(outcomes: Iterable[Container]) -> Container:
    return max(outcomes, default=Container.CANONICAL)


def check_contents(
    gap: bytes, contents: bytes, trust_roots: Sequence[x509.Certificate]
) -> Container:
    """Whether the unsigned gap of the file holds exactly a canonical CMS signature
    (``CANONICAL``), was changed (``ALTERED``), or holds certificates nobody can check.

    ``gap`` is the raw bytes between the two parts of the signature's ``/ByteRange``;
    ``contents`` the decoded ``/Contents`` string.
    """
    if not _CANONICAL_HEX.fullmatch(gap):
        return Container.ALTERED
    try:
        element = asn1_parser.parse(contents)
        der = contents[: len(element[3]) + len(element[4]) + len(element[5])]
        if contents[len(der):].strip(b"\x00"):
            return Container.ALTERED
        return _check_container(der, trust_roots)
    except Exception:
        return Container.ALTERED


def _der_structure(data: bytes, depth: int = 0) -> bool:
    """Whether ``data`` is a run of DER elements: definite minimal lengths, children that
    exactly fill their parent, no end-of-contents markers, universal strings primitive,
    bit strings whole octets.

    Walking the tag-length structure is what matters here: a changed length would let
    an element swallow padding or shadow bytes that the parsers then ignore, and a
    certificate's signature verifies whatever its bit string's unused-bits count says.
    (asn1crypto's ``dump(force=True)`` re-encodes everything, but takes most of a second
    per signature.)
    """
    if depth > _MAX_DER_DEPTH:
        return False
    offset = 0
    while offset < len(data):
        class_, method, tag, header, contents, trailer = asn1_parser.parse(data[offset:])
        if trailer or (class_ == 0 and tag == 0):
            return False
        if asn1_parser.emit(class_, method, tag, contents) != header + contents:
            return False
        if class_ == 0 and tag == _BIT_STRING and method == 0 and contents[:1] != b"\x00":
            return False
        if method == 1:
            if class_ == 0 and tag not in _UNIVERSAL_CONSTRUCTED:
                return False
            if not _der_structure(contents, depth + 1):
                return False
        offset += len(header) + len(contents)
    return True


def _parsed_exactly(value: core.Sequence) -> bool:
    """Whether the parsed fields account for every byte of the sequence.

    asn1crypto skips an element it does not expect, so a changed tag can hide a field
    (say, turn the unsigned attributes holding the timestamp into ignored bytes).
    """
    return b"".join(value[name].dump() for name in value) == value.contents


def _check_container(der: bytes, trust_roots: Sequence[x509.Certificate]) -> Container:
    if not _der_structure(der):
        return Container.ALTERED
    return _check_content_info(cms.ContentInfo.load(der), "data", list(trust_roots))


def _check_content_info(
    info: cms.ContentInfo, content_type: str, known: list[x509.Certificate]
) -> Container:
    if info["content_type"].native != "signed_data" or not _parsed_exactly(info):
        return Container.ALTERED
    return _check_signed_data(info["content"], content_type, known)


def _check_signed_data(
    signed_data: cms.SignedData, content_type: str, known: list[x509.Certificate]
) -> Container:
    signer_infos = list(signed_data["signer_infos"])
    certificates = _embedded_certificates(signed_data)
    if len(signer_infos) != 1 or certificates is None:
        return Container.ALTERED
    signer_info = signer_infos[0]
    skeleton_ok = (
        all(
            _parsed_exactly(value)
            for value in (signed_data, signed_data["encap_content_info"], signer_info)
        )
        and _versions_canonical(signed_data, signer_info, content_type)
        and [a.dump() for a in signed_data["digest_algorithms"]]
        == [signer_info["digest_algorithm"].dump()]
        and _content_canonical(signed_data["encap_content_info"], content_type)
    )
    if not skeleton_ok:
        return Container.ALTERED
    issuers = certificates + known
    if not _identifies_embedded_signer(signer_info, signed_data):
        return Container.ALTERED if certificates else Container.UNVERIFIABLE
    return _worst([
        *(_check_issued(cert, issuers) for cert in certificates),
        _check_crls(signed_data, issuers),
        _check_unsigned_attributes(signer_info, issuers),
    ])


def _versions_canonical(
    signed_data: cms.SignedData, signer_info: cms.SignerInfo, content_type: str
) -> bool:
    """RFC 5652 sections 5.1 and 5.3, for one signer and X.509 certificates only."""
    by_key_identifier = signer_info["sid"].name == "subject_key_identifier"
    expected_signer_version = "v3" if by_key_identifier else "v1"
    expected_version = "v3" if by_key_identifier or content_type != "data" else "v1"
    return (
        signer_info["version"].native == expected_signer_version
        and signed_data["version"].native == expected_version
    )


def _identifies_embedded_signer(signer_info: cms.SignerInfo, signed_data: cms.SignedData) -> bool:
    """Whether the signer identifier names an embedded certificate byte for byte.

    Validators match the identifier leniently (RFC 5280 name comparison ignores letter
    case), so "C=cN" would still find the "C=CN" certificate; an exact match is required.
    """
    sid = signer_info["sid"]
    for choice in signed_data["certificates"] or []:
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            if (
                sid.chosen["issuer"].dump() == cert.issuer.dump()
                and sid.chosen["serial_number"].native == cert.serial_number
            ):
                return True
        elif sid.chosen.native == cert.key_identifier:
            return True
    return False


def _content_canonical(encapsulated: cms.EncapsulatedContentInfo, content_type: str) -> bool:
    """A signature's content is detached ``data``; a timestamp token carries its TSTInfo."""
    if encapsulated["content_type"].native != content_type:
        return False
    has_content = encapsulated["content"].native is not None
    return has_content == (content_type == "tst_info")


def _embedded_certificates(signed_data: cms.SignedData) -> list[x509.Certificate] | None:
    """The embedded X.509 certificates, or None when other kinds are embedded."""
    certificates = []
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            return None
        certificates.append(x509.load_der_x509_certificate(choice.chosen.dump()))
    return certificates


def _check_issued(cert: x509.Certificate, issuers: list[x509.Certificate]) -> Container:
    candidates = [issuer for issuer in issuers if issuer.subject == cert.issuer]
    if not candidates:
        return Container.UNVERIFIABLE
    for issuer in candidates:
        try:
            cert.verify_directly_issued_by(issuer)
        except Exception:
            continue
        return Container.CANONICAL
    return Container.ALTERED


def _check_crls(signed_data: cms.SignedData, issuers: list[x509.Certificate]) -> Container:
    outcomes = []
    for choice in signed_data["crls"] or []:
        if choice.name != "crl":
            return Container.ALTERED
        crl = x509.load_der_x509_crl(choice.chosen.dump())
        candidates = [issuer for issuer in issuers if issuer.subject == crl.issuer]
        if not candidates:
            outcomes.append(Container.UNVERIFIABLE)
        elif not any(crl.is_signature_valid(issuer.public_key()) for issuer in candidates):
            return Container.ALTERED
    return _worst(outcomes)


def _check_unsigned_attributes(
    signer_info: cms.SignerInfo, issuers: list[x509.Certificate]
) -> Container:
    outcomes = []
    for attribute in signer_info["unsigned_attrs"] or []:
        if attribute["type"].native != _TIMESTAMP_TOKEN or not _parsed_exactly(attribute):
            return Container.ALTERED
        for token in attribute["values"]:
            outcomes.append(_check_content_info(token, "tst_info", issuers))
    return _worst(outcomes)
