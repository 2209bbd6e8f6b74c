"""Public verification of signed documents: the /verify page (upload a PDF, or open the
link a document's QR code carries) and the same check as JSON (POST
/api/v1/documents/verify). No login: anyone holding a document may check it."""
from __future__ import annotations

from datetime import timezone

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from core import storage
from core.api import document
from core.errors import ValidationError
from core.extensions import csrf
from documents import services
from documents.models import StoredDocument

bp = Blueprint("documents", __name__)
# The JSON twin of /verify: public and read-only, so it needs neither login nor CSRF token.
api_bp = Blueprint("documents_api", __name__, url_prefix="/api/v1/documents")
csrf.exempt(api_bp)

MAX_PDF_BYTES = 20 * 1024 * 1024
KIND_LABELS = {"acceptance_record": _l("Joint acceptance record"), "convention_version": _l("Convention")}


class VerifyForm(FlaskForm):
    document = FileField(_l("Signed PDF document"), validators=[FileRequired(_l("Choose a PDF file."))])


def _read_upload(file) -> bytes:
    data = file.read(MAX_PDF_BYTES + 1) if file else b""
    if not data:
        raise ValidationError(_("Choose a PDF file."), fields={"document": _("Choose a PDF file.")})
    if len(data) > MAX_PDF_BYTES:
        raise ValidationError(_("The file is larger than 20 MB."), fields={"document": _("File too large.")})
    return data


def _page(form: VerifyForm, status: int = 200, **context):
    return render_template("documents/verify.html", form=form, kind_labels=KIND_LABELS, utc=timezone.utc,
                           **context), status


@bp.route("/verify", methods=["GET", "POST"])
def verify_page():
    form = VerifyForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 422)
    data = _read_upload(form.document.data)
    report = services.verify(data)
    result = services.report_json(report, data)
    return _page(form, report=report, result=result, stored=services.find_document(result["sha256"]),
                 filename=form.document.data.filename)


@bp.route("/verify/trust-roots.pem")
def trust_roots_pem():
    """The certificates this deployment trusts, so that anyone can check its signatures with
    their own tools (pdfsig, a PDF reader) as well as on this page."""
    pem = services.trust_roots_pem()
    if not pem:
        abort(404)
    return Response(pem, mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="wuji-trust-roots.pem"'})


@bp.route("/verify/<key>")
def verify_stored(key: str):
    """The page a document's QR code opens: the stored original, verified now."""
    stored: StoredDocument | None = services.find_document(key)
    if stored is None or not storage.exists(stored.sha256):
        abort(404)
    data = services.document_bytes(stored)
    report = services.verify(data)
    return _page(VerifyForm(), report=report, result=services.report_json(report, data), stored=stored)


@api_bp.route("/verify", methods=["POST"])
def verify_api():
    data = _read_upload(request.files.get("file"))
    report = services.verify(data)
    return jsonify(services.report_json(report, data))


SIGNATURE_SCHEMA = {
    "type": "object",
    "properties": {
        "field": {"type": "string"},
        "organization": {"type": ["string", "null"], "description": "Organisation in the signer's certificate"},
        "common_name": {"type": ["string", "null"], "description": "Common name in the signer's certificate"},
        "signed_at": {"type": ["string", "null"], "format": "date-time",
                      "description": "From a trusted timestamp when `timestamped`, else as the signer claims"},
        "timestamped": {"type": "boolean"},
        "intact": {"type": "boolean", "description": "The signed bytes and the signature are unchanged"},
        "trusted": {"type": "boolean", "description": "The certificate chains to this deployment's trust roots"},
        "covers_document": {"type": "boolean",
                            "description": "Nothing but later signatures was added after this signature"},
        "whole_file": {"type": "boolean",
                       "description": "The signed range is the whole file, as poppler's pdfsig reports it "
                                      "(an earlier signature followed by countersignatures is not)"},
        "valid": {"type": "boolean"},
        "code": {"type": "string"},
        "reason": {"type": "string"},
    },
}
document("/documents/verify", "post", {
    "summary": "Verify a signed PDF against this deployment's trust roots",
    "description": "Public and read-only: no login and no CSRF token. The document is valid only if it has at "
                   "least one signature, every signature is intact and trusted, and nothing but later signatures "
                   "was appended after signing (a changed byte or an appended incremental update is not valid). "
                   "`reason` is in the language of the request (Accept-Language is not used: Chinese by default).",
    "tags": ["documents"],
    "security": [],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary", "description": "The PDF, at most 20 MB"}},
    }}}},
    "responses": {
        "200": {"description": "The verification report (also when the document is not valid)",
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["valid", "code", "reason", "sha256", "signatures"],
                    "properties": {
                        "valid": {"type": "boolean"},
                        "code": {"type": "string", "examples": ["valid", "altered", "modified_after_signing",
                                                                "untrusted", "no_signatures", "not_pdf"]},
                        "reason": {"type": "string"},
                        "sha256": {"type": "string"},
                        "issued_here": {"type": "boolean",
                                        "description": "These exact bytes were issued by this deployment"},
                        "signatures": {"type": "array", "items": SIGNATURE_SCHEMA},
                    },
                }}}},
        "422": {"description": "No file, or a file larger than 20 MB",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    },
})
