"""Password hashing with argon2id, and the password rules.

Parameters: time cost 3, memory 19 MiB, 1 lane: about 33 ms per hash or verification on
the reference machine (2 cores), inside the 20-50 ms we aim for: slow enough to make
offline guessing expensive, fast enough for a login per request burst. A hash made with
other parameters is upgraded at the next successful login (`needs_rehash`).

Hashing is CPU-bound C code that releases the GIL: a service process may hand it to real
threads with `offload()` so that a login does not stall every other green thread. Each hash
holds 19 MiB while it runs, so `offload()` lets only HASHES_AT_ONCE run together (more
would only queue for the CPU) and puts every thread on one malloc arena: glibc gives each
thread an arena of its own and keeps a freed 19 MiB block in it for the next hash, so twenty
threads held ~400 MB after a burst of logins; on one arena, trimmed once the burst is
over, the process is back to its size before the burst (bench/memory.py).
"""
import ctypes
import secrets
import threading
import time

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 3
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
HASHES_AT_ONCE = 2

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB,
                         parallelism=PARALLELISM, hash_len=32, salt_len=16, type=Type.ID)
_dummy_hash = None


def _direct(fn, *args):
    return fn(*args)


_run = _direct


def offload(runner, at_once=HASHES_AT_ONCE):
    """Run every hash and verification through `runner(fn, *args)` (e.g. a thread pool), at
    most `at_once` at a time; the callers beyond wait their turn (in a process that eventlet
    has monkey-patched, greenly). Call it before the runner starts its threads."""
    global _run
    if runner is None:
        _run = _direct
        return
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, 1)
    turns = threading.BoundedSemaphore(at_once)
    burst = _Burst(libc)

    def bounded(fn, *args):
        with turns:
            burst.started()
            try:
                return runner(fn, *args)
            finally:
                burst.finished()

    _run = bounded


M_ARENA_MAX = -8  # glibc's mallopt parameter
QUIET_SECONDS = 2.0


def _glibc():
    """The C library when it is glibc (with mallopt and malloc_trim), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


class _Burst:
    """Gives the hashes' memory back to the system (glibc's malloc_trim) once no hash has
    run for QUIET_SECONDS: during a burst of logins the next hash reuses the block the last
    one freed instead of faulting 19 MiB of fresh pages in."""

    def __init__(self, libc):
        self.libc, self.running, self.last, self.timer = libc, 0, 0.0, None
        self.lock = threading.Lock()

    def started(self):
        with self.lock:
            self.running += 1

    def finished(self):
        with self.lock:
            self.running -= 1
            self.last = time.monotonic()
            if self.libc is not None and self.timer is None:
                self._wait()

    def _wait(self):
        self.timer = threading.Timer(QUIET_SECONDS, self._trim_when_quiet)
        self.timer.daemon = True
        self.timer.start()

    def _trim_when_quiet(self):
        with self.lock:
            if self.running or time.monotonic() - self.last < QUIET_SECONDS:
                self._wait()  # still busy: look again later
                return
            self.timer = None
        self.libc.malloc_trim(0)


def hash_password(password: str) -> str:
    return _run(_hasher.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_run(_hasher.verify, password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def spend_verification_time(password: str):
    """Verify against a throw-away hash, so that an unknown username costs as much time as
    a known one with a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(_dummy_hash, password)


def policy_problems(password: str, username: str | None = None) -> list:
    """What is wrong with a new password (empty when it is acceptable)."""
    problems = []
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        problems.append(f"Use at least {MIN_LENGTH} characters.")
    elif len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    elif username and username.lower() in password.lower():
        problems.append("The password must not contain the username.")
    elif len(set(password)) < 4:
        problems.append("The password is too repetitive.")
    return problems
