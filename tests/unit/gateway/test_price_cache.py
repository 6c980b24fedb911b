"""The gateway's kept product pages and searches (services/gateway/price_cache.py): served
again without asking catalog until a price-changing fact, a new day or their age makes them
stale; kept apart per caller; answered 304 when the client already holds them."""
import json
from datetime import date, timedelta

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.common.context import CallerContext
from services.gateway.api import Call
from services.gateway.price_cache import PricedReplies, changing_prices, priced_reply


class Clock:
    def __init__(self):
        self.now, self.day = 1000.0, date(2026, 11, 30)

    def monotonic(self):
        return self.now

    def today(self):
        return self.day


class Catalog:
    """Stands for catalog's reply: the price it has now, and how often it was asked."""

    def __init__(self):
        self.price, self.calls = "10.00", 0

    def product(self):
        self.calls += 1
        return {"part_number": "P-1", "price": {"amount": self.price, "currency": "CAD"}}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def replies(clock):
    return PricedReplies(max_bytes=64 * 1024, max_age=30, clock=clock.monotonic,
                         today=clock.today)


def call(company_id=1, user_id=7, catalog_ids=(), currency="CAD", if_none_match=None):
    headers = {"If-None-Match": if_none_match} if if_none_match else {}
    request = Request(EnvironBuilder(path="/api/v1/products/P-1", headers=headers).get_environ())
    ctx = CallerContext(company_id=company_id, user_id=user_id, catalog_ids=list(catalog_ids),
                        currency=currency)
    return Call(ctx=ctx, body={}, query={}, request=request, idempotency_key=None, locale="en")


def read(replies, catalog, **caller):
    return priced_reply(call(**caller), caller.get("currency", "CAD"), ("product", "P-1"),
                        catalog.product, replies=replies)


def price_of(response):
    return json.loads(response.get_data())["price"]["amount"]


def test_a_repeated_read_is_answered_without_asking_catalog(replies):
    catalog = Catalog()
    first, second = read(replies, catalog), read(replies, catalog)
    assert catalog.calls == 1
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == "private, no-cache"


def test_a_change_to_the_company_s_prices_shows_at_the_next_read(replies):
    catalog = Catalog()
    read(replies, catalog)
    catalog.price = "8.00"
    replies.changed(1)
    assert price_of(read(replies, catalog)) == "8.00"
    assert catalog.calls == 2


def test_a_change_for_another_company_keeps_the_reply(replies):
    catalog = Catalog()
    read(replies, catalog)
    replies.changed(2)
    read(replies, catalog)
    assert catalog.calls == 1


def test_a_change_for_every_company_shows_at_the_next_read(replies):
    catalog = Catalog()
    read(replies, catalog)
    catalog.price = "9.00"
    replies.changed(None)
    assert price_of(read(replies, catalog)) == "9.00"


def test_a_change_heard_while_catalog_answers_is_not_kept(replies):
    catalog = Catalog()

    def old_price_then_change():
        reply = catalog.product()  # read before the change committed
        catalog.price = "7.00"
        replies.changed(1)
        return reply

    stale = priced_reply(call(), "CAD", ("product", "P-1"), old_price_then_change,
                         replies=replies)
    assert price_of(stale) == "10.00"
    assert price_of(read(replies, catalog)) == "7.00"


def test_a_change_relayed_here_applies_even_when_the_call_fails(replies):
    catalog = Catalog()
    read(replies, catalog)
    with pytest.raises(TimeoutError):
        with changing_prices(1, replies=replies):
            raise TimeoutError("catalog did not answer; the change may have committed")
    read(replies, catalog)
    assert catalog.calls == 2


def test_a_new_day_or_an_old_reply_is_fetched_again(replies, clock):
    catalog = Catalog()
    read(replies, catalog)
    clock.day += timedelta(days=1)  # a contract may start or end
    read(replies, catalog)
    assert catalog.calls == 2
    clock.now += 29
    read(replies, catalog)
    assert catalog.calls == 2
    clock.now += 1
    read(replies, catalog)
    assert catalog.calls == 3


@pytest.mark.parametrize("other", [dict(user_id=8), dict(company_id=2), dict(currency="USD"),
                                   dict(catalog_ids=(3,))])
def test_each_caller_has_replies_of_their_own(replies, other):
    catalog = Catalog()
    read(replies, catalog)
    read(replies, catalog, **other)
    assert catalog.calls == 2


def test_the_client_s_copy_is_answered_304(replies):
    catalog = Catalog()
    etag = read(replies, catalog).headers["ETag"]
    assert etag.startswith('W/"')
    for held in (etag, etag.removeprefix("W/"), f'"other", {etag}', "*"):
        response = read(replies, catalog, if_none_match=held)
        assert response.status_code == 304 and response.get_data() == b""
        assert response.headers["ETag"] == etag
    assert read(replies, catalog, if_none_match='W/"other"').status_code == 200


def test_the_etag_follows_the_price(replies):
    catalog = Catalog()
    etag = read(replies, catalog).headers["ETag"]
    catalog.price = "8.00"
    replies.changed(1)
    response = read(replies, catalog, if_none_match=etag)
    assert response.status_code == 200 and response.headers["ETag"] != etag


def test_the_least_recently_used_replies_go_beyond_the_size_limit(clock):
    body_size = 1000
    replies = PricedReplies(max_bytes=3 * (body_size + PricedReplies.ENTRY_OVERHEAD),
                            max_age=30, clock=clock.monotonic, today=clock.today)
    for part in ("A", "B", "C"):
        replies.put((part,), replies.generation(1), b"x" * body_size)
    assert replies.get(("A",), 1) is not None  # A is now the most recently used
    replies.put(("D",), replies.generation(1), b"x" * body_size)
    assert replies.get(("B",), 1) is None
    assert all(replies.get((part,), 1) is not None for part in ("A", "C", "D"))
    assert replies.size <= replies.max_bytes
