"""Hashing handed to real threads (passwords.offload): a few hashes at a time, however many
logins wait, and every hash still gives the right answer."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.identity import passwords

PASSWORD = "Correct-horse-2026"


@pytest.fixture
def restore_direct_hashing():
    yield
    passwords.offload(None)


def test_offloaded_hashes_run_a_few_at_a_time(restore_direct_hashing):
    callers = 6
    inside, most, finished = [0], [0], [0]
    changed = threading.Condition()
    pool = ThreadPoolExecutor(max_workers=callers)

    def runner(fn, *args):
        def counted():
            with changed:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                changed.notify_all()
                # hold the hash until as many as may run together are in (or the rest
                # have finished): an unbounded runner lets every caller in here at once
                changed.wait_for(lambda: inside[0] >= min(passwords.HASHES_AT_ONCE,
                                                          callers - finished[0]), timeout=10)
            try:
                return fn(*args)
            finally:
                with changed:
                    inside[0] -= 1
                    finished[0] += 1
                    changed.notify_all()
        return pool.submit(counted).result()

    hashed = passwords.hash_password(PASSWORD)
    passwords.offload(runner)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        passwords.verify_password(hashed, PASSWORD))) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.shutdown()
    assert results == [True] * callers
    assert most[0] == passwords.HASHES_AT_ONCE


def test_offloaded_verification_refuses_a_wrong_password(restore_direct_hashing):
    passwords.offload(lambda fn, *args: fn(*args))
    hashed = passwords.hash_password(PASSWORD)
    assert not passwords.verify_password(hashed, PASSWORD + "x")
    assert passwords.verify_password(hashed, PASSWORD)
