"""The gateway's routes as its web server matches them: a method a path does not have is a
405 problem whose `Allow` lists the path's methods, and every path under the API that no
route takes is a 404 problem, never werkzeug's HTML page."""
import json

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from werkzeug.routing import Map
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.common.http import HttpEntrypoint
from services.gateway.api import endpoints_of
from services.gateway.routes.ops import allowed_methods
from services.gateway.service import GatewayService


def url_map():
    """The map nameko's web server builds from the gateway's HTTP entrypoints."""
    routes = Map()
    for klass in GatewayService.__mro__:
        for name, attr in vars(klass).items():
            for entrypoint in getattr(attr, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(entrypoint, HttpEntrypoint):
                    rule = entrypoint.get_url_rule()
                    rule.endpoint = name
                    routes.add(rule)
    return routes.bind("portal.test")


ROUTES = url_map()


def call(method, path):
    """(handler name, reply) of a request the gateway routes to the unknown-endpoint route."""
    name, values = ROUTES.match(path, method=method)
    if name != "unknown_endpoint":
        return name, None
    environ = EnvironBuilder(method=method).get_environ()
    environ["PATH_INFO"] = path  # as the server decodes it, newlines and all
    request = Request(environ)
    return name, GatewayService.unknown_endpoint(GatewayService(), request, **values)


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/api/v1/approval-audit", "GET, HEAD"),
    ("DELETE", "/api/v1/orders", "GET, HEAD, POST"),
    ("OPTIONS", "/api/v1/orders", "GET, HEAD, POST"),
    ("TRACE", "/api/v1/me", "GET, HEAD, PATCH"),
    ("GET", "/api/v1/report-schedules/7", "DELETE"),
    ("POST", "/api/v1/openapi.json", "GET, HEAD"),
    # GET /products/{part_number} and /reports/{key} also match, as their object "lookup"
    ("OPTIONS", "/api/v1/products/lookup", "POST"),
    ("PUT", "/api/v1/reports/custom", "POST"),
])
def test_a_method_the_path_does_not_have_is_405_with_the_paths_methods(method, path, allow):
    name, reply = call(method, path)
    assert name == "unknown_endpoint" and reply.status_code == 405
    assert reply.headers["Allow"] == allow
    assert reply.mimetype == "application/problem+json"
    assert json.loads(reply.get_data())["code"] == "method_not_allowed"


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/no-such-thing"),
    ("DELETE", "/api/v1/report-schedules/not-a-number"),
    ("GET", "/api/v1/assets/a\nb"),  # werkzeug's own `path` converter stops at a newline
    ("OPTIONS", "/api/v1/products/x\ny"),
    ("QUERY", "/api/v1/orders/R-1/nothing-here"),
])
def test_a_path_no_route_has_is_a_404_problem(method, path):
    name, reply = call(method, path)
    assert name == "unknown_endpoint" and reply.status_code == 404
    assert "Allow" not in reply.headers
    assert json.loads(reply.get_data())["code"] == "no_such_endpoint"


def test_every_declared_endpoint_is_routed_to_itself_and_listed_in_allow():
    for endpoint in endpoints_of(GatewayService):
        path = endpoint.sample_path()
        assert ROUTES.match(path, method=endpoint.method)[0] == endpoint.name, path
        assert endpoint.method in allowed_methods(GatewayService, path), path


def test_head_is_served_by_get():
    assert ROUTES.match("/api/v1/carts", method="HEAD")[0] == "list_carts"
