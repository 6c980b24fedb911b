"""The portal's cookie session (services/gateway/session.py): which token a request carries,
when the CSRF header is needed, and the cookies' attributes."""
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.gateway.session import (ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE,
                                      CsrfFailure, clear_session_cookies, request_token,
                                      set_session_cookies)


def request(method="GET", cookies=None, headers=None, url="http://portal.test/api/v1/orders"):
    builder = EnvironBuilder(method=method, base_url=url, headers=headers or {})
    req = Request(builder.get_environ())
    # werkzeug's builder sets cookies through a client; a Cookie header is the same thing
    if cookies:
        req.environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        req = Request(req.environ)
    return req


def test_bearer_header_is_used_as_before():
    assert request(headers={"Authorization": "Bearer abc"}).headers["Authorization"]
    assert request_token(request(headers={"Authorization": "Bearer abc"})) == "abc"
    assert request_token(request("POST", headers={"Authorization": "Bearer abc"})) == "abc"


def test_no_token_at_all():
    assert request_token(request()) is None
    assert request_token(request(headers={"Authorization": "Basic dXNlcjpwdw=="})) is None


def test_header_wins_over_cookie():
    req = request("POST", cookies={ACCESS_COOKIE: "from-cookie"},
                  headers={"Authorization": "Bearer from-header"})
    assert request_token(req) == "from-header"


def test_a_non_bearer_header_does_not_fall_back_to_the_cookie():
    req = request(cookies={ACCESS_COOKIE: "from-cookie"}, headers={"Authorization": "Basic x"})
    assert request_token(req) is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_cookie_alone_is_enough_to_read(method):
    assert request_token(request(method, cookies={ACCESS_COOKIE: "tok"})) == "tok"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_cookie_needs_the_csrf_header_to_change_anything(method):
    with pytest.raises(CsrfFailure):
        request_token(request(method, cookies={ACCESS_COOKIE: "tok", CSRF_COOKIE: "c1"}))
    with pytest.raises(CsrfFailure):
        request_token(request(method, cookies={ACCESS_COOKIE: "tok", CSRF_COOKIE: "c1"},
                              headers={CSRF_HEADER: "c2"}))
    with pytest.raises(CsrfFailure):  # a header with no cookie to match
        request_token(request(method, cookies={ACCESS_COOKIE: "tok"}, headers={CSRF_HEADER: "c1"}))
    with pytest.raises(CsrfFailure):  # both empty is no match
        request_token(request(method, cookies={ACCESS_COOKIE: "tok", CSRF_COOKIE: ""},
                              headers={CSRF_HEADER: ""}))
    ok = request(method, cookies={ACCESS_COOKIE: "tok", CSRF_COOKIE: "c1"}, headers={CSRF_HEADER: "c1"})
    assert request_token(ok) == "tok"


def cookies_of(response):
    return {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}


def test_session_cookies_attributes(monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    response = Response()
    csrf = set_session_cookies(response, request(url="http://127.0.0.1:8080/portal/session"),
                               {"access_token": "AT", "refresh_token": "RT", "expires_in": 900})
    c = cookies_of(response)
    assert "AT" in c[ACCESS_COOKIE] and "HttpOnly" in c[ACCESS_COOKIE]
    assert "Path=/api/v1" in c[ACCESS_COOKIE] and "Max-Age=900" in c[ACCESS_COOKIE]
    assert "RT" in c[REFRESH_COOKIE] and "HttpOnly" in c[REFRESH_COOKIE]
    assert "Path=/portal/session" in c[REFRESH_COOKIE]
    assert csrf in c[CSRF_COOKIE] and "HttpOnly" not in c[CSRF_COOKIE] and len(csrf) >= 32
    for line in c.values():
        assert "SameSite=Strict" in line and "Secure" not in line


def test_cookies_are_secure_over_https(monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    response = Response()
    set_session_cookies(response, request(url="https://portal.test/portal/session"),
                        {"access_token": "AT", "refresh_token": "RT", "expires_in": 900})
    assert all("Secure" in line for line in cookies_of(response).values())
    monkeypatch.setenv("PUBLIC_URL", "https://portal.example")  # TLS ends at a proxy
    response = Response()
    set_session_cookies(response, request(), {"access_token": "A", "refresh_token": "R",
                                              "expires_in": 900})
    assert all("Secure" in line for line in cookies_of(response).values())


def test_a_refresh_keeps_the_csrf_token_and_sign_in_makes_a_new_one():
    pair = {"access_token": "A", "refresh_token": "R", "expires_in": 900}
    assert set_session_cookies(Response(), request(), pair, "kept") == "kept"
    assert set_session_cookies(Response(), request(), pair) != set_session_cookies(Response(), request(), pair)


def test_clearing_expires_every_cookie_on_its_path():
    response = Response()
    clear_session_cookies(response, request())
    c = cookies_of(response)
    assert set(c) == {ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE}
    assert all("Max-Age=0" in line or "Expires=Thu, 01 Jan 1970" in line for line in c.values())
    assert "Path=/api/v1" in c[ACCESS_COOKIE] and "Path=/portal/session" in c[REFRESH_COOKIE]
