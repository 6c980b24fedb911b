"""Alembic, one history per service. `procura migrate` upgrades every service's database;
services never migrate on start, so replicas cannot race."""
from pathlib import Path

from alembic import command
from alembic.config import Config

from services.common.config import DATA_SERVICES, database_url
from services.common.db import normalise_url

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
    from services.common.db import JSONText
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
