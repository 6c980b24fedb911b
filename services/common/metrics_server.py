"""Each service's Prometheus metrics endpoint, on a server that sets TCP_NODELAY on every
accepted socket (why: services/common/http.py). It needs only the standard library and
prometheus_client, so every service can serve it without loading a web framework."""
import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer


def set_no_delay(sock):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _NoDelayMetricsServer(ThreadingWSGIServer):
    def get_request(self):
        sock, address = super().get_request()
        set_no_delay(sock)
        return sock, address


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        """Scrapes come every few seconds; logging each would drown the service's log."""


def start_metrics_server(port, addr="127.0.0.1", registry=REGISTRY):
    """Serve `registry` on http://addr:port/metrics in a daemon thread, as
    prometheus_client.start_http_server does, on a server that sets TCP_NODELAY.
    Raises OSError when the port is taken. Returns the server."""
    family = socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_cls = type("MetricsServer", (_NoDelayMetricsServer,), {"address_family": family})
    server = make_server(addr, port, make_wsgi_app(registry), server_cls, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
