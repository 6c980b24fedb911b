"""The local SMTP sink (`procura mail-sink`): an aiosmtpd server on 127.0.0.1 that keeps
every message it receives as one .eml file under var/mail/, named by the time it arrived
and its Message-ID, so that a developer can open what Procura sent.

aiosmtpd runs an asyncio loop in a thread. In a process that eventlet has monkey-patched
(the `procura` CLI patches first), `threading` and `selectors` are green: the loop then
runs in a green thread and its select() yields to the eventlet hub, which works (the
test suite runs its SMTP servers exactly so). `python -m services.notifications.sink`
runs the same sink in a clean interpreter, without eventlet, for whoever prefers that.
"""
import argparse
import logging
import os
import re
import signal
import threading
import time
import uuid
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"


def mail_dir(directory=None) -> Path:
    if directory is None:
        from services.common.config import var_dir
        directory = var_dir() / "mail"
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path


def eml_name(message_id: str | None, now: datetime | None = None) -> str:
    """`20261122T100500.123456Z_<message-id, filename-safe>.eml`."""
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    ident = re.sub(r"[^A-Za-z0-9._@-]", "_", (message_id or "").strip().strip("<>"))[:150]
    return f"{stamp}_{ident or 'no-message-id-' + uuid.uuid4().hex[:12]}.eml"


class EmlWriter:
    """aiosmtpd handler: one file per message, written whole (temporary name, then
    renamed), with the SMTP envelope as X-Envelope-From / X-Envelope-To headers."""

    def __init__(self, directory):
        self.directory = mail_dir(directory)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        headers = BytesHeaderParser().parsebytes(data)
        name = eml_name(headers.get("Message-ID"))
        prefix = (f"X-Envelope-From: {envelope.mail_from}\r\n"
                  f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        final = self.directory / name
        partial = self.directory / f".{name}.part"
        partial.write_bytes(prefix + data)
        os.replace(partial, final)
        self.count += 1
        log.info("mail for %s kept as %s", ", ".join(envelope.rcpt_tos), final)
        return "250 Message accepted for delivery"


def start_sink(port=1025, directory=None, host=DEFAULT_HOST) -> Controller:
    """Start the sink in the background; `controller.stop()` ends it."""
    controller = Controller(EmlWriter(directory), hostname=host, port=port)
    controller.start()
    return controller


def run_sink(port=1025, directory=None):
    """Run the sink in the foreground until Ctrl-C or SIGTERM."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    controller = start_sink(port=port, directory=directory)
    where = controller.handler.directory
    print(f"mail sink listening on {DEFAULT_HOST}:{port}, writing .eml files to {where}",
          flush=True)
    stopping = threading.Event()

    def stop(signum, frame):
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping.is_set():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        controller.stop()
        print("mail sink stopped", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--directory", default=None)
    args = parser.parse_args(argv)
    run_sink(port=args.port, directory=args.directory)


if __name__ == "__main__":
    main()
