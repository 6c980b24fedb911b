"""The unit of work of a nameko worker: the `Database` dependency gives each worker its own
SQLAlchemy session, and our entrypoints commit it (or roll it back) with
`finish_unit_of_work` *before* the RPC reply is sent or the message is acked; nameko's own
`worker_result` hook runs too late for that."""
import sys
import weakref

from nameko.extensions import DependencyProvider

from services.common.config import database_url
from services.common.engines import make_engine, session_factory


class Database(DependencyProvider):
    """`db = Database("orders", Base)`: a SQLAlchemy session per worker."""

    def __init__(self, service: str, base):
        self.service = service
        self.base = base
        self.engine = None
        self.sessions = weakref.WeakKeyDictionary()
        self.after_commit_hooks = []

    def setup(self):
        self.engine = make_engine(database_url(self.service))
        self.session_factory = session_factory(self.engine, self.base)

    def stop(self):
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        session = self.session_factory()
        self.sessions[worker_ctx] = session
        return session

    def finish(self, worker_ctx, exc_info):
        """Commit on success, roll back on failure, but commit before a failure whose error
        `keeps_changes` (errors.DomainError.keeping_changes); a failed commit becomes the
        worker's error."""
        session = self.sessions.get(worker_ctx)
        if session is None:
            return exc_info
        if exc_info is not None and not getattr(exc_info[1], "keeps_changes", False):
            session.rollback()
            return exc_info
        try:
            # set by outbox.emit (or any writer whose background worker should wake up)
            wrote_events = bool(session.info.pop("after_commit", False))
            session.commit()
        except Exception:
            session.rollback()
            return sys.exc_info()
        if wrote_events:
            for hook in self.after_commit_hooks:
                hook()
        return exc_info

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()


def finish_unit_of_work(container, worker_ctx, exc_info):
    """Commit or roll back the worker's database sessions; returns the final exc_info."""
    for provider in container.dependencies:
        if isinstance(provider, Database):
            exc_info = provider.finish(worker_ctx, exc_info)
    return exc_info


def session_of(service_instance):
    """The session the worker of `service_instance` got from its `Database`, if it has one."""
    for name, attr in vars(type(service_instance)).items():
        if isinstance(attr, Database):
            return getattr(service_instance, name)
    return None
