"""Public pages, no login: the conventions in force per community and estate, each
version readable on a phone (articles anchored #article-N), the version history with
diffs, the vote and filing record, the signed PDF and its verification, and search.

Only published, superseded and repealed versions are ever shown here: drafts and
consultation texts answer 404 (services.public_version decides, in one place).
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from conventions import filters, services
from conventions.pdf import signed_pdf
from conventions.labels import KIND_LABELS, SCOPE_LABELS
from conventions.diagram import DRAWING
from conventions.workflow import WORKFLOW
from core.errors import NotFound
from core.extensions import db
from documents import services as documents
from orgs.models import Estate, OrgNode
from orgs.roles import LEVEL_LABELS
from rules import tally
from workflow import diagram

bp = Blueprint("public", __name__, url_prefix="/conventions")
filters.install(bp)


def _page(template: str, **context):
    return render_template(template, kind_labels=KIND_LABELS, scope_labels=SCOPE_LABELS,
                           states=WORKFLOW.states, **context)


@bp.route("/")
def index():
    query = request.args.get("q", "").strip()
    return _page("conventions/public/index.html", query=query, listings=services.communities(query))


@bp.route("/estates/<int:estate_id>")
def estate(estate_id: int):
    item = db.session.get(Estate, estate_id)
    if item is None:
        raise NotFound(_("Not found."))
    return _page("conventions/public/place.html", place_name=item.name, place_note=item.address,
                 community=item.org, versions=services.in_force_for_estate(item))


@bp.route("/communities/<int:org_id>")
def community(org_id: int):
    node = db.session.get(OrgNode, org_id)
    if node is None or node.level_code != "community_committee":
        raise NotFound(_("Not found."))
    return _page("conventions/public/place.html", place_name=node.name, place_note="", community=None,
                 versions=services.in_force_for_community(node))


def _version_page(convention_id: int, number: int | None):
    version = services.public_version(convention_id, number)
    convention = version.convention
    result = version.vote_tally()
    return _page(
        "conventions/public/convention.html", version=version, convention=convention,
        history=convention.public_versions(), in_force=convention.in_force(),
        vote_lines=tally.describe(result) if result is not None else [],
    )


@bp.route("/<int:convention_id>")
def convention(convention_id: int):
    return _version_page(convention_id, None)


@bp.route("/<int:convention_id>/versions/<int:number>")
def version(convention_id: int, number: int):
    return _version_page(convention_id, number)


@bp.route("/<int:convention_id>/diff")
def diff(convention_id: int):
    old_number = request.args.get("from", type=int)
    new_number = request.args.get("to", type=int)
    if old_number is None or new_number is None:
        raise NotFound(_("Not found."))
    old, new = services.public_diff(convention_id, old_number, new_number)
    return _page("conventions/public/diff.html", old=old, new=new, convention=new.convention,
                 result=services.version_diff(old, new))


def _pdf_of(convention_id: int, number: int) -> tuple[object, bytes]:
    version = services.public_version(convention_id, number)
    data = signed_pdf(version)
    if data is None:
        raise NotFound(_("No signed PDF was issued for this version."))
    return version, data


@bp.route("/<int:convention_id>/versions/<int:number>/pdf")
def pdf(convention_id: int, number: int):
    version, data = _pdf_of(convention_id, number)
    filename = f"convention-{convention_id}-v{number}.pdf"
    return Response(data, mimetype="application/pdf", headers={
        # Opens in the phone's reader; ?download=1 saves it instead.
        "Content-Disposition": f'{"attachment" if request.args.get("download") else "inline"}; filename="{filename}"',
        "X-Content-SHA256": version.pdf_sha256 or "",
    })


@bp.route("/<int:convention_id>/versions/<int:number>/verify")
def verify(convention_id: int, number: int):
    version, data = _pdf_of(convention_id, number)
    report = documents.verify(data)
    return _page("conventions/public/verify.html", version=version, convention=version.convention,
                 report=report, sha256=hashlib.sha256(data).hexdigest())


@bp.route("/how-it-works")
def how_it_works():
    return _page("conventions/public/how.html", svg=diagram.svg(DRAWING, str(get_locale())), level_labels=LEVEL_LABELS)


@bp.route("/search")
def search():
    query = request.args.get("q", "").strip()
    return _page("conventions/public/search.html", query=query, hits=services.search(query) if query else [])
