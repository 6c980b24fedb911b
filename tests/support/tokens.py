"""Tokens for tests that call services over the bus (services/common/caller_auth.py).

The test run has one signing key ring (`RING`, identity's own format): every identity the
tests start signs with it (`IDENTITY_SIGNING_KEYS`, set by the fixtures), services started
in the test process know its public key and hold service tokens signed with it without
asking identity (`trust_test_keys`), and a test signs tokens with it as identity would.

`ServiceRpcProxy` is nameko's, showing a token of a back-end service made for the tests,
which may say on whose behalf it calls: the context a test passes is the one the service
gets, as when one of our services calls another.
"""
from nameko.standalone.rpc import ServiceRpcProxy as NamekoServiceRpcProxy

from services.common.caller_auth import TOKEN_KEY, public_keys, service_tokens
from services.common.config import SERVICES
from services.common.tokens import issue_access_token, issue_service_token
from services.identity.signing_keys import KeyRing

RING = KeyRing().rotated()
KEY = RING.keys[-1]
RING_JSON = RING.to_json()
TEST_SERVICE = "procura-tests"


def trust_test_keys():
    """Services in this process verify the test ring's tokens, and have their service
    tokens, without asking identity (which many integration tests do not run)."""
    public_keys.remember({k.kid: k.public_pem for k in RING.keys})
    for service in SERVICES:
        service_tokens.remember(service, service_token(service))


def service_token(service=TEST_SERVICE, lifetime=3600):
    return issue_service_token(service, KEY.private_pem, KEY.kid, lifetime=lifetime)


def user_token(ctx, lifetime=900):
    """An access token for `ctx` (a CallerContext with a user_id), as identity signs one."""
    return issue_access_token(ctx, KEY.private_pem, KEY.kid, lifetime=lifetime)


class ServiceRpcProxy(NamekoServiceRpcProxy):
    """nameko's ServiceRpcProxy with the tests' service token on every call."""

    def __init__(self, service, config, context_data=None, **kwargs):
        data = {TOKEN_KEY: service_token(), **(context_data or {})}
        super().__init__(service, config, context_data=data, **kwargs)
