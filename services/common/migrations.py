"""Alembic, one history per service. `procura migrate` upgrades every service's database;
services never migrate on start, so replicas cannot race."""
from pathlib import Path

from alembic import command
from alembic.config import Config

from services.common.config import DATA_SERVICES, database_url
from services.common.engines import normalise_url

SERVICES_DIR = Path(__file__).resolve().parents[1]


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url or database_url(service)).replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str | None = None, revision: str = "head"):
    command.upgrade(alembic_config(service, url), revision)


def upgrade_all(services=DATA_SERVICES):
    for service in services:
        upgrade(service)


def make_revision(service: str, message: str):
    """Autogenerate a revision against an up-to-date scratch database (developers only)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        upgrade(service, url)
        command.revision(alembic_config(service, url), message=message, autogenerate=True)


def _render_item(type_, obj, autogen_context):
    # JSONText is stored as TEXT: migrations say so and never import application code
    from services.common.tables import JSONText
    if type_ == "type" and isinstance(obj, JSONText):
        return "sa.Text()"
    return False


def run_env(target_metadata):
    """The body of every service's migrations/env.py."""
    from alembic import context
    from sqlalchemy import create_engine, pool

    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # batch mode lets ALTERs work on SQLite too
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, compare_type=True, render_item=_render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_messaging_tables():
    """The outbox, processed-events and idempotency-key tables of `db.make_base()`, for a
    service's initial migration."""
    from alembic import op
    import sqlalchemy as sa
    op.create_table('idempotency_keys',
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_events_event_id'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_events_sent_at'), ['sent_at'], unique=False)

    op.create_table('processed_events',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('handler', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'handler', name=op.f('pk_processed_events'))
    )


def drop_messaging_tables():
    from alembic import op
    op.drop_table("processed_events")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_sent_at"))
    op.drop_table("outbox_events")
    op.drop_table("idempotency_keys")
