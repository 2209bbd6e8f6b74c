"""Keys and certificates for signing organisations (pyca/cryptography).

Two ways a deployment gets a signing certificate (DOMAIN.md section 5):

- a local certificate authority, fine for pilots and tests: :func:`create_ca` once, then
  :func:`issue_org_certificate` for each signing organisation (committee);
- a certificate from a licensed CA, imported from PKCS#12 with :func:`load_pkcs12`.

Private keys are stored encrypted (:func:`encrypt_private_key`). Error messages are meant for
the person importing a file or running a command: they are ``lazy_gettext`` strings, shown
in English outside a Flask request and translated inside one.

Default key type: ECDSA P-256. It gives about 128-bit security (comparable to RSA-3072,
the size ETSI TS 119 312 asks for beyond 2025), keys are generated in milliseconds (RSA-3072
can take a second), and signatures are small; pyHanko, poppler/NSS and Adobe Acrobat all
verify it. RSA 2048/3072 are available for relying parties with older readers.
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypeAlias

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask_babel import lazy_gettext

SigningKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KeyType = Literal["ec-p256", "rsa-2048", "rsa-3072"]

DEFAULT_KEY_TYPE: KeyType = "ec-p256"
CA_VALID_DAYS = 20 * 365
ORG_VALID_DAYS = 5 * 365
CLOCK_SKEW = timedelta(minutes=5)
_KEY_PASSPHRASE_CONTEXT = b"wuji documents: signing key at rest, v1"
_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")


_NAME_FIELD_ERRORS = {
    "common_name": lazy_gettext("The common name must be 1 to 64 printable characters."),
    "organization": lazy_gettext("The organization name must be 1 to 64 printable characters."),
    "org_code": lazy_gettext("The organization code must be 1 to 64 printable characters."),
}


class PKIError(ValueError):
    """A key, certificate or PKCS#12 file cannot be used; ``str()`` is for the user."""


class NotPkcs12Error(PKIError):
    """The bytes are not a PKCS#12 (.p12 / .pfx) file."""


class Pkcs12PasswordError(PKIError):
    """The PKCS#12 password is wrong or missing."""


class KeyDecryptionError(PKIError):
    """A stored private key cannot be decrypted with the configured secret."""


def generate_private_key(key_type: KeyType = DEFAULT_KEY_TYPE) -> SigningKey:
    """A new private key of the given type (see the module docstring for the default)."""
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type in ("rsa-2048", "rsa-3072"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    raise PKIError(lazy_gettext("Unknown key type %(key_type)s.", key_type=key_type))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _clean_text(value: str, field: str) -> str:
    """``value`` normalised for a certificate name; 1 to 64 printable characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text or len(text) > 64 or any(unicodedata.category(ch).startswith("C") for ch in text):
        raise PKIError(_NAME_FIELD_ERRORS[field])
    return text


def create_ca(
    common_name: str,
    organization: str,
    *,
    key_type: KeyType = DEFAULT_KEY_TYPE,
    valid_days: int = CA_VALID_DAYS,
) -> tuple[SigningKey, x509.Certificate]:
    """A self-signed certificate authority that issues organisation certificates only.

    ``path_length=0``: it signs end-entity certificates, never another CA.
    """
    key = generate_private_key(key_type)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _clean_text(organization, "organization")),
        x509.NameAttribute(NameOID.COMMON_NAME, _clean_text(common_name, "common_name")),
    ])
    now = _utcnow()
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def issue_org_certificate(
    ca_key: SigningKey,
    ca_cert: x509.Certificate,
    org_name: str,
    org_code: str,
    *,
    common_name: str | None = None,
    key: SigningKey | None = None,
    key_type: KeyType = DEFAULT_KEY_TYPE,
    valid_days: int = ORG_VALID_DAYS,
) -> tuple[SigningKey, x509.Certificate]:
    """A document-signing certificate for one organisation, issued by the local CA.

    ``org_code`` (the unified social credit code, 统一社会信用代码) goes into the subject's
    organizationIdentifier as ``NTRCN-<code>`` (ETSI EN 319 412-1 notation). Key usage is
    digitalSignature + nonRepudiation, which PAdES validators (pyHanko, Adobe) expect. There
    is deliberately no extended key usage: NSS (poppler's pdfsig) rejects a signer whose EKU
    lacks emailProtection, and none is needed for PDF signatures. A new key is generated
    unless ``key`` is given. Validity never outlasts the CA.
    """
    signing_key = key or generate_private_key(key_type)
    code = _clean_text(org_code, "org_code")
    organization = _clean_text(org_name, "organization")
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(_ORGANIZATION_IDENTIFIER, f"NTRCN-{code}"),
        x509.NameAttribute(
            NameOID.COMMON_NAME, _clean_text(common_name or organization, "common_name")
        ),
    ])
    now = _utcnow()
    not_after = min(now + timedelta(days=valid_days), ca_cert.not_valid_after_utc)
    public_key = signing_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return signing_key, certificate


def _check_pkcs12_structure(data: bytes) -> None:
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native != "v3" or pfx["auth_safe"]["content_type"].native is None:
            raise ValueError("not a PFX v3 structure")
    except Exception as error:
        raise NotPkcs12Error(
            lazy_gettext("The file is not a PKCS#12 certificate file (.p12 or .pfx).")
        ) from error


def _decrypt_pkcs12(
    data: bytes, password: bytes | None
) -> tuple[Any, x509.Certificate | None, list[x509.Certificate]]:
    """Decrypt with the password; no password means none or the empty one (files differ)."""
    candidates = [password] if password else [None, b""]
    for candidate in candidates:
        try:
            return pkcs12.load_key_and_certificates(data, candidate)
        except ValueError:
            continue
    if password:
        raise Pkcs12PasswordError(lazy_gettext("Wrong password for the PKCS#12 file."))
    raise Pkcs12PasswordError(
        lazy_gettext("The PKCS#12 file is protected by a password; please enter it.")
    )


def load_pkcs12(
    data: bytes, password: bytes | None
) -> tuple[SigningKey, x509.Certificate, list[x509.Certificate]]:
    """The key, certificate and CA chain of a PKCS#12 file from a licensed CA.

    Raises :class:`NotPkcs12Error` for other files, :class:`Pkcs12PasswordError` for a
    wrong or missing password, :class:`PKIError` when the file lacks a key or certificate,
    the key does not match the certificate, or the key type cannot sign documents.
    """
    _check_pkcs12_structure(data)
    key, certificate, chain = _decrypt_pkcs12(data, password)
    if key is None or certificate is None:
        raise PKIError(
            lazy_gettext("The PKCS#12 file must contain a private key and its certificate.")
        )
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise PKIError(lazy_gettext("Only RSA and ECDSA keys can sign documents."))
    if key.public_key() != certificate.public_key():
        raise PKIError(
            lazy_gettext("The private key in the PKCS#12 file does not match its certificate.")
        )
    return key, certificate, list(chain)


def _passphrase(secret: str) -> bytes:
    """Derive the key-encryption passphrase from the configured secret.

    HMAC with a fixed context keeps the app's secret (also used for cookies) from being
    used directly as a key-encryption password; PKCS#8's PBKDF2 then stretches it.
    """
    if not secret:
        raise PKIError(lazy_gettext("A secret is required to protect private keys."))
    digest = hmac.new(secret.encode("utf-8"), _KEY_PASSPHRASE_CONTEXT, hashlib.sha256)
    return digest.hexdigest().encode("ascii")


def encrypt_private_key(key: SigningKey, secret: str) -> bytes:
    """The key as encrypted PKCS#8 PEM, for storage at rest."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(secret)),
    )


def decrypt_private_key(blob: bytes, secret: str) -> SigningKey:
    """The key stored by :func:`encrypt_private_key`; :class:`KeyDecryptionError` if the
    secret is not the one it was stored with or the data is damaged."""
    try:
        key = serialization.load_pem_private_key(blob, password=_passphrase(secret))
    except (ValueError, TypeError) as error:
        raise KeyDecryptionError(
            lazy_gettext(
                "The stored private key cannot be decrypted: the configured secret differs "
                "from the one it was stored with, or the key data is damaged."
            )
        ) from error
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise PKIError(lazy_gettext("Only RSA and ECDSA keys can sign documents."))
    return key


def certificate_to_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or more) or DER (one) bytes, e.g. a CA's root file."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as error:
        raise PKIError(
            lazy_gettext("The file is not a certificate in PEM or DER format.")
        ) from error


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 fingerprint as colon-separated upper-case hex, the form certificate viewers show."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()
