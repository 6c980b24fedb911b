"""Procura's HTTP servers: the gateway's web server (nameko's, on eventlet.wsgi) here, and
each service's Prometheus metrics endpoint (services/common/metrics_server.py, kept apart so
that a service without HTTP entrypoints never loads nameko.web and werkzeug).

Both write a reply in several `send`s (headers, then the body, then the rest of the body in
chunks). With Nagle's algorithm on, the last small segment of a reply waits until the client
acknowledges the previous ones, and a client on a kept-alive connection delays that
acknowledgement (40 ms on Linux): every reply larger than a few kilobytes took ~45 ms more on
a kept-alive connection than on a fresh one. Every accepted socket therefore gets TCP_NODELAY.

The gateway's replies are also gzip-compressed when the client accepts it (a search page is
~27 KB of JSON); see `gzip_response`.
"""
import gzip
import logging
import zlib

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer

from services.common.metrics_server import set_no_delay

log = logging.getLogger(__name__)

GZIP_MIN_BYTES = 1024  # below this, compressing saves less than it costs
GZIP_LEVEL = 6


# ---- the gateway's web server


class NoDelayWebServer(WebServer):
    """nameko's WebServer, with TCP_NODELAY on every accepted connection."""

    def process_request(self, sock, address):
        set_no_delay(sock)
        super().process_request(sock, address)


class HttpEntrypoint(HttpRequestHandler):
    """nameko's `http` entrypoint on the NoDelayWebServer, with gzip-compressed replies.

    A shared extension is shared by class: every HTTP entrypoint of one service must be this
    one, or two servers would try to bind the same address."""

    server = NoDelayWebServer()

    def handle_request(self, request):
        return gzip_response(request, super().handle_request(request))


http = HttpEntrypoint.decorator


def _compressible(mimetype):
    return mimetype.startswith("text/") or mimetype.endswith(("json", "xml", "javascript"))


def gzip_response(request, response, min_bytes=GZIP_MIN_BYTES):
    """Compress `response` with gzip when the request accepts it. A body known in full is
    compressed when it has at least `min_bytes`; a streamed body (a CSV export) is compressed
    as it streams, never gathered first. Already encoded bodies, bodyless statuses and
    binary types are left as they are."""
    if (request.method == "HEAD" or response.status_code < 200
            or response.status_code in (204, 206, 304)
            or "Content-Encoding" in response.headers or not _compressible(response.mimetype or "")):
        return response
    # caches must keep the compressed and the plain reply apart, whichever this one is
    response.vary.add("Accept-Encoding")
    if not request.accept_encodings["gzip"]:
        return response
    if response.is_streamed:
        response.response = _gzip_stream(response.iter_encoded(), response.response)
        response.headers.pop("Content-Length", None)
    else:
        body = response.get_data()
        if len(body) < min_bytes:
            return response
        response.set_data(gzip.compress(body, GZIP_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def _gzip_stream(chunks, source):
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    try:
        for chunk in chunks:
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()
    finally:
        # the response now holds this generator, so close the body it replaced
        close = getattr(source, "close", None)
        if close is not None:
            close()
