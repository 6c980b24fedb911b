"""Companies as the reseller's staff create them: the customer number and fixed currency,
the primary billing account, addresses, the standard groups and a first administrator (who
gets a set-password email); more billing accounts may be linked later. Staff list and find
them by name or customer number."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.errors import Conflict, NotFound
from services.common.paging import keyset_page
from services.identity.domain.company_users import create_user
from services.identity.domain.groups import create_standard_groups
from services.identity.models import Address, BillingAccount, Company, User

ADDRESS_FIELDS = ("kind", "name", "line1", "line2", "city", "region", "postal_code", "country")


@dataclass
class NewCompany:
    company: Company
    admin: User


def create_company(session, data: dict, now=None) -> NewCompany:
    now = now or utcnow()
    number = data["customer_number"].strip()
    if session.scalar(select(Company).where(Company.customer_number == number)) is not None:
        raise Conflict("this customer number is taken", code="customer_number_taken",
                       errors={"customer_number": ["Already in use."]})
    if session.scalar(select(BillingAccount).where(BillingAccount.account_number == number)):
        raise Conflict("a billing account has this number", code="account_number_taken",
                       errors={"customer_number": ["Already a billing account."]})
    company = Company(name=data["name"].strip(), customer_number=number,
                      currency=data["currency"].upper(), created_at=now)
    session.add(company)
    session.flush()
    session.add(BillingAccount(company_id=company.id, account_number=number, name=company.name,
                               is_primary=True, created_at=now))
    for a in data.get("addresses") or ():
        session.add(Address(company_id=company.id, **{k: a[k] for k in ADDRESS_FIELDS
                                                      if a.get(k) is not None}))
    create_standard_groups(session, company)
    admin = create_user(session, CallerContext(company_id=company.id, staff=True),
                        dict(data["admin"], groups=["administrators"]), now)
    return NewCompany(company, admin)


def link_billing_account(session, company_id, data: dict, now=None) -> BillingAccount:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound("no such company")
    number = data["account_number"].strip()
    if session.scalar(select(BillingAccount).where(BillingAccount.account_number == number)):
        raise Conflict("this billing account is already linked", code="account_number_taken",
                       errors={"account_number": ["Already linked."]})
    account = BillingAccount(company_id=company.id, account_number=number,
                             name=data["name"].strip(), is_primary=False,
                             created_at=now or utcnow())
    session.add(account)
    session.flush()
    return account


def update_settings(session, ctx: CallerContext, changes: dict) -> Company:
    """The caller's company's settings: `favorites_home` (the portal's home page opens on
    the company's favorites)."""
    company = get_company(session, ctx)
    if "favorites_home" in changes:
        company.favorites_home = bool(changes["favorites_home"])
    session.flush()
    return company


def get_company(session, ctx: CallerContext, company_id=None) -> Company:
    """The caller's company (staff may name one)."""
    wanted = company_id if (ctx.staff and company_id is not None) else ctx.company_id
    company = session.get(Company, wanted) if wanted is not None else None
    if company is None:
        raise NotFound("no such company")
    return company


@dataclass
class CompanySummary:
    company: Company
    user_count: int


def list_companies(session, q=None, limit=50, cursor=None) -> tuple:
    """([CompanySummary], next_cursor): every company, newest first (staff); `q` finds a
    name or customer number containing it, or a billing account's number."""
    stmt = select(Company)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Company.name).like(like),
                              func.lower(Company.customer_number).like(like),
                              Company.id.in_(select(BillingAccount.company_id).where(
                                  func.lower(BillingAccount.account_number).like(like)))))
    rows, next_cursor = keyset_page(session, stmt, Company.id, limit, cursor, descending=True)
    counts = dict(session.execute(select(User.company_id, func.count()).where(
        User.company_id.in_([c.id for c in rows])).group_by(User.company_id)).all()) if rows else {}
    return [CompanySummary(c, counts.get(c.id, 0)) for c in rows], next_cursor
