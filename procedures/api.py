"""JSON API for votes, public notices and consultation on the /api/v1 blueprint.

Thin views over procedures.voting, procedures.notice and procedures.consultation. Nothing
about ballots is returned before a vote closes: the vote shows its rule, electorate
and dates; /result answers 409 until the vote is closed. Errors come from the one
handler in app.py (404 outside jurisdiction, 403 not allowed, 409 wrong state or
stale version, 422 invalid data with `fields`). Described in /api/v1/openapi.json.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from core.api import api, invalid, require_login, text_field
from core.errors import DomainError, ValidationError
from procedures import consultation, notice, voting
from orgs.permissions import is_staff
from rules import tally
from procedures.api_spec import register_spec

MAX_PAPER_BALLOTS = 500


class MalformedBody(DomainError):
    status = 400
    code = "malformed_request"


def _reject_repeated_keys(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValidationError(_("The field %(field)s was sent twice in one request.", field=key),
                                  fields={key: _("Sent twice.")})
        seen[key] = value
    return seen


def body() -> dict:
    """The JSON object sent; a key sent twice (e.g. two choices) is refused, not silently overwritten."""
    try:
        data = json.loads(request.get_data(as_text=True) or "null", object_pairs_hook=_reject_repeated_keys)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise MalformedBody(_("The request body must be a JSON object."))
    return data


def _int(data: dict, name: str, errors: dict, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = _("Must be a whole number.")
        return None
    return value


def _raise(errors: dict) -> None:
    if errors:
        raise invalid(errors)


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value.isoformat()


def _fraction(value) -> str | None:
    return None if value is None else tally.fraction_text(value)


# --- votes ---------------------------------------------------------------------------


def vote_json(vote: voting.Vote) -> dict[str, Any]:
    """What anyone who may see the vote may know: never ballots or counts before it closes."""
    rule = vote.rule
    state = voting.VOTE_WORKFLOW.state(vote.state)
    return {
        "id": vote.id,
        "title": vote.title,
        "state": vote.state,
        "state_label": str(state.label),
        "version": vote.version,
        "target": {"type": vote.target_type, "id": vote.target_id},
        "rule": {"name": rule.name, "title": str(rule.title), "legal_basis": str(rule.legal_basis),
                 "electorate": rule.kind.value},
        "scope": {"kind": vote.scope_kind, "id": vote.scope_id, "label": vote.scope_label},
        "electorate": {"voters": vote.voter_count, "households": vote.household_count,
                       "area": str(vote.entitled_area)},
        "opened_at": iso(vote.opened_at),
        "closes_at": iso(vote.closes_at),
        "closed_at": iso(vote.closed_at),
        "passed": vote.passed if vote.state == "closed" else None,
        "public_note": vote.public_note,
    }


def result_json(vote: voting.Vote, result: tally.TallyResult) -> dict[str, Any]:
    return {
        "vote_id": vote.id,
        **result.as_dict(),
        "decision": "passed" if result.passed else "failed",
        "rule_title": str(result.rule.title),
        "legal_basis": str(result.rule.legal_basis),
        "participation_area": _fraction(result.participation_area_fraction),
        "participation_heads": _fraction(result.participation_heads_fraction),
        "consent_area": _fraction(result.consent_area_fraction),
        "consent_heads": _fraction(result.consent_heads_fraction),
        "lines": tally.describe(result),
    }


def ballot_json(ballot: voting.Ballot) -> dict[str, Any]:
    return {"id": ballot.id, "household_id": ballot.household_id, "choice": ballot.choice,
            "channel": ballot.channel, "evidence_ref": ballot.evidence_ref, "cast_at": iso(ballot.cast_at),
            "current": ballot.is_current}


def _options(data: dict, errors: dict) -> voting.VoteOptions:
    scope = data.get("scope")
    kind = scope_id = None
    if scope is not None:
        if not isinstance(scope, dict) or scope.get("kind") not in voting.SCOPE_KINDS:
            errors["scope"] = _("Give the electorate as {\"kind\": \"estate|building|unit\", \"id\": ...}.")
        else:
            kind, scope_id = scope["kind"], _int(scope, "id", errors)
    closes_on = voting.optional_date(data.get("closes_on"), "closes_on", errors)
    return voting.VoteOptions(kind, scope_id, text_field(data, "rule", errors) or None,
                              text_field(data, "title", errors) or None, closes_on)


@api.route("/votes", methods=["POST"])
def open_vote():
    actor = require_login()
    data, errors = body(), {}
    target_type = text_field(data, "target_type", errors, required=True)
    target_id = _int(data, "target_id", errors)
    version = _int(data, "version", errors, required=False)
    options = _options(data, errors)
    _raise(errors)
    vote = voting.open_vote(actor, target_type, target_id, options, version)
    return jsonify(vote_json(vote)), 201


@api.route("/votes/<int:vote_id>")
def get_vote(vote_id: int):
    actor = require_login()
    return jsonify(vote_json(voting.get_vote(actor, vote_id)))


@api.route("/votes/<int:vote_id>/result")
def vote_result(vote_id: int):
    actor = require_login()
    result = voting.result(actor, vote_id)
    return jsonify(result_json(voting.get_vote(actor, vote_id), result))


@api.route("/votes/<int:vote_id>/ballots", methods=["POST"])
def cast_ballot(vote_id: int):
    actor = require_login()
    data, errors = body(), {}
    household_id = _int(data, "household_id", errors, required=False)
    _raise(errors)
    ballot = voting.cast_ballot(actor, vote_id, data.get("choice"), household_id)
    return jsonify(ballot_json(ballot)), 201


@api.route("/votes/<int:vote_id>/my-ballots")
def my_ballots(vote_id: int):
    actor = require_login()
    vote = voting.get_vote(actor, vote_id)
    return jsonify({"ballots": [ballot_json(b) for b in voting.my_ballots(actor, vote)]})


def _paper_entries(data: dict) -> list[voting.PaperBallot]:
    rows = data.get("ballots")
    if not isinstance(rows, list) or not rows or len(rows) > MAX_PAPER_BALLOTS:
        raise ValidationError(_("Send the ballots as a list of 1 to %(n)d entries.", n=MAX_PAPER_BALLOTS),
                              fields={"ballots": _("Invalid list.")})
    entries, errors = [], {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            errors[f"ballots[{index}]"] = _("Must be an object.")
            continue
        inner: dict[str, str] = {}
        household_id = _int(row, "household_id", inner)
        entries.append(voting.PaperBallot(household_id or 0, row.get("choice"), text_field(row, "evidence_ref", inner),
                                          text_field(row, "channel", inner) or "paper"))
        errors.update({f"ballots[{index}].{key}": value for key, value in inner.items()})
    _raise(errors)
    return entries


@api.route("/votes/<int:vote_id>/paper-ballots", methods=["POST"])
def enter_paper_ballots(vote_id: int):
    actor = require_login()
    ballots = voting.enter_paper_ballots(actor, vote_id, _paper_entries(body()))
    return jsonify({"ballots": [ballot_json(b) for b in ballots]}), 201


@api.route("/votes/<int:vote_id>/close", methods=["POST"])
def close_vote(vote_id: int):
    actor = require_login()
    data, errors = body(), {}
    version = _int(data, "version", errors)
    on_failure = text_field(data, "on_failure", errors) or "revise"
    reason = text_field(data, "reason", errors)
    _raise(errors)
    vote = voting.close_vote(actor, vote_id, version, on_failure=on_failure, reason=reason)
    return jsonify({**vote_json(vote), "result": result_json(vote, voting.stored_result(vote))})


@api.route("/votes/<int:vote_id>/cancel", methods=["POST"])
def cancel_vote(vote_id: int):
    actor = require_login()
    data, errors = body(), {}
    version = _int(data, "version", errors)
    reason = text_field(data, "reason", errors, required=True)
    _raise(errors)
    return jsonify(vote_json(voting.cancel_vote(actor, vote_id, version, reason)))


# --- notices and objections --------------------------------------------------------------


def objection_json(objection: notice.Objection, actor) -> dict[str, Any]:
    """Objectors' names are shown to staff and to the objector, not to other residents."""
    show_name = objection.author_id == actor.id or is_staff(actor)
    return {
        "id": objection.id, "body": objection.body, "status": objection.status,
        "filed_at": iso(objection.filed_at), "author": objection.author.name if show_name else None,
        "answer": objection.answer or None, "answered_at": iso(objection.answered_at),
        "withdrawn_at": iso(objection.withdrawn_at),
    }


def notice_json(item: notice.Notice, actor) -> dict[str, Any]:
    return {
        "id": item.id, "title": item.title, "body": item.body, "days": item.days,
        "target": {"type": item.target_type, "id": item.target_id},
        "published_at": iso(item.published_at), "ends_at": iso(item.ends_at),
        "running": item.is_running(), "vote_id": item.vote_id,
        "objections": [objection_json(o, actor) for o in item.objections],
    }


@api.route("/notices/<int:notice_id>")
def get_notice(notice_id: int):
    actor = require_login()
    return jsonify(notice_json(notice.get_notice(actor, notice_id), actor))


@api.route("/notices/<int:notice_id>/objections", methods=["POST"])
def file_objection(notice_id: int):
    actor = require_login()
    data, errors = body(), {}
    text = text_field(data, "body", errors)
    _raise(errors)
    return jsonify(objection_json(notice.file_objection(actor, notice_id, text), actor)), 201


@api.route("/objections/<int:objection_id>/answer", methods=["POST"])
def answer_objection(objection_id: int):
    actor = require_login()
    data, errors = body(), {}
    text = text_field(data, "answer", errors)
    _raise(errors)
    return jsonify(objection_json(notice.answer_objection(actor, objection_id, text), actor))


@api.route("/objections/<int:objection_id>/withdraw", methods=["POST"])
def withdraw_objection(objection_id: int):
    actor = require_login()
    return jsonify(objection_json(notice.withdraw_objection(actor, objection_id), actor))


# --- consultation ------------------------------------------------------------------------


def meeting_json(meeting: consultation.Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id, "kind": meeting.kind, "held_on": iso(meeting.held_on), "place": meeting.place,
        "target": {"type": meeting.target_type, "id": meeting.target_id},
        "agenda": meeting.agenda, "minutes": meeting.minutes, "decisions": meeting.decisions,
        "participants": [{"role": p.role, "name": p.name} for p in meeting.participants],
        "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "sha256": a.sha256} for a in meeting.attachments],
    }


def comment_json(comment: consultation.Comment) -> dict[str, Any]:
    return {"id": comment.id, "body": comment.body, "created_at": iso(comment.created_at),
            "answer": comment.answer or None, "answered_at": iso(comment.answered_at)}


def _participants(data: dict, errors: dict) -> tuple[tuple[str, str], ...]:
    rows = data.get("participants") or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        errors["participants"] = _("Give the participants as a list of {\"role\": ..., \"name\": ...}.")
        return ()
    return tuple((str(r.get("role") or ""), str(r.get("name") or "")) for r in rows)


@api.route("/meetings", methods=["POST"])
def record_meeting():
    actor = require_login()
    data, errors = body(), {}
    target_type = text_field(data, "target_type", errors, required=True)
    target_id = _int(data, "target_id", errors)
    held_on = voting.optional_date(data.get("held_on"), "held_on", errors)
    record = consultation.MeetingRecord(
        kind=text_field(data, "kind", errors), held_on=held_on, place=text_field(data, "place", errors),
        agenda=text_field(data, "agenda", errors), minutes=text_field(data, "minutes", errors),
        decisions=text_field(data, "decisions", errors), participants=_participants(data, errors),
    )
    _raise(errors)
    meeting = consultation.record_meeting(actor, target_type, target_id, record)
    return jsonify(meeting_json(meeting)), 201


@api.route("/meetings/<int:meeting_id>")
def get_meeting(meeting_id: int):
    actor = require_login()
    return jsonify(meeting_json(consultation.get_meeting(actor, meeting_id)))


@api.route("/comments", methods=["POST"])
def add_comment():
    actor = require_login()
    data, errors = body(), {}
    target_type = text_field(data, "target_type", errors, required=True)
    target_id = _int(data, "target_id", errors)
    text = text_field(data, "body", errors)
    _raise(errors)
    return jsonify(comment_json(consultation.add_comment(actor, target_type, target_id, text))), 201


@api.route("/comments/<int:comment_id>/answer", methods=["POST"])
def answer_comment(comment_id: int):
    actor = require_login()
    data, errors = body(), {}
    text = text_field(data, "answer", errors)
    _raise(errors)
    return jsonify(comment_json(consultation.answer_comment(actor, comment_id, text)))


register_spec()
