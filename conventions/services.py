"""Convention services: drafting, consultation comments, amendments, lifecycle steps,
reading (staff and public), diff and search.

Every function takes the actor (None for the public readers) and is one transaction;
the staff pages, the JSON API, the public pages and the demo call these.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from conventions import diff as diffs
from conventions import drafts
from conventions import synonyms
from conventions import text as texts
from conventions import vote as votes
from conventions.models import (
    KINDS,
    SCOPE_KINDS,
    Convention,
    ConventionArticle,
    ConventionChapter,
    ConventionComment,
    ConventionVersion,
)
from conventions.workflow import OPEN_STATES, PUBLIC_STATES, STAFF_ONLY_STATES, WORKFLOW
from core.db import lock, utcnow, write_transaction
from core.errors import InvalidTransition, NotFound, StaleVersion, ValidationError
from core.extensions import db
from orgs import permissions
from orgs.models import Building, Estate, Household, OrgNode
from workflow import audit, engine

MAX_COMMENT = 2000
MAX_TITLE = 200


def _clean(value: str | None, limit: int) -> str:
    return (value or "").strip()[:limit]


# --- reading (staff and residents) ----------------------------------------------------


def _staff_reader(actor, version: ConventionVersion) -> bool:
    """Holds convention.view over the scope's subtree (not only as a resident)."""
    return any(version.path.startswith(path) for path in permissions.subtree_paths(actor, "convention.view"))


def can_read(actor, version: ConventionVersion) -> bool:
    """Staff of the scope read every version; residents of the scope every version that
    has left the drafters' desk (consultation onwards)."""
    if not permissions.can(actor, "convention.view", version):
        return False
    return version.state not in STAFF_ONLY_STATES or _staff_reader(actor, version)


def get_version(actor, version_id: int) -> ConventionVersion:
    version = db.session.get(ConventionVersion, version_id)
    if version is None or not can_read(actor, version):
        raise NotFound(_("Not found."))
    return version


def get_convention(actor, convention_id: int) -> tuple[Convention, list[ConventionVersion]]:
    """The convention and the versions the actor may read (404 when none)."""
    convention = db.session.get(Convention, convention_id)
    if convention is None:
        raise NotFound(_("Not found."))
    readable = [v for v in convention.versions if can_read(actor, v)]
    if not readable:
        raise NotFound(_("Not found."))
    return convention, readable


def staff_conventions(actor, limit: int = 200) -> list[Convention]:
    """Conventions in the actor's jurisdiction, newest first."""
    condition = permissions.jurisdiction_filter(actor, Convention.path, "convention.view")
    return list(db.session.scalars(
        select(Convention).where(condition).options(selectinload(Convention.versions))
        .order_by(Convention.id.desc()).limit(limit)
    ))


def consultations_for(actor, limit: int = 50) -> list[ConventionVersion]:
    """Versions open for comment in the scope where the actor lives."""
    ids = actor.household_ids if getattr(actor, "is_authenticated", False) else set()
    if not ids:
        return []
    communities = select(Estate.org_id).join(Household, Household.estate_id == Estate.id).where(Household.id.in_(ids))
    candidates = db.session.scalars(
        select(ConventionVersion).join(Convention)
        .where(ConventionVersion.state == "consultation", Convention.community_id.in_(communities))
        .order_by(ConventionVersion.id.desc()).limit(limit)
    ).all()
    return [v for v in candidates if v.is_personal_to(actor)]


# --- creating and editing ------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str
    path: str
    community: OrgNode
    estate: Estate | None
    building: Building | None
    label: str


def resolve_scope(kind: str, ident) -> Scope:
    """The community, estate or building a convention applies to (ValidationError if unknown)."""
    try:
        number = int(ident)
    except (TypeError, ValueError):
        number = None
    model = {"community": OrgNode, "estate": Estate, "building": Building}.get(kind)
    obj = db.session.get(model, number) if model is not None and number is not None else None
    if isinstance(obj, OrgNode) and obj.level_code == "community_committee":
        return Scope(kind, obj.path, obj, None, None, obj.name)
    if isinstance(obj, Estate) and obj.org.level_code == "community_committee":
        return Scope(kind, obj.path, obj.org, obj, None, obj.name)
    if isinstance(obj, Building) and obj.estate.org.level_code == "community_committee":
        return Scope(kind, obj.path, obj.estate.org, obj.estate, obj, f"{obj.estate.name} {obj.number}")
    raise ValidationError(_("Choose the community, estate or building the convention applies to."),
                          fields={"scope": _("Unknown place.")})


DEFAULT_TITLES = {
    "residents_convention": "{scope}居民公约",
    "ebike_shed": "{scope}电动车棚建设和管理公约",
    "management_rules": "{scope}管理规约",
}


def create_convention(actor, *, kind: str, scope_kind: str, scope_id, title: str = "",
                      use_draft: bool = True, text: str = "") -> ConventionVersion:
    """A new convention with its first version in draft (from the starting draft of its
    kind when there is one, else from `text`)."""
    if kind not in KINDS or scope_kind not in SCOPE_KINDS:
        raise ValidationError(_("Choose the kind of convention and where it applies."),
                              fields={"kind": _("Unknown kind.")})
    with write_transaction():
        scope = resolve_scope(scope_kind, scope_id)
        permissions.require(actor, "convention.draft", scope)
        title = _clean(title, MAX_TITLE) or DEFAULT_TITLES.get(kind, "").format(scope=scope.label)
        if not title:
            raise ValidationError(_("Please give the convention a title."), fields={"title": _("Required.")})
        source = drafts.load(kind, scope.label) if use_draft and drafts.available(kind) else text
        parsed = texts.parse(source)
        convention = Convention(
            kind=kind, title=title, scope_kind=scope.kind, community=scope.community, estate=scope.estate,
            building=scope.building, path=scope.path, created_by_id=actor.id,
        )
        db.session.add(convention)
        version = ConventionVersion(convention=convention, number=1, path=scope.path, created_by_id=actor.id)
        engine.start(version, actor, payload={"kind": kind, "scope": f"{scope.kind}:{scope_id}",
                                              "articles": parsed.article_count})
        _write_text(version, parsed)
    return version


def _locked_draft(actor, version_id: int, expected_version: int | None) -> ConventionVersion:
    """Lock a version for editing: readable, drafter's permission, current, in draft."""
    version = lock(ConventionVersion, version_id)
    if version is None or not can_read(actor, version):
        raise NotFound(_("Not found."))
    permissions.require(actor, "convention.draft", version)
    if expected_version is not None and version.version != expected_version:
        raise StaleVersion(
            _("Someone else changed this item in the meantime. Reload the page to see the current state."),
            version=version.version, state=version.state,
        )
    if version.state != "draft":
        raise InvalidTransition(
            _("Only a draft can be edited. This version is “%(state)s”: to change a convention in force, "
              "start an amendment.", state=WORKFLOW.state(version.state).label),
            state=version.state,
        )
    return version


def _record_edit(version: ConventionVersion, actor, trigger: str, payload: dict) -> None:
    membership = permissions.granting_membership(actor, "convention.draft", version)
    engine.record_event(version, actor, trigger, payload=payload,
                        org_id=membership.org_id if membership is not None else None)


def replace_text(actor, version_id: int, expected_version: int | None, text: str) -> ConventionVersion:
    """Replace the whole text of a draft (plain-text form, conventions/text.py)."""
    return replace_parsed(actor, version_id, expected_version, texts.parse(text))


def replace_parsed(actor, version_id: int, expected_version: int | None,
                   parsed: texts.ParsedText) -> ConventionVersion:
    with write_transaction():
        version = _locked_draft(actor, version_id, expected_version)
        _write_text(version, parsed)
        _record_edit(version, actor, "edit_text",
                     {"articles": parsed.article_count, "chapters": len(parsed.chapters)})
    return version


def update_article(actor, version_id: int, expected_version: int | None, number: int, text: str) -> ConventionVersion:
    """Change the text of one article of a draft."""
    body = (text or "").strip()
    if not body or len(body) > texts.MAX_ARTICLE_CHARS:
        raise ValidationError(_("An article needs text of at most %(n)d characters.", n=texts.MAX_ARTICLE_CHARS),
                              fields={"text": _("Invalid text.")})
    with write_transaction():
        version = _locked_draft(actor, version_id, expected_version)
        article = next((a for a in version.articles if a.number == number), None)
        if article is None:
            raise NotFound(_("This version has no such article."))
        article.text = body
        _record_edit(version, actor, "edit_article", {"article": number})
    return version


def _write_text(version: ConventionVersion, parsed: texts.ParsedText) -> None:
    """Store the parsed text, renumbering; rows are updated in place by position."""
    version.preamble = parsed.preamble
    chapters = _sync_chapters(version, [c.title for c in parsed.chapters])
    wanted = [(None, body) for body in parsed.loose_articles]
    for chapter, parsed_chapter in zip(chapters, parsed.chapters):
        wanted += [(chapter, body) for body in parsed_chapter.articles]
    existing = {a.number: a for a in version.articles}
    for number, (chapter, body) in enumerate(wanted, start=1):
        article = existing.get(number)
        if article is None:
            version.articles.append(ConventionArticle(number=number, chapter=chapter, text=body))
        else:
            article.chapter, article.text = chapter, body
    for number in sorted(n for n in existing if n > len(wanted)):
        _drop_article(version, existing[number])
    for chapter in version.chapters[len(chapters):]:
        version.chapters.remove(chapter)
    db.session.flush()


def _sync_chapters(version: ConventionVersion, titles: list[str]) -> list[ConventionChapter]:
    chapters = list(version.chapters)
    for position, title in enumerate(titles, start=1):
        if position <= len(chapters):
            chapters[position - 1].title = title
        else:
            chapter = ConventionChapter(position=position, title=title)
            version.chapters.append(chapter)
            chapters.append(chapter)
    db.session.flush()
    return chapters[:len(titles)]


def _drop_article(version: ConventionVersion, article: ConventionArticle) -> None:
    """Comments keep the article's number and text; only the link goes."""
    for comment in version.comments:
        if comment.article_id == article.id:
            comment.article = None
            comment.article_id = None
    version.articles.remove(article)


def plain_text(version: ConventionVersion) -> str:
    """The version's text in the editable plain-text form."""
    return texts.render(
        "", version.preamble, [a.text for a in version.loose_articles()],
        [(c.title, [a.text for a in c.articles]) for c in version.chapters],
    )


def amend(actor, convention_id: int, change_note: str = "") -> ConventionVersion:
    """Start a new version from the latest one (the version in force, if any)."""
    with write_transaction():
        convention = db.session.get(Convention, convention_id)
        if convention is None:
            raise NotFound(_("Not found."))
        versions = list(convention.versions)
        if not any(can_read(actor, v) for v in versions):
            raise NotFound(_("Not found."))
        permissions.require(actor, "convention.draft", versions[-1])
        unfinished = next((v for v in versions if v.state in OPEN_STATES), None)
        if unfinished is not None:
            raise InvalidTransition(
                _("Version %(number)d is still being worked on: finish or withdraw it before starting another.",
                  number=unfinished.number))
        base = convention.in_force() or versions[-1]
        version = ConventionVersion(
            convention=convention, number=versions[-1].number + 1, based_on=base, path=convention.path,
            created_by_id=actor.id, change_note=_clean(change_note, 2000),
        )
        engine.start(version, actor, trigger="amend", payload={"based_on": base.id, "based_on_number": base.number})
        _write_text(version, texts.parse(plain_text(base)))
    return version


# --- consultation --------------------------------------------------------------------


def add_comment(actor, version_id: int, article_number: int | None, text: str) -> ConventionComment:
    """A resident's view on one article (or on the whole text when no article is given)."""
    body = _clean(text, MAX_COMMENT + 1)
    if not body or len(body) > MAX_COMMENT:
        raise ValidationError(_("Write your comment (at most %(n)d characters).", n=MAX_COMMENT),
                              fields={"text": _("Invalid text.")})
    with write_transaction():
        version = lock(ConventionVersion, version_id)
        if version is None or not can_read(actor, version):
            raise NotFound(_("Not found."))
        permissions.require(actor, "convention.comment", version)
        if version.state != "consultation":
            raise InvalidTransition(
                _("The consultation on this text is closed: comments can no longer be added."), state=version.state)
        article = None
        if article_number is not None:
            article = next((a for a in version.articles if a.number == article_number), None)
            if article is None:
                raise ValidationError(_("This version has no such article."), fields={"article": _("Unknown article.")})
        comment = ConventionComment(
            version=version, article=article, article_number=article_number,
            article_text=article.text if article is not None else "", author_id=actor.id, text=body,
        )
        db.session.add(comment)
        db.session.flush()
        _audit(version, actor, "comment", None, {"comment_id": comment.id, "article": article_number})
    return comment


def get_comment(actor, comment_id: int) -> ConventionComment:
    comment = db.session.get(ConventionComment, comment_id)
    if comment is None or not can_read(actor, comment.version):
        raise NotFound(_("Not found."))
    return comment


def answer_comment(actor, comment_id: int, text: str) -> ConventionComment:
    """The drafters' answer to a comment, while the consultation is open."""
    body = _clean(text, MAX_COMMENT + 1)
    if not body or len(body) > MAX_COMMENT:
        raise ValidationError(_("Write the answer (at most %(n)d characters).", n=MAX_COMMENT),
                              fields={"answer": _("Invalid text.")})
    with write_transaction():
        comment = db.session.get(ConventionComment, comment_id)
        version = lock(ConventionVersion, comment.version_id) if comment is not None else None
        if version is None or not can_read(actor, version):
            raise NotFound(_("Not found."))
        permissions.require(actor, "convention.answer", version)
        if version.state != "consultation":
            raise InvalidTransition(_("Comments are answered while the consultation is open."), state=version.state)
        comment.answer = body
        comment.answered_by_id = actor.id
        comment.answered_at = utcnow()
        membership = permissions.granting_membership(actor, "convention.answer", version)
        _audit(version, actor, "answer", membership, {"comment_id": comment.id})
    return comment


def _audit(version: ConventionVersion, actor, trigger: str, membership, payload: dict) -> None:
    """An audit entry that changes neither the state nor the row version (comments do not
    make an officer's open form stale)."""
    audit.append(version, actor_id=actor.id, actor_name=actor.name,
                 org_id=membership.org_id if membership is not None else None,
                 role=membership.role if membership is not None else None,
                 trigger=trigger, from_state=version.state, to_state=version.state, payload=payload)


# --- lifecycle -----------------------------------------------------------------------


def fire_version(actor, version_id: int, trigger: str, expected_version: int | None, **data) -> ConventionVersion:
    return engine.fire(ConventionVersion, version_id, trigger, actor, expected_version, **data)


def timeline(version: ConventionVersion) -> list[audit.AuditEntry]:
    return audit.timeline(version)


def vote_form_defaults(version: ConventionVersion) -> dict:
    """The rule and what the roster says about who is entitled (the officer may correct it)."""
    rule = votes.rule_for(version.convention)
    heads, area = votes.roster_electorate(version.convention, rule)
    return {"rule": rule, "entitled_heads": heads, "entitled_area": area, "counts_area": votes.counts_area(rule)}


# --- diff ------------------------------------------------------------------------------


def article_texts(version: ConventionVersion) -> list[diffs.ArticleText]:
    return [diffs.ArticleText(a.number, a.text, a.chapter.title if a.chapter is not None else "")
            for a in version.articles]


def version_diff(old: ConventionVersion, new: ConventionVersion) -> diffs.VersionDiff:
    return diffs.diff_articles(article_texts(old), article_texts(new), old.preamble, new.preamble)


def staff_diff(actor, version_id: int, against_id: int | None) -> tuple[ConventionVersion, ConventionVersion]:
    """The two versions to compare: `against` (default: the one it is based on, else the
    previous number) and the version itself."""
    version = get_version(actor, version_id)
    if against_id is None:
        other = version.based_on or _previous(version)
        if other is None:
            raise NotFound(_("There is no earlier version to compare with."))
    else:
        other = get_version(actor, against_id)
        if other.convention_id != version.convention_id:
            raise NotFound(_("Not found."))
    return other, version


def _previous(version: ConventionVersion) -> ConventionVersion | None:
    earlier = [v for v in version.convention.versions if v.number < version.number]
    return earlier[-1] if earlier else None


# --- public reading --------------------------------------------------------------------


def public_convention(convention_id: int) -> Convention:
    """A convention with at least one public version (published, superseded or repealed)."""
    convention = db.session.get(Convention, convention_id)
    if convention is None or not convention.public_versions():
        raise NotFound(_("Not found."))
    return convention


def public_version(convention_id: int, number: int | None = None) -> ConventionVersion:
    """A public version by number; by default the one in force, else the latest public one."""
    convention = public_convention(convention_id)
    public = convention.public_versions()
    if number is None:
        return convention.in_force() or public[-1]
    version = next((v for v in public if v.number == number), None)
    if version is None:
        raise NotFound(_("Not found."))
    return version


def _in_force_query() -> Select:
    return (select(ConventionVersion).join(Convention)
            .where(ConventionVersion.state == "published")
            .options(selectinload(ConventionVersion.convention)))


def in_force_for_estate(estate: Estate) -> list[ConventionVersion]:
    """Conventions in force that apply to the estate: its own, its buildings', its community's."""
    stmt = _in_force_query().where(or_(
        Convention.estate_id == estate.id,
        and_(Convention.scope_kind == "community", Convention.community_id == estate.org_id),
    )).order_by(Convention.scope_kind, Convention.kind, Convention.id)
    return list(db.session.scalars(stmt))


def in_force_for_community(community: OrgNode) -> list[ConventionVersion]:
    stmt = _in_force_query().where(Convention.community_id == community.id).order_by(Convention.id)
    return list(db.session.scalars(stmt))


@dataclass
class CommunityListing:
    community: OrgNode
    estates: list[tuple[Estate, int]]
    conventions: int


def communities(query: str = "") -> list[CommunityListing]:
    """Communities with their estates and how many conventions are in force in each, for
    the public index; `query` keeps estates whose name or address, or whose community's
    name, contains it."""
    term = _clean(query, 50)
    community_stmt = select(OrgNode).where(OrgNode.level_code == "community_committee")
    estate_stmt = select(Estate).join(OrgNode, Estate.org_id == OrgNode.id).where(
        OrgNode.level_code == "community_committee")
    if term:
        estate_match = or_(Estate.name.icontains(term, autoescape=True),
                           Estate.address.icontains(term, autoescape=True))
        community_match = OrgNode.name.icontains(term, autoescape=True)
        estate_stmt = estate_stmt.where(or_(estate_match, community_match))
        community_stmt = community_stmt.where(
            or_(community_match, OrgNode.id.in_(select(Estate.org_id).where(estate_match))))
    counts = _in_force_counts()
    listings = {
        node.id: CommunityListing(node, [], counts["community"].get(node.id, 0))
        for node in db.session.scalars(community_stmt.order_by(OrgNode.code).limit(500))
    }
    for estate in db.session.scalars(estate_stmt.order_by(Estate.code).limit(2000)):
        listing = listings.get(estate.org_id)
        if listing is not None:
            listing.estates.append((estate, counts["estate"].get(estate.id, 0) + listing.conventions))
    return list(listings.values())


def _in_force_counts() -> dict[str, dict[int, int]]:
    rows = db.session.execute(
        select(Convention.scope_kind, Convention.estate_id, Convention.community_id, func.count())
        .join(ConventionVersion, ConventionVersion.convention_id == Convention.id)
        .where(ConventionVersion.state == "published")
        .group_by(Convention.scope_kind, Convention.estate_id, Convention.community_id)
    ).all()
    counts: dict[str, dict[int, int]] = {"community": {}, "estate": {}}
    for scope_kind, estate_id, community_id, count in rows:
        if scope_kind == "community":
            counts["community"][community_id] = counts["community"].get(community_id, 0) + count
        else:
            counts["estate"][estate_id] = counts["estate"].get(estate_id, 0) + count
    return counts


@dataclass
class SearchHit:
    version: ConventionVersion
    article: ConventionArticle


MAX_HITS = 100


def search(query: str) -> list[SearchHit]:
    """Articles of conventions in force containing the words (LIKE, case-insensitive for
    Latin letters; every space-separated word, or a synonym of it, must occur)."""
    words = [w for w in _clean(query, 100).split() if w][:5]
    if not words:
        return []
    # Every word must occur, as written or as one of its synonyms (电动车 ~ 电动自行车).
    stmt = (select(ConventionArticle, ConventionVersion)
            .join(ConventionVersion, ConventionArticle.version_id == ConventionVersion.id)
            .where(ConventionVersion.state == "published",
                   *(or_(*(ConventionArticle.text.icontains(v, autoescape=True) for v in synonyms.variants(w)))
                     for w in words))
            .order_by(ConventionVersion.convention_id, ConventionArticle.number).limit(MAX_HITS))
    return [SearchHit(version, article) for article, version in db.session.execute(stmt)]


def public_diff(convention_id: int, old_number: int, new_number: int) -> tuple[ConventionVersion, ConventionVersion]:
    return public_version(convention_id, old_number), public_version(convention_id, new_number)


def is_public(version: ConventionVersion) -> bool:
    return version.state in PUBLIC_STATES
