"""CLI: flask pki init / issue / import / trust / list / roots, flask documents verify.

Private keys are never printed: commands show certificate subjects and SHA-256
fingerprints, and write certificates (public) only where asked to.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from core.errors import DomainError
from core.extensions import db
from documents import pki, services
from documents.models import DeploymentCA, SigningCredential
from documents.verify import VerificationReport
from orgs.services import get_org

pki_cli = AppGroup("pki", help="Certificate authorities and the organisations' signing keys.")
documents_cli = AppGroup("documents", help="Signed documents.")


def _fingerprint(hex_digest: str) -> str:
    return ":".join(hex_digest[i:i + 2] for i in range(0, len(hex_digest), 2)).upper()


def _org(code: str):
    try:
        return get_org(code)
    except DomainError as err:
        raise click.ClickException(err.message) from None


@pki_cli.command("init")
@click.option("--name", help="Common name of the CA certificate.")
@click.option("--organization", help="Organisation in the CA certificate.")
@click.option("--cert-out", type=click.Path(dir_okay=False, writable=True),
              help="Also write the CA certificate (PEM) here, e.g. for an NSS database.")
def pki_init(name: str | None, organization: str | None, cert_out: str | None) -> None:
    """Create this deployment's local certificate authority (pilots and tests)."""
    try:
        ca = services.init_local_ca(name, organization)
    except (DomainError, pki.PKIError) as err:
        raise click.ClickException(getattr(err, "message", str(err))) from None
    click.echo(f"local CA created: {ca.subject}")
    click.echo(f"SHA-256 fingerprint: {_fingerprint(ca.fingerprint)}")
    if cert_out:
        with open(cert_out, "w", encoding="ascii") as handle:
            handle.write(ca.certificate_pem)
        click.echo(f"certificate written to {cert_out}")


@pki_cli.command("issue")
@click.option("--org", "org_code", required=True, help="Code of the signing org node (e.g. a community committee).")
def pki_issue(org_code: str) -> None:
    """Issue a signing key and certificate for an organisation from the local CA."""
    org = _org(org_code)
    try:
        credential = services.issue_credential(org)
    except (DomainError, pki.PKIError) as err:
        raise click.ClickException(getattr(err, "message", str(err))) from None
    _echo_credential(credential)


@pki_cli.command("import")
@click.option("--org", "org_code", required=True, help="Code of the signing org node.")
@click.argument("p12_file", type=click.File("rb"))
@click.option("--password", prompt="PKCS#12 password", hide_input=True, default="", show_default=False,
              envvar="WUJI_PKCS12_PASSWORD", help="Asked for when not given (or set WUJI_PKCS12_PASSWORD).")
def pki_import(org_code: str, p12_file, password: str) -> None:
    """Import an organisation's key and certificate from a licensed CA (PKCS#12)."""
    org = _org(org_code)
    try:
        credential, roots = services.import_credential(org, p12_file.read(), password.encode("utf-8") or None)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    _echo_credential(credential)
    for root in roots:
        click.echo(f"now trusted: {root.subject} ({_fingerprint(root.fingerprint)})")


@pki_cli.command("trust")
@click.argument("cert_file", type=click.File("rb"))
def pki_trust(cert_file) -> None:
    """Trust a CA certificate (PEM or DER) when verifying documents."""
    try:
        certificates = pki.load_certificates(cert_file.read())
    except pki.PKIError as err:
        raise click.ClickException(str(err)) from None
    for certificate in certificates:
        row, new = services.add_trust_root(certificate)
        click.echo(f"{'now trusted' if new else 'already trusted'}: {row.subject} ({_fingerprint(row.fingerprint)})")


@pki_cli.command("list")
def pki_list() -> None:
    """Trust roots and the organisations' signing certificates (never their keys)."""
    for ca in db.session.scalars(select(DeploymentCA).order_by(DeploymentCA.id)):
        kind = "local CA" if ca.slot else ca.origin
        click.echo(f"root  {kind:<9} {'trusted' if ca.trusted else 'not trusted':<11} {ca.subject}  "
                   f"{_fingerprint(ca.fingerprint)}")
    for credential in db.session.scalars(select(SigningCredential).order_by(SigningCredential.org_id,
                                                                            SigningCredential.id)):
        state = "active" if credential.active else "retired"
        click.echo(f"key   {credential.org.code:<12} {state:<7} {credential.origin:<8} {credential.subject}  "
                   f"until {credential.not_after:%Y-%m-%d}")


@pki_cli.command("roots")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the PEM bundle here.")
def pki_roots(out: str | None) -> None:
    """The trust roots as PEM (what verifiers of this deployment's documents trust)."""
    bundle = "".join(pki.certificate_to_pem(c).decode("ascii") for c in services.trust_roots())
    if out:
        with open(out, "w", encoding="ascii") as handle:
            handle.write(bundle)
        click.echo(f"trust roots written to {out}")
    else:
        click.echo(bundle, nl=False)


def _echo_credential(credential: SigningCredential) -> None:
    click.echo(f"signing certificate for {credential.org.code}: {credential.subject}")
    click.echo(f"SHA-256 fingerprint: {_fingerprint(credential.fingerprint)}")
    click.echo(f"valid until {credential.not_after:%Y-%m-%d}; the private key is stored encrypted")


def _echo_report(report: VerificationReport) -> None:
    click.echo(("VALID: " if report.valid else "NOT VALID: ") + str(report.reason))
    for s in report.signatures:
        when = s.signing_time.isoformat() if s.signing_time else "?"
        click.echo(f"  {s.field_name}: {s.signer_organization or '-'} / {s.signer_common_name or '-'} at {when}"
                   f"{' (timestamp)' if s.timestamped else ''}; intact={s.intact} trusted={s.trusted} "
                   f"whole document={s.covers_document}")
        if not s.valid:
            click.echo(f"    {s.reason}")


@documents_cli.command("verify")
@click.argument("pdf_file", type=click.File("rb"))
def documents_verify(pdf_file) -> None:
    """Verify a signed PDF against this deployment's trust roots; exit 1 when not valid."""
    report = services.verify(pdf_file.read())
    _echo_report(report)
    if not report.valid:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(pki_cli)
    app.cli.add_command(documents_cli)
