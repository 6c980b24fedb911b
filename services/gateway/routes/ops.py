"""Operations endpoints: health, readiness, metrics, the OpenAPI document and /docs."""
import json
import mimetypes
from pathlib import Path

import eventlet
import swagger_ui_bundle
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Response

from services.common.config import DATA_SERVICES
from services.common.context import CallerContext
from services.common.http import http
from services.gateway.api import API_PREFIX, endpoints_of, problem
from services.gateway.openapi import build_spec

DOCS_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Procura API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script>
SwaggerUIBundle({url: "%s/openapi.json", dom_id: "#ui"});</script></body></html>""" % API_PREFIX


class OpsRoutes:
    _spec_json = None

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
        if OpsRoutes._spec_json is None:
            OpsRoutes._spec_json = json.dumps(build_spec(endpoints_of(type(self))))
        return Response(OpsRoutes._spec_json, mimetype="application/json")

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

    @http("GET,POST,PUT,PATCH,DELETE", API_PREFIX + "/<path:unknown>")
    def unknown_endpoint(self, request, unknown):
        # werkzeug tries more specific rules first, so this only answers unmatched paths
        return problem(404, "no_such_endpoint", f"no endpoint at {request.path}")
