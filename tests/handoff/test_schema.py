"""Migrations and models agree, on SQLite and PostgreSQL, and the migrations go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handoff.db import make_engine
from handoff.models import Base
from handoff.schema import current_revision, downgrade, head_revision, upgrade


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration: python -m handoff make-migration '...'"


def test_downgrade_and_upgrade_again(database_url):
    engine = make_engine(database_url)
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
