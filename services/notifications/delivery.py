"""The delivery worker: green threads inside the notifications service that send the due
messages of the outgoing mail queue over SMTP (`delivery = MailDelivery()`).

What it guarantees
- Nothing is lost. A message exists as a committed row before the event that caused it
  is acknowledged. A row leaves the queue only as `sent` (the server accepted it), `failed`
  (refused for good with a 5xx, or out of attempts; visible and requeueable) or
  `suppressed` (optional mail the recipient opted out of).
- A temporary failure (server down, refusing connections, too slow: socket timeouts,
  4xx replies) is retried with exponential back-off: MAIL_RETRY_BASE seconds, doubling,
  at most MAIL_RETRY_MAX, failed after MAIL_MAX_ATTEMPTS. Every attempt is recorded in
  `mail_attempts`.
- No two workers, in one instance or in several, hold the same row: a row is claimed
  (status `sending`, claimed_at, claimed_by) in its own committed transaction before any
  SMTP traffic; see queue.py for how the claim is made safe on PostgreSQL and SQLite.
- A graceful stop (SIGTERM, `procura serve` shutting down, a rolling deploy) finishes the
  message being sent, records its outcome, and gives the rest of its batch back untried:
  no duplicate, nothing left claimed.

The remaining at-least-once window
SMTP and our database cannot commit together. The server's `250` after DATA and our
commit of `sent` are two steps. If the process dies between them (SIGKILL, OOM, power
loss), if the database is unreachable at that moment, or if the connection drops after
the server took the message but before we read its reply, the row stays `sending`; once
its claim is older than MAIL_CLAIM_LEASE, a worker sends it again. That copy is the very
same bytes, same Message-ID and Date, so mail clients and the local sink can recognise
it as a duplicate; avoiding it entirely would need the receiving server's cooperation.
The window is at most one message per sender thread, because each outcome is committed
as soon as the server answers. A worker stops sending from a batch once half the lease has
passed, so a slow but living worker is not raced by another taking over its claims.
"""
import functools
import logging
import os
import socket
import time
import uuid

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge

from services.common.config import env
from services.common.unit_of_work import Database
from services.notifications.queue import (Policy, claim, mark_failed, mark_retry, mark_sent,
                                          release, stats)
from services.notifications.smtp import (PermanentFailure, SmtpSender, SmtpSettings,
                                         TemporaryFailure)

log = logging.getLogger(__name__)

MAIL_SENT = Counter("procura_mail_sent_total", "Emails accepted by the SMTP server")
MAIL_RETRIED = Counter("procura_mail_retries_total",
                       "Email attempts that failed and will be retried")
MAIL_FAILED = Counter("procura_mail_failed_total", "Emails refused for good or out of attempts")
MAIL_QUEUE = Gauge("procura_mail_queue", "Outgoing emails by status", ["status"])
MAIL_OLDEST = Gauge("procura_mail_oldest_waiting_seconds", "Age of the oldest email not yet sent")


def policy_from_env() -> Policy:
    return Policy(batch=int(env("MAIL_BATCH", "20")),
                  lease=float(env("MAIL_CLAIM_LEASE", "300")),
                  retry_base=float(env("MAIL_RETRY_BASE", "2")),
                  retry_max=float(env("MAIL_RETRY_MAX", "3600")),
                  max_attempts=int(env("MAIL_MAX_ATTEMPTS", "25")))


class MailDelivery(DependencyProvider):
    """Sends the queue. MAIL_SENDERS green threads per instance (default 4), each with its
    own SMTP connection; MAIL_DELIVERY=off runs an instance that only queues.

    A committed handler wakes one sender, not all of them (the others would only claim
    nothing): the first one not sending a batch, waiting or only looking at the queue, so
    under a light load one sender sends everything over one connection; a sender whose claim
    came back full wakes another to share the queue.
    A sender keeps its connection open while it waits, for MAIL_CONNECTION_IDLE seconds
    (default 30): a message every few seconds reuses it rather than opening one each time."""

    def __init__(self, senders: int | None = None, interval: float | None = None):
        self.senders = senders
        self.interval = interval
        self.running = False
        self.threads = []
        self.wakeups = []
        self.waiting = set()  # the numbers of the senders waiting for work
        self.sending = set()  # the numbers of the senders sending a batch they claimed

    def setup(self):
        self.database = next(d for d in self.container.dependencies if isinstance(d, Database))
        # the Database runs these hooks after a worker committed rows to hand over
        self.database.after_commit_hooks.append(self.kick)
        self.settings = SmtpSettings.from_env()
        self.policy = policy_from_env()
        self.senders = self.senders or int(env("MAIL_SENDERS", "4"))
        self.interval = float(env("MAIL_POLL_INTERVAL", self.interval or 1.0))
        self.connection_idle = float(env("MAIL_CONNECTION_IDLE", "30"))
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        if self.settings.timeout * 3 > self.policy.lease / 2:
            log.warning("MAIL_CLAIM_LEASE (%ss) is short for SMTP_TIMEOUT (%ss): a slow "
                        "server could see a message twice", self.policy.lease,
                        self.settings.timeout)

    def start(self):
        if env("MAIL_DELIVERY") == "off":
            log.warning("mail delivery disabled by MAIL_DELIVERY=off; messages stay queued")
            return
        self.running = True
        self.wakeups = [Event() for _ in range(self.senders)]
        self.threads = [self.container.spawn_managed_thread(functools.partial(self._run, n))
                        for n in range(self.senders)]

    def stop(self):
        self.running = False
        self.kick(every=True)
        for gt in self.threads:
            gt.wait()
        self.threads = []

    def kill(self):
        self.running = False
        for gt in self.threads:
            gt.kill()
        self.threads = []

    def kick(self, every=False):
        """Wake one sender (all of them with `every`): the first one not sending, whose
        connection is the likeliest to be open (one only looking at the queue is as good as
        a waiting one: a kick while it looks makes it look again at once), else the first
        sending one (it looks again before it waits)."""
        numbers = sorted(range(len(self.wakeups)), key=lambda n: (n in self.sending, n))
        for number in numbers:
            wakeup = self.wakeups[number]
            if not wakeup.ready():
                wakeup.send(True)
                if not every:
                    return

    def poll_interval(self, number) -> float:
        """How long an idle sender waits for a kick before it looks at the queue anyway
        (for retries that came due, and rows another instance or process wrote): the first
        sender every MAIL_POLL_INTERVAL, the others ten times less often, since a full
        batch found by one sender wakes the next."""
        return self.interval if number == 0 else self.interval * 10

    # --- the sender loop ----------------------------------------------------------------

    def _run(self, number):
        worker = f"{self.instance}/{number}"
        sender = SmtpSender(self.settings)
        last_stats = 0.0
        try:
            while self.running:
                busy = False
                try:
                    busy = self._cycle(number, worker, sender)
                except Exception:
                    log.exception("mail delivery cycle of %s failed; retrying", worker)
                    sender.close()
                if number == 0 and time.monotonic() - last_stats > 10:
                    last_stats = time.monotonic()
                    self._publish_stats()
                if busy:
                    eventlet.sleep(0)  # let handlers and the other senders in
                    continue
                while self.running:
                    if sender.idle_for() > self.connection_idle:
                        sender.close()  # do not hold a connection the server will time out
                    if self._wait(number) or self.looks_on_its_own(number):
                        break
        finally:
            sender.close()

    def _wait(self, number) -> bool:
        """Wait for a kick, at most the sender's poll interval; True if it was kicked."""
        wakeup = self.wakeups[number]
        self.waiting.add(number)
        try:
            with eventlet.Timeout(self.poll_interval(number), False):
                wakeup.wait()
        finally:
            self.waiting.discard(number)
        self.wakeups[number] = Event()
        return wakeup.ready()

    def looks_on_its_own(self, number) -> bool:
        """Whether a sender whose poll interval passed with no kick looks at the queue: the
        first one always; another only while the first one is sending. An idle first sender
        looks often itself and sends over its open connection what another would open a
        second connection for."""
        return number == 0 or 0 in self.sending

    def _session(self):
        return self.database.session_factory()

    def _cycle(self, number, worker, sender) -> bool:
        """Claim a batch and send it; True if there may be more to do right away."""
        with self._session() as session:
            batch = claim(session, worker, self.policy)
            session.commit()
        if not batch:
            return False
        self.sending.add(number)
        try:
            return self._send_batch(batch, worker, sender)
        finally:
            self.sending.discard(number)

    def _send_batch(self, batch, worker, sender) -> bool:
        """Send a claimed batch; True if there may be more to do right away."""
        if len(batch) == self.policy.batch:
            self.kick()  # there may be more: another sender can take the next batch
        started = time.monotonic()
        pending = list(batch)
        while pending:
            if not self.running or time.monotonic() - started > self.policy.lease / 2:
                self._release(pending, worker)
                return self.running
            mail = pending.pop(0)
            try:
                sender.send(mail)
            except TemporaryFailure as exc:
                affected = [mail]
                if exc.connection:
                    # the server is unreachable: the rest of the batch waits its back-off too
                    affected += pending
                    pending = []
                self._retry(affected, worker, exc)
                if exc.connection:
                    return False
                continue
            except PermanentFailure as exc:
                log.warning("message %s to %s refused for good: %s", mail.message_id,
                            mail.recipient, exc)
                with self._session() as session:
                    mark_failed(session, mail.id, worker, str(exc), exc.code)
                    session.commit()
                MAIL_FAILED.inc()
                continue
            except Exception as exc:
                # not foreseen: the connection's state is unknown; retry this one later and
                # go on with the batch rather than leave it claimed until the lease ends
                log.exception("unexpected error sending %s", mail.message_id)
                sender.close()
                self._retry([mail], worker, TemporaryFailure(f"{type(exc).__name__}: {exc}"))
                continue
            with self._session() as session:
                mark_sent(session, mail.id, worker)
                session.commit()
            MAIL_SENT.inc()
        return True

    def _retry(self, mails, worker, exc):
        log.warning("could not send %d message(s), will retry: %s", len(mails), exc)
        with self._session() as session:
            for mail in mails:
                status = mark_retry(session, mail.id, worker, str(exc), exc.code, self.policy)
                if status == "failed":
                    MAIL_FAILED.inc()
                elif status is not None:
                    MAIL_RETRIED.inc()
            session.commit()

    def _release(self, mails, worker):
        with self._session() as session:
            release(session, [m.id for m in mails], worker)
            session.commit()

    def _publish_stats(self):
        try:
            with self._session() as session:
                numbers = stats(session)
                session.commit()
        except Exception:  # metrics must never stop delivery
            log.debug("could not read queue statistics", exc_info=True)
            return
        MAIL_OLDEST.set(numbers.pop("oldest_waiting_seconds"))
        for status, count in numbers.items():
            MAIL_QUEUE.labels(status).set(count)
