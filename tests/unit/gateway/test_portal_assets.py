"""The portal's static files: every text key the pages use exists in both languages, the
page loads no inline script and nothing from another origin, and every section the router
knows is served by the gateway."""
import json
import re
import subprocess
from pathlib import Path

from services.gateway.routes.portal import ASSETS, PORTAL, SECTIONS

JS = sorted((ASSETS / "js").rglob("*.js"))


def strings():
    text = (ASSETS / "js" / "i18n.js").read_text()
    return dict(re.findall(r'^\s*"([\w.]+)": \[("(?:[^"\\]|\\.)*", "(?:[^"\\]|\\.)*")\],$', text, re.M))


def test_every_literal_key_has_both_languages():
    known = strings()
    used = set()
    for path in JS:
        used |= set(re.findall(r'\bt\("([a-z_]+\.[\w.]+)"', path.read_text()))
    missing = sorted(k for k in used if k not in known)
    assert not missing, missing
    for key, pair in known.items():
        en, fr = json.loads(f"[{pair}]")
        assert en.strip() and fr.strip(), key


def test_statuses_and_columns_are_translated():
    known = strings()
    for status in ("pending_approval", "approved", "submitted", "processing", "shipped",
                   "delivered", "invoiced", "rejected", "cancelled"):
        assert f"status.{status}" in known
    for column in ("month", "spend", "manufacturer", "quantity", "orders", "product"):
        assert f"col.{column}" in known


def test_no_inline_script_nor_remote_asset():
    html = (PORTAL / "index.html").read_text()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag
    assert all(not body.strip() for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S))
    for path in [PORTAL / "index.html", *JS, ASSETS / "style.css"]:
        text = path.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", text), path
        assert ".innerHTML" not in text and "eval(" not in text, path
        assert not re.search(r"\bimport\s*\(?\s*[\"']https?:", text), path


def test_router_sections_are_served():
    app = (ASSETS / "js" / "app.js").read_text()
    firsts = set(re.findall(r"\[/\^\\/([a-z-]+)", app))
    assert firsts <= set(SECTIONS), firsts - set(SECTIONS)


def test_email_links_reach_portal_pages():
    """The paths notifications puts in emails (services/notifications/domain.py) are pages."""
    from services.notifications import domain
    from urllib.parse import urlsplit
    paths = [urlsplit(v).path.lstrip("/") for v in domain.links().values()]
    paths += ["set-password", "reset-password", "orders/R-1", "approvals/1"]
    for path in paths:
        first = path.split("/")[0].split("?")[0]
        assert first == "" or first in SECTIONS, path


def test_modules_parse():
    node = subprocess.run(["which", "node"], capture_output=True, text=True).stdout.strip()
    if not node:
        return  # the browser tests load every module anyway
    for path in JS:
        r = subprocess.run([node, "--check", "--input-type=module"], input=path.read_text(),
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{path}: {r.stderr}"
