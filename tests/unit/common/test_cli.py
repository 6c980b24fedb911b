"""The operator's command line: the parts that need no running system."""
from email.message import EmailMessage

import pytest

from services.cli import main


def test_mail_links_prints_the_newest_links_for_an_address(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROCURA_VAR", str(tmp_path))
    (tmp_path / "mail").mkdir()
    msg = EmailMessage()
    msg["To"] = "Alice <alice@contoso.test>"
    msg.set_content("Choose your password: https://portal.test/set-password?token=abc-123.\n"
                    "Le lien expire dans 24 heures. " + "é" * 80, cte="quoted-printable")
    (tmp_path / "mail" / "1.eml").write_bytes(bytes(msg))
    main(["mail-links", "alice@contoso.test"])
    assert capsys.readouterr().out.strip() == "https://portal.test/set-password?token=abc-123"
    with pytest.raises(SystemExit):
        main(["mail-links", "bob@contoso.test"])


def test_broker_check_says_how_to_start_one(monkeypatch):
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:1/")
    with pytest.raises(SystemExit) as exc:
        main(["check-broker"])
    assert "rabbitmq-server -detached" in str(exc.value)


def test_an_expected_domain_error_is_logged_in_one_line():
    import logging
    import sys

    from services.common.config import nameko_config
    from services.common.logs import ExpectedErrorsInOneLine
    handler = nameko_config("identity")["LOGGING"]["handlers"]["console"]
    assert "expected_errors" in handler["filters"]
    try:
        raise ValueError("wrong username or password")
    except ValueError:
        exc_info = sys.exc_info()
    formatter, keep = logging.Formatter(), ExpectedErrorsInOneLine()
    expected = logging.LogRecord("nameko.containers", logging.WARNING, __file__, 1,
                                 "(expected) error handling worker %s: %s", ("w", "x"), exc_info)
    assert keep.filter(expected) and "Traceback" not in formatter.format(expected)
    crash = logging.LogRecord("nameko.containers", logging.ERROR, __file__, 1,
                              "error handling worker %s: %s", ("w", "x"), exc_info)
    assert keep.filter(crash) and "Traceback" in formatter.format(crash)
