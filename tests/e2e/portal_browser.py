"""The browser side of tests/e2e/test_portal.py, run in a process of its own.

The test process is monkey-patched by eventlet (tests/conftest.py), and Playwright's sync API
does not work there (its waits never return). So test_portal.py starts this module as a
child process with one chromium for the whole module, sends it one scenario at a time as a
JSON line on its standard input, and reads the result line ("@@" + JSON) from its standard
output. Each scenario is a plain function using plain asserts; on failure a screenshot and
the page's HTML are saved under var/test-artifacts/portal/.
"""
import contextlib
import json
import os
import re
import shutil
import sys
import time
import traceback
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: tests.support from the checkout
from tests.support.waiting import wait_for  # noqa: E402

PORTAL = ROOT / "services" / "gateway" / "portal"
ASSETS = PORTAL / "assets"
DEMO_PASSWORD = "Procura-demo-2026"
CHROMIUM = os.environ.get("PROCURA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "portal"
AXE = PORTAL / "vendor" / "axe-core" / "axe.min.js"
LAPTOP = "DEL-N021L545014CA"  # demo product on Northwind's contract, 1,454.65 CAD


def texts():
    """The portal's own strings (assets/js/i18n.js), so the tests read what users read."""
    source = (ASSETS / "js" / "i18n.js").read_text()
    pairs = re.findall(r'^\s*"([\w.]+)": (\["(?:[^"\\]|\\.)*", "(?:[^"\\]|\\.)*"\]),$', source, re.M)
    return {key: json.loads(pair) for key, pair in pairs}


STRINGS = texts()


def say(lang, key, **values):
    text = STRINGS[key][1 if lang == "fr" else 0]
    for name, value in values.items():
        text = text.replace("{%s}" % name, str(value))
    return text




class System:
    """The running system as the child knows it: its base URL."""

    def __init__(self, url):
        self.url = url
        self.api = url + "/api/v1"


def session(system, username, password):
    r = requests.post(system.api + "/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + r.json()["access_token"]
    return s


class Portal:
    """One person's browser context: a page, its language, and the checks every page gets
    (no script error, no Content-Security-Policy violation)."""

    def __init__(self, browser, system, lang, viewport=None):
        self.system = system
        self.lang = lang
        self.context = browser.new_context(locale="fr-CA" if lang == "fr" else "en-CA",
                                           viewport=viewport or {"width": 1280, "height": 900},
                                           accept_downloads=True)
        self.context.set_default_timeout(15000)
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on("console", self._console)

    def _console(self, msg):
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.problems.append(f"CSP: {msg.text}")

    def t(self, key, **values):
        return say(self.lang, key, **values)

    def goto(self, path):
        self.page.goto(self.system.url + path)
        self.page.wait_for_selector("#page-title")

    def title(self):
        return self.page.inner_text("#page-title")

    def sign_in(self, username, password=DEMO_PASSWORD):
        self.goto("/login")
        assert self.page.get_attribute("html", "lang") == self.lang
        self.page.get_by_label(self.t("auth.username")).fill(username)
        self.page.get_by_label(self.t("auth.password"), exact=True).fill(password)
        self.page.get_by_role("button", name=self.t("auth.signin")).click()
        self.page.wait_for_url(lambda url: "/login" not in url)
        self.page.wait_for_selector("#page-title")

    def until(self, check, timeout=30, what="the page to change"):
        """Reload until `check()` is true (events reach read models a moment later)."""
        def reloaded():
            if check():
                return True
            self.page.reload()
            self.page.wait_for_selector("#page-title")
            return False
        wait_for(reloaded, timeout=timeout, interval=0.7, message=what)

    def nav(self, key):
        """A link of the main menu."""
        return self.page.get_by_role("navigation", name=self.t("nav.main")).get_by_role(
            "link", name=self.t(key), exact=True)

    def axe(self):
        """Serious and critical axe-core violations of the current page (WCAG 2 A and AA)."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text())
        found = self.page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
        }""")
        return found

    def close(self):
        self.context.close()


@contextlib.contextmanager
def evidence(portal, name):
    """Save a screenshot and the HTML of the page when the block fails."""
    try:
        yield
        assert not portal.problems, portal.problems
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / f"{name}-{time.strftime('%H%M%S')}"
        with contextlib.suppress(Exception):
            portal.page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
            stem.with_suffix(".html").write_text(portal.page.content())
            print(f"portal evidence: {stem}.png and .html (at {portal.page.url})")
        raise


def docs_screenshot(portal, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    portal.page.screenshot(path=str(path), full_page=False)
    if os.environ.get("PROCURA_PORTAL_SCREENSHOTS") == "1" and portal.lang == "en":
        shutil.copy(path, ROOT / "docs" / f"portal-{name}.png")


# ------------------------------------------------------------------ scenarios

def flow(browser, system, lang, staff_password):
    """sign-in → search → QuickCart → checkout with approval → approver approves → order
    tracking → report with its chart → CSV download."""
    tag = uuid.uuid4().hex[:6]
    staff = session(system, "e2e.staff", staff_password)
    buyer = Portal(browser, system, lang)
    with evidence(buyer, f"flow-{lang}-buyer"):
        # the browser's language picks the portal's; a signed-out visitor lands on sign-in
        buyer.goto("/")
        assert buyer.page.url.endswith("/login")
        assert buyer.title() == buyer.t("auth.signin.title")
        assert buyer.axe() == []
        buyer.sign_in("demo.buyer")
        assert buyer.title() == buyer.t("home.hello", name="Bruno")
        # the tokens are out of reach of scripts; only the CSRF value is readable
        assert buyer.page.evaluate("document.cookie").startswith("procura_csrf=")
        cookies = {c["name"]: c for c in buyer.context.cookies()}
        assert cookies["procura_access"]["httpOnly"] and cookies["procura_refresh"]["httpOnly"]
        assert cookies["procura_access"]["sameSite"] == "Strict"

        # a new cart of its own, which becomes the one "Add to cart" fills
        page = buyer.page
        buyer.nav("nav.carts").click()
        page.get_by_label(buyer.t("carts.name")).fill(f"Portal {lang} {tag}")
        page.get_by_role("button", name=buyer.t("carts.create")).click()
        page.wait_for_url(re.compile(r"/carts/\d+$"))
        page.get_by_role("heading", name=f"Portal {lang} {tag}").wait_for()
        cart_id = page.url.rsplit("/", 1)[1]

        # search, with facets, contract prices and their source
        buyer.nav("nav.catalog").click()
        page.get_by_role("searchbox", name=buyer.t("catalog.search")).fill("Latitude 5450")
        page.get_by_role("button", name=buyer.t("catalog.search.go")).click()
        page.wait_for_url(re.compile(r"/search\?q=Latitude"))
        result = page.locator("li.product", has_text=LAPTOP)
        result.wait_for()
        assert buyer.t("catalog.source.contract") in result.inner_text()
        assert page.locator("fieldset.facet", has_text=buyer.t("catalog.manufacturer")).get_by_role("link", name=re.compile("Dell")).count() == 1
        assert page.locator("fieldset.facet", has_text=buyer.t("catalog.availability")).get_by_role(
            "link", name=re.compile(buyer.t("availability.in_stock"))).count() == 1
        # the price range holding the laptop's contract price keeps it, and shows it chosen
        page.locator('#facet-price a[href*="price_min=1000.00"]').click()
        page.wait_for_url(re.compile(r"price_min=1000\.00&price_max=2499\.99"))
        chosen = page.locator('#facet-price a[aria-current="true"]')
        chosen.wait_for()
        assert "(" in chosen.inner_text() and result.count() == 1
        assert page.get_by_label(buyer.t("catalog.price.max"), exact=True).input_value() == "2499.99"
        assert buyer.axe() == []
        docs_screenshot(buyer, "search")
        result.get_by_role("button", name=buyer.t("catalog.add")).click()
        page.locator(".notice.ok", has_text=f"Portal {lang} {tag}").wait_for()

        # the product page: the contract's tier prices, the caller's one marked
        result.locator(f'a[href="/products/{LAPTOP}"]').click()
        page.get_by_role("heading", name=buyer.t("catalog.tierprices")).wait_for()
        yours = page.locator("tbody tr", has=page.locator(".badge", has_text=buyer.t("catalog.tier.current")))
        assert yours.count() == 1 and "145465" in re.sub(r"[\s,.\u202f\xa0]", "", yours.inner_text())
        assert buyer.axe() == []

        # QuickCart: one good line, one unknown part number, a result per line
        buyer.nav("nav.quickcart").click()
        page.get_by_label(buyer.t("quick.lines")).fill(f"{LAPTOP} 4\nNOPE-{tag} 2")
        assert page.get_by_label(buyer.t("quick.cart")).input_value() == cart_id
        page.get_by_role("button", name=buyer.t("quick.add")).click()
        page.get_by_text(buyer.t("quick.result", added=1, total=2)).wait_for()
        rows = page.locator("table tbody tr")
        assert buyer.t("quick.status.added") in rows.nth(0).inner_text()
        assert buyer.t("quick.status.not_found") in rows.nth(1).inner_text()
        assert buyer.axe() == []

        # the cart: 5 laptops, then checkout with the approval preview
        page.get_by_role("link", name=buyer.t("catalog.seecart")).click()
        page.wait_for_url(f"**/carts/{cart_id}")
        page.get_by_role("heading", name=f"Portal {lang} {tag}").wait_for()
        quantities = page.locator("tbody input.qty")
        assert sum(int(quantities.nth(i).input_value()) for i in range(quantities.count())) == 5
        page.get_by_role("link", name=buyer.t("carts.checkout")).click()
        page.wait_for_url(f"**/checkout/{cart_id}")
        preview = page.locator(".approval-preview")
        preview.wait_for()
        assert "Chloé Roy" in preview.inner_text()  # demo.approver, over 5,000 CAD
        assert buyer.axe() == []
        docs_screenshot(buyer, "checkout")
        page.get_by_label(buyer.t("checkout.po")).fill(f"PO-{tag}")
        page.get_by_role("button", name=buyer.t("checkout.place")).click()
        page.wait_for_url(re.compile(r"/orders/[^/?]+\?placed=1$"))
        number = page.url.split("/orders/")[1].split("?")[0]
        page.get_by_role("heading", name=buyer.t("orders.order", number=number)).wait_for()
        assert buyer.t("status.pending_approval") in page.inner_text("main")

    # the approver decides in their inbox
    approver = Portal(browser, system, lang)
    with evidence(approver, f"flow-{lang}-approver"):
        approver.sign_in("demo.approver")
        approver.goto("/approvals")
        link = approver.page.get_by_role("link", name=approver.t("approvals.order", number=number))
        approver.until(lambda: link.count() == 1, what="the approval request")
        link.click()
        approver.page.get_by_label(approver.t("approvals.comment")).fill(f"OK {tag}")
        assert approver.axe() == []
        approver.page.get_by_role("button", name=approver.t("approvals.approve")).click()
        approver.page.get_by_text(approver.t("approvals.is.approved")).wait_for()
    approver.close()

    # the buyer follows the order: approved, then shipped with its tracking number
    with evidence(buyer, f"flow-{lang}-tracking"):
        buyer.goto(f"/orders/{number}")
        timeline = buyer.page.locator("ol.timeline li.done", has_text=buyer.t("status.approved"))
        buyer.until(lambda: timeline.count() == 1, what="the order to be approved")
        assert "Chloé Roy" in buyer.page.locator("ol.timeline").inner_text()
        for step in ("accept", "process"):
            r = staff.post(f"{system.api}/backoffice/orders/{number}/{step}", json={})
            assert r.status_code == 200, r.text
        r = staff.post(f"{system.api}/backoffice/orders/{number}/ship",
                       json={"carrier": "Purolator", "tracking_number": f"PUR{tag}"})
        assert r.status_code == 200, r.text
        buyer.page.reload()
        buyer.page.get_by_text(f"Purolator PUR{tag}").wait_for()
        assert buyer.page.locator("ol.timeline li.current", has_text=buyer.t("status.shipped")).count() == 1
        assert buyer.axe() == []

    # staff quote a price; the buyer orders the quote at it, with the checkout form
    with evidence(buyer, f"flow-{lang}-quote"):
        company_id = session(system, "demo.buyer", DEMO_PASSWORD).get(f"{system.api}/company").json()["id"]
        r = staff.post(f"{system.api}/backoffice/quotes", json={
            "company_id": company_id, "expires_on": time.strftime("%Y-12-31"),
            "lines": [{"part_number": LAPTOP, "quantity": 2,
                       "unit_price": {"amount": "1111.00", "currency": "CAD"}}]})
        assert r.status_code == 201, r.text
        buyer.goto("/subscriptions")
        buyer.page.locator(f'a[href="/quotes/{r.json()["id"]}/order"]').click()
        buyer.page.get_by_label(buyer.t("checkout.po")).fill(f"PO-Q{tag}")
        buyer.page.get_by_role("button", name=buyer.t("checkout.place")).click()
        buyer.page.wait_for_url("**/orders/SO-*")
        buyer.page.wait_for_selector("#page-title")
        digits = re.sub(r"[\s,.\u202f\xa0]", "", buyer.page.inner_text("main"))
        assert "222200" in digits  # 2,222.00 or 2 222,00: the quoted price, not the list's
    buyer.close()

    # finance reads spend by manufacturer: a chart, a table and the CSV
    finance = Portal(browser, system, lang)
    with evidence(finance, f"flow-{lang}-report"):
        finance.sign_in("demo.finance")
        finance.nav("nav.reports").click()
        title = "Spend by manufacturer" if lang == "en" else "Dépenses par fabricant"
        finance.page.get_by_role("link", name=title, exact=True).click()
        finance.page.wait_for_url("**/reports/spend_by_manufacturer")
        chart = finance.page.locator("figure.chart-figure svg[role=img]")
        finance.until(lambda: chart.count() == 1 and "Dell" in chart.inner_html(), what="the chart")
        assert finance.page.locator("rect.chart-bar").count() >= 1
        assert finance.axe() == []
        docs_screenshot(finance, "report")
        with finance.page.expect_download() as download:
            finance.page.get_by_role("link", name=finance.t("reports.csv")).click()
        body = Path(download.value.path()).read_bytes()
        assert body.startswith(b"\xef\xbb\xbf") and b"Dell" in body
        assert download.value.suggested_filename == "spend_by_manufacturer.csv"
    finance.close()


def set_password_on_a_phone(browser, system, path, username):
    """The set-password link from the welcome email, at a phone's width, then the menu by
    keyboard, focus after navigation, no sideways scrolling, the language switch."""
    phone = Portal(browser, system, "fr", viewport={"width": 390, "height": 844})
    with evidence(phone, "set-password"):
        phone.goto(path)
        assert phone.title() == phone.t("auth.set.title")
        assert "token" not in phone.page.url  # the token leaves the address bar
        assert phone.axe() == []
        phone.page.get_by_label(phone.t("auth.password.new")).fill("Portal-phone-2026!")
        phone.page.get_by_label(phone.t("auth.password.confirm")).fill("Portal-phone-2026!")
        phone.page.get_by_role("button", name=phone.t("auth.password.save")).click()
        phone.page.wait_for_url("**/login?done=reset")
        phone.page.get_by_text(phone.t("auth.reset.done")).wait_for()
        phone.sign_in(username, "Portal-phone-2026!")
        # at a phone's width the menu folds behind a button that the keyboard opens
        nav = phone.page.get_by_role("navigation", name=phone.t("nav.main"))
        assert not nav.is_visible()
        toggle = phone.page.get_by_role("button", name=phone.t("nav.menu"))
        toggle.focus()
        phone.page.keyboard.press("Enter")
        assert toggle.get_attribute("aria-expanded") == "true" and nav.is_visible()
        nav.get_by_role("link", name=phone.t("nav.orders"), exact=True).click()
        phone.page.wait_for_url("**/orders")
        # after a navigation the new page's heading has the focus
        phone.page.get_by_role("heading", name=phone.t("orders.title")).wait_for()
        assert phone.page.evaluate("document.activeElement.id") == "page-title"
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at a phone's width ({width}px)"
        # the language switch is remembered
        phone.page.get_by_role("button", name="Show in English").click()
        assert phone.page.get_attribute("html", "lang") == "en"
        phone.page.reload()
        phone.page.wait_for_selector("#page-title")
        assert phone.title() == say("en", "orders.title")
    phone.close()


def sign_in_errors(browser, system):
    """A wrong password says so, in an alert, and the focus returns to the password; the
    forgot-password request answers the same for anyone; an expired session is refreshed,
    or ends on the sign-in page that leads back."""
    portal = Portal(browser, system, "en")
    with evidence(portal, "sign-in-errors"):
        portal.goto("/login")
        portal.page.get_by_label(portal.t("auth.username")).fill("demo.buyer")
        portal.page.get_by_label(portal.t("auth.password"), exact=True).fill("not-the-password")
        portal.page.get_by_role("button", name=portal.t("auth.signin")).click()
        alert = portal.page.get_by_role("alert")
        alert.wait_for()
        assert alert.inner_text() == portal.t("auth.invalid")
        assert portal.page.evaluate("document.activeElement.name") == "password"
        portal.page.get_by_role("link", name=portal.t("auth.forgot.password")).click()
        portal.page.get_by_label(portal.t("auth.username")).fill("nobody-at-all")
        portal.page.get_by_role("button", name=portal.t("auth.forgot.send")).click()
        portal.page.get_by_text(portal.t("auth.forgot.password.sent")).wait_for()
    portal.close()
    # an expired access token is refreshed by the page itself; with the refresh token gone
    # too, the page sends the person to sign-in and back where they were
    portal = Portal(browser, system, "en")
    with evidence(portal, "session-expiry"):
        portal.sign_in("demo.buyer")
        ctx = portal.context
        keep = [c for c in ctx.cookies() if c["name"] != "procura_access"]
        ctx.clear_cookies()
        ctx.add_cookies(keep)
        portal.goto("/orders")
        assert portal.title() == portal.t("orders.title")
        assert any(c["name"] == "procura_access" for c in ctx.cookies())
        keep = [c for c in ctx.cookies() if c["name"] == "procura_csrf"]
        ctx.clear_cookies()
        ctx.add_cookies(keep)
        portal.page.goto(system.url + "/carts")
        portal.page.wait_for_url("**/login?next=%2Fcarts")
        portal.page.get_by_label(portal.t("auth.username")).fill("demo.buyer")
        portal.page.get_by_label(portal.t("auth.password"), exact=True).fill(DEMO_PASSWORD)
        portal.page.get_by_role("button", name=portal.t("auth.signin")).click()
        portal.page.wait_for_url("**/carts")
        portal.page.get_by_role("heading", name=portal.t("carts.title")).wait_for()
    portal.close()


ADMIN_PAGES = ["/", "/products/" + LAPTOP, f"/compare?p={LAPTOP},LEN-20XW0042US", "/orders",
               "/invoices", "/subscriptions", "/workflows", "/workflows/new", "/company/users",
               "/company/groups", "/company/catalogs", "/company/favorites", "/reports",
               "/reports/spend_by_month", "/assets", "/account"]
STAFF_PAGES = ["/backoffice", "/backoffice/contracts", "/backoffice/orders", "/backoffice/quotes"]


def admin_settings(portal):
    """A PAS admin's approval settings, the orders' filters, a custom catalog made from its
    rules with the products it allows, a group's rights, and favorites as the home page (set
    by the e-procurement admin on the favorites tab, undone at the end)."""
    page = portal.page
    portal.nav("nav.workflows").click()
    page.get_by_role("link", name=portal.t("settings.title")).click()
    page.wait_for_url("**/workflows/settings")
    reminder = page.get_by_label(portal.t("settings.reminder"))
    assert reminder.input_value() == "2"
    reminder.fill("3")
    page.get_by_role("button", name=portal.t("common.save")).click()
    page.get_by_text(portal.t("common.saved")).wait_for()
    assert portal.axe() == []
    page.reload()
    page.wait_for_selector("#page-title")
    assert page.get_by_label(portal.t("settings.reminder")).input_value() == "3"
    page.get_by_label(portal.t("settings.reminder")).fill("2")
    page.get_by_role("button", name=portal.t("common.save")).click()
    page.get_by_text(portal.t("common.saved")).wait_for()

    portal.nav("nav.orders").click()
    page.get_by_label(portal.t("orders.q")).fill("NO-SUCH-ORDER")
    page.get_by_role("button", name=portal.t("reports.apply")).click()
    page.wait_for_url(re.compile(r"/orders\?q=NO-SUCH-ORDER"))
    page.get_by_text(portal.t("orders.none")).wait_for()

    # a custom catalog from its rules, and the products it allows; a group's rights
    portal.goto("/company/catalogs")
    page.locator("summary", has_text=portal.t("admin.catalogs.new")).click()
    form = page.locator("form.catalog-form")
    name = f"Dell only {uuid.uuid4().hex[:6]}"
    form.get_by_label(portal.t("admin.name"), exact=True).fill(name)
    form.get_by_role("group", name=portal.t("admin.catalog.include"), exact=True).get_by_label(
        portal.t("catalog.manufacturer")).fill("Dell")
    form.get_by_role("button", name=portal.t("admin.catalogs.create")).click()
    page.get_by_role("heading", name=name).wait_for()
    makers = page.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert makers and set(makers) == {"Dell"}, makers
    assert portal.axe() == []
    portal.goto("/company/groups")
    page.locator("tbody a").first.click()
    page.wait_for_url(re.compile(r"/company/groups/\d+$"))
    page.get_by_role("group", name=portal.t("admin.roles"), exact=True).wait_for()
    assert portal.axe() == []

    portal.goto("/company/favorites")
    page.locator("summary", has_text=portal.t("favorites.add")).click()
    page.get_by_label(portal.t("favorites.title")).fill("Standard laptop")
    page.get_by_label(portal.t("favorites.value")).fill(LAPTOP)
    page.get_by_role("button", name=portal.t("favorites.add")).click()
    favorite = page.locator("tbody tr", has_text="Standard laptop")
    favorite.wait_for()
    home = page.get_by_label(portal.t("favorites.home"))
    home.check()
    page.locator("form.home-setting").get_by_role("button", name=portal.t("common.save")).click()
    page.locator("form.home-setting").get_by_text(portal.t("common.saved")).wait_for()
    portal.nav("nav.home").click()
    page.get_by_role("heading", name=portal.t("home.favorites")).wait_for()
    assert page.locator("main h2").first.inner_text() == portal.t("home.favorites")
    assert page.locator(".home-favorites.first .card", has_text="Standard laptop").count() == 1
    portal.goto("/company/favorites")
    page.get_by_label(portal.t("favorites.home")).uncheck()
    page.locator("form.home-setting").get_by_role("button", name=portal.t("common.save")).click()
    page.locator("form.home-setting").get_by_text(portal.t("common.saved")).wait_for()
    favorite.get_by_role("button", name=portal.t("common.delete")).click()
    favorite.wait_for(state="detached")


def staff_companies(portal, tag):
    """Staff find the demo company, open its page (users, contracts), save its employee
    purchase program (inactive: no price changes) and its PunchOut configuration."""
    page = portal.page
    portal.goto("/backoffice/companies")
    page.get_by_label(portal.t("bo.companies.search")).fill("northwind")
    page.get_by_role("button", name=portal.t("catalog.search.go")).click()
    page.wait_for_url(re.compile(r"/backoffice/companies\?q=northwind"))
    assert portal.axe() == []
    page.get_by_role("link", name="Northwind Traders").click()
    page.get_by_role("heading", name="Northwind Traders").wait_for()
    company_id = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("rowheader", name="demo.buyer", exact=True).count() == 1
    contracts = page.locator("section", has=page.get_by_role("heading", name=portal.t("bo.contracts"), exact=True))
    assert contracts.locator("tbody tr").count() >= 1
    assert portal.axe() == []
    epp = page.locator("section", has=page.get_by_role("heading", name=portal.t("bo.epp")))
    epp.get_by_label(portal.t("admin.name")).fill(f"Staff program {tag}")
    epp.get_by_label(portal.t("bo.epp.active")).uncheck()
    epp.get_by_role("button", name=portal.t("bo.epp.save")).click()
    epp.get_by_text(portal.t("bo.epp.saved", name=f"Staff program {tag}")).wait_for()

    page.get_by_role("link", name=re.compile(portal.t("bo.punchout.set") + "|" + portal.t("bo.punchout.edit"))).click()
    page.wait_for_url(f"**/backoffice/companies/{company_id}/punchout")
    page.get_by_label(portal.t("bo.punchout.from")).fill(f"NetworkID AN{tag}")
    page.get_by_label(portal.t("bo.punchout.identity"), exact=True).fill(f"AN{tag}-SENDER")
    page.get_by_label(portal.t("bo.punchout.secret"), exact=True).fill(f"secret-{tag}-portal")
    user = page.get_by_label(portal.t("bo.punchout.user"), exact=True)
    buyer = next(o for o in user.locator("option").all_inner_texts() if o.startswith("demo.buyer "))
    user.select_option(label=buyer)
    page.get_by_role("button", name=portal.t("common.save")).click()
    page.get_by_text(portal.t("common.saved")).wait_for()
    assert "/punchout/cxml/setup" in page.inner_text("main")
    assert portal.axe() == []


def tour(browser, system, staff_password):
    """Every other page opens without a script error, a CSP violation or a serious axe
    violation, for a company administrator and for staff; staff import products from a file
    and see the result of each rejected line."""
    for username, password, pages in (("demo.admin", DEMO_PASSWORD, ADMIN_PAGES),
                                      ("e2e.staff", staff_password, STAFF_PAGES)):
        portal = Portal(browser, system, "en")
        with evidence(portal, f"tour-{username}"):
            portal.sign_in(username, password)
            for path in pages:
                portal.goto(path)
                assert portal.page.locator(".notice.error").count() == 0, path
                assert portal.axe() == [], path
            if username == "demo.admin":
                admin_settings(portal)
            if username == "e2e.staff":
                staff_companies(portal, uuid.uuid4().hex[:8].upper())
                portal.goto("/backoffice/orders")
                portal.page.get_by_role("heading", name=portal.t("bo.orders.waiting")).wait_for()
                portal.page.locator("section table, section p.empty").first.wait_for()
                portal.goto("/backoffice/import")
                tag = uuid.uuid4().hex[:6].upper()
                csv = ("part_number,mfg_part_number,manufacturer,category,name,description,list_price,"
                       "currency,language,availability\n"
                       f"TOUR-{tag},M{tag},Dell,Notebooks,Tour laptop,Test,999.00,CAD,en,in_stock\n"
                       f"TOUR-{tag}-BAD,M{tag},Dell,Notebooks,Bad line,Test,not-a-price,CAD,en,in_stock\n")
                portal.page.get_by_label(portal.t("bo.import.file")).set_input_files(
                    files=[{"name": "products.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
                portal.page.get_by_role("button", name=portal.t("bo.import.go")).click()
                portal.page.get_by_text(portal.t("bo.import.done", imported=1, updated=0, rejected=1)).wait_for()
                assert portal.page.locator("table tbody tr").count() == 1
        portal.close()


SCENARIOS = {"flow": flow, "set_password_on_a_phone": set_password_on_a_phone,
             "sign_in_errors": sign_in_errors, "tour": tour}


def serve():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print("@@" + json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            try:
                result = SCENARIOS[command["scenario"]](browser, System(command["url"]),
                                                        **command.get("args", {}))
                reply = {"ok": True, "result": result}
            except BaseException:
                reply = {"ok": False, "error": traceback.format_exc()}
            print("@@" + json.dumps(reply, default=str), flush=True)
        browser.close()


if __name__ == "__main__":
    serve()
