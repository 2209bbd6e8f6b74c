"""Personal API tokens: created and revoked by their owner, stored only as SHA-256.

The secret is shown once, when the token is created; afterwards only its short
prefix identifies it. A revoked token, or one of a deactivated person, no longer
authenticates. Use is recorded at most once a minute so that a busy integration
does not turn every API read into a write.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from core.api import token_hash
from core.db import is_busy, lock, utcnow, write_transaction
from core.errors import NotFound, ValidationError
from core.extensions import db
from orgs.models import ApiToken, Membership, Person

SECRET_PREFIX = "wuji_"
SHOWN_PREFIX_LENGTH = 12  # "wuji_" and the first 7 characters of the random part
MAX_ACTIVE_TOKENS = 20
NAME_LENGTH = 80
USE_RECORDING_INTERVAL = timedelta(minutes=1)


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _active_count(person: Person) -> int:
    stmt = select(func.count()).select_from(ApiToken).where(
        ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None)
    )
    return db.session.scalar(stmt) or 0


def create(person: Person, name: str) -> tuple[ApiToken, str]:
    """A new token for `person`; returns the row and the secret (never stored)."""
    name = (name or "").strip()[:NAME_LENGTH]
    if not name:
        raise ValidationError(_("Give the token a name."), fields={"name": _("This field is required.")})
    secret = _new_secret()
    with write_transaction():
        if _active_count(person) >= MAX_ACTIVE_TOKENS:
            raise ValidationError(
                _("You have %(n)d active tokens already. Revoke one you no longer use.", n=MAX_ACTIVE_TOKENS),
                fields={"name": _("Too many active tokens.")},
            )
        row = ApiToken(person_id=person.id, name=name, token_hash=token_hash(secret),
                       prefix=secret[:SHOWN_PREFIX_LENGTH])
        db.session.add(row)
    return row, secret


def list_tokens(person: Person) -> list[ApiToken]:
    """The person's tokens, active ones first, newest first."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.person_id == person.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.scalars(stmt))


def revoke(person: Person, token_id: int) -> ApiToken:
    """Revoke one of the person's own tokens (someone else's answers NotFound)."""
    with write_transaction():
        row = lock(ApiToken, token_id)
        if row is None or row.person_id != person.id:
            raise NotFound(_("Not found."))
        if row.revoked_at is None:
            row.revoked_at = utcnow()
    return row


# Built once (SQLAlchemy reuses its compiled form): the token with its person, their
# memberships and the memberships' org nodes in one query - every API request needs
# them all to decide its permissions.
_BY_HASH = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    .options(joinedload(ApiToken.person).joinedload(Person.memberships).joinedload(Membership.org))
)


def authenticate(secret: str) -> Person | None:
    """The active person a token secret belongs to, or None (unknown or revoked)."""
    row = db.session.scalar(_BY_HASH, {"token_hash": token_hash(secret)})
    if row is None or not row.person.active:
        return None
    person = row.person
    now = utcnow()
    if row.last_used_at is None or row.last_used_at < now - USE_RECORDING_INTERVAL:
        _record_use(row.id, now)
    return person


def _record_use(token_id: int, now) -> None:
    """Stamp last_used_at unless another request did so within the interval. A courtesy
    for the token's owner: if another transaction keeps the database busy, the request
    goes on without it (a later use records it)."""
    cutoff = now - USE_RECORDING_INTERVAL
    try:
        with write_transaction():
            db.session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < cutoff))
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    except OperationalError as err:
        if not is_busy(err):
            raise
        current_app.logger.info("token %d: use not recorded, database busy", token_id)
