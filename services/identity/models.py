"""What identity stores: companies with their billing accounts and addresses, users and
their credentials, groups and rights, tokens, login attempts, email preferences, saved
payment cards (never the number or CVC), and whether this database is a local development
one. The keys that sign access tokens come from configuration (signing_keys.py), not from
here.

A user and a group own their grants (`rights`); a user's effective rights are the union of
their own and their groups' (`User.effective`)."""
from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Index, Integer, String, false,
                        UniqueConstraint)
from sqlalchemy.orm import relationship

from services.common.clock import utcnow
from services.common.tables import CreatedAt, HappenedAt, make_base

Base = make_base()


class Company(CreatedAt, Base):
    __tablename__ = "companies"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    customer_number = Column(String(40), nullable=False, unique=True)
    # fixed at creation: every price, order and report of the company is in this currency
    currency = Column(String(3), nullable=False)
    # the portal's home page opens on the company's favorites (its standards) first
    favorites_home = Column(Boolean, nullable=False, default=False, server_default=false())

    billing_accounts = relationship("BillingAccount", back_populates="company",
                                    order_by="BillingAccount.id")
    addresses = relationship("Address", back_populates="company", order_by="Address.id")


class BillingAccount(CreatedAt, Base):
    __tablename__ = "billing_accounts"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    account_number = Column(String(40), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    is_primary = Column(Boolean, nullable=False, default=False)

    company = relationship("Company", back_populates="billing_accounts")


class Address(CreatedAt, Base):
    __tablename__ = "addresses"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False, default="shipping")  # shipping | billing
    name = Column(String(200), nullable=False)
    line1 = Column(String(200), nullable=False)
    line2 = Column(String(200))
    city = Column(String(100), nullable=False)
    region = Column(String(100))
    postal_code = Column(String(20))
    country = Column(String(2), nullable=False)

    company = relationship("Company", back_populates="addresses")


class User(CreatedAt, Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    # null for reseller staff
    company_id = Column(Integer, ForeignKey("companies.id"), index=True)
    username = Column(String(64), nullable=False, unique=True)
    email = Column(String(254), index=True)
    first_name = Column(String(100), nullable=False, default="")
    last_name = Column(String(100), nullable=False, default="")
    phone = Column(String(40))
    locale = Column(String(2), nullable=False, default="en")
    status = Column(String(10), nullable=False, default="active")  # active | disabled
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_at = Column(DateTime)
    last_login_at = Column(DateTime)
    password_changed_at = Column(DateTime)
    # a new address waiting for its confirmation link to be used
    pending_email = Column(String(254))
    is_staff = Column(Boolean, nullable=False, default=False)

    credential = relationship("Credential", uselist=False, back_populates="user")
    rights = relationship("UserRight", cascade="all, delete-orphan")
    groups = relationship("Group", secondary="group_members", back_populates="members",
                          order_by="Group.id")

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.username

    @property
    def grants(self) -> dict:
        """The user's own roles, features and catalog ids."""
        return grants_of(self.rights)

    @property
    def effective(self) -> dict:
        """The user's rights: their own grants and those of their groups."""
        return grants_of([*self.rights, *(r for g in self.groups for r in g.rights)])

    def set_grants(self, roles=None, features=None, catalog_ids=None):
        set_grants(self.rights, UserRight, roles, features, catalog_ids)


class Credential(Base):
    __tablename__ = "credentials"
    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True)
    password_hash = Column(String(255), nullable=False)  # argon2id, parameters inside
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User", back_populates="credential")


class Group(CreatedAt, Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("company_id", "name", name="uq_groups_company_name"),
                      UniqueConstraint("company_id", "key", name="uq_groups_company_key"))
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    # the key of a standard group (administrators, power_users, users, finance_users),
    # or an optional key of a custom group
    key = Column(String(40))
    name = Column(String(100), nullable=False)
    standard = Column(Boolean, nullable=False, default=False)

    rights = relationship("GroupRight", cascade="all, delete-orphan")
    members = relationship("User", secondary="group_members", back_populates="groups",
                           order_by="User.id")

    @property
    def grants(self) -> dict:
        return grants_of(self.rights)

    @property
    def member_count(self) -> int:
        return len(self.members)

    def set_grants(self, roles=None, features=None, catalog_ids=None):
        set_grants(self.rights, GroupRight, roles, features, catalog_ids)


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id = Column(Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True, index=True)


class GroupRight(Base):
    """A role, feature or catalog grant of a group (kind: role | feature | catalog)."""
    __tablename__ = "group_rights"
    group_id = Column(Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    kind = Column(String(10), primary_key=True)
    value = Column(String(40), primary_key=True)


class UserRight(Base):
    """A role, feature or catalog grant given to one user directly."""
    __tablename__ = "user_rights"
    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True)
    kind = Column(String(10), primary_key=True)
    value = Column(String(40), primary_key=True)


class RefreshToken(CreatedAt, Base):
    """Opaque refresh tokens, stored as a SHA-256 digest. Every rotation stays in the family
    of the login that started it, so that the reuse of a rotated token revokes them all."""
    __tablename__ = "refresh_tokens"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    family_id = Column(String(32), nullable=False, index=True)
    expires_at = Column(DateTime, nullable=False)
    revoked_at = Column(DateTime)


class ResetToken(CreatedAt, Base):
    """One-time links: set a new user's first password, reset a forgotten one, confirm a
    new email address. Only the SHA-256 of the token is kept."""
    __tablename__ = "reset_tokens"
    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    purpose = Column(String(20), nullable=False)  # set_password | reset_password | confirm_email
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime)


class LoginAttempt(HappenedAt, Base):
    """Every login attempt, for rate limiting by username and by client address."""
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_client_address_at", "client_address", "at"))
    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False)
    client_address = Column(String(64))
    succeeded = Column(Boolean, nullable=False)
    outcome = Column(String(30), nullable=False)


class UsernameRecovery(Base):
    """A forgot-username request, kept a day to cap how many emails one address receives."""
    __tablename__ = "username_recoveries"
    id = Column(Integer, primary_key=True)
    email_hash = Column(String(64), nullable=False, index=True)  # SHA-256 of the address
    requested_at = Column(DateTime, nullable=False, default=utcnow)


class AccessRevocation(Base):
    """Access tokens of this user issued at or before `revoked_before` (epoch seconds) are
    refused by the gateway; kept so that a gateway starting later can load recent ones."""
    __tablename__ = "access_revocations"
    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True)
    revoked_before = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class EmailPreferences(Base):
    __tablename__ = "email_preferences"
    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True)
    marketing = Column(Boolean, nullable=False, default=False)
    order_updates = Column(Boolean, nullable=False, default=True)
    report_deliveries = Column(Boolean, nullable=False, default=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class PaymentCard(CreatedAt, Base):
    """A saved card: what the payment gateway's token stands for, and the holder's consent.
    The card number and CVC are never stored."""
    __tablename__ = "payment_cards"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    company_id = Column(Integer, ForeignKey("companies.id"), nullable=False, index=True)
    brand = Column(String(20), nullable=False)
    last4 = Column(String(4), nullable=False)
    exp_month = Column(Integer, nullable=False)
    exp_year = Column(Integer, nullable=False)
    holder_first_name = Column(String(100), nullable=False)
    holder_last_name = Column(String(100), nullable=False)
    nickname = Column(String(100), nullable=False)
    consent_at = Column(DateTime, nullable=False)
    terms_version = Column(String(20), nullable=False)
    gateway_token = Column(String(200))  # cleared when the card is removed
    removed_at = Column(DateTime)


class LocalDevelopment(Base):
    """Present when `make run` created this database (`procura migrate --local-development`)
    or the demo data was loaded into it: demo logins and signing keys made on first use are
    allowed here, and nowhere else."""
    __tablename__ = "local_development"
    id = Column(Integer, primary_key=True)
    marked_at = Column(DateTime, nullable=False, default=utcnow)
    reason = Column(String(40), nullable=False)


def grants_of(rights) -> dict:
    """{roles, features, catalog_ids}, each sorted, of UserRight or GroupRight rows."""
    out = {"roles": set(), "features": set(), "catalog_ids": set()}
    for right in rights:
        if right.kind == "catalog":
            out["catalog_ids"].add(int(right.value))
        elif right.kind == "role":
            out["roles"].add(right.value)
        elif right.kind == "feature":
            out["features"].add(right.value)
    return {k: sorted(v) for k, v in out.items()}


def set_grants(rights, model, roles=None, features=None, catalog_ids=None):
    """Replace the grants of each kind given (None leaves that kind as it is) in a user's or
    group's `rights` collection."""
    wanted = dict(zip(("role", "feature", "catalog"), (roles, features, catalog_ids)))
    for kind, values in wanted.items():
        if values is None:
            continue
        values = {str(v) for v in values}
        for right in [r for r in rights if r.kind == kind and r.value not in values]:
            rights.remove(right)
        have = {r.value for r in rights if r.kind == kind}
        for value in sorted(values - have):
            rights.append(model(kind=kind, value=value))
