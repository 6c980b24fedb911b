"""Two instances of notifications, each its own process (`procura serve notifications`),
draining one queue in one database: every message is sent once, and both took part.
PostgreSQL claims with SKIP LOCKED, SQLite with its single writer."""
import os
import signal
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from services.common.config import ROOT
from services.common.engines import open_session
from services.notifications import domain
from services.notifications.models import Base, MailAttempt, OutgoingMail
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N = 300


def start_instance(tmp_path, number):
    log = open(tmp_path / f"instance-{number}.log", "w+")
    env = dict(os.environ, METRICS_DISABLED="1", MAIL_BATCH="5", MAIL_SENDERS="3",
               LOG_LEVEL="INFO")
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "notifications"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, tmp_path / f"instance-{number}.log"


def test_two_instances_send_each_message_once(mail_env, notifications_db, smtp_server, tmp_path):
    smtp_server.recorder.delay = 0.005
    instances = [start_instance(tmp_path, n) for n in (1, 2)]
    try:
        for process, log in instances:
            wait_for(lambda: "notifications started" in log.read_text() or process.poll() is not None,
                     timeout=30, message="an instance to start")
            assert process.poll() is None, log.read_text()
        session = open_session("notifications", Base, notifications_db)
        event_id = str(uuid.uuid4())
        domain.queue_all(session, event_id, [
            domain.Mail("account_locked", f"user{i}@acme.example", "fr" if i % 2 else "en",
                        {"first_name": f"User {i}", "reset_url": "https://x/forgot-password"})
            for i in range(N)])
        session.commit()
        session.close()
        session.get_bind().dispose()
        wait_for(lambda: len(smtp_server.received) >= N, timeout=60, message=f"{N} emails")
    finally:
        # a graceful stop finishes the sends in flight: nothing arrives after the count
        for process, _ in instances:
            process.send_signal(signal.SIGTERM)
        for process, log in instances:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError(f"an instance did not stop:\n{log.read_text()[-3000:]}")

    counts = smtp_server.message_ids()
    assert len(counts) == N and set(counts.values()) == {1}
    session = open_session("notifications", Base, notifications_db)
    try:
        assert set(session.scalars(select(OutgoingMail.status))) == {"sent"}
        workers = set(session.scalars(select(MailAttempt.worker)))
        pids = {w.split(":")[1] for w in workers}
        assert pids == {str(p.pid) for p, _ in instances}, workers
    finally:
        session.close()
        session.get_bind().dispose()
