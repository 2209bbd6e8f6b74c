"""The schema comes only from migrations: they run up, down and up again on the
backend under test, and leave a database that matches the models exactly."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from core.extensions import db
from tests.conftest import BACKEND, BASE_CONFIG, drop_postgres, scratch_postgres


def _scratch_url(tmp_path) -> str:
    if BACKEND != "postgresql":
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    return scratch_postgres("migrations")


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_and_models_match(tmp_path):
    url = _scratch_url(tmp_path)
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        levels = db.session.execute(sa.text("SELECT code FROM org_level ORDER BY rank")).scalars().all()
        assert levels == ["street_committee", "community_committee", "grid_branch", "building_group", "member_household"]
        db.session.remove()
        db.engine.dispose()
    if BACKEND == "postgresql":
        drop_postgres(url)
