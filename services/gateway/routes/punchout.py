"""Gateway endpoints of e-procurement (the punchout service) and the CIF catalog export.

Procurement systems call three of them, server to server or through the buyer's browser:

- `POST /punchout/cxml/setup` and `POST /punchout/cxml/order`: a cXML document in, a cXML
  document out (text/xml). The HTTP status is the cXML Status code when it is an error
  (400 malformed or refused XML, 401 credentials, 409 prices, 503 a service down), else 200.
- `GET|POST /punchout/oci`: the OCI login (USERNAME, PASSWORD, HOOK_URL, …); the browser is
  sent on to the start link.

The browser then goes through:

- `GET /punchout/start/{token}`: the single-use StartPage link. It signs the browser in as
  the session's user (the portal's HttpOnly cookies, session.py), adds the HttpOnly
  `procura_punchout` cookie that names the punch-out session, and a readable
  `procura_punchout_mode` marker for the portal's scripts; then it redirects to the portal's
  /punchout page.
- `GET /punchout/session` and `POST /punchout/session/transfer` (the portal, with its
  cookies and CSRF header): the session, and ending it with its cart, which returns a
  single-use handoff link.
- `GET /punchout/handoff/{token}`: a page whose form, auto-submitted by the browser, posts
  the cart to the buyer system (`cxml-urlencoded`, or the OCI `NEW_ITEM-*[n]` fields). Its
  Content-Security-Policy allows a form to that one origin and scripts from Procura only.
"""
import html
import json
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Response

from services.common.errors import DomainError, Invalid, NotFound
from services.gateway.api import Reply, endpoint, forward
from services.gateway.json_body import parse_json
from services.gateway.rights import AUTHENTICATED, PUBLIC, STAFF
from services.gateway.routes.catalog import company_currency
from services.gateway.routes.orders import Empty
from services.gateway.session import ACCESS_PATH, secure, set_session_cookies
from services.punchout import cxml
from services.punchout import schemas as s
from services.punchout.domain import SESSION_LIFETIME

PUNCHOUT_COOKIE = "procura_punchout"
MODE_COOKIE = "procura_punchout_mode"
XML = "text/xml; charset=utf-8"
HTTP_STATUSES = {200, 201, 204, 400, 401, 403, 406, 409, 500, 503}
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'none'")


def _cxml_reply(result) -> Reply:
    status = result["status"] if result["status"] in HTTP_STATUSES else 400
    return Reply(result["body"], status=status, content_type=XML)


def _cxml_error(exc: DomainError) -> Reply:
    code = 503 if exc.status == 503 else 500 if exc.status >= 500 else 400
    return Reply(cxml.response(code, message=exc.detail).decode(), status=code,
                 headers={"Retry-After": 5} if code == 503 else {}, content_type=XML)


def _page(title: str, text: str, status: int, csp: str = PAGE_CSP, body_extra: str = "",
          head_extra: str = "") -> Response:
    page = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            "<link rel=\"stylesheet\" href=\"/portal/assets/style.css\">"
            f"{head_extra}</head><body><main class=\"handoff\"><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(text)}</p>{body_extra}</main></body></html>")
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _form_fields(request, raw: bytes) -> dict:
    fields = dict(request.args.items())
    if request.method == "POST" and raw:
        if (request.mimetype or "") == "application/json":
            try:
                body = parse_json(raw)
            except (ValueError, DomainError):  # read as no fields, like any unusable body
                body = {}
            fields.update({str(k): str(v) for k, v in (body or {}).items()}
                          if isinstance(body, dict) else {})
        else:
            fields.update(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    return fields


class PunchoutRoutes:
    # ---- back office: a company's PunchOut configuration
    backoffice_get_punchout = forward("GET", "/backoffice/companies/<int:company_id>/punchout",
                                      "punchout.get_config", right=STAFF,
                                      response=s.PunchoutConfigOut(), tags=("e-procurement",),
                                      errors=(404,),
                                      summary=("A company's PunchOut configuration (secrets are "
                                               "never shown: only whether they are set), with the "
                                               "URLs to give its procurement system."))

    backoffice_put_punchout = forward("PUT", "/backoffice/companies/<int:company_id>/punchout",
                                      "punchout.put_config", right=STAFF,
                                      body=s.PunchoutConfigIn(), response=s.PunchoutConfigOut(),
                                      tags=("e-procurement",), errors=(404, 409),
                                      passing=("body",),
                                      summary=("Create or replace a company's PunchOut "
                                               "configuration: the buyer system's From "
                                               "identities, its Sender identity and shared secret "
                                               "(needed the first time; left out it stays), whom "
                                               "sessions act as (`fixed` user_id, or "
                                               "`user_email`: the company's user with the "
                                               "UserEmail extrinsic), OCI login, and the URL "
                                               "order status updates go to."))

    # ---- cXML, server to server
    @endpoint("POST", "/punchout/cxml/setup", right=PUBLIC, raw_body=True,
              tags=("e-procurement",), errors=(400, 401))
    def punchout_cxml_setup(self, call):
        """A cXML PunchOutSetupRequest (operation create, edit or inspect) → a
        PunchOutSetupResponse whose StartPage URL is valid once, for 5 minutes. Errors are a
        cXML Response with the Status code (401 credentials, 400 malformed)."""
        try:
            return _cxml_reply(self.punchout_rpc.cxml_setup(
                call.ctx, call.request.get_data(cache=True).decode("utf-8", errors="replace")))
        except DomainError as exc:
            return _cxml_error(exc)

    @endpoint("POST", "/punchout/cxml/order", right=PUBLIC, raw_body=True,
              tags=("e-procurement",), errors=(400, 401, 409))
    def punchout_cxml_order(self, call):
        """A cXML OrderRequest → a cXML Response 200 once the order is placed through
        checkout and approvals (the Status text names the Procura order). The same orderID
        again answers the same; prices must be those punched out and still current (409)."""
        try:
            return _cxml_reply(self.punchout_rpc.cxml_order(
                call.ctx, call.request.get_data(cache=True).decode("utf-8", errors="replace")))
        except DomainError as exc:
            return _cxml_error(exc)

    # ---- OCI, in the buyer's browser
    @endpoint("GET", "/punchout/oci", right=PUBLIC, status=303, tags=("e-procurement",),
              errors=(401, 422))
    def punchout_oci_get(self, call):
        """The OCI catalog call: USERNAME, PASSWORD, HOOK_URL (and OCI_VERSION, returntarget,
        EMAIL) as query parameters; answers 303 to the single-use start link."""
        return self._oci(call)

    @endpoint("POST", "/punchout/oci", right=PUBLIC, raw_body=True, status=303,
              tags=("e-procurement",), errors=(401, 422))
    def punchout_oci_post(self, call):
        """The OCI catalog call with its fields in a form body."""
        return self._oci(call)

    def _oci(self, call):
        fields = _form_fields(call.request, call.request.get_data(cache=True))
        try:
            found = self.punchout_rpc.oci_login(call.ctx, fields)
        except DomainError as exc:
            if exc.status >= 500:
                raise
            return _page("Procura catalog", exc.detail, exc.status)
        return Reply(None, status=303, headers={"Location": found["start_url"]},
                     content_type="text/plain")

    # ---- the browser's punch-out session
    @endpoint("GET", "/punchout/start/<token>", right=PUBLIC, status=303,
              tags=("e-procurement",), errors=(404, 410))
    def punchout_start(self, call, token):
        """The StartPage link: signs the browser in as the session's user and opens the
        portal in punch-out mode (303 to /punchout). Valid once."""
        try:
            started = self.punchout_rpc.start(call.ctx, token)
        except DomainError as exc:
            if exc.status >= 500:
                raise
            return _page("Procura", exc.detail, exc.status if exc.status in (404, 410) else 400)
        request = call.request
        response = Response(status=303, headers={"Location": "/punchout"})
        set_session_cookies(response, request, started["pair"])
        common = {"secure": secure(request), "samesite": "Strict",
                  "max_age": int(SESSION_LIFETIME.total_seconds())}
        response.set_cookie(PUNCHOUT_COOKIE, started["browser_key"], path=ACCESS_PATH + "/punchout",
                            httponly=True, **common)
        response.set_cookie(MODE_COOKIE, str(started["session"]["id"]), path="/",
                            httponly=False, **common)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @endpoint("GET", "/punchout/session", right=AUTHENTICATED, response=s.PunchoutSessionOut(), tags=("e-procurement",), errors=(404,))
    def punchout_session(self, call):
        """The punch-out session this browser carries (its cart, operation, where the cart
        goes back to); 404 when there is none."""
        return self.punchout_rpc.get_session(call.ctx, _browser_key(call))

    @endpoint("POST", "/punchout/session/transfer", right=AUTHENTICATED, body=Empty(),
              tags=("e-procurement",), errors=(404, 409, 422))
    def punchout_transfer(self, call):
        """End the punch-out session with its cart: `{handoff_url}`, a single-use page whose
        form the browser posts to the buyer system. An inspect session returns the lines it
        was given, unchanged."""
        found = self.punchout_rpc.transfer(call.ctx, _browser_key(call))
        response = Response(json.dumps(found), mimetype="application/json")
        response.delete_cookie(PUNCHOUT_COOKIE, path=ACCESS_PATH + "/punchout",
                               secure=secure(call.request), samesite="Strict", httponly=True)
        response.delete_cookie(MODE_COOKIE, path="/", secure=secure(call.request),
                               samesite="Strict")
        return response

    @endpoint("GET", "/punchout/handoff/<token>", right=PUBLIC, tags=("e-procurement",),
              errors=(410,))
    def punchout_handoff(self, call, token):
        """The page that posts a transferred cart to the buyer system (its form is submitted
        by the browser at once; a button does it without scripts). Valid once, 2 minutes."""
        try:
            form = self.punchout_rpc.handoff(call.ctx, token)
        except DomainError as exc:
            if exc.status >= 500:
                raise
            return _page("Procura", exc.detail, 410 if exc.status == 410 else 400)
        return handoff_page(form)

    # ---- the static catalog
    @endpoint("GET", "/catalogs/export.cif", right=AUTHENTICATED, tags=("catalogs",))
    def export_cif(self, call):
        """The caller's catalog at the company's contract prices as a CIF 3.0 file (UTF-8),
        for loading into a procurement system: every orderable product the caller may see,
        with its UNSPSC code and unit of measure."""
        found = self.catalog_rpc.procurement_catalog(call.ctx, company_currency(self, call),
                                                     as_cif=True, rpc_timeout=120)
        return Reply(found["cif"], content_type="text/plain; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{found["filename"]}"',
            "X-Item-Count": found["item_count"]})


def _browser_key(call) -> str:
    key = call.request.cookies.get(PUNCHOUT_COOKIE)
    if not key:
        raise NotFound("no punch-out session is open in this browser",
                       code="punchout_session_not_found")
    return key


def handoff_page(form: dict) -> Response:
    url = form["url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("the return URL is not an http(s) URL", code="return_url_invalid")
    origin = f"{parts.scheme}://{parts.netloc}"
    inputs = "".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
                     for name, value in form["fields"])
    target = form.get("target") or "_self"
    body = (f'<form id="punchout-return" method="post" action="{html.escape(url)}" '
            f'target="{html.escape(target)}" accept-charset="UTF-8">{inputs}'
            '<button type="submit" class="primary">Continue</button></form>')
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           f"base-uri 'none'; frame-ancestors 'none'; form-action {origin}")
    return _page("Returning your cart", "Your cart is on its way back to your procurement "
                 "system.", 200, csp=csp, body_extra=body,
                 head_extra='<script src="/portal/assets/js/punchout-return.js" defer></script>')


# ---- what the OpenAPI document says of the endpoints that speak XML, forms and HTML
CXML_MEDIA = {"text/xml": {"schema": {"type": "string", "description": "a cXML 1.2 document"}}}
# the OCI login fields (punchout/oci.py read_login): HOOK_URL not blank, FUNCTION only BROWSE
OCI_FIELDS = {**{name: {"type": "string"} for name in ("USERNAME", "PASSWORD", "OCI_VERSION",
                                                       "returntarget", "EMAIL")},
              "HOOK_URL": {"type": "string", "pattern": r"\S"},
              "FUNCTION": {"type": "string", "pattern": r"^\s*([Bb][Rr][Oo][Ww][Ss][Ee])?\s*$"}}
FORM_MEDIA = {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "additionalProperties": {"type": "string"}, "properties": OCI_FIELDS,
    "required": ["HOOK_URL"]}}}
OCI_QUERY = [{"in": "query", "name": name, "required": name == "HOOK_URL", "schema": schema}
             for name, schema in OCI_FIELDS.items()]
HTML_MEDIA = {"text/html": {"schema": {"type": "string"}}}
CIF_MEDIA = {"text/plain": {"schema": {"type": "string", "description": "a CIF 3.0 file"}}}
HANDOFF_MEDIA = {"application/json": {"schema": {"type": "object", "properties": {
    "handoff_url": {"type": "string"}, "lines": {"type": "integer"}}}}}


def _media(handler, **media):
    handler.endpoint_spec.media = media


_media(PunchoutRoutes.punchout_cxml_setup, request=CXML_MEDIA, response=CXML_MEDIA, errors=CXML_MEDIA)
_media(PunchoutRoutes.punchout_cxml_order, request=CXML_MEDIA, response=CXML_MEDIA, errors=CXML_MEDIA)
_media(PunchoutRoutes.punchout_oci_get, query=OCI_QUERY, errors=HTML_MEDIA)
_media(PunchoutRoutes.punchout_oci_post, request=FORM_MEDIA, errors=HTML_MEDIA)
_media(PunchoutRoutes.punchout_start, errors=HTML_MEDIA)
_media(PunchoutRoutes.punchout_handoff, response=HTML_MEDIA, errors=HTML_MEDIA)
_media(PunchoutRoutes.punchout_transfer, response=HANDOFF_MEDIA)
_media(PunchoutRoutes.export_cif, response=CIF_MEDIA)
