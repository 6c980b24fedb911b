"""The caller's own account: profile, password, email preferences; and the French wording
of errors."""
import pytest
from marshmallow import ValidationError

from services.common.errors import Invalid, Unauthorized
from services.identity import domain
from services.identity.messages import localize
from services.identity.schemas import ProfileUpdateSchema, UserUpdateSchema
from tests.unit.identity.support import PASSWORD, events


def test_profile_read_and_update(session, company):
    bob = company.add_user("bob", groups=["finance_users"])
    ctx = company.ctx_of(bob)
    me = domain.get_me(session, ctx)
    assert me["username"] == "bob" and me["features"] == ["linked_accounts", "order_reports",
                                                          "payment_reports"]
    me = domain.update_me(session, ctx, {"first_name": "Robert", "phone": "+1 514 555 0100",
                                         "locale": "fr"})
    assert me["first_name"] == "Robert" and me["locale"] == "fr" and me["username"] == "bob"


def test_username_is_read_only(session, company):
    ctx = company.ctx_of(company.add_user("bob"))
    with pytest.raises(ValidationError) as exc:
        ProfileUpdateSchema().load({"username": "robert", "first_name": "R"})
    assert "username" in exc.value.messages
    with pytest.raises(ValidationError):
        UserUpdateSchema().load({"username": "robert"})
    with pytest.raises(Invalid):
        domain.update_me(session, ctx, {"username": "robert"})
    assert domain.get_me(session, ctx)["username"] == "bob"


def test_change_password(session, company):
    ctx = company.ctx_of(company.add_user("bob"))
    with pytest.raises(Invalid) as exc:
        domain.change_password(session, ctx, "wrong-current", "Another-password-1")
    assert exc.value.code == "wrong_password"
    with pytest.raises(Invalid) as exc:
        domain.change_password(session, ctx, PASSWORD, "short")
    assert exc.value.code == "weak_password"
    domain.change_password(session, ctx, PASSWORD, "Another-password-1")
    with pytest.raises(Unauthorized):
        domain.login(session, "bob", PASSWORD)
    assert domain.login(session, "bob", "Another-password-1").username == "bob"


def test_email_preferences(session, company):
    bob = company.add_user("bob")
    ctx = company.ctx_of(bob)
    assert domain.email_preferences(session, ctx) == {"marketing": False, "order_updates": True,
                                                      "report_deliveries": True}
    prefs = {"marketing": True, "order_updates": False, "report_deliveries": True}
    assert domain.set_email_preferences(session, ctx, prefs) == prefs
    assert domain.email_preferences(session, ctx) == prefs
    assert events(session, "email_preferences_changed") == [
        {"user_id": bob.id, "email": "bob@example.com", "preferences": prefs}]


def test_errors_worded_in_french():
    exc = Unauthorized("wrong username or password", code="invalid_credentials")
    fr = localize(exc, "fr")
    assert isinstance(fr, Unauthorized) and fr.code == "invalid_credentials"
    assert fr.detail.startswith("Nom d'utilisateur") and fr.status == 401
    assert localize(exc, "en") is exc
