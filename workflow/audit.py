"""Append-only audit log, hash-chained per subject, sealed with a key outside the database.

Each entry's hash covers its own fields and the previous entry's hash of the same
subject; the subject row keeps the sequence number and hash of its latest entry and a
seal of that head: an HMAC with AUDIT_KEY (by default derived from SECRET_KEY), a key the
database does not hold. So changing, removing or re-ordering any entry - the last one,
every entry of a subject or the whole table included - breaks verification (`flask audit
verify`), and so does rewriting entries and recomputing their SHA-256 chain: the seal
cannot be recomputed without the key. The subject's state must also be the state its
last entry led to.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Optional

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, insert, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from flask import current_app

from core.db import utcnow
from core.extensions import db

GENESIS = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "seq"),
        Index("ix_audit_entry_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("person.id"))
    actor_name: Mapped[str] = mapped_column(String(80))
    org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("org_node.id"))
    role: Mapped[Optional[str]] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[Optional[str]] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The deadline the subject was given on entering `to_state` (None: none, or an entry
    # that entered no state). A copy of the subject's due_at at that moment, outside the
    # hash: the response rate (stats/) compares the next entry's time with it.
    due_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    actor = relationship("Person")
    org = relationship("OrgNode")

    @property
    def data(self) -> dict:
        return json.loads(self.payload or "{}")


# Built once: json.dumps() with anything but its default arguments builds a new
# encoder on every call, which costs more than the encoding of an entry itself.
_PAYLOAD_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
_MATERIAL_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical_payload(payload: dict | None) -> str:
    return _PAYLOAD_ENCODER.encode(payload) if payload else "{}"


def entry_hash(entry) -> str:
    """The hash of an entry (an AuditEntry, or anything with the same attributes)."""
    return _hash(
        entry.subject_type,
        entry.subject_id,
        entry.seq,
        entry.actor_id,
        entry.actor_name,
        entry.org_id,
        entry.role,
        entry.trigger,
        entry.from_state,
        entry.to_state,
        entry.reason,
        entry.payload,
        entry.created_at,
        entry.prev_hash,
    )


def _hash(subject_type, subject_id, seq, actor_id, actor_name, org_id, role, trigger, from_state, to_state,
          reason, payload, created_at, prev_hash) -> str:
    material = _MATERIAL_ENCODER.encode([
        subject_type,
        subject_id,
        seq,
        actor_id,
        actor_name,
        org_id,
        role,
        trigger,
        from_state,
        to_state,
        reason or "",
        payload or "{}",
        created_at.isoformat(timespec="microseconds"),
        prev_hash,
    ])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


_INSERT = insert(AuditEntry.__table__)


def _key() -> bytes:
    """AUDIT_KEY, or a key derived from SECRET_KEY; remembered per app."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = app.extensions.get("wuji_audit_key")
    if key is None:
        configured = app.config.get("AUDIT_KEY")
        key = (configured.encode("utf-8") if configured else
               hmac.new(str(app.config["SECRET_KEY"]).encode("utf-8"), b"wuji audit seal", hashlib.sha256).digest())
        app.extensions["wuji_audit_key"] = key
    return key


def seal(subject_type: str, subject_id: int, seq: int, head_hash: str) -> str:
    """The keyed seal of a subject's chain head."""
    message = f"{subject_type}:{subject_id}:{seq}:{head_hash}".encode("ascii")
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def append(subject, *, actor_id, actor_name, org_id, role, trigger, from_state, to_state, reason="", payload=None,
           now: datetime | None = None, due_at: datetime | None = None) -> None:
    """Add the next entry for `subject` (whose row the caller has locked) and advance
    the subject's chain head. Runs inside the caller's transaction.

    The row is written at once with a plain INSERT: entries are never updated, so the
    unit of work has nothing to track (and no ORM object is built for it). `now` is
    the entry's time (fire() passes the time the new state was entered).

    A subject may define `audit_appended(values)`: called with the entry's values, it
    may copy facts of its trail onto the subject's own row (written in this same
    transaction, with the chain head), so that aggregates need not join the entries."""
    values = {
        "subject_type": subject.subject_type,
        "subject_id": subject.id,
        "seq": (subject.audit_seq or 0) + 1,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "org_id": org_id,
        "role": role,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason or "",
        "payload": canonical_payload(payload),
        "created_at": now or utcnow(),
        "prev_hash": subject.audit_hash or GENESIS,
    }
    values["hash"] = _hash(**values)
    values["due_at"] = due_at
    subject.audit_seq = values["seq"]
    subject.audit_hash = values["hash"]
    subject.audit_mac = seal(values["subject_type"], values["subject_id"], values["seq"], values["hash"])
    appended = getattr(subject, "audit_appended", None)
    if appended is not None:
        appended(values)  # facts of the trail the subject keeps (written with its chain head)
    if db.session.new:
        db.session.flush()  # the people, org nodes or subject the entry refers to
    db.session.execute(_INSERT, values)


def timeline(subject) -> list[AuditEntry]:
    """The subject's entries in order, each with its org unit loaded (one query more)."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == subject.subject_type, AuditEntry.subject_id == subject.id)
            .order_by(AuditEntry.seq)
            .options(selectinload(AuditEntry.org))
        )
    )


@dataclass
class Break:
    entry_id: int | None
    subject: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id} (seq {self.seq})" if self.entry_id else "chain head"
        return f"{self.subject}: {where}: {self.problem}"


_SUBJECT_MODELS: dict[str, type] = {}
# verify() hands a subject's first entries to its `audit_facts_differ(entries)`, if it
# has one: the facts it keeps of them (see append()) must be what they say.
EARLY_ENTRIES = 2


def register_subject(model: type) -> type:
    """Class decorator: a model whose rows carry an audit chain (subject_type, audit_seq, audit_hash)."""
    _SUBJECT_MODELS[model.subject_type] = model
    return model


def _entries() -> Iterator[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.subject_type, AuditEntry.subject_id, AuditEntry.seq)
    yield from db.session.scalars(stmt.execution_options(yield_per=2000))


def _check_head(subject_type: str, subject_id: int, seq: int, last_hash: str, last_state: str,
                early: list[AuditEntry]) -> Break | None:
    model = _SUBJECT_MODELS.get(subject_type)
    if model is None:
        return None
    row = db.session.get(model, subject_id)
    label = f"{subject_type} {subject_id}"
    if row is None:
        return Break(None, label, None, "subject row missing")
    if (row.audit_seq or 0) != seq or (row.audit_hash or GENESIS) != last_hash:
        return Break(None, label, row.audit_seq, "latest entry missing or replaced (chain head does not match)")
    if row.audit_mac is None:
        return Break(None, label, row.audit_seq, "chain head not sealed (run `flask audit seal` once after upgrading)")
    if not hmac.compare_digest(row.audit_mac, seal(subject_type, subject_id, seq, last_hash)):
        return Break(None, label, row.audit_seq, "chain head seal does not match: entries rewritten")
    if row.state != last_state:
        return Break(None, label, row.audit_seq, f"state {row.state} differs from its last entry's ({last_state})")
    kept = getattr(row, "audit_facts_differ", None)
    problem = kept(early) if kept is not None else None
    if problem:
        return Break(None, label, row.audit_seq, problem)
    return None


def _unchained(seen: set[tuple[str, int]]) -> Iterator[Break]:
    """Subjects whose row says they have entries, with none left in the log."""
    for subject_type, model in _SUBJECT_MODELS.items():
        rows = db.session.execute(select(model.id, model.audit_seq).where(model.audit_seq > 0).order_by(model.id))
        for subject_id, seq in rows:
            if (subject_type, subject_id) not in seen:
                yield Break(None, f"{subject_type} {subject_id}", seq, f"all {seq} audit entries missing")


def verify() -> list[Break]:
    """Check every chain; returns the breaks found, first one first (empty when intact)."""
    breaks: list[Break] = []
    seen: set[tuple[str, int]] = set()
    current: tuple[str, int] | None = None
    expected_seq, prev, last_state = 1, GENESIS, ""
    early: list[AuditEntry] = []  # the subject's first entries, for the facts it keeps of them
    for entry in _entries():
        key = (entry.subject_type, entry.subject_id)
        if key != current:
            if current is not None:
                head = _check_head(*current, expected_seq - 1, prev, last_state, early)
                if head:
                    breaks.append(head)
            current, expected_seq, prev, early = key, 1, GENESIS, []
            seen.add(key)
        if entry.seq <= EARLY_ENTRIES:
            early.append(entry)
        label = f"{entry.subject_type} {entry.subject_id}"
        if entry.seq != expected_seq:
            breaks.append(Break(entry.id, label, entry.seq, f"sequence gap: expected {expected_seq}"))
        elif entry.prev_hash != prev:
            breaks.append(Break(entry.id, label, entry.seq, "does not link to the previous entry"))
        elif entry_hash(entry) != entry.hash:
            breaks.append(Break(entry.id, label, entry.seq, "content changed after it was written"))
        expected_seq, prev, last_state = entry.seq + 1, entry.hash, entry.to_state
    if current is not None:
        head = _check_head(*current, expected_seq - 1, prev, last_state, early)
        if head:
            breaks.append(head)
    breaks.extend(_unchained(seen))
    return breaks


def seal_unsealed() -> int:
    """Seal the chain heads written before seals existed, where the chain is otherwise
    intact (run once after upgrading); returns how many were sealed."""
    broken = {b.subject for b in verify() if not b.problem.startswith("chain head not sealed")}
    sealed = 0
    for subject_type, model in _SUBJECT_MODELS.items():
        rows = db.session.scalars(select(model).where(model.audit_seq > 0, model.audit_mac.is_(None)))
        for row in rows:
            if f"{subject_type} {row.id}" in broken:
                continue
            row.audit_mac = seal(subject_type, row.id, row.audit_seq, row.audit_hash)
            sealed += 1
    return sealed
