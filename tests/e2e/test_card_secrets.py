"""Saved payment cards over HTTP, then a search of every service's database and of every
process's output for the card numbers and security codes used: they must appear nowhere.

The CVCs are chosen to be distinctive and are checked to be absent before the cards are
added, so that finding one afterwards means it leaked. What could hold any three or four
digits by chance in a log line (its timestamp's milliseconds, process ids, ports) is taken
out before searching."""
import re
import sqlite3
import uuid
from datetime import date
from pathlib import Path

import pytest

from services.common.config import DATA_SERVICES
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "Cards-e2e-2026!"
VISA, MASTERCARD, AMEX = "4111111111111111", "5555555555554444", "378282246310005"
BAD_LUHN = "4111111111111112"
CVC, AMEX_CVC = "737", "8421"
NEXT_YEAR = date.today().year + 1
# what any three or four digits may be by chance in a log line: the time with its
# milliseconds, process ids, ports
LOG_NOISE = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]\d+|pid[= ]\d+|port \d+|"
                       rb"127\.0\.0\.1:\d+")
# random identifiers (event ids, request ids): a group of four digits in one is not a CVC
UUIDS = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   rb"[0-9a-fA-F]{12}")


def card(number, cvc=CVC, **changes):
    return {"number": number, "exp_month": 9, "exp_year": NEXT_YEAR, "cvc": cvc,
            "holder_first_name": "Camille", "holder_last_name": "Lévesque",
            "nickname": "Travel", "consent": True, **changes}


def number_pattern(number):
    # also as typed with spaces or dashes between groups
    return re.compile("[ -]?".join(number).encode())


def code_pattern(code):
    # on its own, not as part of a longer number, word or token
    return re.compile(rb"(?<![0-9A-Za-z])" + code.encode() + rb"(?![0-9A-Za-z])")


SECRETS = {**{f"card number {n}": number_pattern(n) for n in (VISA, MASTERCARD, AMEX)},
           f"CVC {CVC}": code_pattern(CVC), f"CVC {AMEX_CVC}": code_pattern(AMEX_CVC)}


# ---------------------------------------------------------------- what to search

def database_dumps(system):
    """(where, text) for every row of every table of every service's database, each
    row as text; for SQLite also the raw bytes of the files (deleted rows linger there)."""
    for service in DATA_SERVICES:
        url = system.env[f"{service.upper()}_DATABASE_URL"]
        if url.startswith("sqlite"):
            path = Path(url.split(":///", 1)[1])
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
                    yield f"{service}.{table}", "\n".join(
                        " | ".join(str(v) for v in row) for row in rows).encode()
            finally:
                conn.close()
            for file in path.parent.glob(path.name + "*"):  # the file, -wal and -shm
                yield f"file {file.name}", file.read_bytes()
        else:
            import psycopg2
            conn = psycopg2.connect(url)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
                    for (table,) in cur.fetchall():
                        cur.execute(f'SELECT t::text FROM "{table}" t')
                        yield f"{service}.{table}", "\n".join(
                            row[0] for row in cur.fetchall()).encode()
            finally:
                conn.close()


def output_files(system):
    """(where, bytes) for the system log (every process's output) and every other file
    under var/ (mail, markers), databases excepted."""
    system.log.flush()
    for file in sorted(system.var.rglob("*")):
        if file.is_file() and ".db" not in file.name:
            data = file.read_bytes()
            if file.name == "system.log":
                data = LOG_NOISE.sub(b"<noise>", data)
            yield f"file {file.relative_to(system.var)}", data


def findings(system):
    found = []
    for where, data in [*database_dumps(system), *output_files(system)]:
        data = UUIDS.sub(b"<uuid>", data)
        for name, pattern in SECRETS.items():
            match = pattern.search(data)
            if match:
                context = data[max(0, match.start() - 80):match.end() + 80]
                found.append(f"{name} in {where}: ...{context!r}...")
    return found


# ---------------------------------------------------------------- the test

@pytest.fixture(scope="module")
def buyer(system, staff):
    """A company user with a password, made through the API."""
    return system.new_company(staff, "Cardholder", password=PASSWORD).admin


def test_card_numbers_and_cvcs_are_never_stored_or_logged(system, buyer):
    api = system.api
    before = findings(system)
    assert before == [], "the secrets must be absent before the test:\n" + "\n".join(before)

    # valid cards, one typed with spaces and one with dashes
    added = {}
    for brand, number, cvc in (("Visa", "4111 1111 1111 1111", CVC),
                               ("Mastercard", "5555-5555-5555-4444", CVC),
                               ("Amex", AMEX, AMEX_CVC)):
        r = buyer.post(api + "/me/payment-cards", json=card(number, cvc, nickname=brand))
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["brand"], body["last4"], body["exp_year"]) == (brand, number[-4:], NEXT_YEAR)
        assert body["consent_at"] and "number" not in body and "cvc" not in body
        added[brand] = body

    # refused cards; no reply repeats what was typed
    refusals = [
        (card(BAD_LUHN), "number"),
        (card(VISA, exp_month=1, exp_year=date.today().year - 1), "exp_year"),
        (card(AMEX, CVC), "cvc"),  # an Amex code has four digits
        (card(VISA, AMEX_CVC), "cvc"),
        (card("6" * 16), "number"),
    ]
    for body, field in refusals:
        r = buyer.post(api + "/me/payment-cards", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_card" and field in r.json()["errors"], r.text
        assert body["number"] not in r.text and f'"{body["cvc"]}"' not in r.text
    without_consent = card(VISA)
    del without_consent["consent"]
    for body in (without_consent, card(VISA, consent=False)):
        r = buyer.post(api + "/me/payment-cards", json=body)
        assert r.status_code == 422 and r.json()["code"] == "consent_required", r.text
        assert "consent" in r.json()["errors"]
    for missing in ("nickname", "holder_first_name", "holder_last_name"):
        body = card(MASTERCARD)
        del body[missing]
        r = buyer.post(api + "/me/payment-cards", json=body)
        assert r.status_code == 422 and missing in r.json()["errors"], r.text
    r = buyer.post(api + "/me/payment-cards", json=card(MASTERCARD, nickname="   "))
    assert r.status_code == 422 and "nickname" in r.json()["errors"]

    # an Idempotency-Key replays the first card instead of saving a second one
    key = uuid.uuid4().hex
    first = buyer.post(api + "/me/payment-cards", json=card(VISA, nickname="Retry"),
                       headers={"Idempotency-Key": key})
    again = buyer.post(api + "/me/payment-cards", json=card(VISA, nickname="Retry"),
                       headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    added["Retry"] = first.json()

    listed = buyer.get(api + "/me/payment-cards").json()["items"]
    assert {c["id"] for c in listed} == {c["id"] for c in added.values()}
    assert sorted(c["last4"] for c in listed) == ["0005", "1111", "1111", "4444"]
    for c in listed:
        assert set(c) >= {"brand", "last4", "exp_month", "exp_year", "holder_first_name",
                          "holder_last_name", "nickname", "consent_at"}
        assert not {"number", "cvc", "gateway_token"} & set(c)

    r = buyer.delete(api + f"/me/payment-cards/{added['Mastercard']['id']}")
    assert r.status_code == 204
    assert buyer.delete(api + f"/me/payment-cards/{added['Mastercard']['id']}").status_code == 404
    listed = buyer.get(api + "/me/payment-cards").json()["items"]
    assert added["Mastercard"]["id"] not in {c["id"] for c in listed} and len(listed) == 3

    # let every event about the cards be published and handled before searching
    wait_for(lambda: relayed(system, "identity"), timeout=30,
             message="identity's outbox to be relayed")
    wait_for(lambda: system.handled("identity"), timeout=30,
             message="identity's events to be handled")
    found = findings(system)
    assert found == [], "card secrets found:\n" + "\n".join(found)


def relayed(system, service):
    """Whether the relay has tried every event `service` wrote (those no one listens to
    stay unsent, with attempts counted)."""
    from sqlalchemy import func, select

    from services.common.engines import open_session
    module = __import__(f"services.{service}.models", fromlist=["Base"])
    outbox = module.Base.OutboxEvent
    session = open_session(service, module.Base, system.env[f"{service.upper()}_DATABASE_URL"])
    try:
        return not session.scalar(select(func.count()).select_from(outbox).where(
            outbox.sent_at.is_(None), outbox.attempts == 0))
    finally:
        session.close()
        session.get_bind().dispose()
