"""The gateway's side of access revocation: a revoked_before equal to a token's iat refuses
it; revocations are merged and forgotten once every covered token has expired; the gateway
that relays a password change refuses the old token before it replies; and the client
address that login rate limits count, with X-Forwarded-For believed from trusted proxies
only."""
import time

import pytest
from werkzeug.test import EnvironBuilder

from services.common.context import CallerContext
from services.common.tokens import InvalidToken, issue_access_token, new_signing_key
from services.gateway.access_tokens import TokenKeys
from services.gateway.routes.identity import IdentityRoutes, client_address, trusted_proxies


@pytest.fixture
def keys():
    """(signing key, the gateway's TokenKeys knowing its public key)."""
    private, public = new_signing_key()
    return private, TokenKeys({"k1": public})


def test_revoked_before_equal_to_iat_refuses(keys):
    private, tokens = keys
    now = int(time.time())
    token = issue_access_token(CallerContext(user_id=7, company_id=1), private, "k1", now=now)
    assert tokens.verify(token, lambda: [])["sub"] == "7"
    tokens.remember_revocation("7", now)
    with pytest.raises(InvalidToken):
        tokens.verify(token, lambda: [])


def test_revocations_only_move_forward_and_are_forgotten():
    tokens = TokenKeys()
    tokens.remember_revocation(7, 100)
    tokens.remember_revocation("7", 50)
    assert tokens.revoked_before == {7: 100}
    now = time.time()
    tokens.remember_revocation(8, int(now))
    tokens.forget_old_revocations(now)
    assert tokens.revoked_before == {8: int(now)}


class Identity:
    """identity's replies to the password RPCs: the revocation it committed."""

    def __init__(self):
        self.calls = []

    def change_password(self, ctx, current_password, new_password):
        self.calls.append(ctx.user_id)
        return {"user_id": ctx.user_id, "revoked_before": int(time.time())}

    def reset_password(self, ctx, token, new_password):
        return {"user_id": 7, "revoked_before": int(time.time())}


class Gateway(IdentityRoutes):
    identity_rpc = Identity()

    def __init__(self, access_tokens):
        self.access_tokens = access_tokens  # as the dependency would


def request(method, path, body=None, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return EnvironBuilder(method=method, path="/api/v1" + path, json=body,
                          headers=headers).get_request()


@pytest.mark.parametrize("relay", ["change", "reset"])
def test_the_gateway_relaying_a_password_change_refuses_the_old_token_at_once(keys, relay):
    private, tokens = keys
    token = issue_access_token(CallerContext(user_id=7, company_id=1), private, "k1",
                               now=time.time() - 5)
    gateway = Gateway(tokens)
    if relay == "change":
        reply = IdentityRoutes.change_password(gateway, request(
            "POST", "/me/password", {"current_password": "Old-password-1",
                                     "new_password": "New-password-2"}, token))
    else:
        reply = IdentityRoutes.reset_password(gateway, request(
            "POST", "/auth/reset-password", {"token": "link", "new_password": "New-password-2"}))
    assert reply.status_code == 204
    # nothing else has happened yet (no event, no reload): the reply itself did it
    with pytest.raises(InvalidToken):
        tokens.verify(token, lambda: [])
    again = IdentityRoutes.get_me(gateway, request("GET", "/me", token=token))
    assert again.status_code == 401 and b"invalid_token" in again.get_data()


def http_request(peer, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return EnvironBuilder(path="/api/v1/auth/login", headers=headers,
                          environ_base={"REMOTE_ADDR": peer}).get_request()


def test_the_client_address_ignores_x_forwarded_for_from_anyone_but_a_trusted_proxy():
    proxies = trusted_proxies("10.0.0.0/8, 192.168.1.7")
    # straight from the client: its own address, whatever it claims
    assert client_address(http_request("203.0.113.9", "1.2.3.4"), proxies) == "203.0.113.9"
    assert client_address(http_request("203.0.113.9", "1.2.3.4"), []) == "203.0.113.9"
    # through the ingress: the address the ingress saw (the last entry)
    assert client_address(http_request("10.1.2.3", "1.2.3.4, 198.51.100.2"),
                          proxies) == "198.51.100.2"
    # through two trusted proxies: the first address that is not one of them
    assert client_address(http_request("10.1.2.3", "198.51.100.2, 192.168.1.7"),
                          proxies) == "198.51.100.2"
    # garbage before a trusted hop is not believed
    assert client_address(http_request("10.1.2.3", "evil, 192.168.1.7"), proxies) == "10.1.2.3"
    assert client_address(http_request("10.1.2.3"), proxies) == "10.1.2.3"


def test_trusted_proxies_come_from_the_setting(monkeypatch):
    monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/8,::1")
    assert [str(n) for n in trusted_proxies()] == ["10.0.0.0/8", "::1/128"]
    monkeypatch.delenv("GATEWAY_TRUSTED_PROXIES")
    assert trusted_proxies() == []
