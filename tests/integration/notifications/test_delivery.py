"""Delivery under trouble, on the real broker: the SMTP server goes away during a burst,
the service restarts mid-delivery, the service is killed mid-delivery. Nothing is lost;
nothing is sent twice except in the documented window (a kill between the server's
acceptance and our commit), and then with the same Message-ID and bytes.

Before counting what the SMTP server got, each test stops the service: a graceful stop
finishes the sends in flight, so nothing can arrive after the count."""
import pytest

from services.notifications.service import NotificationsService
from tests.integration.notifications.conftest import STAFF
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BURST = 200


def burst(n=BURST):
    return [("identity", "user_locked",
             {"user_id": i, "email": f"user{i}@acme.example", "first_name": f"User {i}",
              "locale": "fr" if i % 2 else "en"})
            for i in range(n)]


def stats(rpc):
    return rpc.mail_queue_stats(STAFF)


def all_items(rpc):
    items, cursor = [], None
    while True:
        page = rpc.outgoing_mail(STAFF, limit=200, cursor=cursor)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def assert_exactly_once(smtp_server, n=BURST):
    counts = smtp_server.message_ids()
    assert len(counts) == n
    duplicates = {mid: c for mid, c in counts.items() if c > 1}
    assert not duplicates, duplicates
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == \
        sorted(f"user{i}@acme.example" for i in range(n))


def test_smtp_server_down_during_a_burst_then_back(notifications, publish, smtp_server,
                                                   notifications_rpc):
    smtp_server.recorder.delay = 0.02  # a realistic server takes a moment per message
    publish(burst())
    wait_for(lambda: len(smtp_server.received) >= 30, timeout=30, message="the burst to start")
    smtp_server.stop()
    stopped_at = len(smtp_server.received)
    # while it is down, attempts fail and are recorded; messages wait their back-off
    wait_for(lambda: any(i["attempts"] > 1 for i in all_items(notifications_rpc)), timeout=20,
             message="failed attempts to be recorded")
    down = stats(notifications_rpc)
    assert down["sent"] < BURST and down["failed"] == 0
    assert len(smtp_server.received) == stopped_at
    smtp_server.start()
    wait_for(lambda: stats(notifications_rpc)["sent"] == BURST, timeout=60,
             message="every email after the server came back")
    retried = [i for i in all_items(notifications_rpc) if i["attempts"] > 1]
    assert retried and all(i["status"] == "sent" for i in retried)
    notifications.stop()
    assert_exactly_once(smtp_server)


def test_service_restarted_mid_delivery_sends_each_email_once(notifications, publish,
                                                              smtp_server, notifications_rpc,
                                                              start_service):
    # slow enough that the rest of the burst cannot go out while the stop reaches the
    # senders (nameko stops the entrypoints and waits for running workers first)
    smtp_server.recorder.delay = 0.1
    publish(burst())
    wait_for(lambda: len(smtp_server.received) >= 40, timeout=30, message="delivery to start")
    notifications.stop()  # graceful: finishes the message in flight, gives the batch back
    assert len(smtp_server.received) < BURST
    restarted = start_service(NotificationsService)
    wait_for(lambda: stats(notifications_rpc)["sent"] == BURST, timeout=60,
             message="every email after the restart")
    restarted.stop()
    assert_exactly_once(smtp_server)


def test_service_killed_mid_delivery_loses_nothing(notifications, publish, smtp_server,
                                                   notifications_rpc, start_service,
                                                   monkeypatch):
    # every event is queued before the kill, so only delivery is interrupted: hold the
    # server back until then
    smtp_server.stop()
    publish(burst())
    wait_for(lambda: sum(stats(notifications_rpc)[s] for s in ("queued", "sending"))
             == BURST, timeout=30, message="all emails queued")
    smtp_server.recorder.delay = 0.05
    smtp_server.start()
    wait_for(lambda: len(smtp_server.received) >= 40, timeout=30, message="delivery to start")
    notifications.kill()  # no goodbye: claims stay behind until their lease runs out
    assert len(smtp_server.received) < BURST
    monkeypatch.setenv("MAIL_CLAIM_LEASE", "2")
    restarted = start_service(NotificationsService)
    wait_for(lambda: stats(notifications_rpc)["sent"] == BURST, timeout=60,
             message="every email after the kill")
    restarted.stop()
    counts = smtp_server.message_ids()
    assert len(counts) == BURST  # nothing lost
    # the at-least-once window: at most the message each sender had in flight, resent
    # identical (same Message-ID, same bytes)
    duplicates = [mid for mid, c in counts.items() if c > 1]
    assert len(duplicates) <= 4
    for mid in duplicates:
        copies = [r.raw for r in smtp_server.received if r.message_id == mid]
        assert len(set(copies)) == 1
