"""Optional mail over HTTP on the running system: an announcement carries RFC 8058
headers, its one-click link unsubscribes, and the next announcement is not sent."""
import re
import uuid

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_one_click_unsubscribe_end_to_end(system, staff):
    email = f"reader.{uuid.uuid4().hex[:6]}@northwind.test"
    first = staff.post(system.api + "/backoffice/announcements", json={
        "subject": "Nouveautés Lenovo", "body": "Les ThinkPad T14 Gen 5 sont arrivés.",
        "recipients": [{"email": email, "locale": "fr"}]})
    assert first.status_code == 202, first.text
    assert first.json()["queued"] == 1

    mail = system.wait_mail(lambda m: email in str(m["To"]))
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"<(https?://[^>]+)>", mail["List-Unsubscribe"]).group(1)
    token = re.search(r"token=([^&>]+)", link).group(1)
    assert mail.get_body(preferencelist=("html",)) is not None
    assert "ThinkPad" in mail.get_body(preferencelist=("plain",)).get_content()

    # GET only shows the page (mail scanners open links); POST is the one-click unsubscribe
    shown = requests.get(system.api + "/unsubscribe", params={"token": token})
    assert shown.status_code == 200 and shown.json()["unsubscribed"] is False
    done = requests.post(system.api + "/unsubscribe", params={"token": token},
                         data="List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and done.json()["unsubscribed"] is True
    assert requests.post(system.api + "/unsubscribe", params={"token": "forged"}).status_code == 404

    second = staff.post(system.api + "/backoffice/announcements", json={
        "subject": "Offres HP", "body": "…", "recipients": [{"email": email, "locale": "fr"}]})
    assert second.json() == {**second.json(), "queued": 0, "suppressed": 1}


def test_announcements_are_staff_only(system):
    buyer = system.session("demo.buyer")
    r = buyer.post(system.api + "/backoffice/announcements",
                   json={"subject": "x", "body": "y", "recipients": [{"email": "a@b.test"}]})
    assert r.status_code == 403
