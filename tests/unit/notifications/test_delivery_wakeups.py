"""Which delivery sender a committed handler wakes (MailDelivery.kick): one, the first not
sending a batch (waiting, or only looking at the queue), so that a light load goes over one
warm SMTP connection and the others do not claim for nothing; every one of them when the
service stops. Idle, only the first one looks at the queue often."""
from eventlet.event import Event

from services.notifications.delivery import MailDelivery


def delivery(senders=3, sending=()):
    d = MailDelivery(senders=senders)
    d.wakeups = [Event() for _ in range(senders)]
    d.sending = set(sending)
    return d


def woken(d):
    return [n for n, wakeup in enumerate(d.wakeups) if wakeup.ready()]


def test_a_commit_wakes_the_first_sender_not_sending_only():
    d = delivery(sending={0})
    d.kick()
    assert woken(d) == [1]
    d.kick()  # the first one is already woken: the next one not sending
    assert woken(d) == [1, 2]


def test_the_first_sender_only_looking_at_the_queue_is_woken_not_a_waiting_one():
    # it is not waiting while it looks (a poll interval passed), but its connection is the
    # open one: the kick makes it look again at once rather than send another sender
    d = delivery()
    d.waiting = {1, 2}
    d.kick()
    assert woken(d) == [0]


def test_with_every_sender_sending_one_looks_again_before_it_waits():
    d = delivery(sending={0, 1, 2})
    d.kick()
    assert woken(d) == [0]


def test_stopping_wakes_every_sender():
    d = delivery(sending={0})
    d.kick(every=True)
    assert woken(d) == [0, 1, 2]


def test_only_the_first_sender_looks_at_the_queue_every_poll_interval():
    d = delivery()
    d.interval = 1.0
    assert [d.poll_interval(n) for n in range(3)] == [1.0, 10.0, 10.0]


def test_a_later_sender_whose_interval_passed_leaves_the_queue_to_the_first_unless_it_sends():
    d = delivery()
    assert d.looks_on_its_own(0)
    assert not d.looks_on_its_own(1)  # the first one waits or looks itself
    d.sending.add(0)  # the first one is sending a batch (or stuck on a slow server)
    assert d.looks_on_its_own(1)
