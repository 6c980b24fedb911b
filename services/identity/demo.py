"""The demo company of `procura seed-demo`: Northwind Traders with an administrator, a
buyer, an approver and a finance user, and a staff account, all with a known password.
Loading it marks the database as a local development one (local_development.py)."""
from sqlalchemy import select

from services.common.context import CallerContext
from services.identity import local_development
from services.identity.domain import accounts, company_users, groups
from services.identity.models import Address, BillingAccount, Company, User

DEMO_PASSWORD = "Procura-demo-2026"
CUSTOMER_NUMBER = "100200"

DEMO_USERS = [
    # username, first name, last name, groups
    ("demo.admin", "Ada", "Martin", ["administrators"]),
    ("demo.buyer", "Bruno", "Tremblay", ["users"]),
    ("demo.approver", "Chloé", "Roy", ["power_users"]),
    ("demo.finance", "Farid", "Gagnon", ["finance_users"]),
]
STAFF_USERNAME = "staff"


def seed(session) -> dict:
    """Create the demo company and users once; returns {"company_id", "users": {username:
    user_id}} (also when they already exist)."""
    local_development.mark(session, "demo data")
    company = session.scalar(select(Company).where(Company.customer_number == CUSTOMER_NUMBER))
    if company is None:
        company = _create_company(session)
    users = {u.username: u.id for u in session.scalars(
        select(User).where(User.company_id == company.id).order_by(User.id))}
    staff = session.scalar(select(User).where(User.username == STAFF_USERNAME))
    if staff is None:
        staff = accounts.new_user(session, None, {"username": STAFF_USERNAME,
                                                  "email": "staff@procura.example",
                                                  "first_name": "Reseller",
                                                  "last_name": "Staff"}, is_staff=True)
        accounts.set_password(staff, DEMO_PASSWORD)
    users[staff.username] = staff.id
    session.commit()
    return {"company_id": company.id, "users": users}


def _create_company(session) -> Company:
    company = Company(name="Northwind Traders", customer_number=CUSTOMER_NUMBER, currency="CAD")
    session.add(company)
    session.flush()
    session.add_all([
        BillingAccount(company_id=company.id, account_number=CUSTOMER_NUMBER,
                       name="Northwind Traders", is_primary=True),
        BillingAccount(company_id=company.id, account_number="100201",
                       name="Northwind Traders - Toronto", is_primary=False),
        Address(company_id=company.id, kind="shipping", name="Northwind Traders (head office)",
                line1="1200 Rue Sainte-Catherine O", line2="Bureau 400", city="Montréal",
                region="QC", postal_code="H3B 1K9", country="CA"),
        Address(company_id=company.id, kind="shipping", name="Northwind Traders (Toronto)",
                line1="200 Bay Street", city="Toronto", region="ON", postal_code="M5J 2J2",
                country="CA"),
        Address(company_id=company.id, kind="billing", name="Northwind Traders - Accounts payable",
                line1="1200 Rue Sainte-Catherine O", city="Montréal", region="QC",
                postal_code="H3B 1K9", country="CA"),
    ])
    session.flush()
    groups.create_standard_groups(session, company)
    ctx = CallerContext(company_id=company.id, staff=True)
    for username, first, last, keys in DEMO_USERS:
        user = company_users.create_user(
            session, ctx, {"username": username, "email": f"{username}@northwind.example",
                           "first_name": first, "last_name": last, "locale": "en",
                           "groups": keys},
            notify=False)  # known passwords: no set-password email
        accounts.set_password(user, DEMO_PASSWORD)
    return company
