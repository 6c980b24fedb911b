"""Which delivery sender a committed handler wakes (MailDelivery.kick): one, the first
waiting, so that a light load goes over one warm SMTP connection and the others do not
claim for nothing; every one of them when the service stops. Idle, only the first one looks
at the queue often."""
from eventlet.event import Event

from services.notifications.delivery import MailDelivery


def delivery(senders=3, waiting=()):
    d = MailDelivery(senders=senders)
    d.wakeups = [Event() for _ in range(senders)]
    d.waiting = set(waiting)
    return d


def woken(d):
    return [n for n, wakeup in enumerate(d.wakeups) if wakeup.ready()]


def test_a_commit_wakes_the_first_waiting_sender_only():
    d = delivery(waiting={1, 2})
    d.kick()
    assert woken(d) == [1]
    d.kick()  # the first one is already woken: the next waiting one
    assert woken(d) == [1, 2]


def test_with_every_sender_busy_one_looks_again_before_it_waits():
    d = delivery(waiting=())
    d.kick()
    assert woken(d) == [0]


def test_stopping_wakes_every_sender():
    d = delivery(waiting={2})
    d.kick(every=True)
    assert woken(d) == [0, 1, 2]


def test_only_the_first_sender_looks_at_the_queue_every_poll_interval():
    d = delivery()
    d.interval = 1.0
    assert [d.poll_interval(n) for n in range(3)] == [1.0, 10.0, 10.0]


def test_a_later_sender_whose_interval_passed_leaves_the_queue_to_an_idle_first_one():
    d = delivery(waiting={0})
    assert d.looks_on_its_own(0)
    assert not d.looks_on_its_own(1)
    d.waiting.discard(0)  # the first one is busy (or stuck on a slow server)
    assert d.looks_on_its_own(1)
