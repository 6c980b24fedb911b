"""The HTTP servers (services/common/http.py, metrics_server.py): TCP_NODELAY on every accepted socket of the
gateway's web server and of the metrics server, so that a large reply on a kept-alive
connection does not wait for the client's delayed acknowledgement; gzip replies."""
import gzip
import http.client
import json
import os
import socket
import statistics
import time

import pytest
import requests
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from services.common.http import GZIP_MIN_BYTES, gzip_response
from services.common.http import http as http_entrypoint
from services.common.metrics_server import start_metrics_server
from tests.support.system import free_port

REPLY_BYTES = 30 * 1024
OPAQUE = os.urandom(REPLY_BYTES)  # random bytes: the size on the wire is the size here


def served_socket(request):
    # eventlet.wsgi keeps the accepted socket on its request input object; there is no
    # public way to reach it from a handler
    return request.environ["eventlet.input"]._sock


class Web:
    name = "web"

    @http_entrypoint("GET", "/opaque")
    def opaque(self, request):
        return Response(OPAQUE, mimetype="application/octet-stream")

    @http_entrypoint("GET", "/nodelay")
    def nodelay(self, request):
        value = served_socket(request).getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        return Response(json.dumps({"nodelay": value}), mimetype="application/json")

    @http_entrypoint("GET", "/json/<int:size>")
    def json_of(self, request, size):
        return Response(json.dumps({"text": "x" * size}), mimetype="application/json")

    @http_entrypoint("GET", "/csv")
    def csv(self, request):
        return Response((f"{i},row {i}\n" for i in range(5000)), mimetype="text/csv")


@pytest.fixture
def web(container_factory):
    port = free_port()
    container = container_factory(Web, {"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                        "AMQP_URI": "memory://"})
    container.start()
    return port


def test_accepted_sockets_have_tcp_nodelay(web):
    reply = requests.get(f"http://127.0.0.1:{web}/nodelay")
    assert reply.json() == {"nodelay": 1}


def _get(conn, path):
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    assert response.status == 200 and len(body) == REPLY_BYTES
    return time.perf_counter() - started


def test_a_large_reply_on_a_kept_alive_connection_comes_as_fast_as_on_a_fresh_one(web):
    """With Nagle's algorithm on, the last segment of the reply waits for the client's
    delayed ACK: ~40 ms more on a kept-alive connection than on a fresh one."""
    kept = http.client.HTTPConnection("127.0.0.1", web, timeout=10)
    _get(kept, "/opaque")
    on_kept = [_get(kept, "/opaque") for _ in range(9)]
    kept.close()
    on_fresh = []
    for _ in range(9):
        fresh = http.client.HTTPConnection("127.0.0.1", web, timeout=10)
        on_fresh.append(_get(fresh, "/opaque"))
        fresh.close()
    assert statistics.median(on_kept) < statistics.median(on_fresh) + 0.025, (on_kept, on_fresh)


def test_replies_are_gzipped_when_the_client_accepts_it(web):
    base = f"http://127.0.0.1:{web}"
    big = requests.get(f"{base}/json/30000")  # requests sends Accept-Encoding: gzip, deflate
    assert big.headers["Content-Encoding"] == "gzip" and big.headers["Vary"] == "Accept-Encoding"
    assert int(big.headers["Content-Length"]) < 1000 and len(big.json()["text"]) == 30000

    plain = requests.get(f"{base}/json/30000", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.headers["Vary"] == "Accept-Encoding"
    assert len(plain.content) > 30000

    small = requests.get(f"{base}/json/100")
    assert "Content-Encoding" not in small.headers and small.json() == {"text": "x" * 100}

    opaque = requests.get(f"{base}/opaque")  # not a text type: compressing it gains nothing
    assert "Content-Encoding" not in opaque.headers and opaque.content == OPAQUE


def test_a_streamed_reply_is_gzipped_as_it_streams(web):
    reply = requests.get(f"http://127.0.0.1:{web}/csv")
    assert reply.headers["Content-Encoding"] == "gzip"
    assert reply.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in reply.headers
    assert reply.text == "".join(f"{i},row {i}\n" for i in range(5000))


def _request(accept_encoding=None, method="GET"):
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding is not None else {}
    return Request(EnvironBuilder(method=method, headers=headers).get_environ())


def _json(size=2 * GZIP_MIN_BYTES, **kwargs):
    return Response(json.dumps({"text": "y" * size}), mimetype="application/json", **kwargs)


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*"])
def test_gzip_when_accepted(accept):
    response = gzip_response(_request(accept), _json())
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.get_data())) == {"text": "y" * 2 * GZIP_MIN_BYTES}
    assert int(response.headers["Content-Length"]) == len(response.get_data())


@pytest.mark.parametrize("accept", [None, "", "identity", "gzip;q=0", "br"])
def test_no_gzip_unless_accepted(accept):
    response = gzip_response(_request(accept), _json())
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"
    assert json.loads(response.get_data())


def test_left_alone():
    request = _request("gzip")
    small = gzip_response(request, _json(size=10))
    assert "Content-Encoding" not in small.headers and small.headers["Vary"] == "Accept-Encoding"

    already = _json(headers={"Content-Encoding": "br"})
    body = already.get_data()
    assert gzip_response(request, already).get_data() == body  # never encoded twice
    assert already.headers["Content-Encoding"] == "br"

    image = Response(b"\x89PNG" + b"\0" * 5000, mimetype="image/png")
    assert "Content-Encoding" not in gzip_response(request, image).headers

    assert "Content-Encoding" not in gzip_response(request, Response(status=204)).headers
    assert "Content-Encoding" not in gzip_response(_request("gzip", "HEAD"), _json()).headers


def test_a_streamed_body_is_compressed_lazily_and_closed():
    produced, closed = [], []

    class Rows:
        def __iter__(self):
            for i in range(1000):
                produced.append(i)
                yield f"{i},row\n"

        def close(self):
            closed.append(True)

    response = gzip_response(_request("gzip"), Response(Rows(), mimetype="text/csv"))
    assert response.headers["Content-Encoding"] == "gzip" and "Content-Length" not in response.headers
    assert produced == []  # nothing gathered before the body is sent
    body = b"".join(response.iter_encoded())
    response.close()
    assert gzip.decompress(body).decode() == "".join(f"{i},row\n" for i in range(1000))
    assert closed == [True]


def test_the_metrics_server_sets_tcp_nodelay_on_accepted_sockets():
    server = start_metrics_server(0, "127.0.0.1")
    port = server.server_address[1]
    try:
        reply = requests.get(f"http://127.0.0.1:{port}/metrics")
        assert reply.status_code == 200 and "python_info" in reply.text
    finally:
        server.shutdown()
    # with the serving thread stopped, accept the next connection here to look at it
    with socket.create_connection(("127.0.0.1", port)):
        accepted, _ = server.get_request()
        try:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        finally:
            accepted.close()
    server.server_close()
