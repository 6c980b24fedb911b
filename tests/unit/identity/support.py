"""Helpers for identity's domain tests: a company made through the domain, and the
events written to the outbox."""
from services.identity import domain
from services.identity.models import User
from tests.support.databases import outbox_payloads

PASSWORD = "Correct-horse-42"


def events(session, event_type=None):
    """The payloads written to the outbox, oldest first."""
    return outbox_payloads(session, event_type)


class Company:
    """A company made through the domain, with helpers to add users."""

    def __init__(self, session, number="100", name="Acme"):
        self.session = session
        self.view = domain.create_company(session, {
            "name": name, "customer_number": number, "currency": "CAD",
            "admin": {"username": f"admin{number}", "email": f"admin@{name.lower()}.example",
                      "first_name": "Ada", "last_name": "Admin", "locale": "en"}})
        self.id = self.view["id"]
        self.admin_id = self.view["admin_user_id"]
        domain.set_password(session, session.get(User, self.admin_id), PASSWORD)
        session.flush()

    def admin_ctx(self):
        return domain.caller_context(self.session, self.session.get(User, self.admin_id))

    def add_user(self, username, groups=("users",), password=PASSWORD, **extra):
        data = {"username": username, "email": f"{username}@example.com", "first_name": "Uma",
                "last_name": "User", "locale": "en", "groups": list(groups), **extra}
        view = domain.create_user(self.session, self.admin_ctx(), data)
        user = self.session.get(User, view["id"])
        if password:
            domain.set_password(self.session, user, password)
        self.session.flush()
        return user

    def ctx_of(self, user):
        return domain.caller_context(self.session, user)
