"""The unsubscribe link through the gateway: GET shows what it is for without acting
(link scanners open every link), POST with `List-Unsubscribe=One-Click` unsubscribes
(RFC 8058). No token is needed beyond the link's own."""
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from services.gateway.service import GatewayService
from tests.integration.notifications.conftest import STAFF
from tests.integration.notifications.test_unsubscribe import report
from tests.support.waiting import wait_for
from tests.unit.notifications.smtp_server import free_port

pytestmark = pytest.mark.integration


def test_get_confirms_post_unsubscribes(notifications, publish, smtp_server, notifications_rpc,
                                        start_service):
    port = free_port()
    start_service(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    publish([report([{"email": "chloe@acme.example", "locale": "fr"}])])
    wait_for(lambda: smtp_server.received, message="the report")
    link = smtp_server.received[0].message["List-Unsubscribe"].split(",")[0].strip(" <>")
    token = parse_qs(urlparse(link).query)["token"][0]
    url = f"http://127.0.0.1:{port}/api/v1/unsubscribe"

    page = requests.get(url, params={"token": token, "utm_source": "mail"},
                        headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "c***@acme.example" in page.text and "Me désabonner" in page.text
    assert 'method="post"' in page.text
    as_json = requests.get(url, params={"token": token}, timeout=10).json()
    assert as_json == {"email": "c***@acme.example", "stream": "report_deliveries",
                       "locale": "fr", "unsubscribed": False}
    assert notifications_rpc.recipient_status(STAFF, "chloe@acme.example")["suppressed"] == []

    # what a mail provider sends for one-click unsubscribe
    done = requests.post(url, params={"token": token}, data="List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert done.status_code == 200
    assert done.json() == {"email": "c***@acme.example", "stream": "report_deliveries",
                           "locale": "fr", "unsubscribed": True}
    assert notifications_rpc.recipient_status(STAFF, "chloe@acme.example")["suppressed"] == \
        ["report_deliveries"]
    browser = requests.post(url, params={"token": token}, headers={"Accept": "text/html",
                                                                   "Accept-Language": "en"},
                            timeout=10)
    assert browser.status_code == 200 and "will receive no more scheduled reports" in browser.text

    missing = requests.post(url, params={"token": "nope"}, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["code"] == "unsubscribe_link_invalid"
    assert requests.get(url, timeout=10).status_code == 422  # no token at all
