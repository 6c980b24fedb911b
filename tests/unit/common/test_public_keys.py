"""identity's public keys as a process keeps them (`PublicKeys`, used by every service's RPC
entrypoint and by the gateway): callers that come together while the keys are fetched wait
for that one fetch instead of being refused; a stale key keeps working while it is fetched
again or while identity cannot be reached; a key identity does not list is unknown, one that
cannot be known because identity is unreachable is Unavailable; identity is asked at most
once a second."""
import threading

import pytest

from services.common.caller_auth import KEYS_MAX_AGE, PublicKeys
from services.common.errors import Unavailable
from tests.support.waiting import wait_for

LISTED = [{"kid": "k1", "public_key": "PEM-1"}]


class CountingLock:
    """The cache's lock, counting the callers that reached it (waiting or not)."""

    def __init__(self, lock):
        self.lock, self.arrivals = lock, 0

    def __enter__(self):
        self.arrivals += 1
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)

    def acquire(self, blocking=True):
        self.arrivals += 1
        return self.lock.acquire(blocking)

    def release(self):
        self.lock.release()


class SlowIdentity:
    """A fetch that answers only when the test lets it."""

    def __init__(self, answer=LISTED):
        self.answer, self.calls = answer, 0
        self.release = threading.Event()

    def __call__(self):
        self.calls += 1
        self.release.wait(10)
        return self.answer


def in_thread(fn):
    results = []
    thread = threading.Thread(target=lambda: results.append(fn()))
    thread.start()
    return thread, results


def make_stale(keys):
    keys.fetched_at -= KEYS_MAX_AGE + 1
    keys.tried_at = float("-inf")


def test_callers_that_come_while_the_keys_are_fetched_wait_for_that_fetch():
    keys = PublicKeys()
    keys.lock = CountingLock(keys.lock)
    identity = SlowIdentity()
    first, first_got = in_thread(lambda: keys.get("k1", identity))
    wait_for(lambda: identity.calls == 1, message="the first caller to ask identity")
    second, second_got = in_thread(lambda: keys.get("k1", identity))
    wait_for(lambda: keys.lock.arrivals == 2, message="the second caller to reach the lock")
    identity.release.set()
    first.join(10)
    second.join(10)
    assert first_got == second_got == ["PEM-1"]
    assert identity.calls == 1


def test_a_stale_key_is_used_while_another_caller_fetches_the_keys_again():
    keys = PublicKeys({"k1": "PEM-old"})
    make_stale(keys)
    identity = SlowIdentity()
    fetching, fetched = in_thread(lambda: keys.get("k1", identity))
    wait_for(lambda: identity.calls == 1, message="the first caller to ask identity")
    assert keys.get("k1", identity) == "PEM-old"  # returns while identity has not answered
    identity.release.set()
    fetching.join(10)
    assert fetched == ["PEM-1"]
    assert keys.get("k1", identity) == "PEM-1" and identity.calls == 1


def test_a_stale_key_identity_no_longer_lists_is_no_longer_good():
    keys = PublicKeys({"k0": "PEM-retired"})
    make_stale(keys)
    assert keys.get("k0", lambda: LISTED) is None


def test_a_stale_key_is_kept_while_identity_cannot_be_reached():
    keys = PublicKeys({"k1": "PEM-1"})
    make_stale(keys)

    def unreachable():
        raise TimeoutError("no reply")
    assert keys.get("k1", unreachable) == "PEM-1"


def test_a_key_identity_does_not_list_is_unknown_and_asked_for_once_a_second():
    calls = []

    def identity():
        calls.append(1)
        return LISTED
    keys = PublicKeys()
    assert keys.get("forged", identity) is None
    assert keys.get("forged", identity) is None
    assert len(calls) == 1
    keys.tried_at -= PublicKeys.RETRY_AFTER
    assert keys.get("forged", identity) is None
    assert len(calls) == 2


def test_a_key_that_cannot_be_known_because_identity_is_unreachable_is_unavailable():
    calls = []

    def unreachable():
        calls.append(1)
        raise TimeoutError("no reply")
    keys = PublicKeys()
    for _ in range(2):
        with pytest.raises(Unavailable) as raised:
            keys.get("k1", unreachable)
        assert "TimeoutError" in raised.value.detail
    assert len(calls) == 1  # the second caller was not held up by another attempt
    keys.tried_at -= PublicKeys.RETRY_AFTER
    assert keys.get("k1", lambda: LISTED) == "PEM-1"
