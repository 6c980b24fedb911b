"""The one way tests wait: for a fact, polled until it holds or a deadline passes."""
import time


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Call `predicate` until it returns something true, and return that; fail after
    `timeout` seconds. Sleeps cooperatively (a green sleep where eventlet has patched time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {message}")
        time.sleep(interval)
