"""The outgoing mail queue on a real database (SQLite and PostgreSQL): claims, leases,
back-off, attempts, and several workers never holding the same row."""
from collections import Counter
from datetime import timedelta

import eventlet
import pytest
from sqlalchemy import select

from services.common.clock import utcnow
from services.common.engines import is_postgres, session_factory as make_session_factory
from services.notifications.models import Base, MailAttempt, OutgoingMail
from services.notifications.queue import (Policy, claim, mark_failed, mark_retry, mark_sent,
                                          next_due_in, release, requeue, stats)
from services.notifications.statuses import FAILED, QUEUED, SENDING, SENT

POLICY = Policy(batch=10, lease=60, retry_base=2, retry_max=30, max_attempts=4)


def add_mail(session, n=1, **values):
    now = utcnow()
    rows = []
    for _ in range(n):
        number = session.info.setdefault("n", 0) + 1
        session.info["n"] = number
        row = OutgoingMail(message_id=f"<m{number}@procura.example>", event_id="e", kind="account_locked",
                           category="security", recipient=f"u{number}@acme.example", locale="en",
                           subject="s", body_text="t", body_html="<p>h</p>", status=QUEUED,
                           attempts=0, next_attempt_at=now, created_at=now)
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
        rows.append(row)
    session.commit()
    return rows


def other_sessions(session):
    return make_session_factory(session.get_bind(), Base)


def test_claim_marks_rows_sending_for_this_worker_and_counts_an_attempt(session):
    add_mail(session, 3)
    batch = claim(session, "w1", POLICY)
    session.commit()
    assert [m.recipient for m in batch] == ["u1@acme.example", "u2@acme.example", "u3@acme.example"]
    for row in session.scalars(select(OutgoingMail)):
        assert (row.status, row.claimed_by, row.attempts) == (SENDING, "w1", 1)
        assert row.claimed_at is not None
    assert claim(session, "w2", POLICY) == []


def test_a_second_claim_gets_other_rows(session):
    add_mail(session, 5)
    first = claim(session, "w1", Policy(batch=3))
    session.commit()
    second = claim(session, "w2", Policy(batch=3))
    session.commit()
    assert len(first) == 3 and len(second) == 2
    assert not {m.id for m in first} & {m.id for m in second}


def test_messages_waiting_their_back_off_are_not_claimed(session):
    add_mail(session, 1, next_attempt_at=utcnow() + timedelta(seconds=30))
    assert claim(session, "w1", POLICY) == []
    assert len(claim(session, "w1", POLICY, now=utcnow() + timedelta(seconds=31))) == 1


def test_an_abandoned_claim_is_taken_over_after_the_lease_only(session):
    add_mail(session, 1)
    [mail] = claim(session, "dead-worker", POLICY)
    session.commit()
    assert claim(session, "w2", POLICY, now=utcnow() + timedelta(seconds=59)) == []
    [again] = claim(session, "w2", POLICY, now=utcnow() + timedelta(seconds=61))
    session.commit()
    assert again.id == mail.id and again.message_id == mail.message_id
    row = session.get(OutgoingMail, mail.id)
    assert (row.claimed_by, row.attempts) == ("w2", 2)
    # the dead worker's late news does not disturb the new owner
    assert mark_retry(session, mail.id, "dead-worker", "late", policy=POLICY) is None


def test_retry_backs_off_exponentially_then_fails(session):
    [row] = add_mail(session, 1)
    delays = []
    for attempt in range(1, 5):
        now = utcnow() + timedelta(hours=attempt)  # always due
        [mail] = claim(session, "w", POLICY, now=now)
        assert mail.attempts == attempt
        status = mark_retry(session, mail.id, "w", "421 try later", 421, POLICY, now=now)
        session.commit()
        session.refresh(row)
        if attempt < 4:
            assert status == QUEUED
            delays.append((row.next_attempt_at - now).total_seconds())
        else:
            assert status == FAILED
    assert delays == [2, 4, 8]
    assert Policy(retry_base=2, retry_max=30).backoff(10) == 30
    attempts = session.scalars(select(MailAttempt).order_by(MailAttempt.id)).all()
    assert [(a.number, a.outcome, a.smtp_code) for a in attempts] == \
        [(1, "retry", 421), (2, "retry", 421), (3, "retry", 421), (4, "failed", 421)]
    assert row.last_error == "421 try later"


def test_a_row_out_of_attempts_is_failed_when_claimed(session):
    [row] = add_mail(session, 1, attempts=4, status=SENDING, claimed_by="crashing",
                     claimed_at=utcnow() - timedelta(hours=1))
    assert claim(session, "w", POLICY) == []
    session.commit()
    session.refresh(row)
    assert row.status == FAILED and "gave up after 4 attempts" in row.last_error


def test_release_gives_back_untried_messages_without_counting_an_attempt(session):
    add_mail(session, 2)
    batch = claim(session, "w", POLICY)
    session.commit()
    assert release(session, [m.id for m in batch], "w") == 2
    session.commit()
    for row in session.scalars(select(OutgoingMail)):
        assert (row.status, row.attempts, row.claimed_by) == (QUEUED, 0, None)


def test_mark_sent_records_the_attempt_once(session):
    [row] = add_mail(session, 1)
    [mail] = claim(session, "w", POLICY)
    session.commit()
    assert mark_sent(session, mail.id, "w") is True
    session.commit()
    assert mark_sent(session, mail.id, "w") is False
    session.commit()
    session.refresh(row)
    assert (row.status, row.claimed_by) == (SENT, None) and row.sent_at is not None
    # once sent, the body (one-time links, personal data) is not kept
    assert (row.body_text, row.body_html, row.attachment, row.headers) == ("", "", None, None)
    assert row.subject == "s"
    [attempt] = session.scalars(select(MailAttempt)).all()
    assert (attempt.outcome, attempt.number, attempt.smtp_code, attempt.worker) == ("sent", 1, 250, "w")
    assert abs((attempt.at - row.sent_at).total_seconds()) < 1
    assert claim(session, "w", POLICY, now=utcnow() + timedelta(days=1)) == []


def test_a_message_sent_by_a_worker_whose_claim_was_taken_over_is_still_sent(session):
    [row] = add_mail(session, 1)
    [mail] = claim(session, "slow", POLICY)
    session.commit()
    claim(session, "other", POLICY, now=utcnow() + timedelta(seconds=61))
    session.commit()
    assert mark_sent(session, mail.id, "slow") is True
    session.commit()
    session.refresh(row)
    assert row.status == SENT


def test_permanent_failure_and_requeue(session):
    [row] = add_mail(session, 1)
    [mail] = claim(session, "w", POLICY)
    assert mark_failed(session, mail.id, "w", "550 no such user", 550)
    session.commit()
    session.refresh(row)
    assert (row.status, row.last_error) == (FAILED, "550 no such user")
    assert requeue(session) == 1
    session.commit()
    session.refresh(row)
    assert (row.status, row.attempts) == (QUEUED, 0)


def test_stats_and_next_due(session):
    add_mail(session, 2)
    add_mail(session, 1, status=SENT)
    add_mail(session, 1, next_attempt_at=utcnow() + timedelta(seconds=20))
    numbers = stats(session)
    assert (numbers["queued"], numbers["sent"], numbers["sending"]) == (3, 1, 0)
    assert numbers["oldest_waiting_seconds"] >= 0
    assert next_due_in(session, 60) == 0
    claim(session, "w", Policy(batch=2))
    session.commit()
    assert 0 < next_due_in(session, 60) <= 20


def test_workers_draining_together_never_claim_a_row_twice(session):
    add_mail(session, 120)
    sessions = other_sessions(session)
    claimed = Counter()

    def worker(name):
        while True:
            with sessions() as s:
                batch = claim(s, name, Policy(batch=7))
                s.commit()
            if not batch:
                return
            for mail in batch:
                claimed[mail.id] += 1
                eventlet.sleep(0)
                with sessions() as s:
                    mark_sent(s, mail.id, name)
                    s.commit()

    pool = eventlet.GreenPool()
    for n in range(6):
        pool.spawn(worker, f"w{n}")
    pool.waitall()
    assert len(claimed) == 120 and set(claimed.values()) == {1}
    assert stats(session)["sent"] == 120


def test_postgresql_claims_skip_rows_locked_by_another_instance(session):
    if not is_postgres(session):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers instead")
    add_mail(session, 6)
    sessions = other_sessions(session)
    a, b = sessions(), sessions()
    try:
        first = claim(a, "instance-a", Policy(batch=4))  # transaction still open: rows locked
        with eventlet.Timeout(5):
            second = claim(b, "instance-b", Policy(batch=4))  # does not wait for a
        assert len(first) == 4 and len(second) == 2
        assert not {m.id for m in first} & {m.id for m in second}
        b.commit()
        a.commit()
    finally:
        a.close()
        b.close()
