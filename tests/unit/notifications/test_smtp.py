"""MIME building and the SMTP sender, against a real SMTP server in this process."""
import time
import uuid
from dataclasses import replace
from datetime import datetime

import pytest

from services.notifications import domain
from services.notifications.queue import ClaimedMail
from services.notifications.smtp import (PermanentFailure, SmtpSender, SmtpSettings,
                                         TemporaryFailure, build_message)
from tests.unit.notifications.samples import CSV
from tests.unit.notifications.smtp_server import free_port

FROM = "Procura <no-reply@procura.example>"


def mail(**values):
    base = ClaimedMail(id=1, message_id="<abc123@procura.example>", recipient="bruno@acme.example",
                       locale="fr", subject="Commande PO-7 reçue", body_text="Bonjour Bruno,\n",
                       body_html="<p>Bonjour Bruno,</p>", headers={}, attachment_filename=None,
                       attachment_content_type=None, attachment=None, attempts=1,
                       created_at=datetime(2026, 11, 22, 10, 5, 0))
    return replace(base, **values)


def settings(port, **values):
    return SmtpSettings(**dict(dict(host="127.0.0.1", port=port, timeout=2, mail_from=FROM), **values))


def test_message_is_text_and_html_alternatives_with_our_headers():
    msg = build_message(mail(headers={"List-Unsubscribe": "<https://x/u?token=t>",
                                      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}), FROM)
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content() == "Bonjour Bruno,\n"
    assert html.get_content().strip() == "<p>Bonjour Bruno,</p>"
    assert msg["Message-ID"] == "<abc123@procura.example>"
    assert msg["Subject"] == "Commande PO-7 reçue"
    assert msg["To"] == "bruno@acme.example" and msg["From"] == FROM
    assert msg["Date"] == "Sun, 22 Nov 2026 10:05:00 +0000"
    assert msg["Content-Language"] == "fr" and msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_attachment_makes_it_mixed_and_survives_intact():
    msg = build_message(mail(attachment_filename="spend.csv", attachment_content_type="text/csv",
                             attachment=CSV), FROM)
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attached = msg.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert attached.get_filename() == "spend.csv" and attached.get_content_type() == "text/csv"
    assert attached.get_payload(decode=True).decode() == CSV


def test_the_same_row_always_gives_the_same_bytes():
    row = mail(attachment_filename="a.csv", attachment_content_type="text/csv", attachment=CSV)
    assert build_message(row, FROM).as_bytes() == build_message(row, FROM).as_bytes()


def test_sender_delivers_over_one_connection(smtp_server):
    sender = SmtpSender(settings(smtp_server.port))
    try:
        for n in range(3):
            sender.send(mail(message_id=f"<m{n}@procura.example>"))
    finally:
        sender.close()
    assert [r.message_id for r in smtp_server.received] == [f"<m{n}@procura.example>" for n in range(3)]
    got = smtp_server.received[0]
    assert got.mail_from == "no-reply@procura.example" and got.rcpt_tos == ["bruno@acme.example"]
    assert got.message["Subject"] == "Commande PO-7 reçue"


def test_server_down_is_a_temporary_connection_failure():
    sender = SmtpSender(settings(free_port()))
    with pytest.raises(TemporaryFailure) as info:
        sender.send(mail())
    assert info.value.connection


def test_refused_recipient_is_permanent_deferred_is_temporary(smtp_server):
    smtp_server.recorder.refuse = {"gone@acme.example": "550 5.1.1 no such user",
                                   "full@acme.example": "452 4.2.2 mailbox full"}
    sender = SmtpSender(settings(smtp_server.port))
    with pytest.raises(PermanentFailure) as permanent:
        sender.send(mail(recipient="gone@acme.example"))
    assert permanent.value.code == 550
    with pytest.raises(TemporaryFailure) as temporary:
        sender.send(mail(recipient="full@acme.example"))
    assert temporary.value.code == 452 and not temporary.value.connection
    sender.send(mail())  # the connection is still usable
    sender.close()
    assert len(smtp_server.received) == 1


def test_a_server_slower_than_the_timeout_is_a_temporary_failure(smtp_server):
    smtp_server.recorder.delay = 1.5
    sender = SmtpSender(settings(smtp_server.port, timeout=0.5))
    started = time.monotonic()
    with pytest.raises(TemporaryFailure) as info:
        sender.send(mail())
    assert info.value.connection and time.monotonic() - started < 1.4
    sender.close()


def test_queued_row_renders_and_sends_end_to_end(session, smtp_server):
    rows = domain.handle_event(session, "identity", "user_locked", str(uuid.uuid4()),
                               {"email": "chloe@acme.example", "first_name": "Chloé", "locale": "fr"})
    session.commit()
    sender = SmtpSender(settings(smtp_server.port))
    sender.send(rows[0])
    sender.close()
    [got] = smtp_server.received
    assert got.message["Subject"] == "Votre compte Procura est verrouillé"
    assert "Bonjour Chloé" in got.message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("recipient", ["a@@b.example", "x\n@y.example"])
def test_a_message_that_cannot_be_built_is_a_permanent_failure(recipient):
    sender = SmtpSender(settings(free_port()))  # nobody listens: it must not even connect
    with pytest.raises(PermanentFailure) as info:
        sender.send(mail(recipient=recipient))
    assert "cannot build the message" in str(info.value)
