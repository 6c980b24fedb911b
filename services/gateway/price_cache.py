"""Priced catalog replies kept by each gateway process, so that a repeated product page or
search is answered without a call to catalog, and their `ETag` / `If-None-Match`.

A reply is kept for one caller as the caller's token describes them: company, user (EPP
membership is per user), staff or not, currency and catalog grants. A change of grants gives
the user a new token (identity revokes the old one), hence a new key. A kept reply is served
only while all of these hold:

- no price-changing fact has been heard since it was fetched: catalog's `catalog_changed`
  (a product import, for everyone; for one company, what its custom catalogs allow: their
  rules, its favorites, saved searches and purchase history, or its employee purchase
  program) and `contract_changed` (that company), heard by every gateway process on its own
  broadcast queue, and every such change relayed by this process, applied before its reply
  goes out (so its author never sees the old price);
- it was fetched today (UTC): contracts and programs start and end with the day;
- it is younger than PRICE_CACHE_SECONDS (default 30): a process that was cut off from the
  broker, and so missed an event, serves an old price for no longer than that.

The generation a reply is stored under is read before catalog is called: a change heard
while the call was on its way makes the reply stale at once.

Replies are kept as the JSON bytes sent, least recently used dropped first beyond
PRICE_CACHE_BYTES (default 1 MiB). Each carries a weak `ETag` (a digest of those bytes); a
request whose `If-None-Match` names it gets `304 Not Modified` with no body.
"""
import hashlib
import json
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.wrappers import Response

from services.common.clock import utc_today
from services.common.config import env

CACHE_CONTROL = "private, no-cache"  # the client keeps it, and asks with If-None-Match


@dataclass
class Kept:
    body: bytes
    etag: str
    generation: tuple
    day: object
    stored_at: float


class PricedReplies:
    """One process's kept replies (the gateway's hub is one thread: no locks)."""

    ENTRY_OVERHEAD = 300  # bytes a kept reply costs beyond its body (key, entry, digest)

    def __init__(self, max_bytes=None, max_age=None, clock=time.monotonic, today=utc_today):
        self.max_bytes = int(env("PRICE_CACHE_BYTES", str(1024 * 1024))) \
            if max_bytes is None else max_bytes
        self.max_age = float(env("PRICE_CACHE_SECONDS", "30")) if max_age is None else max_age
        self.clock, self.today = clock, today
        self.kept: OrderedDict = OrderedDict()
        self.size = 0
        self.everyone = 0      # bumped by a change to every company's prices
        self.companies = {}    # company id -> generation

    def generation(self, company_id) -> tuple:
        return self.everyone, self.companies.get(company_id, 0)

    def changed(self, company_id=None):
        """Prices changed for one company, or (None) for every company."""
        if company_id is None:
            self.everyone += 1
            self.kept.clear()
            self.size = 0
        else:
            self.companies[company_id] = self.companies.get(company_id, 0) + 1

    def get(self, key, company_id) -> Kept | None:
        kept = self.kept.get(key)
        if kept is None:
            return None
        if (kept.generation != self.generation(company_id) or kept.day != self.today()
                or self.clock() - kept.stored_at >= self.max_age):
            self._drop(key)
            return None
        self.kept.move_to_end(key)
        return kept

    def put(self, key, generation, body: bytes) -> Kept:
        kept = Kept(body, etag_of(body), generation, self.today(), self.clock())
        if key in self.kept:
            self._drop(key)
        cost = len(body) + self.ENTRY_OVERHEAD
        if cost <= self.max_bytes:
            self.kept[key] = kept
            self.size += cost
            while self.size > self.max_bytes:
                self._drop(next(iter(self.kept)))
        return kept

    def _drop(self, key):
        kept = self.kept.pop(key)
        self.size -= len(kept.body) + self.ENTRY_OVERHEAD


REPLIES = PricedReplies()


def etag_of(body: bytes) -> str:
    return 'W/"%s"' % hashlib.blake2b(body, digest_size=12).hexdigest()


def caller_key(ctx, currency) -> tuple:
    """Everything about the caller that a price or the visible products depend on."""
    return (ctx.company_id, ctx.user_id, bool(ctx.staff), currency,
            tuple(sorted(int(i) for i in ctx.catalog_ids or ())))


def priced_reply(call, currency, what: tuple, fetch, replies=None):
    """The reply to `call` for `what` (the endpoint and its arguments), kept or fetched with
    `fetch()`, as a JSON Response with its ETag, or 304 when the client has it."""
    replies = REPLIES if replies is None else replies
    company_id = call.ctx.company_id
    key = what + caller_key(call.ctx, currency)
    kept = replies.get(key, company_id)
    if kept is None:
        generation = replies.generation(company_id)
        body = json.dumps(fetch(), default=str).encode()
        kept = replies.put(key, generation, body)
    return conditional(call.request, kept)


@contextmanager
def changing_prices(company_id=None, replies=None):
    """Around a call that may change one company's prices (None: every company's): what was
    kept for them is stale once the call is over, whether it succeeded, failed or timed out
    (a timed-out change may still commit)."""
    try:
        yield
    finally:
        (REPLIES if replies is None else replies).changed(company_id)


def with_etag(handler):
    """On an endpoint answered through `priced_reply`: the OpenAPI document gives it
    `If-None-Match`, `ETag` and 304."""
    handler.endpoint_spec.conditional = True
    return handler


def conditional(request, kept: Kept) -> Response:
    headers = {"ETag": kept.etag, "Cache-Control": CACHE_CONTROL}
    if _matches(request.headers.get("If-None-Match"), kept.etag):
        return Response(status=304, headers=headers)
    return Response(kept.body, status=200, mimetype="application/json", headers=headers)


def _matches(if_none_match, etag) -> bool:
    """Weak comparison (RFC 9110 13.1.2): `*`, or any listed tag with the same opaque part."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))
