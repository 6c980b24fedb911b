"""The portal in a real browser (Debian's chromium driven by Playwright) against the running
system: sign-in → search → QuickCart → checkout with the demo approval workflow → the
approver's decision → order tracking → a report with its chart → its CSV, in English and in
French; the set-password link from the welcome email at a phone's width; sign-in errors;
axe-core on the main pages (no serious or critical violation); and, over plain HTTP, the
session cookies, the CSRF rule and the pages' security headers.

The browser runs in a child process (tests/e2e/portal_browser.py says why), one chromium for
the whole module. On failure a screenshot and the page's HTML are saved under
var/test-artifacts/portal/. With PROCURA_PORTAL_SCREENSHOTS=1 the English run also refreshes
the README's screenshots in docs/.
"""
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import eventlet
import pytest
import requests

from tests.support.system import DEMO_PASSWORD, ROOT, STAFF_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = os.environ.get("PROCURA_CHROMIUM", "/usr/bin/chromium")


class Browser:
    """The child process that drives chromium; `run` plays one scenario there."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("portal_browser.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=ROOT, env=env)
        assert self._reply(60).get("ready")

    def _reply(self, timeout):
        with eventlet.Timeout(timeout):
            while True:
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError("the browser process stopped")
                if line.startswith("@@"):
                    return json.loads(line[2:])

    def run(self, scenario, url, timeout=240, **args):
        self.proc.stdin.write(json.dumps({"scenario": scenario, "url": url, "args": args}) + "\n")
        self.proc.stdin.flush()
        reply = self._reply(timeout)
        if not reply["ok"]:
            pytest.fail(f"{scenario} failed in the browser:\n{reply['error']}", pytrace=False)
        return reply["result"]

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"chromium is missing at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("PROCURA_REQUIRE_TOOLS") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    driver = Browser()
    yield driver
    driver.close()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_order_with_approval_from_search_to_report(browser, system, staff, lang):
    browser.run("flow", system.url, lang=lang, staff_password=STAFF_PASSWORD)


def test_set_password_link_then_sign_in_at_a_phones_width(browser, system):
    admin = system.session("demo.admin")
    tag = uuid.uuid4().hex[:8]
    address = f"portal.{tag}@northwind.example"
    r = admin.post(system.api + "/company/users", json={
        "username": f"portal.{tag}", "email": address, "first_name": "Élise", "last_name": "Roy",
        "locale": "fr", "groups": ["users"]})
    assert r.status_code == 201, r.text
    link = re.compile(r"(/set-password\?token=[A-Za-z0-9_\-]+)")
    msg = system.wait_mail(lambda m: address in str(m["To"]) and
                           link.search(m.get_body(preferencelist=("plain",)).get_content()))
    path = link.search(msg.get_body(preferencelist=("plain",)).get_content()).group(1)
    browser.run("set_password_on_a_phone", system.url, path=path, username=f"portal.{tag}")


def test_sign_in_errors_and_session_expiry(browser, system):
    browser.run("sign_in_errors", system.url)


def test_every_other_page_for_an_admin_and_for_staff(browser, system, staff):
    browser.run("tour", system.url, staff_password=STAFF_PASSWORD)


# ------------------------------------------------------------------ session over HTTP

def test_session_cookies_csrf_refresh_and_sign_out(system):
    s = requests.Session()
    url = system.url
    r = s.post(url + "/portal/session", json={"username": "demo.buyer", "password": "wrong"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    assert not s.cookies
    r = s.post(url + "/portal/session", data="[" * 5000 + "]" * 5000,
               headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert r.headers["Content-Type"] == "application/problem+json"
    r = s.post(url + "/portal/session", data="username=demo.buyer&password=" + DEMO_PASSWORD,
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403  # a cross-site form cannot sign anyone in
    r = s.post(url + "/portal/session", json={"username": "demo.buyer", "password": DEMO_PASSWORD},
               headers={"Origin": "http://evil.test"})
    assert r.status_code == 403 and not s.cookies

    r = s.post(url + "/portal/session", json={"username": "demo.buyer", "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    assert "access_token" not in r.text and "refresh_token" not in r.text
    assert r.json()["user"]["username"] == "demo.buyer"
    set_cookie = r.headers.get("Set-Cookie")
    assert set_cookie.count("HttpOnly") == 2 and set_cookie.count("SameSite=Strict") == 3
    csrf = s.cookies.get("procura_csrf")

    # reading needs the cookie only; changing needs the CSRF header too
    assert s.get(system.api + "/me").json()["username"] == "demo.buyer"
    r = s.post(system.api + "/carts", json={"name": "csrf"})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = s.post(system.api + "/carts", json={"name": "csrf"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = s.post(system.api + "/carts", json={"name": "csrf"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert s.delete(f"{system.api}/carts/{r.json()['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204

    # the refresh cookie goes only to /portal/session; a refresh needs the header too
    assert s.post(url + "/portal/session/refresh", json={}).status_code == 403
    old_access = s.cookies.get("procura_access")
    r = s.post(url + "/portal/session/refresh", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert s.cookies.get("procura_access") != old_access and s.cookies.get("procura_csrf") == csrf
    assert s.get(system.api + "/me").status_code == 200

    # sign-out revokes the refresh token and clears the cookies
    refresh = s.cookies.get("procura_refresh")
    assert s.post(url + "/portal/session/logout", json={}).status_code == 403
    assert s.post(url + "/portal/session/logout", json={}, headers={"X-CSRF-Token": csrf}).status_code == 204
    assert not s.cookies.get("procura_access") and not s.cookies.get("procura_refresh")
    assert s.get(system.api + "/me").status_code == 401
    r = requests.post(system.api + "/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 401


def test_pages_headers_and_assets(system):
    for path in ("/", "/login", "/set-password?token=abc", "/reset-password?token=abc",
                 "/confirm-email?token=abc",
                 "/approvals/12", "/orders/R-1001", "/reports/spend_by_month",
                 "/account/email-preferences", "/invoices"):
        r = requests.get(system.url + path)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), path
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(system.url + "/nope").status_code == 404
    r = requests.get(system.url + "/portal/assets/js/app.js")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert requests.get(system.url + "/portal/assets/js/app.js",
                        headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert requests.get(system.url + "/portal/assets/../routes/portal.py").status_code == 404
    assert requests.get(system.url + "/portal/assets/%2e%2e/index.html").status_code == 404
    # the API and the docs keep their own routes
    assert requests.get(system.url + "/healthz").status_code == 200
    assert requests.get(system.api + "/no-such-thing").json()["code"] == "no_such_endpoint"
