"""Idempotency keys for commands that create things (checkout, card add, user create):
the same key and body replay the first reply; the same key with another body is 422."""
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.errors import Conflict, Invalid


def request_hash(request) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def once(session, scope: str, key: str | None, request, produce):
    """Run `produce()` once per (scope, key) and remember its JSON-safe result."""
    if not key:
        return produce()
    model = session.info["base"].IdempotencyKey
    digest = request_hash(request)
    existing = session.scalar(select(model).where(model.scope == scope, model.key == key))
    if existing is not None:
        if existing.request_hash != digest:
            raise Invalid("this Idempotency-Key was already used with another request",
                          code="idempotency_key_reused")
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
