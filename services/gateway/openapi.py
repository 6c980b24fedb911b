"""The OpenAPI 3 document, generated with apispec from the endpoint declarations.

It says what the gateway does, which tests/e2e/test_api_contract.py checks with generated
requests: every status an operation answers (404 wherever the path names an object, 413
wherever a body is taken), the media types of its replies, path parameters as the routes
match them, and each field as the schemas load and dump it (`field_truth`).
"""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from marshmallow import fields, validate

from services.common.http import GZIP_MIN_BYTES
from services.common.paging import MAX_ID
from services.common.schemas import Text
from services.common.idempotency import MAX_KEY_LENGTH
from services.gateway.api import TITLES

ETAG = {"description": "A weak validator of this reply: send it back as If-None-Match",
        "schema": {"type": "string"}}
CACHE_CONTROL = {"description": "`private, no-cache`: keep it, revalidate with If-None-Match",
                 "schema": {"type": "string"}}

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


# apispec's OpenAPI 3.0 form of a nested object that may be null lets any object through
ANY_OBJECT_OR_NULL = {"type": "object", "nullable": True}
ONLY_NULL = {"type": "object", "nullable": True, "enum": [None]}
DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
# a subset of what marshmallow's Url takes: every URL this matches, it takes
HTTP_URL = rf"^https?://({_LABEL}\.)*[a-z]{{2,6}}(:[0-9]{{1,5}})?(/[!-~]*)?$"


def field_truth(self, field, ret, **kwargs):
    """What apispec leaves out of a field (an apispec attribute function): a decimal dumped
    as a string is a string, a nested object that may be null is that object or null, an
    http(s) URL what marshmallow takes for one, a field of any type not null unless it may
    be; and a field class of our own says what it takes in its `json_schema`."""
    truth = {}
    if isinstance(field, fields.Url) and all(
            getattr(v, "schemes", {"ftp"}) <= {"http", "https"} for v in field.validators
            if isinstance(v, validate.URL)):
        truth["pattern"] = HTTP_URL
    if isinstance(field, Text) and ret.get("minLength", 0) >= 1 and "pattern" not in ret:
        truth["pattern"] = r"\S"  # spaces alone are stripped to nothing
    if type(field) is fields.Raw and not field.allow_none:
        truth["not"] = {"enum": [None]}
    if isinstance(field, fields.Decimal) and field.as_string:
        truth["type"] = "string"
        if "pattern" not in ret:
            truth["pattern"] = DECIMAL
    if ANY_OBJECT_OR_NULL in ret.get("anyOf", ()):
        truth["anyOf"] = [ONLY_NULL if branch == ANY_OBJECT_OR_NULL else branch
                          for branch in ret["anyOf"]]
    truth.update(getattr(type(field), "json_schema", {}))
    return truth


class _Converter(OpenAPIConverter):
    def schema2jsonschema(self, schema):
        """A schema's JSON Schema with what the schema adds of its own (`json_schema`: the
        fields each kind of a discriminated object needs, say)."""
        return {**super().schema2jsonschema(schema), **getattr(schema, "json_schema", {})}


class _Plugin(MarshmallowPlugin):
    Converter = _Converter


def path_parameter(converter, name):
    """A path parameter as the route's converter matches it (the rest of the path: 404)."""
    if converter == "int":
        # the gateway answers 404 for an id beyond 64 bits without asking a service
        schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    elif converter == "path":
        schema = {"type": "string", "minLength": 1}
    else:
        schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    return {"in": "path", "name": name, "required": True, "schema": schema}


def body_required(schema) -> bool:
    """An empty body is `{}` to the gateway: a body is needed when a field is."""
    return not getattr(schema, "partial", False) and \
        any(f.required for f in schema.fields.values() if not f.dump_only)


CSV = {"text/csv": {"schema": {"type": "string", "description": "UTF-8 with a BOM"}}}
HTML = {"text/html": {"schema": {"type": "string"}}}


def also_answers(handler, **content_by_status):
    """Media types an endpoint answers besides JSON, by status: `also_answers(handler,
    ok=CSV)` for an export, `also_answers(handler, ok=HTML, not_found=HTML)` for a link a
    browser opens."""
    spec = handler.endpoint_spec
    spec.also = {STATUS_NAMES.get(name, spec.status): content
                 for name, content in content_by_status.items()}


STATUS_NAMES = {"not_found": 404}


def build_spec(endpoints):
    plugin = _Plugin(schema_name_resolver=_schema_name)
    spec = APISpec(title="Procura API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[plugin],
                   info={"description": "The customer portal of a B2B IT reseller.\n\n"
                                        "Text and JSON replies of at least "
                                        f"{GZIP_MIN_BYTES} bytes, and streamed CSV exports, "
                                        "are gzip-compressed when the request's "
                                        "`Accept-Encoding` allows gzip; every such reply "
                                        "carries `Vary: Accept-Encoding`.\n\n"
                                        "No string holds the NUL character (U+0000): a "
                                        "request with one is a 422 `nul_character`. No "
                                        "number in a JSON body is beyond 64 bits (a whole "
                                        "number outside -(2^63-1) to 2^63-1) or too large "
                                        "for a double: a request with one is a 422 "
                                        "`number_out_of_range`. A JSON body that nests about "
                                        "a thousand levels deep, holds NaN or Infinity, or "
                                        "text that is not Unicode (a lone surrogate escape) "
                                        "is a 400 `malformed_json`."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    plugin.converter.add_attribute_function(field_truth)
    spec.components.schema("Problem", PROBLEM)
    paths = {}
    for ep in endpoints:
        op = {"summary": ep.summary or ep.name.replace("_", " "), "operationId": ep.name,
              "tags": list(ep.tags), "x-required-right": ep.right.description, "responses": {}}
        if ep.right.needs_token:
            op["security"] = [{"bearer": []}]
        params = [path_parameter(converter, name)
                  for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", ep.path)]
        if ep.query is not None:
            params.append({"in": "query", "schema": ep.query})
        params.extend(getattr(ep, "media", {}).get("query", ()))  # read by the handler itself
        if ep.idempotent:
            params.append({"in": "header", "name": "Idempotency-Key", "required": False,
                           "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH}})
        conditional = getattr(ep, "conditional", False)  # price_cache.with_etag
        if conditional:
            params.append({"in": "header", "name": "If-None-Match", "required": False,
                           "schema": {"type": "string"},
                           "description": "the ETag of the reply the client holds: 304 if "
                                          "it is still the reply"})
        if params:
            op["parameters"] = params
        # media types of endpoints that take or give other than JSON (routes/punchout.py)
        media = getattr(ep, "media", None) or {}
        if ep.body is not None and not ep.raw_body:
            op["requestBody"] = {"required": body_required(ep.body),
                                 "content": {"application/json": {"schema": ep.body}}}
        elif media.get("request"):
            op["requestBody"] = {"required": True, "content": media["request"]}
        elif ep.raw_body:
            op["requestBody"] = {"content": {"text/csv": {"schema": {"type": "string"}},
                                             "multipart/form-data": {"schema": {
                                                 "type": "object", "required": ["file"],
                                                 "properties": {"file": {"type": "string",
                                                                         "format": "binary"}}}}}}
        ok = {"description": "OK"}
        if media.get("response"):
            ok["content"] = media["response"]
        elif ep.response is not None:
            ok["content"] = {"application/json": {"schema": ep.response}}
        if conditional:
            ok["headers"] = {"ETag": ETAG, "Cache-Control": CACHE_CONTROL}
            op["responses"]["304"] = {"description": "Not Modified: the reply named by "
                                                     "If-None-Match is still the reply",
                                      "headers": {"ETag": ETAG}}
        op["responses"][str(ep.status)] = ok
        codes = {401, 403} if ep.right.needs_token else set()
        if ep.body is not None or ep.query is not None:
            codes |= {400, 413, 422}
        if "requestBody" in op:
            codes.add(413)
        if "<" in ep.path:
            codes.add(404)
        if ep.raw_body and not media:
            codes.add(422)  # a file, checked once received
        codes |= set(ep.errors) | {503}
        for code in sorted(codes):
            op["responses"][str(code)] = {
                "description": TITLES.get(code, "Error"),
                "content": media.get("errors") or {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}}
        for code, content in getattr(ep, "also", {}).items():
            op["responses"][str(code)]["content"].update(content)
        paths.setdefault(ep.openapi_path, {})[ep.method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
