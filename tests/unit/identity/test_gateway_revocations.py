"""The gateway's side of access revocation: a revoked_before equal to a token's iat refuses
it, and revocations are merged and forgotten once every covered token has expired."""
import time

import pytest

from services.common.context import CallerContext
from services.common.tokens import InvalidToken, issue_access_token, new_signing_key
from services.gateway.api import TokenKeys
from services.gateway.routes.identity import forget_old_revocations, remember_revocation


@pytest.fixture
def keys(monkeypatch):
    private, public = new_signing_key()
    monkeypatch.setattr(TokenKeys, "keys", {"k1": public})
    monkeypatch.setattr(TokenKeys, "revoked_before", {})
    return private


def test_revoked_before_equal_to_iat_refuses(keys):
    now = int(time.time())
    token = issue_access_token(CallerContext(user_id=7, company_id=1), keys, "k1", now=now)
    assert TokenKeys.verify(token, lambda: [])["sub"] == "7"
    remember_revocation("7", now)
    with pytest.raises(InvalidToken):
        TokenKeys.verify(token, lambda: [])


def test_revocations_only_move_forward_and_are_forgotten(keys):
    remember_revocation(7, 100)
    remember_revocation("7", 50)
    assert TokenKeys.revoked_before == {7: 100}
    now = time.time()
    remember_revocation(8, int(now))
    forget_old_revocations(now)
    assert TokenKeys.revoked_before == {8: int(now)}
