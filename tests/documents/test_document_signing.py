"""PAdES signing: valid and trusted for our verifier and for poppler's pdfsig."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest

from documents import pki
from documents.signing import SigningError, TimestampUnavailable, sign_pdf
from documents.verify import verify_pdf

SIGN_ARGS = {"reason": "联合验收签署", "location": "山东省淄博市张店区"}


def test_signed_record_is_valid_and_trusted(signed_pdf, ca):
    report = verify_pdf(signed_pdf, [ca[1]])
    assert report.valid, report.reason
    assert report.code == "valid"
    [signature] = report.signatures
    assert signature.field_name == "committee"
    assert signature.signer_common_name == "和平社区居民委员会"
    assert signature.signer_organization == "和平社区居民委员会"
    assert signature.intact and signature.trusted and signature.covers_document
    assert not signature.timestamped
    assert abs(signature.signing_time - datetime.now(timezone.utc)) < timedelta(hours=1)


def test_pdfsig_reports_valid_trusted_whole_document_pades(signed_pdf, pdfsig):
    output = pdfsig(signed_pdf)
    assert "Signature is Valid" in output
    assert "Certificate is Trusted" in output
    assert "Total document signed" in output
    assert "Not total document signed" not in output
    assert "Signature Type: ETSI.CAdES.detached" in output
    assert "Signer Certificate Common Name: 和平社区居民委员会" in output


def test_countersigned_record_keeps_both_signatures_valid(countersigned_pdf, ca):
    report = verify_pdf(countersigned_pdf, [ca[1]])
    assert report.valid, report.reason
    assert [s.field_name for s in report.signatures] == ["committee", "owners"]
    assert [s.signer_organization for s in report.signatures] == [
        "和平社区居民委员会", "东高小区业主委员会",
    ]
    assert all(s.valid for s in report.signatures)


def test_pdfsig_accepts_both_signatures_of_a_countersigned_record(countersigned_pdf, pdfsig):
    output = pdfsig(countersigned_pdf)
    first, second = output.split("Signature #2:")
    assert "Signature is Valid" in first and "Certificate is Trusted" in first
    assert "Signature is Valid" in second and "Certificate is Trusted" in second
    assert "Total document signed" in second and "Not total" not in second


def test_rsa_organisation_key_signs_too(record_pdf, ca, pdfsig):
    key, cert = pki.issue_org_certificate(
        *ca, "公园街道办事处", "11370303MB0000000X", key_type="rsa-2048"
    )
    signed = sign_pdf(record_pdf, key, cert, [ca[1]], field_name="street", **SIGN_ARGS)
    assert verify_pdf(signed, [ca[1]]).valid
    output = pdfsig(signed)
    assert "Signature is Valid" in output and "Total document signed" in output


def test_signing_with_a_timestamp_authority_gives_a_trusted_time(
    record_pdf, committee, ca, tsa_url
):
    signed = sign_pdf(
        record_pdf, *committee, [ca[1]], field_name="committee", timestamp_url=tsa_url, **SIGN_ARGS
    )
    report = verify_pdf(signed, [ca[1]])
    assert report.valid, report.reason
    [signature] = report.signatures
    assert signature.timestamped
    assert abs(signature.signing_time - datetime.now(timezone.utc)) < timedelta(minutes=5)


def test_timestamp_from_an_untrusted_authority_is_not_trusted(
    record_pdf, committee, ca, untrusted_tsa_url
):
    signed = sign_pdf(
        record_pdf, *committee, [ca[1]], field_name="committee",
        timestamp_url=untrusted_tsa_url, **SIGN_ARGS,
    )
    report = verify_pdf(signed, [ca[1]])
    assert not report.valid and report.code == "untrusted"
    [signature] = report.signatures
    assert signature.intact and not signature.trusted and not signature.timestamped


def test_unreachable_timestamp_authority_is_reported(record_pdf, committee, ca):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TimestampUnavailable):
        sign_pdf(
            record_pdf, *committee, [ca[1]], field_name="committee",
            timestamp_url=f"http://127.0.0.1:{port}/tsa", **SIGN_ARGS,
        )


def test_a_signature_field_name_cannot_be_signed_twice(signed_pdf, owners, ca):
    with pytest.raises(SigningError, match="already has a signature named committee"):
        sign_pdf(signed_pdf, *owners, [ca[1]], field_name="committee", **SIGN_ARGS)


def test_key_must_match_certificate(record_pdf, committee, owners, ca):
    with pytest.raises(SigningError, match="does not match"):
        sign_pdf(record_pdf, committee[0], owners[1], [ca[1]], field_name="x", **SIGN_ARGS)


def test_non_pdf_input_is_refused(committee, ca):
    with pytest.raises(SigningError, match="not a readable PDF"):
        sign_pdf(b"hello", *committee, [ca[1]], field_name="committee", **SIGN_ARGS)


@pytest.mark.parametrize("field_name", ["", "a.b"])
def test_field_name_must_be_simple(record_pdf, committee, ca, field_name):
    with pytest.raises(SigningError, match="field name"):
        sign_pdf(record_pdf, *committee, [ca[1]], field_name=field_name, **SIGN_ARGS)
