"""The local mail sink keeps each message as one .eml file named by time and Message-ID,
and runs in this eventlet-patched process."""
import email
import email.policy
import smtplib
from datetime import datetime, timezone

from services.notifications.sink import eml_name, start_sink
from tests.unit.notifications.smtp_server import free_port


def test_each_message_becomes_one_eml_file(tmp_path):
    port = free_port()
    controller = start_sink(port=port, directory=tmp_path / "mail")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.sendmail("no-reply@procura.example", ["bruno@acme.example"],
                            "Subject: Commande reçue\r\nMessage-ID: <abc/1@procura.example>\r\n"
                            "\r\nBonjour\r\n".encode())
            client.sendmail("no-reply@procura.example", ["a@acme.example", "b@acme.example"],
                            b"Subject: two\r\n\r\nhello\r\n")
    finally:
        controller.stop()
    files = sorted((tmp_path / "mail").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    assert files[0].name.endswith("_abc_1@procura.example.eml")
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Commande reçue"
    assert message["X-Envelope-To"] == "bruno@acme.example"
    assert message.get_content().strip() == "Bonjour"
    second = email.message_from_bytes(files[1].read_bytes(), policy=email.policy.default)
    assert second["X-Envelope-To"] == "a@acme.example, b@acme.example"
    assert not list((tmp_path / "mail").glob(".*.part"))


def test_file_names_sort_by_arrival_and_are_safe():
    moment = datetime(2026, 11, 22, 10, 5, 1, 250, tzinfo=timezone.utc)
    assert eml_name("<x/y z@procura.example>", moment) == \
        "20261122T100501.000250Z_x_y_z@procura.example.eml"
    assert eml_name(None, moment).startswith("20261122T100501.000250Z_no-message-id-")
