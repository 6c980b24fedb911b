"""Password hashing with argon2id, and the password rules.

Parameters: time cost 3, memory 19 MiB, 1 lane: about 33 ms per hash or verification on
the reference machine (2 cores), inside the 20-50 ms we aim for: slow enough to make
offline guessing expensive, fast enough for a login per request burst. A hash made with
other parameters is upgraded at the next successful login (`needs_rehash`).

Hashing is CPU-bound C code that releases the GIL: a service process may hand it to real
threads with `offload()` so that a login does not stall every other green thread.
"""
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 3
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB,
                         parallelism=PARALLELISM, hash_len=32, salt_len=16, type=Type.ID)
_dummy_hash = None


def _direct(fn, *args):
    return fn(*args)


_run = _direct


def offload(runner):
    """Run every hash and verification through `runner(fn, *args)` (e.g. a thread pool)."""
    global _run
    _run = runner or _direct


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
