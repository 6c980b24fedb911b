"""The portal's browser session: tokens in cookies that scripts cannot read.

The portal signs in through `POST /portal/session` (routes/portal.py), which calls identity's
login and sets three cookies instead of handing the tokens to the page:

- `procura_access`: the access token; HttpOnly, SameSite=Strict, path /api/v1, and it
  expires with the token (15 min).
- `procura_refresh`: the refresh token; HttpOnly, SameSite=Strict, path /portal/session, so
  it is sent only to the refresh and sign-out endpoints.
- `procura_csrf`: a random value the page reads and repeats in the `X-CSRF-Token` header
  (double submit); SameSite=Strict.

All are `Secure` when the portal is served over https (the request, or PUBLIC_URL).

`request_token` is what the gateway's `endpoint` uses: the `Authorization: Bearer` header
when there is one (API clients); otherwise the access cookie, accepted for GET and HEAD as
it is, and for every other method only when `X-CSRF-Token` equals the CSRF cookie. SameSite
already keeps other sites' requests from carrying the cookies; the header check also stops a
same-site page (another port, a sibling subdomain) from making a state-changing call with
them.
"""
import hmac
import secrets

from services.common.config import env

ACCESS_COOKIE = "procura_access"
REFRESH_COOKIE = "procura_refresh"
CSRF_COOKIE = "procura_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD")
ACCESS_PATH = "/api/v1"
REFRESH_PATH = "/portal/session"
REFRESH_SECONDS = 14 * 24 * 3600  # identity's refresh token lifetime


class CsrfFailure(Exception):
    """The access cookie came with an unsafe method and no matching CSRF header."""


def csrf_ok(request) -> bool:
    """The X-CSRF-Token header equals the CSRF cookie (both present, compared in constant time)."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    header = request.headers.get(CSRF_HEADER) or ""
    return bool(cookie) and bool(header) and hmac.compare_digest(cookie.encode(), header.encode())


def request_token(request):
    """The caller's access token, or None when there is none. Raises CsrfFailure when the only
    token is the access cookie, on an unsafe method, without the matching CSRF header."""
    auth = request.headers.get("Authorization")
    if auth is not None:
        return auth[7:].strip() if auth.startswith("Bearer ") else None
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS and not csrf_ok(request):
        raise CsrfFailure()
    return token


def secure(request) -> bool:
    return request.scheme == "https" or (env("PUBLIC_URL") or "").startswith("https://")


def set_session_cookies(response, request, pair, csrf_token=None):
    """Put a token pair from identity (login or refresh) into the response's cookies; returns
    the CSRF token (kept across refreshes, new at sign-in)."""
    csrf_token = csrf_token or secrets.token_urlsafe(32)
    common = {"secure": secure(request), "samesite": "Strict"}
    response.set_cookie(ACCESS_COOKIE, pair["access_token"], max_age=int(pair["expires_in"]),
                        path=ACCESS_PATH, httponly=True, **common)
    response.set_cookie(REFRESH_COOKIE, pair["refresh_token"], max_age=REFRESH_SECONDS,
                        path=REFRESH_PATH, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf_token, max_age=REFRESH_SECONDS, path="/",
                        httponly=False, **common)
    return csrf_token


def clear_session_cookies(response, request):
    common = {"secure": secure(request), "samesite": "Strict"}
    response.delete_cookie(ACCESS_COOKIE, path=ACCESS_PATH, httponly=True, **common)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH, httponly=True, **common)
    response.delete_cookie(CSRF_COOKIE, path="/", **common)
