"""E-procurement's rules: who a buyer system is, punch-out sessions and what they hand back,
orders from buyer systems, and the status documents sent back to them.

Plain functions over a SQLAlchemy session; nothing here imports nameko, commits, or makes a
network call (the service does the calls to identity, catalog and orders, and the posts).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.common.clock import utcnow
from services.common.errors import Conflict, Gone, Invalid, NotFound, Unauthorized
from services.common.money import Money
from services.punchout import credentials
from services.punchout.models import (BuyerOrder, PunchedOutLine, PunchoutConfig,
                                      PunchoutSession, SenderIdentity, StatusDelivery)

START_LINK_LIFETIME = timedelta(minutes=5)
SESSION_LIFETIME = timedelta(hours=4)
HANDOFF_LIFETIME = timedelta(minutes=2)
DELIVERY_ATTEMPTS = 12
DELIVERY_LEASE = timedelta(minutes=2)
USER_MAPPINGS = ("fixed", "user_email")
# Procura's identity towards buyer systems when the configuration names none
DEFAULT_SUPPLIER_CREDENTIALS = [{"domain": "NetworkID", "identity": "PROCURA"}]


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _norm(value) -> str:
    return (value or "").strip().lower()


# ================================================================ configuration

def config_view(cfg: PunchoutConfig) -> dict:
    return {"company_id": cfg.company_id, "enabled": cfg.enabled,
            "from_credentials": cfg.from_credentials,
            "sender": {"domain": cfg.sender_domain, "identity": cfg.sender_identity},
            "shared_secret_set": bool(cfg.secret_sealed),
            "supplier_credentials": cfg.supplier_credentials,
            "user_mapping": cfg.user_mapping, "user_id": cfg.user_id,
            "oci_allowed": cfg.oci_allowed, "oci_username": cfg.oci_username,
            "oci_password_set": bool(cfg.oci_password_sealed),
            "order_status_url": cfg.order_status_url, "updated_at": cfg.updated_at}


def get_config(session, company_id) -> PunchoutConfig:
    cfg = session.get(PunchoutConfig, company_id)
    if cfg is None:
        raise NotFound("this company has no PunchOut configuration", code="punchout_not_configured")
    return cfg


def put_config(session, company_id: int, data: dict, actor_user_id=None, now=None) -> PunchoutConfig:
    """Create or replace a company's configuration. The shared secret is needed when there is
    none yet; left out, the current one stays (so is the OCI password)."""
    now = now or utcnow()
    cfg = session.get(PunchoutConfig, company_id)
    secret = data.get("shared_secret")
    if cfg is None and not secret:
        raise Invalid("a shared secret is needed", code="shared_secret_required",
                      errors={"shared_secret": ["Required when PunchOut is first configured."]})
    if data["user_mapping"] == "fixed" and not data.get("user_id"):
        raise Invalid("choose the user punch-out sessions act as", code="punchout_user_required",
                      errors={"user_id": ["Required when user_mapping is fixed."]})
    sender = data["sender"]
    key = (_norm(sender["domain"]), _norm(sender["identity"]))
    taken = session.scalar(select(SenderIdentity).where(SenderIdentity.domain == key[0],
                                                        SenderIdentity.identity == key[1]))
    if taken is not None and taken.company_id != company_id:
        raise Conflict("another company already uses this Sender identity",
                       code="sender_identity_taken")
    if data.get("oci_username"):
        other = session.scalar(select(PunchoutConfig).where(
            PunchoutConfig.oci_username == data["oci_username"],
            PunchoutConfig.company_id != company_id))
        if other is not None:
            raise Conflict("another company already uses this OCI username",
                           code="oci_username_taken")
    if data.get("oci_allowed") and not data.get("oci_username"):
        raise Invalid("OCI needs a username", code="oci_username_required",
                      errors={"oci_username": ["Required when oci_allowed is true."]})
    if cfg is None:
        cfg = PunchoutConfig(company_id=company_id)
        session.add(cfg)
    if data.get("oci_allowed") and not (data.get("oci_password") or cfg.oci_password_sealed):
        raise Invalid("OCI needs a password", code="oci_password_required",
                      errors={"oci_password": ["Required when OCI is first allowed."]})
    cfg.enabled = data.get("enabled", True)
    cfg.from_credentials = [{"domain": c["domain"].strip(), "identity": c["identity"].strip()}
                            for c in data["from_credentials"]]
    cfg.sender_domain, cfg.sender_identity = sender["domain"].strip(), sender["identity"].strip()
    if secret:
        cfg.secret_sealed = credentials.seal(secret)
    cfg.supplier_credentials = data.get("supplier_credentials") or DEFAULT_SUPPLIER_CREDENTIALS
    cfg.user_mapping = data["user_mapping"]
    cfg.user_id = data.get("user_id")
    cfg.oci_allowed = bool(data.get("oci_allowed"))
    cfg.oci_username = data.get("oci_username") or None
    if data.get("oci_password"):
        cfg.oci_password_sealed = credentials.seal(data["oci_password"])
    cfg.order_status_url = data.get("order_status_url") or None
    cfg.updated_at, cfg.updated_by = now, actor_user_id
    session.flush()
    for row in session.scalars(select(SenderIdentity).where(SenderIdentity.company_id == company_id)):
        session.delete(row)
    session.flush()
    session.add(SenderIdentity(domain=key[0], identity=key[1], company_id=company_id))
    session.flush()
    return cfg


# ================================================================ who is calling

def authenticate_cxml(session, header) -> PunchoutConfig:
    """The configuration of the company whose Sender credential and shared secret the
    document carries, and whose From identities include one of the document's. Every
    failure is the same 401, after the same work."""
    sender = header.sender
    row = session.scalar(select(SenderIdentity).where(
        SenderIdentity.domain == _norm(sender.domain),
        SenderIdentity.identity == _norm(sender.identity)))
    cfg = session.get(PunchoutConfig, row.company_id) if row is not None else None
    secret_ok = credentials.matches(cfg.secret_sealed if cfg else None, sender.shared_secret)
    known_from = {(_norm(c["domain"]), _norm(c["identity"])) for c in (cfg.from_credentials if cfg else [])}
    from_ok = any(c.key() in known_from for c in header.from_)
    if cfg is None or not cfg.enabled or not secret_ok or not from_ok:
        raise Unauthorized("the credentials or the shared secret are not recognised",
                           code="punchout_unauthorized")
    return cfg


def authenticate_oci(session, username: str, password: str) -> PunchoutConfig:
    cfg = session.scalar(select(PunchoutConfig).where(PunchoutConfig.oci_username == (username or "")))
    ok = credentials.matches(cfg.oci_password_sealed if cfg else None, password)
    if cfg is None or not ok or not cfg.enabled or not cfg.oci_allowed:
        raise Unauthorized("the OCI username or password is not recognised",
                           code="punchout_unauthorized")
    return cfg


def acting_user(cfg: PunchoutConfig, extrinsics: dict, contact_email: str | None = None) -> dict:
    """Whom a session or an order acts as: {user_id} (the configured user) or {email} (the
    UserEmail extrinsic, else the Contact's email, under the user_email rule)."""
    if cfg.user_mapping == "fixed":
        return {"user_id": cfg.user_id}
    lowered = {k.lower(): v for k, v in (extrinsics or {}).items()}
    email = (lowered.get("useremail") or contact_email or "").strip()
    if not email:
        raise Invalid("this buyer system's sessions need the UserEmail extrinsic",
                      code="user_email_required")
    return {"email": email}


# ================================================================ sessions

@dataclass
class Opened:
    session: PunchoutSession
    start_token: str


def open_session(session, cfg: PunchoutConfig, *, protocol, operation, return_url,
                 buyer_cookie=None, return_target=None, buyer_credentials=None,
                 setup_payload_id=None, extrinsics=None, ship_to=None, items=None,
                 user=None, now=None) -> Opened:
    """A new punch-out session with a single-use start token valid START_LINK_LIFETIME."""
    now = now or utcnow()
    if not return_url or not return_url.lower().startswith(("https://", "http://")):
        raise Invalid("the return URL (BrowserFormPost or HOOK_URL) must be an http(s) URL",
                      code="return_url_invalid")
    if operation in ("edit", "inspect") and not items:
        raise Invalid(f"an {operation} session needs the ItemOut lines", code="items_required")
    token = secrets.token_urlsafe(32)
    row = PunchoutSession(
        company_id=cfg.company_id, user_id=(user or {}).get("user_id"),
        user_email=(user or {}).get("email"), protocol=protocol, operation=operation,
        buyer_cookie=buyer_cookie, return_url=return_url[:2000],
        return_target=(return_target or None), buyer_credentials=buyer_credentials,
        setup_payload_id=setup_payload_id, extrinsics=extrinsics or {}, ship_to=ship_to,
        items=items or [], start_token_hash=digest(token),
        start_expires_at=now + START_LINK_LIFETIME, expires_at=now + SESSION_LIFETIME,
        created_at=now)
    session.add(row)
    session.flush()
    return Opened(row, token)


def redeem_start(session, token: str, now=None) -> tuple[PunchoutSession, str]:
    """Use a start token, once: returns the session and the browser key that carries it
    from now on. A used, expired or unknown token is 410."""
    now = now or utcnow()
    row = session.scalar(select(PunchoutSession).where(
        PunchoutSession.start_token_hash == digest(token or "")))
    gone = Gone("this punch-out link was already used or has expired; start again from your "
                "procurement system", code="punchout_link_expired")
    if row is None or row.started_at is not None or row.start_expires_at <= now:
        raise gone
    browser_key = secrets.token_urlsafe(32)
    # guarded: of two concurrent uses of one link, one wins
    done = session.execute(update(PunchoutSession).where(
        PunchoutSession.id == row.id, PunchoutSession.started_at.is_(None)).values(
        started_at=now, browser_key_hash=digest(browser_key),
        expires_at=now + SESSION_LIFETIME))
    if done.rowcount != 1:
        raise gone
    session.refresh(row)
    return row, browser_key


def started(row: PunchoutSession, user_id: int, cart_id: int):
    row.user_id = user_id
    row.cart_id = cart_id


def browser_session(session, ctx, browser_key: str, now=None) -> PunchoutSession:
    """The punch-out session a browser carries, for its own user; 404 when there is none,
    it ended (transferred) or expired."""
    now = now or utcnow()
    row = session.scalar(select(PunchoutSession).where(
        PunchoutSession.browser_key_hash == digest(browser_key or "")))
    if (row is None or row.company_id != ctx.company_id or row.user_id != ctx.user_id
            or row.transferred_at is not None or row.expires_at <= now):
        raise NotFound("no punch-out session is open in this browser", code="punchout_session_not_found")
    return row


def session_view(row: PunchoutSession) -> dict:
    from urllib.parse import urlsplit
    return {"id": row.id, "protocol": row.protocol, "operation": row.operation,
            "cart_id": row.cart_id, "return_host": urlsplit(row.return_url).netloc,
            "expires_at": row.expires_at, "items": row.items or [],
            "read_only": row.operation == "inspect"}


def item_dicts(items) -> list:
    """cxml.Item lines as JSON-safe dicts (what a session keeps of its ItemOut)."""
    out = []
    for i in items:
        out.append({"part_number": i.part_number, "quantity": str(i.quantity),
                    "aux_id": i.aux_id,
                    "unit_price": None if i.unit_price is None else str(i.unit_price),
                    "currency": i.currency, "description": i.description,
                    "unit_of_measure": i.unit_of_measure,
                    "unspsc": i.classification.get("UNSPSC") or i.classification.get("unspsc"),
                    "mfg_part_number": i.manufacturer_part_id,
                    "manufacturer": i.manufacturer_name, "line_number": i.line_number})
    return out


def prefill_lines(row: PunchoutSession) -> list:
    """The cart lines an edit or inspect session starts with: [{part_number, quantity}]
    (whole quantities; a line with a fractional or non-positive one is left out)."""
    lines = []
    for item in row.items or []:
        quantity = Decimal(item["quantity"])
        if quantity > 0 and quantity == quantity.to_integral_value():
            lines.append({"part_number": item["part_number"], "quantity": int(quantity)})
    return lines


def transfer(session, row: PunchoutSession, lines: list, currency: str, now=None) -> list:
    """End the session with the cart's lines (priced: part_number, quantity, unit_price,
    name, description, unit_of_measure, unspsc, manufacturer, mfg_part_number): each gets
    its aux_id, kept to check the order's prices. An inspect session hands back its
    ItemOut lines as they came. Returns the lines as the documents need them."""
    now = now or utcnow()
    if row.transferred_at is not None:
        raise Conflict("this punch-out cart was already transferred", code="punchout_transferred")
    row.transferred_at = now
    if row.operation == "inspect":
        return [dict(item, unit_price=item.get("unit_price") or "0",
                     name=item.get("description"), quote_id=None)
                for item in row.items or []]
    out = []
    quote_id = f"Q{row.id}"
    for number, line in enumerate(lines, 1):
        aux_id = f"{quote_id}-{number}"
        price = Money.from_dict(line["unit_price"])
        if price.currency != currency:
            raise Invalid("a line is not priced in the company's currency", code="currency_mismatch")
        session.add(PunchedOutLine(session_id=row.id, company_id=row.company_id, aux_id=aux_id,
                                   line_number=number, part_number=line["part_number"],
                                   quantity=int(line["quantity"]), unit_price=price.amount,
                                   currency=price.currency, created_at=now))
        out.append(dict(line, unit_price=str(price.amount), aux_id=aux_id, quote_id=quote_id,
                        line_number=number))
    session.flush()
    return out


def prepare_handoff(row: PunchoutSession, form: dict, now=None) -> str:
    """Keep the form that returns the cart ({url, target, fields}) behind a single-use link
    valid HANDOFF_LIFETIME; returns its token."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row.handoff_token_hash = digest(token)
    row.handoff_form = form
    row.handoff_expires_at = now + HANDOFF_LIFETIME
    return token


def redeem_handoff(session, token: str, now=None) -> dict:
    """The return form, once; 410 for a used, expired or unknown link."""
    now = now or utcnow()
    row = session.scalar(select(PunchoutSession).where(
        PunchoutSession.handoff_token_hash == digest(token or "")))
    gone = Gone("this cart was already returned, or the link has expired",
                code="punchout_handoff_expired")
    if row is None or row.handed_off_at is not None or row.handoff_expires_at <= now:
        raise gone
    done = session.execute(update(PunchoutSession).where(
        PunchoutSession.id == row.id, PunchoutSession.handed_off_at.is_(None)).values(
        handed_off_at=now))
    if done.rowcount != 1:
        raise gone
    return row.handoff_form


# ================================================================ orders from buyer systems

@dataclass
class OrderStart:
    row: BuyerOrder
    replay: bool   # the order exists already: answer as the first time


def begin_order(session, cfg: PunchoutConfig, order_id: str, request_hash: str, *, payload_id,
                order_date, buyer_credentials, lines) -> OrderStart:
    """The record of an OrderRequest, found by the buyer's orderID: a repeat of a placed
    order is a replay; the same orderID with other content is 409."""
    row = session.scalar(select(BuyerOrder).where(BuyerOrder.company_id == cfg.company_id,
                                                  BuyerOrder.order_id == order_id))
    if row is not None:
        if row.request_hash != request_hash:
            raise Conflict(f"orderID {order_id} was already received with other content",
                           code="order_id_reused")
        return OrderStart(row, replay=row.order_number is not None)
    row = BuyerOrder(company_id=cfg.company_id, order_id=order_id, payload_id=payload_id,
                     order_date=order_date, request_hash=request_hash,
                     buyer_credentials=buyer_credentials, lines=lines)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"orderID {order_id} is being placed by another request; retry",
                       code="order_in_progress")
    return OrderStart(row, replay=False)


def find_order(session, company_id: int, order_id: str) -> BuyerOrder | None:
    return session.scalar(select(BuyerOrder).where(BuyerOrder.company_id == company_id,
                                                   BuyerOrder.order_id == order_id))


ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")


def shipping_address(ship_to: dict | None) -> dict | None:
    """The order's ShipTo as checkout's shipping address; None (the company's own address)
    when it lacks a street, city, postal code or two-letter country."""
    if not ship_to or not all(ship_to.get(k) for k in ADDRESS_FIELDS):
        return None
    if len(ship_to["country"]) != 2 or not ship_to["country"].isalpha():
        return None
    return {k: ship_to.get(k) for k in ("name", "line1", "line2", "city", "region",
                                        "postal_code", "country")}


def cart_lines(priced: list, details: dict) -> list:
    """The punch-out cart's lines as documents need them, from catalog's prices (per line,
    for its quantity) and its e-procurement details (description, UNSPSC, unit). A line
    that cannot be ordered stops the transfer, named."""
    bad = {p["part_number"]: [p["status"]] for p in priced if p["status"] != "ok"}
    if bad:
        raise Invalid("some cart lines cannot be ordered; remove them first",
                      code="lines_not_orderable", errors=bad)
    out = []
    for p in priced:
        d = details.get(p["part_number"], {})
        out.append({"part_number": p["part_number"], "quantity": p["quantity"],
                    "unit_price": p["unit_price"], "name": p.get("name") or d.get("name"),
                    "description": d.get("description") or p.get("name"),
                    "unit_of_measure": d.get("unit_of_measure") or "EA",
                    "unspsc": d.get("unspsc"), "manufacturer": p.get("manufacturer"),
                    "mfg_part_number": p.get("mfg_part_number")})
    return out


def check_order_lines(session, company_id: int, items: list, priced: list, currency: str):
    """The order's lines against Procura's prices: each must be orderable, in whole units,
    in the company's currency, at the catalog's current price for its quantity, and a line
    that names a punched-out line (SupplierPartAuxiliaryID) must be at the price punched
    out. Raises Invalid (422) or Conflict (409, prices) naming each line."""
    problems, price_problems = {}, {}
    aux_ids = [i.aux_id for i in items if i.aux_id]
    punched = {l.aux_id: l for l in session.scalars(select(PunchedOutLine).where(
        PunchedOutLine.company_id == company_id, PunchedOutLine.aux_id.in_(aux_ids)))} \
        if aux_ids else {}
    for number, (item, quote) in enumerate(zip(items, priced), 1):
        key = f"line {item.line_number or number} ({item.part_number})"
        if item.quantity <= 0 or item.quantity != item.quantity.to_integral_value():
            problems[key] = ["quantity must be a whole number of units"]
            continue
        if quote["status"] != "ok":
            problems[key] = [quote["status"]]
            continue
        if item.currency and item.currency != currency:
            problems[key] = [f"priced in {item.currency}; this account buys in {currency}"]
            continue
        current = Money.from_dict(quote["unit_price"]).amount
        if item.unit_price is not None and item.unit_price.quantize(Decimal("0.01")) != current:
            price_problems[key] = [f"price {item.unit_price} is not the current price {current}"]
        if item.aux_id:
            line = punched.get(item.aux_id)
            if line is None or line.part_number.upper() != item.part_number.strip().upper():
                problems[key] = ["SupplierPartAuxiliaryID does not name a punched-out line"]
            elif item.unit_price is not None and line.unit_price != item.unit_price.quantize(Decimal("0.01")):
                price_problems[key] = [f"price {item.unit_price} is not the punched-out price "
                                       f"{line.unit_price}"]
    if problems:
        raise Invalid("some lines cannot be ordered", code="lines_not_orderable", errors=problems)
    if price_problems:
        raise Conflict("some prices differ from Procura's; punch out again for current prices",
                       code="price_changed", errors=price_problems)


def order_placed(row: BuyerOrder, cart_id=None, order_number=None):
    if cart_id is not None:
        row.cart_id = cart_id
    if order_number is not None:
        row.order_number = order_number


def forget_order(session, row: BuyerOrder):
    """An order that could not be placed: the orderID may come again."""
    session.delete(row)
    session.flush()


# ================================================================ status back to buyer systems

STATUS_CODES = {"pending_approval": (201, "Accepted"), "rejected": (406, "Not Acceptable"),
                "cancelled": (406, "Not Acceptable")}
STATUS_WORDS = {"pending_approval": "awaiting the buyer company's approval",
                "approved": "approved", "submitted": "accepted by the reseller",
                "processing": "being prepared", "shipped": "shipped",
                "delivered": "delivered", "invoiced": "invoiced", "rejected": "rejected by "
                "the buyer company's approvers", "cancelled": "cancelled"}


def _order_to_tell(session, payload) -> tuple[BuyerOrder, PunchoutConfig] | None:
    """The order of the event and its company's configuration, when the order came from a
    buyer system whose company has an order status URL; else None."""
    order = session.scalar(select(BuyerOrder).where(
        BuyerOrder.order_number == payload.get("order_number"),
        BuyerOrder.company_id == payload.get("company_id")))
    if order is None:
        return None
    cfg = session.get(PunchoutConfig, order.company_id)
    if cfg is None or not cfg.order_status_url:
        return None
    return order, cfg


def status_changed(session, event_id: str, payload: dict, now=None) -> StatusDelivery | None:
    """A StatusUpdateRequest to deliver, when the order came from a buyer system whose
    company has an order status URL."""
    found = _order_to_tell(session, payload)
    if found is None:
        return None
    order, cfg = found
    status = payload["status"]
    code, text = STATUS_CODES.get(status, (200, "OK"))
    content = {"order_id": order.order_id, "order_payload_id": order.payload_id,
               "order_number": order.order_number, "status": status, "code": code,
               "text": text, "message": f"Order {order.order_number} is {STATUS_WORDS.get(status, status)}."
               + (f" {payload['reason']}" if payload.get("reason") else ""),
               "changed_at": payload.get("changed_at")}
    return _delivery(session, order, cfg, "status_update", event_id, content, now)


def shipped(session, event_id: str, payload: dict, now=None) -> StatusDelivery | None:
    """A ShipNoticeRequest to deliver for a shipment of a buyer system's order."""
    found = _order_to_tell(session, payload)
    if found is None:
        return None
    order, cfg = found
    numbers = {}
    for line in order.lines or []:
        numbers.setdefault(line["part_number"].upper(), line["line_number"])
    lines = [{"part_number": l["part_number"], "quantity": l["quantity"],
              "line_number": numbers.get(l["part_number"].upper(), n)}
             for n, l in enumerate(payload.get("lines") or [], 1)]
    content = {"order_id": order.order_id, "order_payload_id": order.payload_id,
               "order_date": order.order_date, "order_number": order.order_number,
               "shipment_id": f"{order.order_number}-{payload['shipment_id']}",
               "shipped_at": payload.get("shipped_at"), "carrier": payload.get("carrier"),
               "tracking_number": payload.get("tracking_number"), "lines": lines}
    return _delivery(session, order, cfg, "ship_notice", event_id, content, now)


def _delivery(session, order, cfg, kind, event_id, content, now):
    from services.punchout.cxml import payload_id
    existing = session.scalar(select(StatusDelivery).where(StatusDelivery.event_id == event_id,
                                                           StatusDelivery.kind == kind))
    if existing is not None:  # the event came again
        return existing
    row = StatusDelivery(company_id=order.company_id, order_number=order.order_number, kind=kind,
                         event_id=event_id, payload_id=payload_id("procura"),
                         url=cfg.order_status_url, content=content, attempts=0,
                         next_attempt_at=now or utcnow(), created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


def claim_deliveries(session, now=None, batch=20) -> list:
    """Due deliveries, each leased for DELIVERY_LEASE so that another process leaves it
    alone while this one posts it."""
    now = now or utcnow()
    rows = session.scalars(select(StatusDelivery).where(
        StatusDelivery.delivered_at.is_(None), StatusDelivery.failed_at.is_(None),
        StatusDelivery.next_attempt_at <= now).order_by(StatusDelivery.id).limit(batch)
        .with_for_update(skip_locked=True)).all()
    for row in rows:
        row.next_attempt_at = now + DELIVERY_LEASE
    session.flush()
    return rows


def delivered(row: StatusDelivery, now=None):
    row.attempts += 1
    row.delivered_at = now or utcnow()
    row.last_error = None


def delivery_failed(row: StatusDelivery, error: str, now=None, first_delay: float = 30) -> bool:
    """Schedule the next attempt with back-off (`first_delay` seconds, doubling, at most
    2 h); after DELIVERY_ATTEMPTS the delivery is given up. Returns whether it was given up."""
    now = now or utcnow()
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= DELIVERY_ATTEMPTS:
        row.failed_at = now
        return True
    row.next_attempt_at = now + timedelta(seconds=min(7200, first_delay * 2 ** (row.attempts - 1)))
    return False


def delivery_document(row: StatusDelivery, cfg: PunchoutConfig, host: str = "procura") -> bytes:
    """The cXML document of a delivery, with the buyer system's credentials and the shared
    secret (never stored in clear)."""
    from services.punchout import cxml
    c = row.content
    buyer = cfg.from_credentials[:1]
    secret = credentials.unseal(cfg.secret_sealed) or ""
    supplier = cfg.supplier_credentials or DEFAULT_SUPPLIER_CREDENTIALS
    if row.kind == "ship_notice":
        return cxml.ship_notice(c["shipment_id"], c["order_id"], c["order_payload_id"],
                                c.get("order_date") or "", c.get("shipped_at") or "",
                                c.get("carrier") or "", c.get("tracking_number") or "",
                                c["lines"], supplier, buyer, supplier, secret, row.payload_id, host)
    return cxml.status_update(c["order_id"], c["order_payload_id"], c["code"], c["text"],
                              c["message"], {"orderID": c["order_id"],
                                             "supplierOrderID": c["order_number"],
                                             "orderStatus": c["status"]},
                              supplier, buyer, supplier, secret, row.payload_id, host)
