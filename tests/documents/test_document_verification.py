"""Verification: any change after signing is caught, bad input gives a reason, not a crash."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
from asn1crypto import cms
from asn1crypto import parser as asn1_parser
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from documents import pki
from documents.signing import sign_pdf
from documents.verify import verify_pdf


def _flip(data: bytes, offset: int, mask: int = 0xFF) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= mask
    return bytes(changed)


def _content_stream_offset(pdf: bytes) -> int:
    """An offset in the middle of the first page's content stream data."""
    page = PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    contents = page.raw_get("/Contents")
    if isinstance(contents, generic.ArrayObject):
        contents = contents[0]
    object_start = re.search(rb"(?<![0-9])%d 0 obj" % contents.idnum, pdf).start()
    data_start = pdf.index(b"stream", object_start) + len(b"stream\n")
    length = int(contents.get_object().raw_get("/Length"))
    return data_start + length // 2


def _signature_gap(pdf: bytes) -> tuple[int, int]:
    """Start and end offsets of the last signature's ``<hex>`` /Contents string."""
    numbers = re.findall(rb"/ByteRange \[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)[-1]
    _start, length, second_start, _second_length = map(int, numbers)
    return length, second_start


def _with_annotation(pdf: bytes) -> bytes:
    """An incremental update adding a text annotation to page 1, as an editor would."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page_ref = writer.root["/Pages"].raw_get("/Kids")[0]
    page = page_ref.get_object()
    annotation = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
        generic.NameObject("/Rect"): generic.ArrayObject(
            [generic.NumberObject(n) for n in (100, 700, 300, 750)]
        ),
        generic.NameObject("/Contents"): generic.TextStringObject("不合格 改为 合格"),
        generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
    }))
    page[generic.NameObject("/Annots")] = generic.ArrayObject([annotation])
    writer.update_container(page)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def _with_new_info(pdf: bytes) -> bytes:
    """An incremental update that only replaces the document information dictionary."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.set_info(generic.DictionaryObject({
        generic.NameObject("/Title"): generic.TextStringObject("篡改后的验收记录"),
    }))
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def _assert_rejected_by_pdfsig(output: str) -> None:
    """pdfsig must either not call the document wholly signed or not call it valid."""
    whole = "Total document signed" in output and "Not total document signed" not in output
    assert not (whole and "Signature is Valid" in output), output


@pytest.mark.parametrize("offset", [0, 3, 6, 9, 12])
def test_flipped_byte_in_header_is_rejected(signed_pdf, ca, pdfsig, offset):
    tampered = _flip(signed_pdf, offset)
    report = verify_pdf(tampered, [ca[1]])
    assert not report.valid
    assert report.code in {"altered", "unreadable"}
    _assert_rejected_by_pdfsig(pdfsig(tampered))


def test_flipped_byte_in_content_stream_is_rejected(signed_pdf, ca, pdfsig):
    tampered = _flip(signed_pdf, _content_stream_offset(signed_pdf))
    report = verify_pdf(tampered, [ca[1]])
    assert not report.valid and report.code == "altered"
    assert not report.signatures[0].intact
    assert "Signature is Valid" not in pdfsig(tampered)


def test_appended_annotation_is_rejected(signed_pdf, ca, pdfsig):
    tampered = _with_annotation(signed_pdf)
    report = verify_pdf(tampered, [ca[1]])
    assert not report.valid and report.code == "modified_after_signing"
    [signature] = report.signatures
    assert signature.intact and signature.trusted and not signature.covers_document
    _assert_rejected_by_pdfsig(pdfsig(tampered))


def test_appended_info_change_is_rejected(signed_pdf, ca, pdfsig):
    tampered = _with_new_info(signed_pdf)
    report = verify_pdf(tampered, [ca[1]])
    assert not report.valid and report.code == "modified_after_signing"
    assert "changed after 和平社区居民委员会 signed it" in str(report.reason)
    _assert_rejected_by_pdfsig(pdfsig(tampered))


def test_update_after_a_countersignature_is_rejected(countersigned_pdf, ca, pdfsig):
    tampered = _with_annotation(countersigned_pdf)
    report = verify_pdf(tampered, [ca[1]])
    assert not report.valid
    assert not any(signature.covers_document for signature in report.signatures)
    _assert_rejected_by_pdfsig(pdfsig(tampered).split("Signature #2:")[1])


def test_change_slipped_in_before_a_countersignature_invalidates_the_first(
    signed_pdf, owners, ca
):
    altered = _with_new_info(signed_pdf)
    countersigned = sign_pdf(
        altered, *owners, [ca[1]], field_name="owners", reason="会签", location="淄博"
    )
    report = verify_pdf(countersigned, [ca[1]])
    assert not report.valid and report.code == "modified_after_signing"
    first, second = report.signatures
    assert not first.covers_document
    assert second.valid


def test_trailing_bytes_after_the_signature_are_rejected(signed_pdf, ca):
    report = verify_pdf(signed_pdf + b"\n% appended\n", [ca[1]])
    assert not report.valid and report.code == "modified_after_signing"


def _edit_signature(pdf: bytes, edit) -> bytes:
    """The PDF with the last signature's decoded /Contents changed in place by ``edit``."""
    gap_start, gap_end = _signature_gap(pdf)
    contents = bytearray(bytes.fromhex(pdf[gap_start + 1:gap_end - 1].decode("ascii")))
    edit(contents)
    hex_contents = contents.hex().upper().encode("ascii")
    return pdf[:gap_start + 1] + hex_contents + pdf[gap_end - 1:]


def _signed_data_version_offset(contents: bytes) -> int:
    """Offset of the SignedData version INTEGER: ContentInfo, its OID, [0], SignedData."""
    offset = 0
    for step in ("enter", "skip", "enter", "enter"):
        header, element_contents = asn1_parser.parse(contents[offset:])[3:5]
        offset += len(header) + (len(element_contents) if step == "skip" else 0)
    return offset


def _children_length(contents: bytes, count: int) -> int:
    """Bytes taken by the first ``count`` DER elements of ``contents``."""
    offset = 0
    for _ in range(count):
        header, element_contents = asn1_parser.parse(contents[offset:])[3:5]
        offset += len(header) + len(element_contents)
    return offset


def test_changed_copy_of_the_root_in_the_signature_is_rejected(signed_pdf, ca):
    root = ca[1].public_bytes(serialization.Encoding.DER)

    def flip_in_root(contents: bytearray) -> None:
        contents[contents.index(root) + len(root) // 2] ^= 0x01

    report = verify_pdf(_edit_signature(signed_pdf, flip_in_root), [ca[1]])
    assert not report.valid and report.code == "altered"


def test_signature_length_swallowing_the_padding_is_rejected(signed_pdf, ca):
    def grow_outer_length(contents: bytearray) -> None:
        assert contents[:2] == b"\x30\x82"
        length = int.from_bytes(contents[2:4], "big") + 16
        contents[2:4] = length.to_bytes(2, "big")

    report = verify_pdf(_edit_signature(signed_pdf, grow_outer_length), [ca[1]])
    assert not report.valid and report.code in {"altered", "unreadable", "damaged"}


def test_changed_cms_version_is_rejected(signed_pdf, ca):
    def bump_version(contents: bytearray) -> None:
        offset = _signed_data_version_offset(bytes(contents))
        assert contents[offset:offset + 3] == b"\x02\x01\x01"
        contents[offset + 2] = 3

    report = verify_pdf(_edit_signature(signed_pdf, bump_version), [ca[1]])
    assert not report.valid and report.code == "altered"


def test_unused_bits_count_of_an_embedded_certificate_signature_is_checked(signed_pdf, ca):
    root = ca[1].public_bytes(serialization.Encoding.DER)
    root_contents = asn1_parser.parse(root)[4]
    signature_bits = asn1_parser.parse(root_contents[_children_length(root_contents, 2):])[4]
    unused_bits_offset = len(root) - len(signature_bits)

    def mark_one_unused_bit(contents: bytearray) -> None:
        offset = contents.index(root) + unused_bits_offset
        assert contents[offset] == 0
        contents[offset] = 1

    report = verify_pdf(_edit_signature(signed_pdf, mark_one_unused_bit), [ca[1]])
    assert not report.valid and report.code == "altered"


def test_timestamp_hidden_behind_a_changed_tag_is_rejected(record_pdf, committee, ca, tsa_url):
    signed = sign_pdf(
        record_pdf, *committee, [ca[1]], field_name="committee", timestamp_url=tsa_url,
        reason="r", location="l",
    )

    def retag_unsigned_attributes(contents: bytearray) -> None:
        signer_info = cms.ContentInfo.load(bytes(contents))["content"]["signer_infos"][0]
        offset = bytes(contents).index(signer_info["unsigned_attrs"].dump())
        assert contents[offset] == 0xA1
        contents[offset] = 0xA0

    report = verify_pdf(_edit_signature(signed, retag_unsigned_attributes), [ca[1]])
    assert not report.valid and report.code == "altered"


def test_changed_letter_case_in_the_signer_identifier_is_rejected(signed_pdf, ca):
    def lower_country_code(contents: bytearray) -> None:
        signer_info = cms.ContentInfo.load(bytes(contents))["content"]["signer_infos"][0]
        sid = signer_info["sid"].dump()
        start = bytes(contents).index(sid)
        country = sid.index(b"\x13\x02CN")
        contents[start + country + 2] = ord("c")

    report = verify_pdf(_edit_signature(signed_pdf, lower_country_code), [ca[1]])
    assert not report.valid and report.code == "altered"


def test_unchanged_rewrite_of_the_signature_stays_valid(signed_pdf, ca):
    assert verify_pdf(_edit_signature(signed_pdf, lambda contents: None), [ca[1]]).valid


def _sample_offsets(pdf: bytes) -> list[int]:
    gap_start, gap_end = _signature_gap(pdf)
    hex_letter = gap_start + 1 + re.search(rb"[A-Fa-f]", pdf[gap_start + 1:gap_end]).start()
    evenly_spaced = [len(pdf) * step // 24 for step in range(24)]
    around_gap = [gap_start - 1, gap_start, gap_start + 1, hex_letter, gap_end - 2, gap_end - 1]
    return sorted(set(evenly_spaced + around_gap + [len(pdf) - 1]))


@pytest.mark.parametrize("mask", [0xFF, 0x01, 0x20])
def test_a_changed_byte_anywhere_is_rejected(countersigned_pdf, ca, mask):
    for offset in _sample_offsets(countersigned_pdf):
        report = verify_pdf(_flip(countersigned_pdf, offset, mask), [ca[1]])
        assert not report.valid, (offset, mask, report.code)


def test_signature_from_an_untrusted_ca_is_intact_but_not_trusted(signed_pdf, other_ca):
    report = verify_pdf(signed_pdf, [other_ca[1]])
    assert not report.valid and report.code == "untrusted"
    [signature] = report.signatures
    assert signature.intact and signature.covers_document and not signature.trusted


def test_no_trust_roots_means_nothing_is_trusted(signed_pdf):
    report = verify_pdf(signed_pdf, [])
    assert not report.valid and not report.signatures[0].trusted


def _expired_certificate(ca) -> tuple[pki.SigningKey, x509.Certificate]:
    ca_key, ca_cert = ca
    key = pki.generate_private_key()
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "过期单位")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now - timedelta(days=1))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def test_expired_certificate_is_not_trusted(record_pdf, ca):
    key, cert = _expired_certificate(ca)
    signed = sign_pdf(record_pdf, key, cert, [ca[1]], field_name="expired", reason="r", location="l")
    report = verify_pdf(signed, [ca[1]])
    assert not report.valid and report.code == "untrusted"
    assert report.signatures[0].intact and not report.signatures[0].trusted


def test_unsigned_pdf_is_reported_as_not_signed(record_pdf, ca):
    report = verify_pdf(record_pdf, [ca[1]])
    assert not report.valid and report.code == "no_signatures"
    assert str(report.reason) == "The document is not signed."
    assert report.signatures == ()


@pytest.mark.parametrize(
    "data", [b"", b"hello world", "不是PDF".encode(), b"\x89PNG\r\n\x1a\n" + bytes(100)],
    ids=["empty", "text", "chinese-text", "png"],
)
def test_bytes_that_are_not_a_pdf_give_a_reason(data, ca):
    report = verify_pdf(data, [ca[1]])
    assert not report.valid and report.code == "not_pdf"
    assert str(report.reason) == "The file is not a PDF document."


def test_truncated_pdf_gives_a_reason(signed_pdf, ca):
    report = verify_pdf(signed_pdf[: len(signed_pdf) // 2], [ca[1]])
    assert not report.valid and report.code in {"unreadable", "not_pdf"}
    assert str(report.reason)


def test_valid_report_explains_itself(countersigned_pdf, ca):
    report = verify_pdf(countersigned_pdf, [ca[1]])
    assert str(report.reason).startswith("The document has not changed since it was signed")
    assert [str(s.reason) for s in report.signatures] == [
        "The signature of 和平社区居民委员会 is valid.",
        "The signature of 东高小区业主委员会 is valid.",
    ]
