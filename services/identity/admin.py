"""Operator tasks on identity, run from the command line: `procura create-staff`,
`procura migrate --local-development` (make run) and `procura rotate-signing-key`."""
from sqlalchemy import select

from services.common.config import env
from services.common.engines import open_session
from services.common.errors import DomainError
from services.identity import local_development
from services.identity.domain import accounts
from services.identity.models import Base, User


class AdminError(Exception):
    """A task that cannot be done as asked; the message says why."""


def create_staff(username, password, email=None, session=None) -> int:
    """Create a reseller staff account on the configured identity database; returns its id."""
    own = session is None
    session = session or open_session("identity", Base)
    try:
        name = accounts.normalise_username(username)
        if not name:
            raise AdminError("a username is needed")
        if session.scalar(select(User.id).where(User.username == name)) is not None:
            raise AdminError(f"a user called {name!r} already exists")
        try:
            accounts.check_password(password, name, field="password")
            user = accounts.new_user(session, None, {"username": name, "email": email},
                                   is_staff=True)
            accounts.set_password(user, password)
        except DomainError as exc:
            details = "; ".join(m for msgs in (exc.errors or {}).values() for m in msgs)
            raise AdminError(f"{exc.detail}: {details}" if details else exc.detail) from None
        session.commit()
        return user.id
    finally:
        if own:
            session.close()
            session.get_bind().dispose()


def mark_local_development(session=None):
    """identity's database is `make run`'s own: mark it (local_development.py) or stop
    with the reason."""
    own = session is None
    session = session or open_session("identity", Base)
    try:
        local_development.mark_new_database(session)
        session.commit()
    except local_development.NotLocalDevelopment as exc:
        raise SystemExit(f"{exc}; point IDENTITY_DATABASE_URL elsewhere, or `make clean` "
                         "for a new local database")
    finally:
        if own:
            session.close()
            session.get_bind().dispose()


def rotate_signing_key(path=None) -> str:
    """Add a key to the signing key ring file (made if missing); returns what was done.
    The previous key still verifies until every token it signed has expired."""
    from services.identity.signing_keys import rotate_file
    path = path or env("IDENTITY_SIGNING_KEYS_FILE")
    if not path:
        raise SystemExit("no key ring file: pass --file PATH or set IDENTITY_SIGNING_KEYS_FILE")
    key, ring = rotate_file(path)
    if len(ring.keys) == 1:
        return f"signing key {key.kid} written to {path}; it signs at once"
    return (f"signing key {key.kid} added to {path} ({len(ring.keys)} keys): published now, "
            f"it signs from {key.signs_from.isoformat()}Z; the keys before it verify until "
            "their tokens have expired")
