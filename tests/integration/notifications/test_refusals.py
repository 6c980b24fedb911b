"""What the SMTP server refuses: a 5xx for a recipient fails that message for good (no
retry), a 4xx is retried with back-off until the server takes it."""
import pytest

from tests.integration.notifications.conftest import STAFF, wait_settled
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


def locked(email):
    return ("identity", "user_locked", {"user_id": 1, "email": email, "first_name": "X",
                                        "locale": "en"})


def by_recipient(rpc):
    return {i["recipient"]: i for i in rpc.outgoing_mail(STAFF, limit=200)["items"]}


def test_permanent_refusal_fails_temporary_refusal_retries(notifications, publish, smtp_server,
                                                           notifications_rpc):
    smtp_server.recorder.refuse = {"gone@acme.example": "550 5.1.1 no such user",
                                   "busy@acme.example": "451 4.3.0 try again later"}
    publish([locked("gone@acme.example"), locked("busy@acme.example"), locked("ok@acme.example")])
    def tried():
        items = by_recipient(notifications_rpc)
        done = (items.get("busy@acme.example", {}).get("attempts", 0) >= 3
                and items.get("gone@acme.example", {}).get("status") == "failed"
                and items.get("ok@acme.example", {}).get("status") == "sent")
        return items if done else None
    items = wait_for(tried, timeout=20, message="the deferred one to be retried, the others done")
    assert items["gone@acme.example"]["status"] == "failed"
    assert items["gone@acme.example"]["attempts"] == 1
    assert "550" in items["gone@acme.example"]["last_error"]
    assert items["busy@acme.example"]["status"] in ("queued", "sending")
    assert "451" in items["busy@acme.example"]["last_error"]
    assert items["ok@acme.example"]["status"] == "sent"

    del smtp_server.recorder.refuse["busy@acme.example"]
    wait_for(lambda: by_recipient(notifications_rpc)["busy@acme.example"]["status"] == "sent",
             timeout=20, message="the deferred one to go")
    wait_settled(notifications_rpc)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == ["busy@acme.example",
                                                                   "ok@acme.example"]
    assert by_recipient(notifications_rpc)["gone@acme.example"]["attempts"] == 1

    # an operator can give the failed one another chance
    assert notifications_rpc.requeue_failed(STAFF)["requeued"] == 1
    wait_for(lambda: by_recipient(notifications_rpc)["gone@acme.example"]["status"] == "failed"
             and by_recipient(notifications_rpc)["gone@acme.example"]["attempts"] == 1,
             timeout=20, message="the requeued one to be tried again")
