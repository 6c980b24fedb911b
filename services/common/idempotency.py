"""Idempotency keys for commands that create things (checkout, card add, user create):
the same key and body replay the first reply; the same key with another body is 422, and
so is a key longer than the column that keeps it."""
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.errors import Conflict, Invalid

MAX_KEY_LENGTH = 200  # idempotency_keys.key


def check_key(key: str | None):
    """422 for a key no service could keep (PostgreSQL would refuse it, SQLite keep it)."""
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"an Idempotency-Key has at most {MAX_KEY_LENGTH} characters",
                      code="idempotency_key_too_long",
                      errors={"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} characters."]})


def request_hash(request) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _first(session, scope, key, digest):
    """The row of a key used before (422 when it came with another request), or None."""
    model = session.info["base"].IdempotencyKey
    existing = session.scalar(select(model).where(model.scope == scope, model.key == key))
    if existing is not None and existing.request_hash != digest:
        raise Invalid("this Idempotency-Key was already used with another request",
                      code="idempotency_key_reused")
    return existing


def replay(session, scope: str, key: str | None, request):
    """The first reply to this (scope, key), when there was one, without taking the key:
    for a command that asks other services before its `once()` (so that it holds no
    database connection while it waits for them), to answer a retry without asking them."""
    if not key:
        return None
    check_key(key)
    existing = _first(session, scope, key, request_hash(request))
    return existing.response if existing is not None else None


def once(session, scope: str, key: str | None, request, produce):
    """Run `produce()` once per (scope, key) and remember its JSON-safe result."""
    if not key:
        return produce()
    check_key(key)
    model = session.info["base"].IdempotencyKey
    digest = request_hash(request)
    existing = _first(session, scope, key, digest)
    if existing is not None:
        return existing.response
    row = model(scope=scope, key=key, request_hash=digest)
    session.add(row)
    try:
        # on PostgreSQL a concurrent request with the same key waits here for ours
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("a request with this Idempotency-Key is in progress; retry",
                       code="idempotency_in_progress")
    result = produce()
    row.response = result
    return result
