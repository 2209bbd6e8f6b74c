"""core.db.lock() on both backends, including a model with an eagerly joined relationship."""
import pytest
import sqlalchemy as sa

from core.db import lock, write_transaction
from core.extensions import db
from tests.conftest import BACKEND
from orgs.models import OrgNode


def test_lock_loads_a_model_that_joins_its_level_eagerly(app, world):
    with app.app_context():
        node_id = db.session.scalar(sa.select(OrgNode.id).where(OrgNode.code == "C1"))
        with write_transaction():
            node = lock(OrgNode, node_id)
            assert node.level.code == "community_committee"
            node.name = "改名后的社区党委"
        with db.engine.connect() as conn:
            stored = conn.execute(sa.select(OrgNode.__table__.c.name).where(OrgNode.__table__.c.id == node_id))
            assert stored.scalar_one() == "改名后的社区党委"


def test_lock_answers_none_for_a_missing_row(app, world):
    with app.app_context():
        with write_transaction():
            assert lock(OrgNode, 10**9) is None


@pytest.mark.skipif(BACKEND != "postgresql", reason="row locks are PostgreSQL's; SQLite's write lock is the file's")
def test_a_locked_row_may_be_referred_to_but_not_locked_again(app, world):
    """FOR NO KEY UPDATE: while fire() holds an issue, another transaction may add a
    photo referring to it at once, but a second lock on the issue waits."""
    from tests.issues.helpers import raise_demand
    from issues.models import IssuePhoto, RenovationIssue

    with app.app_context():
        issue_id = raise_demand(world)
        db.session.remove()
        photos = IssuePhoto.__table__
        with write_transaction():
            lock(RenovationIssue, issue_id)
            with db.engine.connect() as other:
                other.execute(sa.text("SET lock_timeout = '2s'"))
                other.execute(sa.insert(photos).values(issue_id=issue_id, filename="现场.jpg",
                                                       content_type="image/jpeg", sha256="0" * 64, size=1,
                                                       uploaded_by_id=world.person_ids["resident"]))
                other.commit()
                with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                    other.execute(sa.select(RenovationIssue.__table__.c.id)
                                  .where(RenovationIssue.__table__.c.id == issue_id).with_for_update())
                other.rollback()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(photos).where(photos.c.issue_id == issue_id))
        assert count == 1
