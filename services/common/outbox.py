"""The transactional outbox: `emit()` writes an event as a row in the same transaction as the
state change that causes it. Publishing the rows is the relay's work (`services/common/relay.py`).

A payload key named `token` or ending in `_token` holds a one-time secret (a password reset,
set-password or email confirmation link's token): the relay blanks it once the event is sent,
so it never rests in the outbox.
"""
import re
import uuid

from services.common.clock import utcnow
from services.common.context import current_request_id


def emit(session, source: str, event_type: str, payload: dict, request_id=None):
    """Record an event to publish once this session's transaction commits."""
    model = _outbox_model(session)
    row = model(event_id=str(uuid.uuid4()), source=source, type=event_type, payload=payload,
                request_id=request_id or current_request_id(), occurred_at=utcnow(),
                next_attempt_at=utcnow(), attempts=0)
    session.add(row)
    session.info["after_commit"] = True
    return row


SECRET_KEYS = re.compile(r"(^|_)token$")


def without_secrets(payload):
    """The payload with the values of its secret keys (SECRET_KEYS) blanked."""
    if not isinstance(payload, dict) or not any(SECRET_KEYS.search(k) for k in payload):
        return payload
    return {k: (None if SECRET_KEYS.search(k) else v) for k, v in payload.items()}


def _outbox_model(session):
    model = session.info.get("outbox_model")
    if model is None:
        raise RuntimeError("session has no outbox model; open it with Database or open_session()")
    return model
