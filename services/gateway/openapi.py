"""The OpenAPI 3 document, generated with apispec from the endpoint declarations."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.common.http import GZIP_MIN_BYTES
from services.gateway.api import TITLES

PROBLEM = {"type": "object", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "code": {"type": "string"},
    "errors": {"type": "object", "additionalProperties": True}}}


def _schema_name(schema):
    """Component name of a schema; a schema narrowed with only/exclude stays inline."""
    if isinstance(schema, type):
        return schema.__name__.removesuffix("Schema") or "Body"
    if schema.only or schema.exclude or getattr(schema, "partial", False):
        return None
    return type(schema).__name__.removesuffix("Schema") or "Body"


def build_spec(endpoints):
    spec = APISpec(title="Procura API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
                   info={"description": "The customer portal of a B2B IT reseller.\n\n"
                                        "Text and JSON replies of at least "
                                        f"{GZIP_MIN_BYTES} bytes, and streamed CSV exports, "
                                        "are gzip-compressed when the request's "
                                        "`Accept-Encoding` allows gzip; every such reply "
                                        "carries `Vary: Accept-Encoding`."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.schema("Problem", PROBLEM)
    paths = {}
    for ep in endpoints:
        op = {"summary": ep.summary or ep.name.replace("_", " "), "operationId": ep.name,
              "tags": list(ep.tags), "x-required-right": ep.right.description, "responses": {}}
        if ep.right.needs_token:
            op["security"] = [{"bearer": []}]
        params = []
        import re
        for name in re.findall(r"{(\w+)}", ep.openapi_path):
            params.append({"in": "path", "name": name, "required": True,
                           "schema": {"type": "string"}})
        if ep.query is not None:
            params.append({"in": "query", "schema": ep.query})
        if ep.idempotent:
            params.append({"in": "header", "name": "Idempotency-Key", "required": False,
                           "schema": {"type": "string"}})
        if params:
            op["parameters"] = params
        # media types of endpoints that take or give other than JSON (routes/punchout.py)
        media = getattr(ep, "media", None) or {}
        if ep.body is not None and not ep.raw_body:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": ep.body}}}
        elif media.get("request"):
            op["requestBody"] = {"content": media["request"]}
        elif ep.raw_body:
            op["requestBody"] = {"content": {"text/csv": {"schema": {"type": "string"}},
                                             "multipart/form-data": {"schema": {
                                                 "type": "object",
                                                 "properties": {"file": {"type": "string",
                                                                         "format": "binary"}}}}}}
        ok = {"description": "OK"}
        if media.get("response"):
            ok["content"] = media["response"]
        elif ep.response is not None:
            ok["content"] = {"application/json": {"schema": ep.response}}
        op["responses"][str(ep.status)] = ok
        codes = {401, 403} if ep.right.needs_token else set()
        if ep.body is not None or ep.query is not None:
            codes |= {400, 413, 422}
        codes |= set(ep.errors) | {503}
        for code in sorted(codes):
            op["responses"][str(code)] = {
                "description": TITLES.get(code, "Error"),
                "content": media.get("errors") or {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}}
        paths.setdefault(ep.openapi_path, {})[ep.method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
