"""The caller's own account: profile, a new email confirmed from a link (the old address
told), a new password revoking every token, email preferences; and the French wording of
errors."""
import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from services.common.errors import Gone, Invalid, RateLimited, Unauthorized
from services.identity.domain import auth, company_users, profile, recovery, tokens
from services.identity.domain.auth import login
from services.identity.messages import localize
from services.identity.models import ResetToken
from services.identity.schemas import MeSchema, ProfileUpdateSchema, UserUpdateSchema
from tests.unit.identity.support import KEYS, PASSWORD, call, events, sign_in

ME = MeSchema()


def test_profile_read_and_update(session, company):
    bob = company.add_user("bob", groups=["finance_users"])
    ctx = company.ctx_of(bob)
    me = ME.dump(profile.get_me(session, ctx))
    assert me["username"] == "bob" and me["features"] == ["linked_accounts", "order_reports",
                                                          "payment_reports"]
    assert me["pending_email"] is None and me["last_login_at"] is None
    me = ME.dump(profile.update_me(session, ctx, {"first_name": "Robert",
                                                  "phone": "+1 514 555 0100", "locale": "fr"}))
    assert me["first_name"] == "Robert" and me["locale"] == "fr" and me["username"] == "bob"


def test_username_is_read_only(session, company):
    ctx = company.ctx_of(company.add_user("bob"))
    with pytest.raises(ValidationError) as exc:
        ProfileUpdateSchema().load({"username": "robert", "first_name": "R"})
    assert "username" in exc.value.messages
    with pytest.raises(ValidationError):
        UserUpdateSchema().load({"username": "robert"})
    with pytest.raises(Invalid):
        profile.update_me(session, ctx, {"username": "robert"})
    assert profile.get_me(session, ctx).username == "bob"


def test_a_new_email_needs_the_password_and_waits_for_its_confirmation(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    with pytest.raises(Invalid) as exc:
        profile.update_me(session, ctx, {"email": "robert@new.example"})
    assert exc.value.code == "current_password_required" and "current_password" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        call(session, profile.update_me, ctx, {"email": "robert@new.example",
                                               "current_password": "not-it"})
    assert exc.value.code == "wrong_password"
    session.expire_all()
    assert bob.failed_logins == 1  # counted as a failed login, though the call failed
    # the same address, in other letters, is no change: no password needed
    profile.update_me(session, ctx, {"email": "BOB@example.com", "first_name": "Bob"})

    me = ME.dump(profile.update_me(session, ctx, {"email": "robert@new.example",
                                                  "current_password": PASSWORD}))
    assert (me["email"], me["pending_email"]) == ("bob@example.com", "robert@new.example")
    [requested] = events(session, "email_change_requested")
    assert (requested["old_email"], requested["new_email"], requested["user_id"]) == \
        ("bob@example.com", "robert@new.example", bob.id)
    # the link's token rests only as its digest
    assert requested["token"] not in session.scalars(select(ResetToken.token_hash)).all()
    # not a password link
    with pytest.raises(Gone):
        recovery.reset_password(session, requested["token"], "Some-new-password-1")

    user = profile.confirm_email(session, requested["token"])
    assert (user.email, user.pending_email) == ("robert@new.example", None)
    assert events(session, "email_preferences_changed")[-1]["email"] == "robert@new.example"
    with pytest.raises(Gone) as exc:
        profile.confirm_email(session, requested["token"])
    assert exc.value.code == "token_used"


def test_a_newer_email_request_ends_the_older_link(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    for address in ("first@new.example", "second@new.example"):
        profile.update_me(session, ctx, {"email": address, "current_password": PASSWORD})
    first, second = events(session, "email_change_requested")
    with pytest.raises(Gone) as exc:
        profile.confirm_email(session, first["token"])
    assert exc.value.code == "token_expired"
    assert profile.confirm_email(session, second["token"]).email == "second@new.example"


def test_an_address_set_by_the_security_admin_ends_a_pending_change(session, company):
    bob = company.add_user("bob")
    profile.update_me(session, company.ctx_of(bob), {"email": "mine@new.example",
                                                     "current_password": PASSWORD})
    [requested] = events(session, "email_change_requested")
    company_users.update_user(session, company.admin_ctx(), bob.id,
                              {"email": "set.by.admin@example.com"})
    assert (bob.email, bob.pending_email) == ("set.by.admin@example.com", None)
    with pytest.raises(Gone):
        profile.confirm_email(session, requested["token"])


def test_guessing_the_current_password_is_limited_like_a_login(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    policy = auth.LoginPolicy(max_failures_per_username=3)
    for _ in range(3):
        with pytest.raises(Invalid):
            profile.change_password(session, ctx, "guess", "Another-password-1", policy)
    with pytest.raises(RateLimited):
        profile.change_password(session, ctx, PASSWORD, "Another-password-1", policy)


def test_change_password_revokes_every_token(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    pair = sign_in(session, "bob")
    with pytest.raises(Invalid) as exc:
        profile.change_password(session, ctx, "wrong-current", "Another-password-1")
    assert exc.value.code == "wrong_password"
    with pytest.raises(Invalid) as exc:
        profile.change_password(session, ctx, PASSWORD, "short")
    assert exc.value.code == "weak_password"
    revocation = profile.change_password(session, ctx, PASSWORD, "Another-password-1")
    assert revocation["user_id"] == bob.id
    assert events(session, "access_revoked") == [revocation]
    with pytest.raises(Unauthorized):
        tokens.refresh(session, pair["refresh_token"], KEYS)
    with pytest.raises(Unauthorized):
        login(session, "bob", PASSWORD)
    assert login(session, "bob", "Another-password-1").username == "bob"


def test_email_preferences(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    names = ("marketing", "order_updates", "report_deliveries")

    def prefs():
        row = profile.email_preferences(session, ctx)
        return {n: getattr(row, n) for n in names}
    assert prefs() == {"marketing": False, "order_updates": True, "report_deliveries": True}
    wanted = {"marketing": True, "order_updates": False, "report_deliveries": True}
    row = profile.set_email_preferences(session, ctx, wanted)
    assert {n: getattr(row, n) for n in names} == wanted == prefs()
    assert events(session, "email_preferences_changed") == [
        {"user_id": bob.id, "email": "bob@example.com", "preferences": wanted}]


def test_errors_worded_in_french():
    exc = Unauthorized("wrong username or password", code="invalid_credentials")
    fr = localize(exc, "fr")
    assert isinstance(fr, Unauthorized) and fr.code == "invalid_credentials"
    assert fr.detail.startswith("Nom d'utilisateur") and fr.status == 401
    assert localize(exc, "en") is exc
