"""A real SMTP server for tests: aiosmtpd in this process, on a free port, recording
every message it accepts. It can be stopped and started again on the same port, slowed
down, or told to refuse some recipients."""
import asyncio
import email
import email.policy
import socket
from collections import Counter
from dataclasses import dataclass

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    message: email.message.EmailMessage
    raw: bytes

    @property
    def message_id(self):
        return self.message["Message-ID"]


class Recorder:
    def __init__(self):
        self.received = []
        self.sessions = 0             # SMTP sessions opened (EHLO or HELO)
        self.delay = 0.0              # seconds to wait before answering DATA
        self.refuse = {}              # recipient -> "550 ..." / "451 ..."

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        self.sessions += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 OK"


class SmtpServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.recorder = Recorder()
        self.controller = None

    def start(self):
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.recorder.received

    def message_ids(self):
        return Counter(r.message_id for r in self.received)

    def to(self, address):
        return [r for r in self.received if address in r.rcpt_tos]
