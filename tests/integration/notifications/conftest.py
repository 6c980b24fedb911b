import pytest

from services.common.context import CallerContext
from services.common.engines import make_engine
from services.notifications.service import NotificationsService
from tests.integration.notifications.eventsource import Base as SourceBase, EventSource
from tests.support.databases import create_database, migrated_database
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for
from tests.unit.notifications.smtp_server import SmtpServer

STAFF = CallerContext(staff=True, user_id=1).to_dict()
PUBLIC_URL = "https://portal.procura.example"


@pytest.fixture
def notifications_db(tmp_path, monkeypatch):
    url, drop = migrated_database("notifications", tmp_path)
    monkeypatch.setenv("NOTIFICATIONS_DATABASE_URL", url)
    yield url
    drop()


@pytest.fixture
def source_db(tmp_path, monkeypatch):
    url, drop = create_database("eventsource", tmp_path)
    engine = make_engine(url)
    SourceBase.metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("EVENTSOURCE_DATABASE_URL", url)
    yield url
    drop()


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_env(procura_env, smtp_server, notifications_db, source_db, monkeypatch):
    """Fast retries and a short lease, the test's SMTP server, a known public URL. The SMTP
    timeout leaves a loaded machine time to answer: a reply that times out is sent again."""
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port),
                        "SMTP_TIMEOUT": "5", "MAIL_POLL_INTERVAL": "0.2",
                        "MAIL_RETRY_BASE": "0.2", "MAIL_RETRY_MAX": "1",
                        "MAIL_CLAIM_LEASE": "30", "PUBLIC_URL": PUBLIC_URL}.items():
        monkeypatch.setenv(name, value)
    for name in ("MAIL_FROM", "BILLING_EMAIL", "SMTP_TLS", "SMTP_USERNAME", "MAIL_DELIVERY"):
        monkeypatch.delenv(name, raising=False)
    return procura_env


@pytest.fixture
def notifications(start_service, mail_env):
    return start_service(NotificationsService)


@pytest.fixture
def publish(start_service, mail_env):
    """publish([(source, type, payload), ...]) → event ids, through an outbox."""
    start_service(EventSource)

    def send(events):
        with ServiceRpcProxy("eventsource", mail_env) as source:
            return source.emit_many(STAFF, [list(e) for e in events])
    return send


def wait_settled(rpc, timeout=30):
    """Until no email is queued or being sent: each one is sent, failed or suppressed, and
    nothing more reaches the SMTP server unless a new event arrives. Returns the stats."""
    def settled():
        stats = rpc.mail_queue_stats(STAFF)
        return stats if stats["queued"] == stats["sending"] == 0 else None
    return wait_for(settled, timeout=timeout, message="the mail queue to settle")


@pytest.fixture
def notifications_rpc(mail_env):
    with ServiceRpcProxy("notifications", mail_env) as proxy:
        yield proxy
