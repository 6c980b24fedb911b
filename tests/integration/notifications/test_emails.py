"""Every event of the contract, published through an outbox on the real broker, becomes
the right emails at a real SMTP server: recipients, language, both parts, links,
attachment, headers. The notifications service runs in a nameko container."""
import pytest

from services.notifications import domain
from services.notifications.service import NotificationsService
from tests.integration.notifications.conftest import PUBLIC_URL, wait_settled
from tests.support.waiting import wait_for
from tests.unit.notifications.samples import ALICE, BRUNO, CHLOE, CSV, DAVID, payloads

pytestmark = pytest.mark.integration


def parts(received):
    message = received.message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def only(server, address, subject_part):
    found = [r for r in server.to(address) if subject_part in r.message["Subject"]]
    assert len(found) == 1, (address, subject_part, [r.message["Subject"] for r in server.to(address)])
    return found[0]


def test_every_event_sends_its_emails_in_the_recipients_language(notifications, publish,
                                                                 smtp_server, notifications_rpc):
    events = payloads("en") + payloads("fr")
    expected = sum(len(domain.mails_for(s, t, p)) for s, t, p in events)
    event_ids = publish(events)
    wait_for(lambda: len(smtp_server.received) >= expected, timeout=30,
             message=f"{expected} emails")

    received = smtp_server.received
    assert len(received) == expected
    # one Message-ID per (event, kind, recipient), as derived from the event
    wanted = {domain.make_message_id(event_id, mail.kind, mail.to)
              for event_id, (s, t, p) in zip(event_ids, events)
              for mail in domain.mails_for(s, t, p)}
    assert {r.message_id for r in received} == wanted
    for r in received:
        assert r.message.get_content_type() in ("multipart/alternative", "multipart/mixed")
        assert r.message["From"] == "Procura <no-reply@procura.example>"
        assert r.rcpt_tos == [r.message["To"]]
        assert r.message["Content-Language"] in ("en", "fr")
        text, html = parts(r)
        assert text.strip() and "<html" in html

    # security: set-password and reset links with the token in the `token` parameter
    welcome = only(smtp_server, BRUNO["email"], "Bienvenue sur Procura")
    text, html = parts(welcome)
    link = f"{PUBLIC_URL}/set-password?token=setpw-Tok%2Fen%2B1"
    assert link in text and link in html and welcome.message["Content-Language"] == "fr"
    assert welcome.message["List-Unsubscribe"] is None
    reset = only(smtp_server, ALICE["email"], "Reset your Procura password")
    text, _ = parts(reset)
    assert f"{PUBLIC_URL}/reset-password?token=reset-token-123" in text and "24 hours" in text

    # order confirmation: lines, totals, shipping address
    confirmation = only(smtp_server, BRUNO["email"], "Commande PO-2026-0007 reçue")
    text, html = parts(confirmation)
    for body in (text, html):
        assert "ThinkPad T14" in body and "2\u00a0435,50\u00a0CAD" in body and "H2X 1Y4" in body

    # approvals: each approver, in their own language, with the rule
    assert len([r for r in smtp_server.to(CHLOE["email"])
                if r.message["Subject"].startswith("Approbation requise")]) == 2
    david = [r for r in smtp_server.to(DAVID["email"]) if "Approval needed" in r.message["Subject"]]
    assert len(david) == 2 and "Order total over 2,000.00 CAD" in parts(david[0])[0]
    assert f"{PUBLIC_URL}/approvals/31" in parts(david[0])[1]

    # shipping: carrier and tracking link
    shipped = only(smtp_server, ALICE["email"], "has shipped")
    text, html = parts(shipped)
    assert "Purolator" in text and 'href="https://www.purolator.com/track?pin=PUR123456"' in html

    # invoice copy: the reseller's billing address, and a confirmation to the buyer
    billing = [r for r in smtp_server.to("billing@procura.example")]
    assert len(billing) == 2 and all("INV-9001" in r.message["Subject"] for r in billing)
    only(smtp_server, BRUNO["email"], "Votre demande de copie de la facture INV-9001")

    # report: CSV attached, optional mail with one-click unsubscribe
    report = only(smtp_server, ALICE["email"], "Your report is ready")
    assert report.message.get_content_type() == "multipart/mixed"
    [attachment] = list(report.message.iter_attachments())
    assert attachment.get_filename() == "spend-by-category-2026-11.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True).decode() == CSV
    unsubscribe = report.message["List-Unsubscribe"]
    assert f"<{PUBLIC_URL}/api/v1/unsubscribe?token=" in unsubscribe and "<mailto:" in unsubscribe
    assert report.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # the server has every message; the last ones may not be marked sent yet
    assert wait_settled(notifications_rpc)["sent"] == expected


def test_a_redelivered_event_sends_nothing_more(start_service, smtp_server, notifications_rpc,
                                                mail_env):
    from nameko.standalone.events import event_dispatcher
    # one worker: events are handled in the order they were published
    start_service(NotificationsService, max_workers=1)

    def locked(event_id, person):
        return {"event_id": event_id, "type": "user_locked", "source": "identity",
                "occurred_at": "2026-11-22T10:00:00Z", "request_id": "r",
                "payload": {"user_id": 11, "email": person["email"],
                            "first_name": person["name"].split()[0], "locale": "en"}}
    event = locked("0b6a3f7e-1111-4c1e-9d6e-5a0c2f6b7a01", ALICE)
    marker = locked("0b6a3f7e-1111-4c1e-9d6e-5a0c2f6b7a02", BRUNO)
    # as identity's RabbitMQ user (all the test's services share guest)
    dispatch = event_dispatcher(mail_env, user_id="guest")
    dispatch("identity", "user_locked", event)
    dispatch("identity", "user_locked", event)  # the broker redelivers, a relay re-publishes
    dispatch("identity", "user_locked", marker)  # handled after both copies
    wait_for(lambda: smtp_server.to(BRUNO["email"]), message="the marker's email")
    assert wait_settled(notifications_rpc)["sent"] == 2
    assert len(smtp_server.to(ALICE["email"])) == 1 and len(smtp_server.received) == 2
