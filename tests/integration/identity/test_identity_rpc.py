"""identity in a nameko container on the real broker: login, refresh rotation, public keys,
errors crossing RPC as themselves, idempotent card saving, and access revocations reaching
a gateway process (broadcast event and the load at start)."""
import pytest

from services.common.context import CallerContext
from services.common.engines import open_session
from services.common.errors import Forbidden, Invalid, Unauthorized
from services.common.rpc_client import RpcClient
from services.common.tokens import context_from_claims, token_kid, verify_access_token
from services.gateway.access_tokens import AccessTokens
from services.gateway.routes.identity import IdentityRoutes
from services.identity import demo
from services.identity.models import Base
from services.identity.service import IdentityService
from tests.support.databases import migrated_database
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
PUBLIC = CallerContext(locale="en").to_dict()


class GatewayListener(IdentityRoutes):
    """The identity part of the gateway, alone."""
    name = "gateway_listener"
    identity_rpc = RpcClient("identity")


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    url, drop = migrated_database("identity", tmp_path)
    monkeypatch.setenv("IDENTITY_DATABASE_URL", url)
    session = open_session("identity", Base, url)
    people = demo.seed(session)
    session.close()
    session.get_bind().dispose()
    yield people
    drop()


@pytest.fixture
def identity(seeded, start_service, procura_env):
    start_service(IdentityService)
    with ServiceRpcProxy("identity", procura_env) as proxy:
        yield proxy


def ctx_of(identity, pair):
    keys = {k["kid"]: k["public_key"] for k in identity.public_keys(PUBLIC)}
    claims = verify_access_token(pair["access_token"], keys[token_kid(pair["access_token"])])
    return context_from_claims(claims)


def test_login_refresh_and_public_keys(identity, seeded):
    pair = identity.login(PUBLIC, "demo.admin", demo.DEMO_PASSWORD, client_address="10.0.0.1")
    ctx = ctx_of(identity, pair)
    assert ctx.user_id == seeded["users"]["demo.admin"] and ctx.company_id == seeded["company_id"]
    assert "security_admin" in ctx.roles and pair["user"]["username"] == "demo.admin"

    rotated = identity.refresh(PUBLIC, pair["refresh_token"])
    assert ctx_of(identity, rotated).user_id == ctx.user_id
    with pytest.raises(Unauthorized) as exc:
        identity.refresh(PUBLIC, pair["refresh_token"])
    assert exc.value.code == "refresh_token_revoked"
    # the reuse revoked the family, the rotation included
    with pytest.raises(Unauthorized):
        identity.refresh(PUBLIC, rotated["refresh_token"])


def test_login_errors_cross_rpc_as_themselves(identity):
    with pytest.raises(Unauthorized) as exc:
        identity.login(PUBLIC, "demo.buyer", "wrong-password")
    assert exc.value.code == "invalid_credentials" and exc.value.status == 401
    assert not exc.value.errors  # no "None" string for the gateway to show
    with pytest.raises(Unauthorized) as exc:
        identity.login(CallerContext(locale="fr").to_dict(), "nobody", "wrong-password")
    assert exc.value.detail.startswith("Nom d'utilisateur")


def test_failed_login_is_counted_despite_the_error_reply(identity):
    for _ in range(5):
        with pytest.raises(Exception):
            identity.login(PUBLIC, "demo.finance", "wrong-password")
    with pytest.raises(Exception) as exc:
        identity.login(PUBLIC, "demo.finance", demo.DEMO_PASSWORD)
    assert exc.value.code == "account_locked" and exc.value.status == 423


def test_admin_rpc_checks_the_role(identity):
    buyer = ctx_of(identity, identity.login(PUBLIC, "demo.buyer", demo.DEMO_PASSWORD))
    with pytest.raises(Forbidden):
        identity.list_users(buyer.to_dict())


def test_card_saving_is_idempotent(identity):
    ctx = ctx_of(identity, identity.login(PUBLIC, "demo.buyer", demo.DEMO_PASSWORD)).to_dict()
    card = {"gateway_token": "tok_1", "brand": "Visa", "last4": "1111", "exp_month": 12,
            "exp_year": 2030, "holder_first_name": "Bruno", "holder_last_name": "Tremblay",
            "nickname": "Corporate", "consent": True}
    first = identity.add_card(ctx, card, idempotency_key="k-1")
    # a retry tokenizes again: another token, the same card
    again = identity.add_card(ctx, dict(card, gateway_token="tok_2"), idempotency_key="k-1")
    assert again == first
    with pytest.raises(Invalid) as exc:
        identity.add_card(ctx, dict(card, nickname="Other"), idempotency_key="k-1")
    assert exc.value.code == "idempotency_key_reused"
    with pytest.raises(Invalid) as exc:
        identity.add_card(ctx, dict(card, consent=False))
    assert exc.value.code == "consent_required"
    assert identity.get_card(ctx, first["id"])["consent_at"] == first["consent_at"]
    assert len(identity.list_cards(ctx)["items"]) == 1


def test_revocations_reach_the_gateway(identity, seeded, start_service, monkeypatch):
    admin = ctx_of(identity, identity.login(PUBLIC, "demo.admin", demo.DEMO_PASSWORD)).to_dict()
    buyer_id = seeded["users"]["demo.buyer"]
    approver_id = seeded["users"]["demo.approver"]
    # before the gateway starts: it loads this when it starts
    identity.update_user(admin, approver_id, {"features": ["quotes", "slt_user"]})
    listener = start_service(GatewayListener, WEB_SERVER_ADDRESS="127.0.0.1:0")
    revoked = next(d for d in listener.dependencies if isinstance(d, AccessTokens)).state
    wait_for(lambda: approver_id in revoked.revoked_before, message="loaded revocations")
    # while it runs: it hears the broadcast event
    identity.update_user(admin, buyer_id, {"status": "disabled"})
    cutoff = wait_for(lambda: revoked.revoked_before.get(buyer_id), message="access_revoked")
    assert cutoff == int(identity.revocations(PUBLIC)[str(buyer_id)])
    with pytest.raises(Forbidden) as exc:
        identity.login(PUBLIC, "demo.buyer", demo.DEMO_PASSWORD)
    assert exc.value.code == "account_disabled"
