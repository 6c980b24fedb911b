"""The web portal: its pages and assets, and the browser session endpoints.

The portal is static files shipped in the package (services/gateway/portal/): one HTML page
that loads ES modules, which render every page in the browser from the public API under
/api/v1. Every portal path (`/`, `/orders/R-1001`, `/set-password?token=...`) answers the
same page; the scripts pick what to show from the path.

The session endpoints turn identity's token pair into cookies (services/gateway/session.py),
so that no script ever holds a token:

- `POST /portal/session` `{username, password}`: signs in (identity's login, its rate limits
  and its errors: 401, 403 `account_disabled` / `password_expired`, 423, 429) and sets the
  cookies; replies `{user, expires_in}`.
- `POST /portal/session/refresh`: a new pair from the refresh cookie (CSRF header needed).
- `POST /portal/session/logout`: revokes the refresh token and clears the cookies (CSRF
  header needed).
"""
import functools
import hashlib
import json
import mimetypes
from pathlib import Path

from marshmallow import ValidationError
from werkzeug.wrappers import Response

from services.common.context import CallerContext, new_request_id
from services.common.errors import DomainError
from services.common.http import http
from services.gateway.api import _locale, problem, problem_from_error
from services.gateway.json_body import parse_json
from services.gateway.routes.identity import client_address
from services.gateway.session import (CSRF_COOKIE, REFRESH_COOKIE, clear_session_cookies,
                                      csrf_ok, set_session_cookies)
from services.identity.schemas import LoginSchema

PORTAL = Path(__file__).resolve().parent.parent / "portal"
ASSETS = PORTAL / "assets"

# the first segment of every path the portal's router knows (assets/js/app.js, ROUTES)
SECTIONS = ("login", "forgot-password", "forgot-username", "set-password", "reset-password",
            "confirm-email", "search", "products", "compare", "quickcart", "carts", "checkout",
            "orders", "invoices", "subscriptions", "approvals", "workflows", "reports",
            "assets", "licenses", "account", "company", "backoffice", "quotes", "punchout")
ANY_SECTION = ", ".join(f'"{s}"' for s in SECTIONS)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",  # reset and set-password links carry a token
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
         ".json": "application/json", ".txt": "text/plain", ".png": "image/png",
         ".ico": "image/x-icon"}


def _json_problem(request, status, code, detail):
    return problem(status, code, detail, locale=_locale(request))


def _same_origin(request) -> bool:
    """A session request must come from the portal itself: JSON (a cross-site form cannot
    send it without a preflight) and, when the browser says where from, this host."""
    if (request.mimetype or "") != "application/json":
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin.split("://", 1)[-1] == request.host
    return True


def _with_csrf_check(handler):
    """A handler that changes the signed-in session: only for the portal's own page, with
    its CSRF value (403 `csrf_failed` otherwise)."""
    @functools.wraps(handler)
    def checked(self, request):
        if not _same_origin(request) or not csrf_ok(request):
            return _json_problem(request, 403, "csrf_failed",
                                 "the X-CSRF-Token header is missing or wrong")
        return handler(self, request)
    return checked


class PortalRoutes:

    # ---- pages and assets
    @http("GET", "/")
    def portal_home(self, request):
        return self._portal_page()

    @http("GET", "/<any(%s):section>" % ANY_SECTION)
    def portal_section(self, request, section):
        return self._portal_page()

    @http("GET", "/<any(%s):section>/<path:rest>" % ANY_SECTION)
    def portal_subpage(self, request, section, rest):
        return self._portal_page()

    def _portal_page(self):
        response = Response((PORTAL / "index.html").read_bytes(), mimetype="text/html")
        response.headers.update(PAGE_HEADERS)
        response.headers["Cache-Control"] = "no-cache"
        return response

    @http("GET", "/portal/assets/<path:asset>")
    def portal_asset(self, request, asset):
        path = (ASSETS / asset).resolve()
        if ASSETS not in path.parents or not path.is_file():
            return Response("not found", status=404, mimetype="text/plain")
        body = path.read_bytes()
        mimetype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or \
            "application/octet-stream"
        response = Response(body, mimetype=mimetype)
        response.headers.update(PAGE_HEADERS)
        # revalidated each time (a cheap 304), so a new release is picked up at once
        response.headers["Cache-Control"] = "no-cache"
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        return response.make_conditional(request)

    # ---- the browser session
    @http("POST", "/portal/session")
    def portal_sign_in(self, request):
        if not _same_origin(request):
            return _json_problem(request, 403, "cross_origin", "sign in from the portal")
        try:
            payload = parse_json(request.get_data() or b"{}")
            if not isinstance(payload, dict):
                raise ValueError
        except ValueError:
            return _json_problem(request, 400, "malformed_json", None)
        except DomainError as exc:  # a value no request can mean
            return problem_from_error(exc, _locale(request), None)
        try:
            body = LoginSchema().load(payload)
        except ValidationError as exc:
            return problem(422, "validation_failed", None, errors=exc.messages,
                           locale=_locale(request))
        ctx = CallerContext(locale=_locale(request), request_id=new_request_id())
        try:
            pair = self.identity_rpc.login(ctx, body["username"], body["password"],
                                           client_address=client_address(request))
        except DomainError as exc:
            return problem_from_error(exc, _locale(request), ctx.request_id)
        return self._session_reply(request, pair)

    @http("POST", "/portal/session/refresh")
    @_with_csrf_check
    def portal_refresh(self, request):
        refresh_token = request.cookies.get(REFRESH_COOKIE)
        if not refresh_token:
            return _json_problem(request, 401, "unauthorized", None)
        ctx = CallerContext(locale=_locale(request), request_id=new_request_id())
        try:
            pair = self.identity_rpc.refresh(ctx, refresh_token)
        except DomainError as exc:
            response = problem_from_error(exc, _locale(request), ctx.request_id)
            if exc.status in (401, 403, 423):
                clear_session_cookies(response, request)
            return response
        return self._session_reply(request, pair, csrf=request.cookies.get(CSRF_COOKIE))

    @http("POST", "/portal/session/logout")
    @_with_csrf_check
    def portal_sign_out(self, request):
        refresh_token = request.cookies.get(REFRESH_COOKIE)
        if refresh_token:
            try:
                self.identity_rpc.logout(CallerContext(request_id=new_request_id()), refresh_token)
            except DomainError:
                pass  # already revoked or unknown: the cookies go anyway
        response = Response(status=204)
        clear_session_cookies(response, request)
        return response

    def _session_reply(self, request, pair, csrf=None):
        # identity dumped the pair (and its user) through its schemas already
        response = Response(json.dumps({"user": pair.get("user") or {},
                                        "expires_in": pair["expires_in"]}, default=str),
                            mimetype="application/json")
        response.headers["Cache-Control"] = "no-store"
        set_session_cookies(response, request, pair, csrf)
        return response
