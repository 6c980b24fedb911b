"""Operator tasks on identity's database, run from the command line (`procura create-staff`)."""
from sqlalchemy import select

from services.common.engines import open_session
from services.common.errors import DomainError
from services.identity import domain
from services.identity.models import Base, User


class AdminError(Exception):
    """A task that cannot be done as asked; the message says why."""


def create_staff(username, password, email=None, session=None) -> int:
    """Create a reseller staff account on the configured identity database; returns its id."""
    own = session is None
    session = session or open_session("identity", Base)
    try:
        name = domain.normalise_username(username)
        if not name:
            raise AdminError("a username is needed")
        if session.scalar(select(User.id).where(User.username == name)) is not None:
            raise AdminError(f"a user called {name!r} already exists")
        try:
            domain.check_password(password, name, field="password")
            user = domain.new_user(session, None, {"username": name, "email": email},
                                   is_staff=True)
            domain.set_password(session, user, password)
        except DomainError as exc:
            details = "; ".join(m for msgs in (exc.errors or {}).values() for m in msgs)
            raise AdminError(f"{exc.detail}: {details}" if details else exc.detail) from None
        session.commit()
        return user.id
    finally:
        if own:
            session.close()
            session.get_bind().dispose()
