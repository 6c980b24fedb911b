"""Catalog's own tables.

Products are keyed by the reseller's part number; every other table refers to a product by
that part number (a string), so contracts, favorites and purchase history survive a product
being re-imported. The full-text index is not a model: the migration creates an FTS5 table
(SQLite) or a generated tsvector column with a GIN index (PostgreSQL), see fulltext.py.
"""
from sqlalchemy import (Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, Numeric,
                        PrimaryKeyConstraint, String, Text, UniqueConstraint)
from sqlalchemy.orm import relationship

from services.common.clock import utcnow
from services.common.tables import CompanyRow, CreatedAt, JSONText, Period, make_base

Base = make_base()

AVAILABILITY = ("in_stock", "limited", "backorder", "discontinued")
LANGUAGES = ("en", "fr")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (Index("ix_products_manufacturer_category", "manufacturer", "category"),)
    id = Column(Integer, primary_key=True)
    part_number = Column(String(64), nullable=False, unique=True)
    mfg_part_number = Column(String(64), nullable=False, index=True)
    manufacturer = Column(String(80), nullable=False)
    category = Column(String(80), nullable=False, index=True)
    name = Column(String(300), nullable=False)
    description = Column(Text, nullable=False, default="")
    list_price = Column(Numeric(14, 2), nullable=False)
    currency = Column(String(3), nullable=False)
    # the employee-purchase-program price, in the product's currency
    epp_price = Column(Numeric(14, 2))
    language = Column(String(2), nullable=False, default="en")
    availability = Column(String(16), nullable=False, default="in_stock")
    # sold as an auto-renewing subscription: monthly | yearly (None: a one-off purchase)
    subscription_term = Column(String(10))
    updated_at = Column(DateTime, nullable=False, default=utcnow)


class CatalogState(Base):
    """One row (id 1): the version of the products, bumped by every import, so that each
    process knows when its column snapshot (columns.py) is stale."""
    __tablename__ = "catalog_state"
    id = Column(Integer, primary_key=True, autoincrement=False)
    products_version = Column(Integer, nullable=False, default=0)


class Contract(CompanyRow, CreatedAt, Period, Base):
    __tablename__ = "contracts"
    name = Column(String(200), nullable=False)
    # [{"name", "min_quantity"}]: a contract_tier price applies from its min_quantity
    tiers = Column(JSONText, nullable=False, default=list)
    prices = relationship("ContractPrice", cascade="all, delete-orphan", passive_deletes=True,
                          back_populates="contract")


class ContractPrice(Base):
    __tablename__ = "contract_prices"
    __table_args__ = (Index("ix_contract_prices_company_part", "company_id", "part_number"),)
    id = Column(Integer, primary_key=True)
    # no index of its own: prices are found by company and part number, and an index on
    # the contract alone tempts SQLite's planner into scanning a whole contract
    contract_id = Column(Integer, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False)
    # the contract's company, repeated so that a price lookup needs no join
    company_id = Column(Integer, nullable=False)
    part_number = Column(String(64), nullable=False)
    amount = Column(Numeric(14, 2), nullable=False)
    currency = Column(String(3), nullable=False)
    tier = Column(String(60))
    min_quantity = Column(Integer, nullable=False, default=1)
    contract = relationship("Contract", back_populates="prices")


class CustomCatalog(CompanyRow, CreatedAt, Base):
    __tablename__ = "custom_catalogs"
    __table_args__ = (UniqueConstraint("company_id", "name"),)
    name = Column(String(120), nullable=False)
    # [{"type": "standards" | "contract" | "part_numbers" | ..., ...}], combined with AND
    rules = Column(JSONText, nullable=False, default=list)
    include = Column(JSONText, nullable=False, default=dict)
    exclude = Column(JSONText, nullable=False, default=dict)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SavedSearch(CompanyRow, CreatedAt, Base):
    __tablename__ = "saved_searches"
    user_id = Column(Integer, nullable=False, index=True)
    name = Column(String(120), nullable=False)
    criteria = Column(JSONText, nullable=False, default=dict)


class Favorite(CompanyRow, CreatedAt, Base):
    """A company standard: a product, a comparison of 2-4 products, a bundle or a link."""
    __tablename__ = "favorites"
    kind = Column(String(16), nullable=False)
    title = Column(String(200), nullable=False)
    # part_number | part_numbers | lines | url, by kind
    data = Column(JSONText, nullable=False, default=dict)
    created_by = Column(Integer)


class EppProgram(Base):
    """A company's employee purchase program: its members buy at the products' EPP prices."""
    __tablename__ = "epp_programs"
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    description = Column(Text, nullable=False, default="")
    active = Column(Boolean, nullable=False, default=True)
    starts_on = Column(Date)
    ends_on = Column(Date)
    # every user of the company is a member, or only these user ids
    all_users = Column(Boolean, nullable=False, default=False)
    user_ids = Column(JSONText, nullable=False, default=list)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class PurchaseHistory(Base):
    """What a company has ordered, read from orders.order_placed."""
    __tablename__ = "purchase_history"
    __table_args__ = (PrimaryKeyConstraint("company_id", "part_number"),)
    company_id = Column(Integer, nullable=False)
    part_number = Column(String(64), nullable=False)
    last_ordered_at = Column(DateTime, nullable=False)
    quantity = Column(Integer, nullable=False, default=0)
    orders = Column(Integer, nullable=False, default=0)
