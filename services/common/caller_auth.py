"""Who makes a call on the bus, proved by a token rather than by where the message came from
(ARCHITECTURE.md, "Security model").

Every RPC carries a token in its `nameko.procura_token` header:
- the caller's access token (identity signed it; the gateway forwards it, and a service
  calling another passes it on with the context it came with), or
- a service token (`tokens.issue_service_token`), for work a service does by itself: event
  handlers, timers, renewals, reminders, command-line work, and the gateway's calls for
  anonymous visitors.

The receiving service verifies the token with identity's public keys (fetched from identity,
cached, fetched again for an unknown key id or after `KEYS_MAX_AGE`; identity uses its own
ring) and builds the `CallerContext` from the verified claims only. From the message it takes
the request id and the language, which grant nothing, and, only when the token is a back-end
service's (which may act for anyone, as staff may), the context that service says it acts
for. A call without a valid token is refused (`Unauthorized`) before the method runs.

Service tokens are issued by identity over RPC (`identity.service_token`) to a caller whose
AMQP `user_id` message property, which RabbitMQ checks against the user the connection logged
in as, is that service's RabbitMQ user: the broker's own authentication proves the service,
so no service needs a secret of its own beyond its broker password. They live five minutes
and are renewed a minute before they expire.
"""
import logging
import threading
import time
from contextvars import ContextVar

import jwt

from services.common.config import SERVICES, amqp_user, env
from services.common.context import CallerContext
from services.common.errors import Unauthorized, Unavailable
from services.common.tokens import (SERVICE_AUDIENCE, InvalidToken, context_from_claims,
                                    issue_service_token, token_kid, verify_bus_token)

log = logging.getLogger(__name__)

# the context-data key of the token: nameko sends it as the `nameko.procura_token` header
TOKEN_KEY = "procura_token"
KEYS_MAX_AGE = 300.0
LOCALES = ("en", "fr")

# the RabbitMQ user that published the message a worker is handling (checked by the broker)
_publisher = ContextVar("bus_publisher", default=None)


def current_publisher():
    return _publisher.get()


def set_publisher(user):
    _publisher.set(user)


class IncomingCall:
    """What the RPC entrypoint hands the method in place of the wire's first argument: that
    argument as sent, the token header and the publishing user, for `authenticate`."""

    def __init__(self, meta, token, publisher):
        self.meta = meta if isinstance(meta, dict) else {}
        self.token = token if isinstance(token, str) and token else None
        self.publisher = publisher


def leeway() -> float:
    """Seconds a user's token may be past its expiry on the bus: a call the gateway let in
    just before expiry finishes its chain of calls."""
    return float(env("BUS_TOKEN_LEEWAY", "60"))


def authenticate(incoming: IncomingCall, key_for, token_free=False) -> CallerContext:
    """The verified caller of an RPC. `key_for(kid)` gives a public key (PEM) or None.
    A `token_free` method takes an absent or unusable token as an anonymous call."""
    meta = incoming.meta
    request_id = meta.get("request_id") if isinstance(meta.get("request_id"), str) else None
    locale = meta.get("locale") if meta.get("locale") in LOCALES else None
    anonymous = CallerContext(locale=locale or "en", request_id=request_id)
    if incoming.token is None:
        if token_free:
            return anonymous
        raise Unauthorized("a call on the bus needs a valid token", code="bus_token_missing")
    try:
        kid = token_kid(incoming.token)
        public = key_for(kid) if kid else None
        if public is None:
            raise InvalidToken("unknown signing key")
        claims = verify_bus_token(incoming.token, public, leeway=leeway())
    except InvalidToken as exc:
        if token_free:
            return anonymous
        raise Unauthorized(f"the call's token is not valid: {exc}", code="bus_token_invalid")
    audience = claims.get("aud")
    if SERVICE_AUDIENCE in (audience if isinstance(audience, list) else [audience]):
        service = claims.get("svc")
        if claims.get("obo"):
            # a back-end service says for whom it acts (as staff, it may act for anyone)
            ctx = CallerContext.from_dict(meta) if meta else CallerContext(staff=True)
        else:
            ctx = CallerContext(staff=bool(claims.get("staff")))
        ctx.service = service
    else:
        ctx = context_from_claims(claims)
    ctx.request_id = request_id
    if locale:
        ctx.locale = locale
    ctx.token = incoming.token
    return ctx


# ---------------------------------------------------------------- identity's public keys

class PublicKeys:
    """identity's public keys in one process, {kid: PEM}, fetched with `fetch()` (a list of
    {"kid", "public_key"}) when a token names a key not known here and when older than
    KEYS_MAX_AGE, by one caller at a time.

    A caller whose key is unknown waits for a fetch under way rather than being refused
    while it runs (the first calls after a start come together); a caller whose key is only
    stale goes on with it while another fetches, and keeps it if identity cannot be reached.
    After an attempt, none is made for RETRY_AFTER seconds: a token naming a key nobody has
    costs identity one call a second at most. A key that cannot be known because identity
    could not be reached is `Unavailable` (try again), not unknown."""

    RETRY_AFTER = 1.0

    def __init__(self, keys=None):
        self.keys = {}
        self.fetched_at = float("-inf")
        self.tried_at = float("-inf")  # when the last attempt ended
        self.failure = None  # why the last attempt failed; None if it succeeded
        self.lock = threading.Lock()
        if keys:
            self.remember(keys)

    def _stale(self):
        return time.monotonic() - self.fetched_at > KEYS_MAX_AGE

    def _due(self, kid):
        return ((kid not in self.keys or self._stale())
                and time.monotonic() - self.tried_at > self.RETRY_AFTER)

    def get(self, kid, fetch):
        """The public key `kid`, or None if identity does not have it."""
        known = self.keys.get(kid)
        if known is not None and not self._stale():
            return known
        if known is not None:
            if self.lock.acquire(blocking=False):
                try:
                    if self._due(kid):
                        self._refresh(fetch)
                finally:
                    self.lock.release()
            # fetched afresh: a key identity no longer lists is no longer good
            return known if self._stale() else self.keys.get(kid)
        with self.lock:
            if self._due(kid):
                self._refresh(fetch)
        if kid not in self.keys and self.failure is not None:
            raise Unavailable(f"identity's public keys could not be fetched: {self.failure}",
                              code="service_unavailable", extra={"retry_after": 5})
        return self.keys.get(kid)

    def _refresh(self, fetch):
        try:
            keys = {k["kid"]: k["public_key"] for k in fetch()}
        except Exception as exc:  # identity unreachable: keep what is known
            log.warning("could not fetch identity's public keys: %s", exc)
            self.failure = f"{type(exc).__name__}: {exc}"
            return
        finally:
            self.tried_at = time.monotonic()
        self.keys = keys
        self.fetched_at = time.monotonic()
        self.failure = None

    def remember(self, keys: dict):
        """Keys known without asking identity (tests that run no identity)."""
        self.keys.update(keys)
        self.fetched_at = time.monotonic()


def fetch_public_keys(service):
    """identity's public keys, asked over the bus as `service`."""
    from services.common.standalone import StandaloneRpc
    with StandaloneRpc(service, tokens=False) as rpc:
        return rpc.identity.public_keys({})


public_keys = PublicKeys()


# ---------------------------------------------------------------- service tokens

class ServiceTokens:
    """This process's service tokens, {service: (token, expiry)}, asked of identity when
    missing or within a minute of expiry."""

    def __init__(self):
        self.tokens = {}
        self.lock = threading.Lock()

    def get(self, service, uri=None):
        token, expires = self.tokens.get(service, (None, 0))
        if time.time() < expires - 60:
            return token
        with self.lock:
            token, expires = self.tokens.get(service, (None, 0))
            if time.time() < expires - 60:
                return token
            from services.common.standalone import StandaloneRpc
            try:
                with StandaloneRpc(service, uri=uri, tokens=False) as rpc:
                    token = rpc.identity.service_token({}, service)
            except (Unauthorized, Unavailable):
                raise
            except Exception as exc:  # identity not running, a timeout, the broker
                raise Unavailable(f"no service token for {service}: {exc}",
                                  code="service_unavailable", extra={"retry_after": 5})
            self.remember(service, token)
            return token

    def remember(self, service, token):
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        self.tokens[service] = (token, expires)


service_tokens = ServiceTokens()


def grant_service_token(service, publisher, key) -> str:
    """identity's side of `service_token`: a token for `service` if the message that asks
    was published by that service's RabbitMQ user (`publisher`, checked by the broker)."""
    if service not in SERVICES:
        raise Unauthorized(f"no service is called {service!r}", code="unknown_service")
    if not publisher or publisher != amqp_user(service):
        log.warning("refused a service token for %s to RabbitMQ user %r", service, publisher)
        raise Unauthorized(f"only {service}'s RabbitMQ user gets its service token",
                           code="service_token_refused")
    return issue_service_token(service, key.private_pem, key.kid)

