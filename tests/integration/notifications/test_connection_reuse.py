"""Emails that come a few at a time, with pauses shorter than MAIL_CONNECTION_IDLE, go
over one SMTP connection: the sender woken for each is the one whose connection is open,
and it keeps the connection while it waits. On the real broker and a real SMTP server."""
import pytest

from tests.integration.notifications.conftest import wait_settled
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def locked(i):
    return ("identity", "user_locked", {"user_id": i, "email": f"user{i}@acme.example",
                                        "first_name": f"User {i}", "locale": "en"})


def test_emails_a_few_at_a_time_share_one_connection(notifications, publish, smtp_server,
                                                     notifications_rpc):
    for i in range(4):
        publish([locked(i)])
        # sent, and the sender back to waiting (it polls every 0.2 s here) before the next
        wait_for(lambda: len(smtp_server.received) == i + 1, timeout=20,
                 message=f"email {i + 1}")
        wait_settled(notifications_rpc)
    assert smtp_server.recorder.sessions == 1
