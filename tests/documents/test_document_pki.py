"""Certificate authority, organisation certificates, PKCS#12 import, keys at rest."""
from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from documents import pki


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    return name.get_attributes_for_oid(oid)[0].value


def _pkcs12(key, cert, chain, password: bytes | None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"org", key, cert, chain, encryption)


def test_ca_is_a_self_signed_authority_for_end_entities_only(ca):
    _key, cert = ca
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert constraints.ca and constraints.path_length == 0
    assert usage.key_cert_sign and usage.crl_sign
    cert.verify_directly_issued_by(cert)
    assert _attribute(cert.subject, NameOID.ORGANIZATION_NAME) == "无极测试认证中心"


def test_org_certificate_is_issued_by_the_ca_for_document_signing(ca, committee):
    _key, cert = committee
    cert.verify_directly_issued_by(ca[1])
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert usage.digital_signature and usage.content_commitment
    assert not usage.key_cert_sign and not constraints.ca
    assert _attribute(cert.subject, NameOID.ORGANIZATION_NAME) == "和平社区居民委员会"
    assert _attribute(cert.subject, NameOID.COMMON_NAME) == "和平社区居民委员会"
    assert (
        _attribute(cert.subject, x509.ObjectIdentifier("2.5.4.97"))
        == "NTRCN-553703037628401234"
    )
    assert cert.not_valid_after_utc <= ca[1].not_valid_after_utc


def test_default_key_is_ecdsa_p256_and_rsa_is_available(ca, committee):
    key, _cert = committee
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    rsa_key, rsa_cert = pki.issue_org_certificate(
        *ca, "公园街道办事处", "11370303MB0000000X", key_type="rsa-3072"
    )
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and rsa_key.key_size == 3072
    assert rsa_cert.public_key() == rsa_key.public_key()


def test_org_certificate_never_outlives_the_ca(ca):
    short_key, short_ca = pki.create_ca("短期根证书", "测试", valid_days=30)
    _key, cert = pki.issue_org_certificate(short_key, short_ca, "测试单位", "X1", valid_days=3650)
    assert cert.not_valid_after_utc == short_ca.not_valid_after_utc


@pytest.mark.parametrize("org_code", ["", "   ", "A" * 65, "CODE\n1"])
def test_org_code_must_be_printable_text(ca, org_code):
    with pytest.raises(pki.PKIError, match="organization code"):
        pki.issue_org_certificate(*ca, "和平社区居民委员会", org_code)


def test_pkcs12_import_returns_key_certificate_and_chain(ca, committee):
    key, cert = committee
    data = _pkcs12(key, cert, [ca[1]], b"s3cret")
    loaded_key, loaded_cert, chain = pki.load_pkcs12(data, b"s3cret")
    assert loaded_cert == cert
    assert loaded_key.public_key() == key.public_key()
    assert chain == [ca[1]]


def test_pkcs12_with_wrong_password_says_so(committee):
    data = _pkcs12(*committee, [], b"s3cret")
    with pytest.raises(pki.Pkcs12PasswordError, match="Wrong password"):
        pki.load_pkcs12(data, b"guess")


def test_pkcs12_without_password_asks_for_it(committee):
    data = _pkcs12(*committee, [], b"s3cret")
    with pytest.raises(pki.Pkcs12PasswordError, match="protected by a password"):
        pki.load_pkcs12(data, None)


def test_unencrypted_pkcs12_loads_without_password(committee):
    _key, cert = committee
    assert pki.load_pkcs12(_pkcs12(*committee, [], None), None)[1] == cert


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"%PDF-1.7\n%%EOF\n", b"\x30\x03\x02\x01\x03"],
    ids=["empty", "text", "pdf", "truncated-der"],
)
def test_file_that_is_not_pkcs12_is_named_as_such(data):
    with pytest.raises(pki.NotPkcs12Error, match="not a PKCS#12"):
        pki.load_pkcs12(data, b"s3cret")


def test_certificate_pem_is_not_mistaken_for_pkcs12(committee):
    with pytest.raises(pki.NotPkcs12Error):
        pki.load_pkcs12(pki.certificate_to_pem(committee[1]), None)


def test_pkcs12_errors_are_value_errors(committee):
    with pytest.raises(ValueError):
        pki.load_pkcs12(b"hello", None)


def test_encrypted_key_round_trip(committee):
    key, _cert = committee
    blob = pki.encrypt_private_key(key, "instance secret key")
    assert blob.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert b"instance secret key" not in blob
    restored = pki.decrypt_private_key(blob, "instance secret key")
    assert restored.public_key() == key.public_key()


def test_encrypted_key_rejects_a_different_secret(committee):
    blob = pki.encrypt_private_key(committee[0], "instance secret key")
    with pytest.raises(pki.KeyDecryptionError, match="cannot be decrypted"):
        pki.decrypt_private_key(blob, "another secret")


def test_damaged_key_blob_is_reported(committee):
    blob = pki.encrypt_private_key(committee[0], "instance secret key")
    damaged = blob[: len(blob) // 2]
    with pytest.raises(pki.KeyDecryptionError):
        pki.decrypt_private_key(damaged, "instance secret key")


def test_empty_secret_is_refused(committee):
    with pytest.raises(pki.PKIError, match="secret is required"):
        pki.encrypt_private_key(committee[0], "")


def test_certificates_load_from_pem_bundle_and_der(ca, committee):
    bundle = pki.certificate_to_pem(committee[1]) + pki.certificate_to_pem(ca[1])
    assert pki.load_certificates(bundle) == [committee[1], ca[1]]
    der = ca[1].public_bytes(serialization.Encoding.DER)
    assert pki.load_certificates(der) == [ca[1]]
    with pytest.raises(pki.PKIError, match="not a certificate"):
        pki.load_certificates(b"not a certificate")


def test_fingerprint_is_sha256_colon_hex(ca):
    fingerprint = pki.certificate_fingerprint(ca[1])
    assert len(fingerprint.split(":")) == 32
    assert fingerprint == fingerprint.upper()
