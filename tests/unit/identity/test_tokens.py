"""Access tokens, refresh rotation and family revocation, logout, signing keys and the
revocation of access when rights change."""
import pytest
from sqlalchemy import select

from services.common.errors import Forbidden, Unauthorized
from services.common.tokens import context_from_claims, token_kid, verify_access_token
from services.identity import domain
from services.identity.models import AccessRevocation, RefreshToken, SigningKey
from tests.unit.identity.support import PASSWORD, events


def sign_in(session, username="bob"):
    return domain.issue_tokens(session, domain.login(session, username, PASSWORD))


def claims_of(session, pair):
    keys = {k["kid"]: k["public_key"] for k in domain.public_keys(session)}
    return verify_access_token(pair["access_token"], keys[token_kid(pair["access_token"])])


def test_access_token_carries_the_caller_context(session, company):
    user = company.add_user("bob", groups=["finance_users"], roles=["catalog_admin"],
                            catalog_ids=[7])
    pair = sign_in(session)
    ctx = context_from_claims(claims_of(session, pair))
    assert ctx.user_id == user.id and ctx.company_id == company.id
    assert ctx.roles == ["catalog_admin"]
    assert ctx.features == ["linked_accounts", "order_reports", "payment_reports"]
    assert ctx.catalog_ids == [7]
    assert ctx.email == "bob@example.com" and ctx.name == "Uma User" and not ctx.staff
    assert ctx.currency == "CAD"
    assert pair["expires_in"] == 900 and pair["user"]["username"] == "bob"


def test_refresh_token_is_stored_hashed(session, company):
    company.add_user("bob")
    pair = sign_in(session)
    stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert pair["refresh_token"] not in stored
    assert domain.digest(pair["refresh_token"]) in stored


def test_refresh_rotates_and_revokes_the_old_token(session, company):
    company.add_user("bob")
    first = sign_in(session)
    second = domain.refresh(session, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    third = domain.refresh(session, second["refresh_token"])
    assert claims_of(session, third)["sub"]


def test_reuse_of_a_rotated_token_revokes_the_whole_family(session, company):
    company.add_user("bob")
    first = sign_in(session)
    other_login = sign_in(session)
    second = domain.refresh(session, first["refresh_token"])
    with pytest.raises(Unauthorized) as exc:
        domain.refresh(session, first["refresh_token"])
    assert exc.value.code == "refresh_token_revoked"
    session.rollback()  # the RPC rolls back on the error: the revocation must survive it
    with pytest.raises(Unauthorized):
        domain.refresh(session, second["refresh_token"])
    # another login (another family) is untouched
    assert domain.refresh(session, other_login["refresh_token"])["access_token"]


def test_unknown_refresh_token(session, company):
    with pytest.raises(Unauthorized) as exc:
        domain.refresh(session, "made-up")
    assert exc.value.code == "invalid_refresh_token"


def test_logout_revokes(session, company):
    company.add_user("bob")
    pair = sign_in(session)
    domain.logout(session, pair["refresh_token"])
    with pytest.raises(Unauthorized):
        domain.refresh(session, pair["refresh_token"])
    domain.logout(session, "never-issued")  # nothing to say about unknown tokens


def test_refresh_refused_for_a_disabled_user(session, company):
    user = company.add_user("bob")
    pair = sign_in(session)
    user.status = "disabled"
    session.flush()
    with pytest.raises(Forbidden) as exc:
        domain.refresh(session, pair["refresh_token"])
    assert exc.value.code == "account_disabled"


def test_signing_key_is_created_once_on_first_need(session):
    assert session.scalar(select(SigningKey)) is None
    keys = domain.public_keys(session)
    assert len(keys) == 1 and "BEGIN PUBLIC KEY" in keys[0]["public_key"]
    assert domain.public_keys(session) == keys
    assert domain.signing_key(session).kid == keys[0]["kid"]


def test_disabling_revokes_refresh_and_access_tokens(session, company):
    user = company.add_user("bob")
    pair = sign_in(session)
    iat = claims_of(session, pair)["iat"]
    domain.update_user(session, company.admin_ctx(), user.id, {"status": "disabled"})
    assert events(session, "user_disabled") == [{"user_id": user.id, "company_id": company.id}]
    [revoked] = events(session, "access_revoked")
    assert revoked["user_id"] == user.id and revoked["revoked_before"] >= iat
    assert domain.recent_revocations(session) == {str(user.id): revoked["revoked_before"]}
    assert session.scalar(select(RefreshToken.revoked_at)) is not None


def test_rights_change_revokes_only_when_rights_really_change(session, company):
    user = company.add_user("bob")
    pair = sign_in(session)
    admin = company.admin_ctx()
    domain.update_user(session, admin, user.id, {"groups": ["users"], "first_name": "Bobby"})
    assert events(session, "access_revoked") == []
    domain.update_user(session, admin, user.id, {"features": ["quotes"]})
    assert [e["user_id"] for e in events(session, "access_revoked")] == [user.id]
    with pytest.raises(Unauthorized):
        domain.refresh(session, pair["refresh_token"])


def test_group_change_revokes_its_members(session, company):
    bob = company.add_user("bob", groups=["power_users"])
    company.add_user("eve", groups=["users"])
    admin = company.admin_ctx()
    power = domain.resolve_groups(session, company.id, ["power_users"])[0]
    domain.update_group(session, admin, power.id, {"features": ["quotes", "slt_user"]})
    assert [e["user_id"] for e in events(session, "access_revoked")] == [bob.id]


def test_a_token_issued_after_a_revocation_is_not_covered_by_it(session, company):
    user = company.add_user("bob")
    domain.revoke_access(session, user.id)
    cutoff = session.get(AccessRevocation, user.id).revoked_before
    pair = sign_in(session)  # most likely within the same second as the revocation
    # the gateway refuses iat <= revoked_before: the new token must be stamped later
    assert claims_of(session, pair)["iat"] > cutoff


def test_staff_token_has_no_company(session):
    from services.identity.admin import create_staff
    create_staff("ops.one", "Staff-password-1", session=session)
    pair = domain.issue_tokens(session, domain.login(session, "ops.one", "Staff-password-1"))
    ctx = context_from_claims(claims_of(session, pair))
    assert ctx.staff and ctx.company_id is None and ctx.roles == []
