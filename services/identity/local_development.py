"""Whether identity's database is a local development one.

`make run` creates its databases with `procura migrate --local-development`, which marks
identity's database when it is new (no user yet), or already holds the demo company (made
by an earlier `make run`). Loading the demo data marks it too: it then holds logins whose
password is published. Only in a marked database may `procura seed-demo` run without
`--i-know`, and may identity make its own signing key on first use: a production database,
created by a plain `procura migrate`, never gets demo logins or a key nobody configured.
"""
from sqlalchemy import func, select

from services.common.clock import utcnow
from services.identity.models import Company, LocalDevelopment, User


class NotLocalDevelopment(Exception):
    """This database was not created for local development; the message says what to do."""


def is_local(session) -> bool:
    return session.scalar(select(LocalDevelopment.id).limit(1)) is not None


def mark(session, reason):
    if not is_local(session):
        session.add(LocalDevelopment(marked_at=utcnow(), reason=reason[:40]))
        session.flush()


def mark_new_database(session):
    """`procura migrate --local-development`: mark the database if it is new or already a
    demo database; raise NotLocalDevelopment otherwise."""
    from services.identity.demo import CUSTOMER_NUMBER
    if is_local(session):
        return
    if not session.scalar(select(func.count()).select_from(User)):
        mark(session, "make run")
    elif session.scalar(select(Company.id).where(Company.customer_number == CUSTOMER_NUMBER)):
        mark(session, "make run (demo data found)")
    else:
        raise NotLocalDevelopment(
            "identity's database already holds accounts and was not created by `make run`: "
            "it is not marked for local development")


def require(session, what):
    if not is_local(session):
        raise NotLocalDevelopment(
            f"{what} only in a database created by `make run` (local development); this "
            "one was not")
