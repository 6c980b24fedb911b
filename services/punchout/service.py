"""The punchout service (e-procurement): entrypoints only; the rules are in domain.py, the
document formats in cxml.py and oci.py.

cXML entrypoints take the document as text and always answer `{status, body}`: the cXML
reply and the HTTP status the gateway gives it, so that a bad document or credential is a
cXML Response with its Status code, never an RPC error.
"""
import hashlib
import json
import logging
from dataclasses import asdict
from urllib.parse import urlsplit

import requests

from services.common.access import require_staff
from services.common.background import BackgroundLoop
from services.common.base import ServiceBase
from services.common.config import env, public_url
from services.common.context import CallerContext
from services.common.entrypoints import event_handler, rpc
from services.common.errors import DomainError, Invalid, Unavailable
from services.common.schemas import load
from services.punchout import cxml, domain, oci
from services.punchout import schemas as s
from services.punchout.models import Base, PunchoutConfig, StatusDelivery

log = logging.getLogger(__name__)

CONFIG_OUT = s.PunchoutConfigOut()
SESSION_OUT = s.PunchoutSessionOut()
POST_TIMEOUT = 20
# the cXML code for a domain error's HTTP-like status
CXML_CODES = {401: 401, 403: 403, 404: 400, 409: 409, 410: 400, 422: 400, 503: 503}


def host() -> str:
    return urlsplit(public_url()).hostname or "procura"


def start_url(token: str) -> str:
    return f"{public_url()}/api/v1/punchout/start/{token}"


def cxml_reply(code: int, message: str = "") -> dict:
    return {"status": code, "body": cxml.response(code, message=message, host=host()).decode()}


def _credentials(items) -> list:
    # the From of a request, without anything secret
    return [{"domain": c.domain, "identity": c.identity} for c in items]


class StatusSender(BackgroundLoop):
    """Posts StatusUpdateRequest and ShipNoticeRequest documents to buyer systems: due
    deliveries are leased in one short transaction, posted outside it, and recorded as
    delivered (a 2xx reply whose cXML Status, if any, is 2xx) or retried with back-off."""
    switch_env = "PUNCHOUT_STATUS_SENDER"
    interval_env = "PUNCHOUT_STATUS_INTERVAL"
    interval = 5.0

    def setup(self):
        super().setup()
        # the first retry's delay; each next one doubles
        self.first_delay = float(env("PUNCHOUT_RETRY_SECONDS", "30"))

    def cycle(self) -> bool:
        with self.database.session_factory() as session:
            rows = domain.claim_deliveries(session)
            work = []
            for row in rows:
                cfg = session.get(PunchoutConfig, row.company_id)
                work.append((row.id, row.url, domain.delivery_document(row, cfg, host())))
            session.commit()
        for delivery_id, url, document in work:
            error = post_document(url, document)
            with self.database.session_factory() as session:
                row = session.get(StatusDelivery, delivery_id)
                if error is None:
                    domain.delivered(row)
                elif domain.delivery_failed(row, error, first_delay=self.first_delay):
                    log.error("gave up delivering %s %s to %s: %s", row.kind, row.payload_id,
                              url, error)
                else:
                    log.warning("could not deliver %s %s to %s (attempt %s): %s", row.kind,
                                row.payload_id, url, row.attempts, error)
                session.commit()
        return len(work) > 0


def post_document(url: str, document: bytes) -> str | None:
    """POST a cXML document; None when the buyer's system took it, else why not."""
    try:
        reply = requests.post(url, data=document, timeout=POST_TIMEOUT,
                              headers={"Content-Type": "text/xml; charset=utf-8"})
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if not 200 <= reply.status_code < 300:
        return f"HTTP {reply.status_code}"
    if reply.content.strip():
        try:
            code, text = cxml.read_response_status(reply.content)
        except cxml.CxmlError:
            return None  # a 2xx without a cXML Response: taken
        if not 200 <= code < 300:
            return f"cXML status {code} {text}"
    return None


class PunchoutService(ServiceBase, name="punchout", models=Base, relay=False,
                      calls=("identity", "catalog", "orders")):
    status_sender = StatusSender()

    # ---- configuration (staff)
    @rpc
    def get_config(self, ctx, company_id):
        require_staff(ctx)
        return self._config_out(domain.get_config(self.db, int(company_id)))

    @rpc
    def put_config(self, ctx, company_id, data):
        require_staff(ctx)
        data = load(s.PunchoutConfigIn(), data)
        company_id = int(company_id)
        company_ctx = CallerContext(staff=True, company_id=company_id, request_id=ctx.request_id)
        self.identity.get_company(ctx, company_id)  # 404 for an unknown company
        if data.get("user_id") is not None and not self.identity.get_people(
                company_ctx, [data["user_id"]], []):
            raise Invalid("no such user in this company", code="punchout_user_unknown",
                          errors={"user_id": ["Not a user of this company."]})
        return self._config_out(domain.put_config(self.db, company_id, data, ctx.user_id))

    def _config_out(self, cfg):
        base = public_url() + "/api/v1/punchout"
        return CONFIG_OUT.dump(dict(domain.config_view(cfg), setup_url=base + "/cxml/setup",
                                    order_url=base + "/cxml/order", oci_url=base + "/oci"))

    # ---- cXML
    @rpc
    def cxml_setup(self, ctx, document):
        """A PunchOutSetupRequest → {status, body}: a PunchOutSetupResponse with a single-use
        StartPage URL, or a cXML Response with the error's status."""
        try:
            doc = cxml.read_request(_bytes(document), "PunchOutSetupRequest")
            cfg = domain.authenticate_cxml(self.db, doc.header)
            body = doc.body
            user = domain.acting_user(cfg, body.extrinsics, body.contact.get("email"))
            opened = domain.open_session(
                self.db, cfg, protocol="cxml", operation=body.operation,
                return_url=body.browser_form_post, buyer_cookie=body.buyer_cookie,
                buyer_credentials=_credentials(doc.header.from_), setup_payload_id=doc.payload_id,
                extrinsics=body.extrinsics, ship_to=body.ship_to,
                items=domain.item_dicts(body.items), user=user)
            log.info("punch-out %s (%s) opened for company %s", opened.session.id,
                     body.operation, cfg.company_id)
            return {"status": 200, "body": cxml.setup_response(
                start_url(opened.start_token), host()).decode()}
        except cxml.CxmlError as exc:
            self.db.rollback()
            return cxml_reply(exc.code, exc.message)
        except DomainError as exc:
            self.db.rollback()
            return cxml_reply(CXML_CODES.get(exc.status, 400), exc.detail)

    @rpc
    def cxml_order(self, ctx, document):
        """An OrderRequest → {status, body}: the order placed through checkout (once per
        orderID), or a cXML Response with the error's status."""
        try:
            doc = cxml.read_request(_bytes(document), "OrderRequest")
            cfg = domain.authenticate_cxml(self.db, doc.header)
            return self._order(cfg, doc)
        except cxml.CxmlError as exc:
            self.db.rollback()
            return cxml_reply(exc.code, exc.message)
        except DomainError as exc:
            self.db.rollback()
            detail = exc.detail
            if exc.errors:
                detail += ": " + "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                           for k, v in exc.errors.items())
            return cxml_reply(CXML_CODES.get(exc.status, 400), detail)

    def _order(self, cfg, doc):
        body = doc.body
        user = domain.acting_user(cfg, body.extrinsics)
        login = self.identity.punchout_login(CallerContext.system(), cfg.company_id,
                                             user_id=user.get("user_id"), email=user.get("email"),
                                             tokens=False)
        user_ctx = CallerContext.from_dict(login["context"])
        if body.order_type == "delete":
            return self._cancel(cfg, body, user_ctx)
        if body.order_type != "new":
            raise cxml.CxmlError(406, "order changes (type update) are not taken here; "
                                      "cancel (type delete) and order again")
        currency = user_ctx.currency
        wanted = [{"part_number": i.part_number, "quantity": max(1, int(i.quantity))}
                  for i in body.items]
        if doc.deployment_mode == "test":
            # a buyer system's test document: checked as an order would be, never placed
            priced = self.catalog.price_lines(user_ctx, currency, wanted)["lines"]
            domain.check_order_lines(self.db, cfg.company_id, body.items, priced, currency)
            return cxml_reply(200, "Test order checked; not placed")
        lines = [{"line_number": i.line_number or n, "part_number": i.part_number,
                  "quantity": str(i.quantity)} for n, i in enumerate(body.items, 1)]
        fingerprint = hashlib.sha256(json.dumps(
            {"items": [asdict(i) for i in body.items], "ship_to": body.ship_to,
             "total": body.total, "currency": body.currency}, sort_keys=True,
            default=str).encode()).hexdigest()
        start = domain.begin_order(self.db, cfg, body.order_id, fingerprint,
                                   payload_id=doc.payload_id, order_date=body.order_date,
                                   buyer_credentials=_credentials(doc.header.from_), lines=lines)
        row = start.row
        if start.replay:
            return cxml_reply(200, f"Order {row.order_number}")
        priced = self.catalog.price_lines(user_ctx, currency, wanted)["lines"]
        domain.check_order_lines(self.db, cfg.company_id, body.items, priced, currency)
        if row.cart_id is None:
            cart = self.orders.create_cart(user_ctx, f"Order {body.order_id}"[:120])
            added = self.orders.quick_add(user_ctx, cart["id"], wanted)["lines"]
            refused = {l["part_number"]: [l["status"]] for l in added if l["status"] != "added"}
            if refused:   # e.g. a quantity the cart does not take: no partial order
                self.orders.delete_cart(user_ctx, cart["id"])
                raise Invalid("some lines cannot be ordered", code="lines_not_orderable",
                              errors=refused)
            domain.order_placed(row, cart_id=cart["id"])
            # kept before checkout: a retried document checks out this cart, with the same
            # Idempotency-Key, so orders answers with the first order
            self.db.commit()
        request = {"cart_id": row.cart_id,
                   "payment": {"method": "purchase_order", "po_number": body.order_id[:60]},
                   "shipping_address": domain.shipping_address(body.ship_to),
                   "notes": body.comments or None}
        try:
            order = self.orders.checkout(user_ctx, request,
                                         idempotency_key=f"punchout:{body.order_id}")
        except Unavailable:
            raise  # it may have been placed: the row stays, a retry resumes
        except DomainError:
            self.db.rollback()
            row = domain.find_order(self.db, cfg.company_id, body.order_id)
            if row is not None:
                try:
                    self.orders.delete_cart(user_ctx, row.cart_id)
                except DomainError:
                    pass
                domain.forget_order(self.db, row)
                self.db.commit()
            raise
        domain.order_placed(row, order_number=order["number"])
        log.info("order %s placed from buyer order %s (company %s)", order["number"],
                 body.order_id, cfg.company_id)
        return cxml_reply(200, f"Order {order['number']}")

    def _cancel(self, cfg, body, user_ctx):
        row = domain.find_order(self.db, cfg.company_id, body.order_id)
        if row is None or row.order_number is None:
            raise cxml.CxmlError(400, f"no order {body.order_id} to cancel")
        self.orders.cancel_order(user_ctx, row.order_number)
        return cxml_reply(200, f"Order {row.order_number} cancelled")

    # ---- OCI
    @rpc
    def oci_login(self, ctx, fields):
        """OCI login fields → {start_url}; 401 for a wrong username or password, 422 for a
        call without HOOK_URL."""
        try:
            login = oci.read_login(fields or {})
        except oci.OciError as exc:
            raise Invalid(str(exc), code="oci_invalid")
        cfg = domain.authenticate_oci(self.db, login.username, login.password)
        user = domain.acting_user(cfg, {"UserEmail": login.email})
        opened = domain.open_session(self.db, cfg, protocol="oci", operation="create",
                                     return_url=login.hook_url, return_target=login.return_target,
                                     user=user)
        return {"start_url": start_url(opened.start_token)}

    # ---- the browser's punch-out session
    @rpc
    def start(self, ctx, token):
        """Use a start link: {pair (identity's token pair for the session's user),
        browser_key, session}. The session gets a cart of its own, filled with the ItemOut
        lines of an edit or inspect."""
        row, browser_key = domain.redeem_start(self.db, token)
        pair = self.identity.punchout_login(CallerContext.system(), row.company_id,
                                            user_id=row.user_id, email=row.user_email)
        user_ctx = CallerContext.from_dict(pair.pop("context"))
        cart = self.orders.create_cart(user_ctx, f"PunchOut {row.id}")
        prefill = domain.prefill_lines(row)
        if prefill:
            self.orders.quick_add(user_ctx, cart["id"], prefill)
        domain.started(row, user_ctx.user_id, cart["id"])
        return {"pair": pair, "browser_key": browser_key,
                "session": SESSION_OUT.dump(domain.session_view(row))}

    @rpc
    def get_session(self, ctx, browser_key):
        return SESSION_OUT.dump(domain.session_view(
            domain.browser_session(self.db, ctx, browser_key)))

    @rpc
    def transfer(self, ctx, browser_key):
        """End the browser's session with its cart: {handoff_url}, a single-use link to the
        page whose form the browser posts to the buyer system (the cxml-urlencoded
        PunchOutOrderMessage, or the OCI NEW_ITEM-* fields)."""
        row = domain.browser_session(self.db, ctx, browser_key)
        cfg = domain.get_config(self.db, row.company_id)
        currency = ctx.currency
        lines = [] if row.operation == "inspect" else self._cart_lines(ctx, row.cart_id, currency)
        out = domain.transfer(self.db, row, lines, currency)
        if row.protocol == "oci":
            fields = oci.item_fields(out, currency, row.return_target or "_top")
        else:
            supplier = cfg.supplier_credentials or domain.DEFAULT_SUPPLIER_CREDENTIALS
            message = cxml.order_message(row.buyer_cookie or "", out, currency, supplier,
                                         row.buyer_credentials or cfg.from_credentials, supplier,
                                         operation_allowed="edit", host=host())
            fields = [("cxml-urlencoded", message.decode())]
        if row.cart_id is not None:
            try:
                self.orders.delete_cart(ctx, row.cart_id)
            except DomainError:
                pass  # already gone
        token = domain.prepare_handoff(row, {
            "protocol": row.protocol, "url": row.return_url,
            "target": row.return_target if row.protocol == "oci" else None,
            "fields": [list(f) for f in fields]})
        return {"handoff_url": f"/api/v1/punchout/handoff/{token}", "lines": len(out)}

    @rpc
    def handoff(self, ctx, token):
        """The form that returns a transferred cart to the buyer system, once: {protocol,
        url, target, fields}."""
        return domain.redeem_handoff(self.db, token)

    def _cart_lines(self, ctx, cart_id, currency):
        cart = self.orders.get_cart(ctx, cart_id)
        wanted = [{"part_number": l["part_number"], "quantity": l["quantity"]}
                  for l in cart["lines"]]
        if not wanted:
            return []
        priced = self.catalog.price_lines(ctx, currency, wanted)["lines"]
        parts = sorted({p["part_number"] for p in priced if p["status"] == "ok"})
        details = {i["part_number"]: i for i in self.catalog.procurement_catalog(
            ctx, currency, part_numbers=parts)["items"]} if parts else {}
        return domain.cart_lines(priced, details)

    # ---- status back to buyer systems
    @event_handler("orders", "order_status_changed")
    def on_order_status_changed(self, event):
        if domain.status_changed(self.db, event["event_id"], event["payload"]) is not None:
            self.db.info["after_commit"] = True  # wake the sender

    @event_handler("orders", "order_shipped")
    def on_order_shipped(self, event):
        if domain.shipped(self.db, event["event_id"], event["payload"]) is not None:
            self.db.info["after_commit"] = True


def _bytes(document) -> bytes:
    if isinstance(document, bytes):
        return document
    if not isinstance(document, str):
        raise cxml.CxmlError(400, "the request has no cXML document")
    return document.encode("utf-8")

