"""How fire() writes: one UPDATE of the subject's changed columns, the audit INSERT,
nothing re-read that the request already holds, and the unit of work taking over
when a callback changes one of the subject's relationships."""
from contextlib import contextmanager

import sqlalchemy as sa

from core.extensions import db
from orgs.models import OrgNode
from issues import services
from workflow.audit import verify
from workflow.engine import Transition, Workflow
from issues.models import IssuePhoto, RenovationIssue
from issues.renovation import WORKFLOW
from tests.issues.helpers import fire, issue, person, raise_demand


def _row(issue_id: int):
    """The stored row, read on a connection of its own (not through the session)."""
    table = RenovationIssue.__table__
    with db.engine.connect() as conn:
        return conn.execute(sa.select(table).where(table.c.id == issue_id)).one()


@contextmanager
def recorded_statements(engine):
    """The SQL statements run on `engine` inside the block, upper-cased, one line each."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()).upper())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_every_changed_column_reaches_the_database(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        before = _row(issue_id)
        fire("group", issue_id, "escalate")
        row = _row(issue_id)
        grid = db.session.scalar(sa.select(OrgNode).where(OrgNode.code == "C1G1"))
        assert (row.state, row.version, row.audit_seq) == ("review_grid", before.version + 1, before.audit_seq + 1)
        assert row.responsible_org_id == grid.id != before.responsible_org_id
        assert row.due_at is not None and row.state_entered_at > before.state_entered_at
        assert row.audit_hash != before.audit_hash
        fire("grid", issue_id, "return_down", reason="请楼院党小组先核实")
        row = _row(issue_id)
        assert row.state == "review_building" and row.responsible_org_id == before.responsible_org_id
        assert verify() == []


def test_the_subject_is_clean_and_current_after_fire(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        subject = services.fire_issue(person("group"), issue_id, "escalate", issue(issue_id).version)
        assert subject not in db.session.dirty
        assert not sa.inspect(subject).expired
        row = _row(issue_id)
        assert (subject.state, subject.version, subject.audit_hash) == (row.state, row.version, row.audit_hash)


def test_fire_reads_only_the_subject(app, world):
    """The actor, memberships and org nodes the request loaded are not read again, and
    the responsible org of a level comes from the issue's path."""
    with app.app_context():
        issue_id = raise_demand(world)
        actor = person("group")
        version = issue(issue_id).version
        _ = [m.org.path for m in actor.memberships]
        with recorded_statements(db.engine) as statements:
            services.fire_issue(actor, issue_id, "escalate", version)
        reads = [s for s in statements if s.startswith("SELECT")]
        assert len(reads) == 1 and "FROM RENOVATION_ISSUE" in reads[0], statements
        updates = [s for s in statements if "UPDATE RENOVATION_ISSUE" in s]
        assert len(updates) == 1
        assert sum(s.startswith("INSERT INTO AUDIT_ENTRY") for s in statements) == 1
        # The notification event the observer adds (notify/): on PostgreSQL it rides in
        # the subject's UPDATE (engine.ride), a statement of its own elsewhere.
        told = [s for s in statements if "INSERT INTO NOTIFICATION_EVENT" in s]
        assert len(told) == 1
        if db.engine.dialect.name == "postgresql":
            assert told == updates and updates[0].startswith("WITH RIDER_0 AS")
        else:
            assert told[0].startswith("INSERT INTO NOTIFICATION_EVENT")


def test_a_callback_changing_a_relationship_is_written_by_the_unit_of_work(app, world, monkeypatch):
    with app.app_context():
        issue_id = raise_demand(world)
        uploader = person("group").id

        def add_photo(subject, ctx):
            subject.photos.append(IssuePhoto(filename="现场.jpg", content_type="image/jpeg", sha256="a" * 64,
                                             size=1, uploaded_by_id=uploader))

        escalate = WORKFLOW.candidates("review_building", "escalate")[0]
        with_photo = Transition(escalate.trigger, escalate.source, escalate.dest, escalate.permission,
                                escalate.label, before=(add_photo,))
        others = [t for t in WORKFLOW.transitions if t is not escalate]
        monkeypatch.setattr(RenovationIssue, "workflow",
                            Workflow("test", WORKFLOW.states.values(), [with_photo, *others], WORKFLOW.initial))
        fire("group", issue_id, "escalate")
        assert _row(issue_id).state == "review_grid"
        photos = db.session.scalars(sa.select(IssuePhoto).where(IssuePhoto.issue_id == issue_id)).all()
        assert [p.filename for p in photos] == ["现场.jpg"]
        assert verify() == []


def test_org_levels_are_remembered_per_application(app, world):
    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        levels = app.extensions["wuji.org_node_levels"]
        path_ids = [int(part) for part in issue(issue_id).path.strip("/").split("/") if part]
        assert set(path_ids) <= set(levels)
        assert {levels[node_id] for node_id in path_ids} >= {"street_committee", "community_committee",
                                                              "grid_branch", "building_group"}


def test_an_api_transition_reads_the_token_holder_once(app, world, client):
    """Bearer token, person, memberships and org nodes in one query; then the subject."""
    from orgs import tokens

    with app.app_context():
        issue_id = raise_demand(world)
        _row_, secret = tokens.create(person("group"), "integration")
        version = issue(issue_id).version
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/issues?per_page=1", headers=headers)  # records the token's first use
    with app.app_context():
        engine = db.engine
    # Outside any app context: the request has its own, with its own session and user.
    with recorded_statements(engine) as statements:
        answer = client.post(f"/api/v1/issues/{issue_id}/transitions", headers=headers,
                             json={"trigger": "escalate", "version": version})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["state"] == "review_grid"
    reads = [s for s in statements if s.startswith("SELECT")]
    assert len(reads) == 2, reads
    assert "FROM API_TOKEN" in reads[0] and "MEMBERSHIP" in reads[0] and "ORG_NODE" in reads[0]
    assert "FROM RENOVATION_ISSUE" in reads[1]


def test_each_answer_of_node_at_level_is_remembered(app, world):
    """The org responsible for a level on a path is read once; asked again, no SQL."""
    from orgs.models import node_at_level

    with app.app_context():
        issue_id = raise_demand(world)
        path = issue(issue_id).path
        grid = db.session.scalars(sa.select(OrgNode).where(OrgNode.level_code == "grid_branch")).all()
        first = node_at_level(path, "grid_branch")
        assert first in {node.id for node in grid} and path.startswith(
            next(node.path for node in grid if node.id == first))
        with recorded_statements(db.engine) as statements:
            assert node_at_level(path, "grid_branch") == first
            assert node_at_level(path, "no_such_level") is None
            assert node_at_level(path, "no_such_level") is None
        assert statements == []
        assert app.extensions["wuji.node_at_level"][(path, "grid_branch")] == first


def test_a_stored_entry_hash_is_the_documented_material(app, world):
    """sha256 over the JSON array of the entry's fields and the previous hash (compact,
    UTF-8, payload sorted): the format existing chains were written in."""
    import hashlib
    import json

    from workflow.audit import AuditEntry

    with app.app_context():
        issue_id = raise_demand(world)
        fire("group", issue_id, "escalate")
        fire("grid", issue_id, "return_down", reason="请楼院核实：３号楼")
        table = AuditEntry.__table__
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(table).where(table.c.subject_type == "renovation_issue",
                                                       table.c.subject_id == issue_id)
                                .order_by(table.c.seq)).all()
    assert [row.trigger for row in rows][-2:] == ["escalate", "return_down"]
    previous = "0" * 64
    for row in rows:
        material = [row.subject_type, row.subject_id, row.seq, row.actor_id, row.actor_name, row.org_id, row.role,
                    row.trigger, row.from_state, row.to_state, row.reason or "", row.payload or "{}",
                    row.created_at.isoformat(timespec="microseconds"), row.prev_hash]
        text = json.dumps(material, ensure_ascii=False, separators=(",", ":"))
        assert row.prev_hash == previous
        assert row.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert row.payload == json.dumps(json.loads(row.payload), ensure_ascii=False, sort_keys=True,
                                         separators=(",", ":"))
        previous = row.hash
    assert rows[-1].reason == "请楼院核实：３号楼"
