"""E-procurement's own tables: each company's PunchOut configuration, punch-out sessions and
the lines they handed back, the buyer systems' orders (buyer orderID → Procura order), and
the status documents to deliver to the buyer systems."""
from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer, Numeric, String, Text,
                        UniqueConstraint)

from services.common.clock import utcnow
from services.common.tables import CompanyRow, CreatedAt, JSONText, Retried, make_base

Base = make_base()


class PunchoutConfig(Base):
    """How one company's procurement system reaches Procura. `from_credentials` are the
    accepted From identities [{domain, identity}]; `sender` the Sender identity whose
    shared secret (`secret_sealed`, encrypted) must come with every request."""
    __tablename__ = "punchout_configs"
    company_id = Column(Integer, primary_key=True, autoincrement=False)
    enabled = Column(Boolean, nullable=False, default=True)
    from_credentials = Column(JSONText, nullable=False)
    sender_domain = Column(String(60), nullable=False)
    sender_identity = Column(String(200), nullable=False)
    secret_sealed = Column(Text, nullable=False)
    # Procura's own identity towards this buyer (the From of what Procura sends)
    supplier_credentials = Column(JSONText, nullable=False)
    user_mapping = Column(String(16), nullable=False, default="fixed")  # fixed | user_email
    user_id = Column(Integer)
    oci_allowed = Column(Boolean, nullable=False, default=False)
    oci_username = Column(String(120), unique=True)
    oci_password_sealed = Column(Text)
    order_status_url = Column(String(2000))
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    updated_by = Column(Integer)


class SenderIdentity(Base):
    """The (domain, identity) of each configured Sender, unique across companies, so that a
    request finds its company by the credential it carries."""
    __tablename__ = "punchout_sender_identities"
    domain = Column(String(60), primary_key=True)
    identity = Column(String(200), primary_key=True)
    company_id = Column(Integer, ForeignKey("punchout_configs.company_id"), nullable=False,
                        index=True)


class PunchoutSession(CompanyRow, CreatedAt, Base):
    """One punch-out: opened by a setup request (cXML) or an OCI login, started once by its
    single-use start token, then carried by the browser's session cookie until the cart is
    transferred or it expires."""
    __tablename__ = "punchout_sessions"
    user_id = Column(Integer)
    user_email = Column(String(320))
    protocol = Column(String(8), nullable=False)        # cxml | oci
    operation = Column(String(8), nullable=False)       # create | edit | inspect
    buyer_cookie = Column(String(500))
    return_url = Column(String(2000), nullable=False)   # BrowserFormPost or HOOK_URL
    return_target = Column(String(60))                  # OCI returntarget
    buyer_credentials = Column(JSONText)                # the From of the setup request
    setup_payload_id = Column(String(250))
    extrinsics = Column(JSONText)
    ship_to = Column(JSONText)
    items = Column(JSONText)                            # ItemOut lines (edit, inspect)
    start_token_hash = Column(String(64), nullable=False, unique=True)
    start_expires_at = Column(DateTime, nullable=False)
    started_at = Column(DateTime)
    browser_key_hash = Column(String(64), unique=True)
    expires_at = Column(DateTime, nullable=False)
    cart_id = Column(Integer)
    transferred_at = Column(DateTime)
    # the form the browser posts back to the buyer system, handed over once by a short link
    handoff_token_hash = Column(String(64), unique=True)
    handoff_form = Column(JSONText)
    handoff_expires_at = Column(DateTime)
    handed_off_at = Column(DateTime)


class PunchedOutLine(CreatedAt, Base):
    """A line handed back to the buyer's system, as priced then: `aux_id` travels as
    SupplierPartAuxiliaryID (cXML) or EXT_QUOTE_ID/EXT_QUOTE_ITEM (OCI) and comes back on
    the order, where the price is checked against this one."""
    __tablename__ = "punchout_lines"
    id = Column(Integer, primary_key=True)
    session_id = Column(Integer, ForeignKey("punchout_sessions.id"), nullable=False, index=True)
    company_id = Column(Integer, nullable=False)
    aux_id = Column(String(60), nullable=False, unique=True)
    line_number = Column(Integer, nullable=False)
    part_number = Column(String(64), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Numeric(14, 2), nullable=False)
    currency = Column(String(3), nullable=False)


class BuyerOrder(CreatedAt, Base):
    """An OrderRequest received: the buyer system's orderID and the Procura order it became
    (idempotency: the same orderID again answers with the same order)."""
    __tablename__ = "punchout_buyer_orders"
    __table_args__ = (UniqueConstraint("company_id", "order_id",
                                       name="uq_punchout_buyer_orders_order"),)
    id = Column(Integer, primary_key=True)
    company_id = Column(Integer, nullable=False)
    order_id = Column(String(100), nullable=False)
    payload_id = Column(String(250))
    order_date = Column(String(40))
    request_hash = Column(String(64), nullable=False)
    order_number = Column(String(32), unique=True)
    cart_id = Column(Integer)  # the cart checkout takes, kept so that a retry reuses it
    buyer_credentials = Column(JSONText)
    lines = Column(JSONText)   # [{line_number, part_number, quantity}] as the buyer numbered them


class StatusDelivery(CompanyRow, CreatedAt, Retried, Base):
    """A StatusUpdateRequest or ShipNoticeRequest to post to the company's order status URL:
    written in the transaction of the order event that causes it (one per event), then
    posted with retries and back-off until the buyer's system answers 2xx. Every attempt
    carries the same payloadID, so a repeated post is recognisably the same document."""
    __tablename__ = "punchout_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "kind", name="uq_punchout_deliveries_event"),)
    order_number = Column(String(32), nullable=False, index=True)
    kind = Column(String(20), nullable=False)     # status_update | ship_notice
    event_id = Column(String(36), nullable=False)
    payload_id = Column(String(250), nullable=False, unique=True)
    url = Column(String(2000), nullable=False)
    # what the document says; it is written at each attempt, with the shared secret, which
    # is never stored in clear
    content = Column(JSONText, nullable=False)
    # the sender looks for the posts due and not yet delivered
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    delivered_at = Column(DateTime, index=True)
    failed_at = Column(DateTime)
