"""core.db.lock() on both backends, including a model with an eagerly joined relationship."""
import sqlalchemy as sa

from core.db import lock, write_transaction
from core.extensions import db
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
