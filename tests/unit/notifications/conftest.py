import pytest

from services.notifications.models import Base
from tests.unit.notifications.smtp_server import SmtpServer


@pytest.fixture
def session(session_factory):
    """A session on a fresh, migrated notifications database."""
    return session_factory("notifications", Base)


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def public_url(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://portal.procura.example")
    monkeypatch.delenv("MAIL_FROM", raising=False)
    monkeypatch.delenv("BILLING_EMAIL", raising=False)
    return "https://portal.procura.example"
