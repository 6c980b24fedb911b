"""Access tokens (claims, issuer and audience), refresh rotation and family revocation kept
though the call fails, logout, and the revocation of access when rights change."""
import jwt
import pytest
from sqlalchemy import select

from services.common.context import CallerContext
from services.common.errors import Forbidden, Unauthorized
from services.common.tokens import (AUDIENCE, ISSUER, InvalidToken, context_from_claims,
                                    issue_access_token, token_kid, verify_access_token)
from services.identity.domain import accounts, company_users, groups, revocations, tokens
from services.identity.models import AccessRevocation, RefreshToken
from tests.unit.identity.support import KEYS, call, events, sign_in


def claims_of(pair):
    keys = {k["kid"]: k["public_key"] for k in tokens.public_keys(KEYS)}
    return verify_access_token(pair["access_token"], keys[token_kid(pair["access_token"])])


def test_access_token_carries_the_caller_context(session, company):
    user = company.add_user("bob", groups=["finance_users"], roles=["catalog_admin"],
                            catalog_ids=[7])
    pair = sign_in(session, "bob")
    claims = claims_of(pair)
    assert (claims["iss"], claims["aud"]) == (ISSUER, AUDIENCE)
    ctx = context_from_claims(claims)
    assert ctx.user_id == user.id and ctx.company_id == company.id
    assert ctx.roles == ["catalog_admin"]
    assert ctx.features == ["linked_accounts", "order_reports", "payment_reports"]
    assert ctx.catalog_ids == [7]
    assert ctx.email == "bob@example.com" and ctx.name == "Uma User" and not ctx.staff
    assert ctx.currency == "CAD"
    assert pair["expires_in"] == 900 and pair["user"].username == "bob"


def test_a_token_for_another_issuer_or_audience_is_refused():
    private, public = KEYS.signing().private_pem, KEYS.signing().public_pem
    good = issue_access_token(CallerContext(user_id=7), private, "k")
    assert verify_access_token(good, public)["sub"] == "7"
    claims = jwt.decode(good, options={"verify_signature": False})
    for changes in ({"iss": "someone-else"}, {"aud": "another-app"}, {"iss": None},
                    {"aud": None}):
        forged = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        token = jwt.encode(forged, private, algorithm="EdDSA", headers={"kid": "k"})
        with pytest.raises(InvalidToken):
            verify_access_token(token, public)


def test_refresh_token_is_stored_hashed(session, company):
    company.add_user("bob")
    pair = sign_in(session, "bob")
    stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert pair["refresh_token"] not in stored
    assert accounts.digest(pair["refresh_token"]) in stored


def test_refresh_rotates_and_revokes_the_old_token(session, company):
    company.add_user("bob")
    first = sign_in(session, "bob")
    second = tokens.refresh(session, first["refresh_token"], KEYS)
    assert second["refresh_token"] != first["refresh_token"]
    third = tokens.refresh(session, second["refresh_token"], KEYS)
    assert claims_of(third)["sub"]


def test_reuse_of_a_rotated_token_revokes_the_whole_family(session, company):
    company.add_user("bob")
    first = sign_in(session, "bob")
    other_login = sign_in(session, "bob")
    second = tokens.refresh(session, first["refresh_token"], KEYS)
    session.commit()
    with pytest.raises(Unauthorized) as exc:
        call(session, tokens.refresh, first["refresh_token"], KEYS)
    assert exc.value.code == "refresh_token_revoked"
    # the call failed, and the revocation of the family stays
    with pytest.raises(Unauthorized):
        call(session, tokens.refresh, second["refresh_token"], KEYS)
    # another login (another family) is untouched
    assert tokens.refresh(session, other_login["refresh_token"], KEYS)["access_token"]


def test_unknown_refresh_token(session, company):
    with pytest.raises(Unauthorized) as exc:
        tokens.refresh(session, "made-up", KEYS)
    assert exc.value.code == "invalid_refresh_token"


def test_logout_revokes(session, company):
    company.add_user("bob")
    pair = sign_in(session, "bob")
    tokens.logout(session, pair["refresh_token"])
    with pytest.raises(Unauthorized):
        tokens.refresh(session, pair["refresh_token"], KEYS)
    tokens.logout(session, "never-issued")  # nothing to say about unknown tokens


def test_refresh_refused_for_a_disabled_user_and_the_family_revoked(session, company):
    user = company.add_user("bob")
    pair = sign_in(session, "bob")
    user.status = "disabled"
    session.commit()
    with pytest.raises(Forbidden) as exc:
        call(session, tokens.refresh, pair["refresh_token"], KEYS)
    assert exc.value.code == "account_disabled"
    assert session.scalar(select(RefreshToken.revoked_at)) is not None


def test_disabling_revokes_refresh_and_access_tokens(session, company):
    user = company.add_user("bob")
    pair = sign_in(session, "bob")
    iat = claims_of(pair)["iat"]
    company_users.update_user(session, company.admin_ctx(), user.id, {"status": "disabled"})
    assert events(session, "user_disabled") == [{"user_id": user.id, "company_id": company.id}]
    [revoked] = events(session, "access_revoked")
    assert revoked["user_id"] == user.id and revoked["revoked_before"] >= iat
    assert revocations.recent_revocations(session) == {str(user.id): revoked["revoked_before"]}
    assert session.scalar(select(RefreshToken.revoked_at)) is not None


def test_rights_change_revokes_only_when_rights_really_change(session, company):
    user = company.add_user("bob")
    pair = sign_in(session, "bob")
    admin = company.admin_ctx()
    company_users.update_user(session, admin, user.id, {"groups": ["users"],
                                                        "first_name": "Bobby"})
    assert events(session, "access_revoked") == []
    company_users.update_user(session, admin, user.id, {"features": ["quotes"]})
    assert [e["user_id"] for e in events(session, "access_revoked")] == [user.id]
    with pytest.raises(Unauthorized):
        tokens.refresh(session, pair["refresh_token"], KEYS)


def test_group_change_revokes_its_members(session, company):
    bob = company.add_user("bob", groups=["power_users"])
    company.add_user("eve", groups=["users"])
    admin = company.admin_ctx()
    power = groups.resolve_groups(session, company.id, ["power_users"])[0]
    groups.update_group(session, admin, power.id, {"features": ["quotes", "slt_user"]})
    assert [e["user_id"] for e in events(session, "access_revoked")] == [bob.id]


def test_deleting_a_group_revokes_the_members_it_gave_rights(session, company):
    bob = company.add_user("bob", groups=["users"])
    admin = company.admin_ctx()
    auditors = groups.create_group(session, admin, {"name": "Auditors",
                                                    "features": ["order_reports"]})
    company_users.update_user(session, admin, bob.id, {"groups": ["users", auditors.id]})
    assert bob.effective["features"] == ["order_reports"]
    before = len(events(session, "access_revoked"))
    groups.delete_group(session, admin, auditors.id)
    assert [e["user_id"] for e in events(session, "access_revoked")[before:]] == [bob.id]
    assert bob.effective["features"] == [] and [g.key for g in bob.groups] == ["users"]


def test_a_token_issued_after_a_revocation_is_not_covered_by_it(session, company):
    user = company.add_user("bob")
    revocations.revoke_access(session, user.id)
    cutoff = session.get(AccessRevocation, user.id).revoked_before
    pair = sign_in(session, "bob")  # most likely within the same second as the revocation
    # the gateway refuses iat <= revoked_before: the new token must be stamped later
    assert claims_of(pair)["iat"] > cutoff


def test_staff_token_has_no_company(session):
    from services.identity.admin import create_staff
    create_staff("ops.one", "Staff-password-1", session=session)
    ctx = context_from_claims(claims_of(sign_in(session, "ops.one", "Staff-password-1")))
    assert ctx.staff and ctx.company_id is None and ctx.roles == []


def test_a_token_checked_once_is_refused_once_it_expires(monkeypatch):
    """The signature is checked once per token; expiry is checked on every use."""
    import services.common.tokens as token_module
    from services.common.tokens import new_signing_key, verify_bus_token
    private, public = KEYS.signing().private_pem, KEYS.signing().public_pem
    import time
    now = time.time() - 10  # PyJWT checks iat against the real clock
    token = issue_access_token(CallerContext(user_id=7), private, "k", lifetime=60, now=now)
    monkeypatch.setattr(token_module.time, "time", lambda: now + 30)
    assert verify_access_token(token, public)["sub"] == "7"
    assert verify_access_token(token, public)["sub"] == "7"
    monkeypatch.setattr(token_module.time, "time", lambda: now + 61)
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(token, public)
    assert verify_bus_token(token, public, leeway=5)["sub"] == "7"  # a call still going on
    with pytest.raises(InvalidToken):
        verify_access_token(token, new_signing_key()[1])  # another key
