"""Operations endpoints: health, readiness, metrics, the OpenAPI document and /docs."""
import functools
import json
import mimetypes
from pathlib import Path

import eventlet
import swagger_ui_bundle
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.routing import Map, PathConverter, Rule
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import RoutingException
from werkzeug.wrappers import Response

from services.common.config import DATA_SERVICES
from services.common.context import CallerContext
from services.common.http import HttpEntrypoint, http
from services.gateway.api import API_PREFIX, endpoints_of, problem
from services.gateway.openapi import build_spec

DOCS_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Procura API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script>
SwaggerUIBundle({url: "%s/openapi.json", dom_id: "#ui"});</script></body></html>""" % API_PREFIX

# every method a client may send, so that werkzeug never answers for the API with its own
# HTML 405 listing every method of every route at the path, the catch-all's included
ANY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY")
_ROUTES: dict = {}  # service class -> its routes, bound for matching


class _AnyPath(PathConverter):
    """Any rest of a path, newlines included (werkzeug's `path` stops at one), so that no
    path under the API is left to werkzeug's HTML 404."""
    regex = "(?s:.+)"
    part_isolating = False


class _CatchAllRule(Rule):
    def get_converter(self, variable_name, converter_name, args, kwargs):
        return _AnyPath(self.map)


class UnknownEndpoint(HttpEntrypoint):
    """The route of every path under the API that no other route takes."""

    def get_url_rule(self):
        return _CatchAllRule(self.url, methods=self.method.split(","))


@functools.cache
def openapi_document(service_cls) -> str:
    """The OpenAPI document of a gateway class, as JSON; built once (it never changes while
    the process runs)."""
    return json.dumps(build_spec(endpoints_of(service_cls)))


class OpsRoutes:

    @http("GET", "/healthz")
    def healthz(self, request):
        return Response(json.dumps({"status": "ok"}), mimetype="application/json")

    @http("GET", "/readyz")
    def readyz(self, request):
        ctx = CallerContext.system()
        results = {}

        def ping(service):
            try:
                getattr(self, f"{service}_rpc").ping(ctx)
                return service, "ok"
            except Exception as exc:  # any failure means not ready; say which
                return service, f"unavailable: {type(exc).__name__}"

        pool = eventlet.GreenPool(len(DATA_SERVICES))
        for service, state in pool.imap(ping, DATA_SERVICES):
            results[service] = state
        ready = all(v == "ok" for v in results.values())
        return Response(json.dumps({"ready": ready, "services": results}),
                        status=200 if ready else 503, mimetype="application/json",
                        headers={} if ready else {"Retry-After": "5"})

    @http("GET", "/metrics")
    def metrics_page(self, request):
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    @http("GET", API_PREFIX + "/openapi.json")
    def openapi_json(self, request):
        return Response(openapi_document(type(self)), mimetype="application/json")

    @http("GET", "/docs")
    def docs(self, request):
        return Response(DOCS_PAGE, mimetype="text/html")

    @http("GET", "/docs/<path:asset>")
    def docs_asset(self, request, asset):
        path = (DOCS_ASSETS / asset).resolve()
        if DOCS_ASSETS not in path.parents or not path.is_file():
            return Response("not found", status=404)
        return Response(path.read_bytes(), mimetype=mimetypes.guess_type(path.name)[0] or
                        "application/octet-stream")

    @UnknownEndpoint.decorator(",".join(ANY_METHOD), API_PREFIX + "/<path:unknown>")
    def unknown_endpoint(self, request, unknown):
        # werkzeug tries the declared routes first, so this answers only a path no route has,
        # or a method the path's routes do not take
        allowed = allowed_methods(type(self), request.path)
        if allowed:
            return problem(405, "method_not_allowed",
                           f"{request.path} answers {', '.join(allowed)}, not {request.method}",
                           headers={"Allow": ", ".join(allowed)})
        return problem(404, "no_such_endpoint", f"no endpoint at {request.path}")


def allowed_methods(service_cls, path) -> list:
    """The methods the service's routes take at `path` (HEAD wherever GET is), sorted;
    empty when no route has the path. Where routes with fewer parameters also take the
    path (POST /products/lookup beside GET /products/{part_number}), theirs only."""
    if service_cls not in _ROUTES:
        routes = Map()
        for attr in vars_of(service_cls):
            for entrypoint in getattr(attr, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entrypoint, HttpEntrypoint) and \
                        not isinstance(entrypoint, UnknownEndpoint):
                    routes.add(Rule(entrypoint.url, methods=entrypoint.method.split(",")))
        _ROUTES[service_cls] = routes.bind("")
    parameters = {}
    for method in (*ANY_METHOD, "HEAD"):
        try:
            parameters[method] = len(_ROUTES[service_cls].match(path, method=method)[1])
        except (HTTPException, RoutingException):  # no route, or a redirect to merge `//`
            continue
    fewest = min(parameters.values(), default=0)
    return sorted(method for method, count in parameters.items() if count == fewest)


def vars_of(cls):
    return [attr for klass in cls.__mro__ for attr in vars(klass).values()]
