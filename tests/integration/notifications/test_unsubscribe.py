"""Optional mail end to end at the RPC level: the unsubscribe link of a delivered report
stops the next report to that address but no transactional mail; announcements from
staff honour preferences and unsubscribes."""
from urllib.parse import parse_qs, urlparse

import pytest

from services.common.context import CallerContext
from services.common.errors import Forbidden, NotFound
from tests.integration.notifications.conftest import PUBLIC_URL, STAFF, wait_settled
from tests.support.waiting import wait_for
from tests.unit.notifications.samples import ALICE, BRUNO, CSV

pytestmark = pytest.mark.integration
BUYER = CallerContext(user_id=11, company_id=1).to_dict()


def report(recipients):
    return ("reporting", "report_ready", {
        "report_key": "spend", "title": "Spend by category", "recipients": recipients,
        "filename": "spend.csv", "csv": CSV})


def token_from(received):
    https = received.message["List-Unsubscribe"].split(",")[0].strip(" <>")
    assert https.startswith(f"{PUBLIC_URL}/api/v1/unsubscribe?token=")
    text = received.message.get_body(("plain",)).get_content()
    assert https in text
    return parse_qs(urlparse(https).query)["token"][0]


def test_unsubscribe_link_stops_that_stream_only(notifications, publish, smtp_server,
                                                 notifications_rpc):
    publish([report([{"email": ALICE["email"], "locale": "en"},
                     {"email": BRUNO["email"], "locale": "fr"}])])
    wait_for(lambda: len(smtp_server.received) == 2, message="two reports")
    alice_report = smtp_server.to(ALICE["email"])[0]
    token = token_from(alice_report)

    info = notifications_rpc.unsubscribe_info(CallerContext().to_dict(), token)
    assert info == {"email": "a***@acme.example", "stream": "report_deliveries",
                    "locale": "en", "unsubscribed": False}
    # no login needed: the link is the credential
    result = notifications_rpc.unsubscribe(CallerContext().to_dict(), token)
    assert result["unsubscribed"] is True and result["stream"] == "report_deliveries"
    assert notifications_rpc.unsubscribe(CallerContext().to_dict(), token)["unsubscribed"]
    with pytest.raises(NotFound):
        notifications_rpc.unsubscribe(CallerContext().to_dict(), token + "x")

    publish([report([{"email": ALICE["email"], "locale": "en"},
                     {"email": BRUNO["email"], "locale": "fr"}]),
             ("identity", "password_reset_requested", {
                 "user_id": 11, "email": ALICE["email"], "first_name": "Alice", "locale": "en",
                 "token": "t0k", "expires_at": "2026-11-23T10:00:00Z"})])
    wait_for(lambda: len(smtp_server.received) == 4, message="Bruno's report and Alice's reset")
    # Alice's report is recorded as suppressed once the event has been handled
    wait_for(lambda: wait_settled(notifications_rpc)["suppressed"] == 1,
             message="Alice's report to be suppressed")
    alice = [r.message["Subject"] for r in smtp_server.to(ALICE["email"])]
    assert alice == ["Your report is ready: Spend by category", "Reset your Procura password"]
    assert len(smtp_server.to(BRUNO["email"])) == 2
    stats = notifications_rpc.mail_queue_stats(STAFF)
    assert (stats["sent"], stats["suppressed"]) == (4, 1)
    [suppressed] = notifications_rpc.outgoing_mail(STAFF, status="suppressed")["items"]
    assert suppressed["recipient"] == ALICE["email"] and suppressed["kind"] == "report_ready"


def test_announcements_are_for_staff_and_honour_preferences(notifications, publish, smtp_server,
                                                            notifications_rpc):
    with pytest.raises(Forbidden):
        notifications_rpc.send_announcement(BUYER, "Hi", "Body", [ALICE["email"]])

    publish([("identity", "email_preferences_changed", {
        "user_id": 12, "email": BRUNO["email"],
        "preferences": {"marketing": False, "order_updates": True, "report_deliveries": True}})])
    wait_for(lambda: notifications_rpc.recipient_status(STAFF, BRUNO["email"])["preferences"],
             message="the preference to arrive")
    status = notifications_rpc.recipient_status(STAFF, BRUNO["email"])
    assert status["receives"] == {"marketing": False, "report_deliveries": True}

    result = notifications_rpc.send_announcement(
        STAFF, "New laptops on contract", "The T14 Gen 6 is now on your contract.",
        [{"email": ALICE["email"], "locale": "en"}, {"email": BRUNO["email"], "locale": "fr"}])
    assert (result["queued"], result["suppressed"]) == (1, 1)
    wait_for(lambda: smtp_server.to(ALICE["email"]), message="the announcement")
    wait_settled(notifications_rpc)  # Bruno's was suppressed when it was queued
    [got] = smtp_server.received
    assert got.message["Subject"] == "New laptops on contract"
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = token_from(got)
    assert notifications_rpc.unsubscribe(CallerContext().to_dict(), token)["stream"] == "marketing"
    again = notifications_rpc.send_announcement(STAFF, "Another", "Body", [ALICE["email"]])
    assert (again["queued"], again["suppressed"]) == (0, 1)
    assert notifications_rpc.recipient_status(STAFF, ALICE["email"])["suppressed"] == ["marketing"]
