"""How fast the portal shows its first meaningful page: Procura started as `make run` starts
it (demo data, SQLite unless PROCURA_TEST_DB=postgresql), Debian's chromium driven by
Playwright, signed in as demo.buyer. For each page, the time from navigation start until the
page's heading is on screen (the portal has rendered it from the API), over a fresh load
(empty cache) and warm loads (cache revalidated by ETag), median of --runs.

    .venv/bin/python bench/portal_pages.py [--url http://127.0.0.1:8080] [--runs 7]

Without --url it starts its own system. Prints one line per page; the goal is under 1 s.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.portal_browser import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD  # noqa: E402

PAGES = ["/", "/search?q=notebook", "/orders", "/carts", "/approvals", "/account"]


def measure(page, url):
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("#page-title")
    return time.perf_counter() - start


def run(url, runs):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/login")
        page.fill("input[name=username]", "demo.buyer")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(url + "/")
        print(f"{'page':24} {'fresh ms':>9} {'warm ms (median)':>17}")
        for path in PAGES:
            cold_context = browser.new_context(storage_state=context.storage_state())
            cold = cold_context.new_page()
            fresh = measure(cold, url + path)
            cold_context.close()
            warm = statistics.median(measure(page, url + path) for _ in range(runs))
            print(f"{path:24} {fresh * 1000:9.0f} {warm * 1000:17.0f}")
        browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running Procura (default: start one)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.url:
        run(args.url.rstrip("/"), args.runs)
        return
    from tests.support.system import launch_system
    with tempfile.TemporaryDirectory() as var, launch_system(Path(var), quick_timers=False) as system:
        run(system.url, args.runs)


if __name__ == "__main__":
    main()
