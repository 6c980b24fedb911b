"""The gateway's HTTP server with identity and catalog on the real broker: a search page
(tens of kilobytes of JSON) on a kept-alive connection comes without the delayed-ACK wait,
and gzip-compressed for a client that accepts it."""
import csv
import gzip
import http.client
import io
import json
import socket
import statistics
import time
from urllib.parse import urlsplit

import pytest

from services.catalog.demo import generate_products
from services.catalog.importer import CSV_COLUMNS
from services.common.http import NoDelayWebServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PAGE = "/products?limit=50"


@pytest.fixture
def buyer(api):
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(CSV_COLUMNS)
    for row in generate_products(200):
        writer.writerow([row[c] for c in CSV_COLUMNS])
    staff = api["login"]("staff")
    r = staff.post(api["base"] + "/backoffice/products/import", data=rows.getvalue().encode(),
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["imported"] == 200, r.text
    session = api["login"]("demo.buyer")
    parts = urlsplit(api["base"])
    return {"session": session, "host": parts.hostname, "port": parts.port,
            "path": parts.path + PAGE,
            "headers": {"Authorization": session.headers["Authorization"], "Accept-Encoding": "identity"}}


def test_every_gateway_endpoint_is_served_with_tcp_nodelay(api):
    servers = {ep.server for ep in api["gateway"].entrypoints if hasattr(ep, "server")}
    assert len(servers) == 1 and isinstance(servers.pop(), NoDelayWebServer)


def _timed_get(conn, buyer):
    started = time.perf_counter()
    conn.request("GET", buyer["path"], headers=buyer["headers"])
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200, body
    return time.perf_counter() - started, len(body)


def test_a_search_page_on_a_kept_alive_connection_comes_as_fast_as_on_a_fresh_one(buyer):
    kept = http.client.HTTPConnection(buyer["host"], buyer["port"], timeout=10)
    _, size = _timed_get(kept, buyer)
    assert size > 20_000  # large enough to leave in several segments
    kept.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # only the server's side counts
    on_kept, on_fresh = [], []
    # one of each in turn, so that both see the same load on the machine
    for _ in range(15):
        on_kept.append(_timed_get(kept, buyer)[0])
        fresh = http.client.HTTPConnection(buyer["host"], buyer["port"], timeout=10)
        on_fresh.append(_timed_get(fresh, buyer)[0])
        fresh.close()
    kept.close()
    # with Nagle's algorithm on the server, each reply on the kept-alive connection waited
    # ~40 ms for the client's delayed ACK
    assert statistics.median(on_kept) < statistics.median(on_fresh) + 0.025, (on_kept, on_fresh)


def test_a_search_page_is_gzipped_for_a_client_that_accepts_it(api, buyer):
    session, url = buyer["session"], api["base"] + PAGE
    compressed = session.get(url, headers={"Accept-Encoding": "gzip"}, stream=True)
    raw = compressed.raw.read(decode_content=False)
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert compressed.headers["Vary"] == "Accept-Encoding"
    plain = session.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    assert json.loads(gzip.decompress(raw)) == plain.json()
    assert len(raw) * 3 < len(plain.content)
    assert plain.headers["X-Request-Id"] and compressed.headers["X-Request-Id"]

    # a small reply is not worth compressing; problem+json replies follow the same rules
    missing = session.get(api["base"] + "/products/NOPE-1", headers={"Accept-Encoding": "gzip"})
    assert missing.status_code == 404 and "Content-Encoding" not in missing.headers
