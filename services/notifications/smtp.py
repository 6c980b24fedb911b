"""Building a queued message into MIME and handing it to the SMTP server with smtplib.

multipart/alternative (text, then HTML), inside multipart/mixed when there is an
attachment; the Message-ID and Date stored with the row, so a resend is byte-for-byte the
same message. Failures are sorted into temporary (retry later: server down, slow, 4xx)
and permanent (5xx for this recipient or this content: retrying cannot help).
"""
import hashlib
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import timezone
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses

from services.common.config import env

TLS_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 1025
    tls: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    mail_from: str = "Procura <no-reply@procura.example>"

    @classmethod
    def from_env(cls):
        tls = (env("SMTP_TLS", "none") or "none").lower()
        if tls not in TLS_MODES:
            raise ValueError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        return cls(host=env("SMTP_HOST", "127.0.0.1"), port=int(env("SMTP_PORT", "1025")),
                   tls=tls, username=env("SMTP_USERNAME"), password=env("SMTP_PASSWORD"),
                   timeout=float(env("SMTP_TIMEOUT", "30")),
                   mail_from=env("MAIL_FROM", "Procura <no-reply@procura.example>"))

    @property
    def envelope_from(self) -> str:
        return getaddresses([self.mail_from])[0][1] or "no-reply@procura.example"


class DeliveryError(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Retry later. `connection` is True when the server could not be reached or dropped
    us: the other messages of the batch would fail the same way."""

    def __init__(self, message, code=None, connection=False):
        super().__init__(message, code)
        self.connection = connection


class PermanentFailure(DeliveryError):
    """The server refused this message for good."""


def build_message(mail, mail_from: str) -> EmailMessage:
    """The MIME message of a queued row (a ClaimedMail or an OutgoingMail)."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = mail_from
    msg["To"] = Address(addr_spec=mail.recipient)
    msg["Subject"] = mail.subject
    created = mail.created_at.replace(tzinfo=timezone.utc) if mail.created_at.tzinfo is None \
        else mail.created_at
    msg["Date"] = format_datetime(created)
    msg["Message-ID"] = mail.message_id
    # automatic mail: no out-of-office replies, please (RFC 3834)
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (mail.headers or {}).items():
        msg[name] = value
    msg.set_content(mail.body_text, cte="quoted-printable")
    msg.add_alternative(mail.body_html, subtype="html", cte="quoted-printable")
    if mail.attachment_filename:
        maintype, _, subtype = (mail.attachment_content_type or "text/csv").partition("/")
        content = mail.attachment or ""
        if maintype == "text":
            msg.add_attachment(content, subtype=subtype or "plain", cte="base64",
                               filename=mail.attachment_filename)
        else:
            msg.add_attachment(content.encode("utf-8"), maintype=maintype,
                               subtype=subtype or "octet-stream",
                               filename=mail.attachment_filename)
    # set last: making the message multipart moves Content-* headers into the first part
    msg["Content-Language"] = mail.locale
    # boundaries derived from the Message-ID, so a resend is the very same bytes
    seed = hashlib.sha256(mail.message_id.encode()).hexdigest()[:24]
    for number, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"==procura-{seed}-{number}==")
    return msg


class SmtpSender:
    """One SMTP connection, opened on first use and kept while messages keep coming."""

    IDLE_CHECK = 5.0  # a connection idle longer than this is checked with NOOP before use

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.client = None
        self.last_used = 0.0

    def _connect(self):
        s = self.settings
        try:
            if s.tls == "ssl":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            client.ehlo()
            if s.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if s.username:
                client.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"SMTP authentication failed: {exc.smtp_code} "
                                   f"{_text(exc.smtp_error)}", exc.smtp_code, connection=True)
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"SMTP server refused the session: {exc.smtp_code} "
                                   f"{_text(exc.smtp_error)}", exc.smtp_code, connection=True)
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach SMTP server {s.host}:{s.port}: "
                                   f"{type(exc).__name__}: {exc}", connection=True)
        self.client = client
        self.last_used = time.monotonic()

    def _ensure_connected(self):
        if self.client is not None and time.monotonic() - self.last_used > self.IDLE_CHECK:
            try:
                code, _ = self.client.noop()
                if code != 250:
                    raise smtplib.SMTPServerDisconnected("NOOP refused")
            except (OSError, smtplib.SMTPException):
                self.close()
        if self.client is None:
            self._connect()

    def send(self, mail):
        """Hand one message to the server; raises TemporaryFailure or PermanentFailure."""
        try:
            message = build_message(mail, self.settings.mail_from)
        except (ValueError, TypeError, MessageError) as exc:
            # the same row will never build: retrying cannot help
            raise PermanentFailure(f"cannot build the message: {type(exc).__name__}: {exc}")
        self._ensure_connected()
        try:
            self.client.send_message(message, from_addr=self.settings.envelope_from,
                                     to_addrs=[mail.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (None, b""))
            self._reset()
            if code is not None and code >= 500:
                raise PermanentFailure(f"recipient refused: {code} {_text(text)}", code)
            raise TemporaryFailure(f"recipient deferred: {code} {_text(text)}", code)
        except smtplib.SMTPDataError as exc:
            self._reset()
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"message refused: {exc.smtp_code} "
                                       f"{_text(exc.smtp_error)}", exc.smtp_code)
            raise TemporaryFailure(f"message deferred: {exc.smtp_code} {_text(exc.smtp_error)}",
                                   exc.smtp_code)
        except smtplib.SMTPSenderRefused as exc:
            # our own sender address refused: configuration, not this message; keep it
            self._reset()
            raise TemporaryFailure(f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                                   exc.smtp_code, connection=True)
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise TemporaryFailure(f"SMTP error: {exc.smtp_code} {_text(exc.smtp_error)}",
                                   exc.smtp_code, connection=True)
        except (OSError, smtplib.SMTPException) as exc:
            # dropped or timed out: whether the server kept the message is unknown, so it is
            # sent again later with the same Message-ID
            self.close()
            raise TemporaryFailure(f"SMTP connection lost: {type(exc).__name__}: {exc}",
                                   connection=True)
        self.last_used = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the open connection was last used (0 when none is open)."""
        return time.monotonic() - self.last_used if self.client is not None else 0.0

    def _reset(self):
        try:
            self.client.rset()
        except (OSError, smtplib.SMTPException):
            self.close()
        self.last_used = time.monotonic()

    def close(self):
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            try:
                client.close()
            except OSError:
                pass


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
