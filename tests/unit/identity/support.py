"""Helpers for identity's domain tests: a company made through the domain, a key ring, a
call run as the RPC entrypoint runs it, and the events written to the outbox."""
from services.common.errors import DomainError
from services.identity.domain import accounts, companies, company_users, tokens
from services.identity.signing_keys import KeyRing
from tests.support.databases import outbox_payloads

PASSWORD = "Correct-horse-42"
KEYS = KeyRing().rotated()


def events(session, event_type=None):
    """The payloads written to the outbox, oldest first."""
    return outbox_payloads(session, event_type)


def call(session, fn, *args, **kwargs):
    """`fn(session, ...)` in a unit of work, as the service's entrypoint runs it: committed
    when it returns; rolled back when it raises, but committed first when the error keeps
    the changes (`keeping_changes`)."""
    try:
        result = fn(session, *args, **kwargs)
    except DomainError as exc:
        if exc.keeps_changes:
            session.commit()
        else:
            session.rollback()
        raise
    session.commit()
    return result


def sign_in(session, username, password=PASSWORD):
    from services.identity.domain import auth
    return tokens.issue_tokens(session, auth.login(session, username, password), KEYS)


class Company:
    """A company made through the domain, with helpers to add users."""

    def __init__(self, session, number="100", name="Acme"):
        self.session = session
        made = companies.create_company(session, {
            "name": name, "customer_number": number, "currency": "CAD",
            "admin": {"username": f"admin{number}", "email": f"admin@{name.lower()}.example",
                      "first_name": "Ada", "last_name": "Admin", "locale": "en"}})
        self.id = made.company.id
        self.admin = made.admin
        self.admin_id = made.admin.id
        accounts.set_password(made.admin, PASSWORD)
        session.flush()

    def admin_ctx(self):
        return tokens.caller_context(self.session, self.admin)

    def add_user(self, username, groups=("users",), password=PASSWORD, **extra):
        data = {"username": username, "email": f"{username}@example.com", "first_name": "Uma",
                "last_name": "User", "locale": "en", "groups": list(groups), **extra}
        user = company_users.create_user(self.session, self.admin_ctx(), data)
        if password:
            accounts.set_password(user, password)
        self.session.flush()
        return user

    def ctx_of(self, user):
        return tokens.caller_context(self.session, user)
