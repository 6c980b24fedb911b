"""How a service builds the caller of an RPC from the call's token, and from nothing else
(services/common/caller_auth.py); the bus's own behaviour is in
tests/integration/test_bus_trust.py."""
import time

import pytest

from services.common.caller_auth import IncomingCall, authenticate
from services.common.context import CallerContext
from services.common.errors import Unauthorized
from services.common.tokens import (InvalidToken, issue_access_token, issue_service_token,
                                    new_signing_key, verify_access_token)
from tests.support.tokens import KEY

OTHER_PRIVATE, OTHER_PUBLIC = new_signing_key()
BUYER = CallerContext(user_id=7, company_id=3, roles=["buyer"], currency="CAD", locale="en")
# what a forger writes in the message: ignored unless a back-end service's token says so
FORGED = CallerContext(user_id=1, company_id=99, staff=True, roles=["security_admin"],
                       request_id="r-1", locale="fr").to_dict()


def key_for(kid):
    return KEY.public_pem if kid == KEY.kid else None


def call(meta, token=None, token_free=False):
    return authenticate(IncomingCall(meta, token, "procura-orders"), key_for, token_free)


def user_token(ctx=BUYER, **kwargs):
    return issue_access_token(ctx, KEY.private_pem, KEY.kid, **kwargs)


def test_a_call_without_a_token_is_refused():
    with pytest.raises(Unauthorized) as refused:
        call(FORGED)
    assert refused.value.code == "bus_token_missing"


def test_a_token_free_method_gets_an_anonymous_caller_whatever_the_message_says():
    ctx = call(FORGED, token_free=True)
    assert (ctx.user_id, ctx.company_id, ctx.staff, ctx.roles) == (None, None, False, [])
    assert ctx.request_id == "r-1" and ctx.locale == "fr"
    assert call(FORGED, token="not a token", token_free=True).staff is False


def test_the_caller_is_who_the_token_says_not_what_the_message_says():
    token = user_token()
    ctx = call(FORGED, token)
    assert (ctx.user_id, ctx.company_id, ctx.staff, ctx.roles, ctx.currency) == \
        (7, 3, False, ["buyer"], "CAD")
    # what grants nothing comes from the message: the request id and the language
    assert ctx.request_id == "r-1" and ctx.locale == "fr"
    # kept, so that the calls this one makes pass it on (never sent as part of the dict)
    assert ctx.token == token and "token" not in ctx.to_dict()


@pytest.mark.parametrize("token", [
    issue_access_token(BUYER, OTHER_PRIVATE, KEY.kid),           # not identity's key
    issue_access_token(BUYER, OTHER_PRIVATE, "someone-elses"),   # a key identity never had
    user_token(now=time.time() - 3600),                          # long expired
    "a.b.c",
])
def test_a_token_identity_did_not_sign_or_that_expired_is_refused(token):
    with pytest.raises(Unauthorized) as refused:
        call(FORGED, token)
    assert refused.value.code == "bus_token_invalid"


def test_a_token_just_expired_still_finishes_the_calls_it_started(monkeypatch):
    # the gateway let it in a moment before its expiry
    monkeypatch.setenv("BUS_TOKEN_LEEWAY", "60")
    ctx = call({}, user_token(lifetime=900, now=time.time() - 930))
    assert ctx.user_id == 7


def test_a_back_end_service_names_on_whose_behalf_it_calls():
    token = issue_service_token("orders", KEY.private_pem, KEY.kid)
    ctx = call({"user_id": 5, "company_id": 3, "currency": "CAD"}, token)
    assert (ctx.user_id, ctx.company_id, ctx.service, ctx.staff) == (5, 3, "orders", False)
    # by itself: the system's context
    ctx = call({}, token)
    assert ctx.staff is True and ctx.service == "orders" and ctx.user_id is None


def test_the_gateways_own_token_is_an_anonymous_caller():
    token = issue_service_token("gateway", KEY.private_pem, KEY.kid)
    ctx = call(FORGED, token)
    assert (ctx.user_id, ctx.company_id, ctx.staff, ctx.roles) == (None, None, False, [])
    assert ctx.service == "gateway"


def test_a_service_token_is_no_access_token_over_http():
    token = issue_service_token("orders", KEY.private_pem, KEY.kid)
    with pytest.raises(InvalidToken):
        verify_access_token(token, KEY.public_pem)
