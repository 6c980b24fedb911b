"""The browser side of tests/e2e/test_punchout.py, run in a process of its own (as
portal_browser.py, whose Portal it uses, says why): a buyer arrives from a procurement system
through a start link, adds a product at the contract price, and transfers the cart; the
handoff page's form posts it, in the browser, to the procurement system's URL."""
import json
import sys
import traceback

from portal_browser import CHROMIUM, CHROMIUM_ARGS, Portal, System, evidence


def punch_out(browser, system, start_url, part_number, hook_url, quantity=2):
    """From the start link to the cart received by the buyer system; returns the text the
    buyer system's page shows."""
    portal = Portal(browser, system, "en")
    page = portal.page
    try:
        page.goto(start_url)
        page.wait_for_url("**/punchout")
        page.get_by_role("heading", name=portal.t("po.title"), exact=True).wait_for()
        # the portal knows it is in punch-out mode: the menu leads back to the cart
        portal.nav("nav.punchout").wait_for()
        portal.goto(f"/products/{part_number}")
        page.get_by_label(portal.t("catalog.quantity")).fill(str(quantity))
        page.get_by_role("button", name=portal.t("catalog.add")).click()
        page.locator(".notice.ok").wait_for()
        portal.nav("nav.punchout").click()
        page.get_by_role("heading", name=portal.t("po.title"), exact=True).wait_for()
        page.locator("main table").get_by_text(part_number, exact=True).wait_for()
        assert portal.axe() == [], "the punch-out page has serious accessibility problems"
        page.locator("#punchout-transfer").click()
        # the handoff page posts the form by itself; the browser lands on the buyer system
        page.wait_for_url(hook_url + "**", timeout=20000)
        page.get_by_text("Cart received").wait_for()
        assert portal.problems == [], portal.problems
        return page.inner_text("body")
    except BaseException:
        evidence(portal, "punchout")
        raise
    finally:
        portal.close()


SCENARIOS = {"punch_out": punch_out}


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
