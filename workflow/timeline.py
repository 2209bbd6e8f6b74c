"""A subject's audit trail in words, for every workflow: the rows pages show
(templates/macros/timeline.html) and the entries the JSON APIs return (the
TimelineEntry schema). Who did what, at which org unit and level, the state it led
to, when and why."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from orgs import roles
from orgs.roles import LEVEL_LABELS
from workflow import audit
from workflow.audit import AuditEntry


@dataclass(frozen=True)
class TimelineRow:
    entry: AuditEntry
    label: Any  # the action in words
    to: Any  # the state reached, in words
    level: Any  # the level of the org unit that acted, in words, or None

    @property
    def data(self) -> dict:
        """What the entry recorded besides the reason (figures reported, items...)."""
        return self.entry.data


def rows(subject) -> list[TimelineRow]:
    """The subject's timeline as its page shows it."""
    workflow = type(subject).workflow
    return [
        TimelineRow(
            entry=entry,
            label=workflow.event_label(entry.trigger),
            to=workflow.state_label(entry.to_state),
            level=LEVEL_LABELS.get(entry.org.level_code) if entry.org is not None else None,
        )
        for entry in audit.timeline(subject)
    ]


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z (the database keeps naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def org_json(node) -> dict | None:
    if node is None:
        return None
    return {"id": node.id, "name": node.name, "level": node.level_code}


def _text(label) -> str | None:
    return None if label is None else str(label)


def entry_json(entry: AuditEntry, workflow) -> dict[str, Any]:
    """One entry as the APIs return it (schema TimelineEntry)."""
    return {
        "seq": entry.seq,
        "actor": {"id": entry.actor_id, "name": entry.actor_name},
        "org": org_json(entry.org),
        "role": entry.role,
        "role_label": roles.role_label(entry.role) if entry.role else None,
        "trigger": entry.trigger,
        "trigger_label": _text(workflow.event_label(entry.trigger)),
        "from_state": entry.from_state,
        "from_label": _text(workflow.state_label(entry.from_state)),
        "to_state": entry.to_state,
        "to_label": _text(workflow.state_label(entry.to_state)),
        "reason": entry.reason,
        "payload": entry.data,
        "time": iso_utc(entry.created_at),
    }


def as_json(subject) -> list[dict[str, Any]]:
    """The subject's timeline as the APIs return it."""
    workflow = type(subject).workflow
    return [entry_json(entry, workflow) for entry in audit.timeline(subject)]
