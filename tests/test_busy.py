"""A write that waits too long for another transaction gives up with 503 "busy" and a
Retry-After, in the user's language, with nothing written - never a 500 - and the
same request goes through once the other transaction has ended."""
from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from app import create_app
from core.extensions import db
from tests.conftest import BACKEND, BASE_CONFIG, PG_ENGINE_OPTIONS
from tests.issues.helpers import issue, raise_demand
from tests.issues.test_api import bearer
from issues.models import RenovationIssue


def impatient_app(database_url: str, tmp_path):
    """The same database, with a lock wait of 300 ms instead of 15 s."""
    config = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "STORAGE_DIR": str(tmp_path / "storage"),
              "DB_LOCK_TIMEOUT_MS": 300}
    if BACKEND == "postgresql":
        config["SQLALCHEMY_ENGINE_OPTIONS"] = PG_ENGINE_OPTIONS
    return create_app(config)


class OtherWriter:
    """Another transaction holding the issue: its row on PostgreSQL, the database's write
    lock on SQLite."""

    def __init__(self, app, database_url: str, issue_id: int):
        self.app, self.url, self.issue_id = app, database_url, issue_id

    def __enter__(self):
        if BACKEND == "postgresql":
            with self.app.app_context():
                self.conn = db.engine.connect()
            table = RenovationIssue.__table__
            self.conn.execute(sa.select(table.c.id).where(table.c.id == self.issue_id).with_for_update())
        else:
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def test_a_transition_held_up_by_another_writer_answers_503_and_writes_nothing(app, world, database_url, tmp_path):
    with app.app_context():
        issue_id = raise_demand(world)
        version = issue(issue_id).version
        db.session.remove()
    headers = bearer(app, "group")
    impatient = impatient_app(database_url, tmp_path)
    client = impatient.test_client()
    body = {"trigger": "escalate", "version": version}
    with OtherWriter(app, database_url, issue_id):
        answer = client.post(f"/api/v1/issues/{issue_id}/transitions", headers=headers, json=body)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json() == {"error": "busy", "message": "系统繁忙，本次操作未保存任何内容，请稍后再试。"}
    with app.app_context():
        assert (issue(issue_id).state, issue(issue_id).version) == ("review_building", version)
    answer = client.post(f"/api/v1/issues/{issue_id}/transitions", headers=headers, json=body)
    assert answer.status_code == 200 and answer.get_json()["state"] == "review_grid"
    with impatient.app_context():
        db.session.remove()
        db.engine.dispose()
