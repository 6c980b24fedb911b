"""How the gateway declares an endpoint.

One `@endpoint(...)` does: the route under /api/v1, authentication (a locally verified
access token), the right the endpoint needs, the body read as a JSON object, the
body-size limit (413), request-id propagation, the Idempotency-Key header, mapping of
domain errors and RPC timeouts to problem+json, and the endpoint's entry in the OpenAPI
document. Handlers receive a `Call` and return the service's reply or a `Reply` (nothing
at all for an endpoint declared with status 202 or 204 and no body). Most endpoints only
pass the request on to one RPC: `forward(...)` declares those without a handler.

A request is validated once, by the service it is for: the gateway passes body and
query on as they came, the service loads them through its schemas (a bad value is
its 422 with the fields) and dumps its reply through its output schema. The schemas
named here document the endpoint (OpenAPI); the gateway runs none of them, except
where it consumes a value itself (a card number it turns into a token, `format`).
"""
import functools
import json
import logging
import re
from dataclasses import dataclass, field

from marshmallow import RAISE, Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from services.common.context import CallerContext, new_request_id, set_request_id
from services.common.errors import DomainError, Invalid
from services.common.idempotency import check_key
from services.common.paging import MAX_ID
from services.common.http import HttpEntrypoint
from services.common.tokens import InvalidToken, context_from_claims
from services.gateway.json_body import parse_json
from services.gateway.rights import Right
from services.gateway.session import CsrfFailure, request_token

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
          415: "Unsupported Media Type", 422: "Unprocessable Content", 423: "Locked",
          429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
          503: "Service Unavailable"}

MESSAGES = {
    "fr": {"unauthorized": "Authentification requise.", "forbidden": "Accès refusé.",
           "validation_failed": "Certaines valeurs ne sont pas valides.",
           "malformed_json": "Le corps de la requête n'est pas un JSON valide.",
           "payload_too_large": "Le corps de la requête dépasse 1 Mio.",
           "service_unavailable": "Service momentanément indisponible. Réessayez.",
           "internal_error": "Erreur interne."},
    "en": {"unauthorized": "Authentication required.", "forbidden": "You lack the right to do this.",
           "validation_failed": "Some values are not valid.",
           "malformed_json": "The request body is not valid JSON.",
           "payload_too_large": "The request body is larger than 1 MiB.",
           "service_unavailable": "A service is unavailable for a moment. Retry.",
           "internal_error": "Internal error."},
}


def message(code, locale):
    return MESSAGES.get(locale, MESSAGES["en"]).get(code) or MESSAGES["en"].get(code, code)


@dataclass
class Reply:
    """A reply with a status other than the endpoint's default, or extra headers."""
    data: object = None
    status: int = 200
    headers: dict = field(default_factory=dict)
    content_type: str | None = None  # raw (non-JSON) body when set


@dataclass
class Call:
    """What a handler gets: the caller, the validated body and query, the raw request."""
    ctx: CallerContext
    body: dict
    query: dict
    request: object
    idempotency_key: str | None
    locale: str
    token: str | None = None

    def args(self, *names) -> dict:
        """The query parameters among `names` that were given, as given (for keyword
        arguments of an RPC, whose defaults stand for the others)."""
        return {name: self.query[name] for name in names if name in self.query}

    def page(self) -> dict:
        return self.args("limit", "cursor")

    def wants_csv(self) -> bool:
        """`format=csv` asks for a CSV export; absent or `json`, the JSON page."""
        wanted = self.query.get("format", "json")
        if wanted not in ("json", "csv"):
            raise Invalid("this format is not offered", errors={"format": ["json or csv."]})
        return wanted == "csv"


@dataclass
class Endpoint:
    method: str
    path: str
    right: Right
    body: Schema | None
    query: Schema | None
    response: Schema | None
    status: int
    summary: str
    tags: tuple
    raw_body: bool
    name: str = ""
    idempotent: bool = False
    errors: tuple = ()
    max_body: int = MAX_BODY

    @property
    def openapi_path(self):
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", API_PREFIX + self.path)

    def sample_path(self, **values):
        """The path with sample values (for the authorisation matrix)."""
        def fill(match):
            conv, name = match.group(1), match.group(2)
            return str(values.get(name, 999999 if conv == "int:" else "NOPE-0"))
        return re.sub(r"<(int:|\w+:)?(\w+)>", fill, API_PREFIX + self.path)


def problem(status, code, detail, errors=None, headers=None, locale="en", request_id=None):
    body = {"type": f"/problems/{code}", "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail or message(code, locale), "code": code}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = str(value)
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


def problem_from_error(exc: DomainError, locale, request_id):
    headers = {}
    extra = dict(exc.extra or {})
    retry_after = extra.pop("retry_after", None)
    if retry_after is not None or exc.status in (429, 503):
        headers["Retry-After"] = int(retry_after or 5)
    return problem(exc.status, exc.code, exc.detail, exc.errors, headers, locale, request_id)


def _locale(request):
    header = (request.headers.get("Accept-Language") or "").lower()
    return "fr" if header.startswith("fr") else "en"


def _parse_body(request, limit):
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    return request.get_data(cache=True)


def endpoint(method, path, *, right: Right, body=None, query=None, response=None, status=200,
             summary="", tags=(), raw_body=False, idempotent=False, errors=(), max_body=MAX_BODY):
    """Declare a gateway endpoint; see the module docstring. `max_body` raises the 1 MiB
    limit for the few endpoints that take files (product import)."""

    def decorator(fn):
        spec = Endpoint(method=method, path=path, right=right, body=body, query=query,
                        response=response, status=status, summary=summary or (fn.__doc__ or "").strip(),
                        tags=tuple(tags), raw_body=raw_body, name=fn.__name__,
                        idempotent=idempotent, errors=tuple(errors), max_body=max_body)

        @functools.wraps(fn)
        def handler(self, request, **path_args):
            return dispatch(self, spec, fn, request, path_args)

        handler.endpoint_spec = spec
        return HttpEntrypoint.decorator(method, API_PREFIX + path)(handler)

    return decorator


PATH_NAMES = re.compile(r"<(?:\w+:)?(\w+)>")


def forward(method, path, rpc, *, passing=(), **declared):
    """An endpoint that calls one RPC, `rpc` ("service.method"), and replies with its
    reply: the arguments are the caller's context, the path's values in their order, then
    what `passing` names: "body" (the request's JSON object), "page" (`limit` and `cursor`
    as given in the query, as keywords), "idempotency_key" (as a keyword). `declared` as
    for `endpoint`; the endpoint is named after the class attribute that holds it."""
    service, method_name = rpc.split(".")
    path_names = PATH_NAMES.findall(path)

    def forwarding(self, call, **path_args):
        args = [path_args[name] for name in path_names]
        keywords = {}
        if "body" in passing:
            args.append(call.body)
        if "page" in passing:
            keywords.update(call.page())
        if "idempotency_key" in passing:
            keywords["idempotency_key"] = call.idempotency_key
        return getattr(getattr(self, f"{service}_rpc"), method_name)(call.ctx, *args, **keywords)

    handler = endpoint(method, path, **declared)(forwarding)
    handler.endpoint_spec.name = ""  # endpoints_of names it
    return handler


def endpoints_of(service_cls):
    """Every endpoint a gateway class declares, in declaration order (the OpenAPI document
    and the authorisation matrix are built from them)."""
    specs = []
    for klass in reversed(service_cls.__mro__):
        for name, attr in vars(klass).items():
            spec = getattr(attr, "endpoint_spec", None)
            if spec is not None:
                spec.name = spec.name or name  # a forward(...) is named by its attribute
                specs.append(spec)
    return specs


def undeclared(schema, given) -> dict:
    """The names in `given` that `schema` has no field for, as marshmallow words it; none
    when the schema takes unknown names (Meta.unknown EXCLUDE or INCLUDE)."""
    if schema is None or schema.unknown != RAISE:
        return {}
    names = {f.data_key or name for name, f in schema.fields.items() if not f.dump_only}
    return {name: ["Unknown field."] for name in given if name not in names}


def dispatch(service, spec: Endpoint, fn, request, path_args):
    request_id = request.headers.get("X-Request-Id") or new_request_id()
    request_id = re.sub(r"[^A-Za-z0-9._-]", "", request_id)[:64] or new_request_id()
    set_request_id(request_id)
    locale = _locale(request)
    if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in path_args.values()):
        # no row has an id beyond 64 bits; the databases would refuse the query
        return problem(404, "not_found", "no such resource", locale=locale, request_id=request_id)
    try:
        raw = _parse_body(request, spec.max_body)
        token = None
        if spec.right.needs_token:
            try:  # the Bearer header, or the portal's cookie (session.py)
                token = request_token(request)
            except CsrfFailure:
                return problem(403, "csrf_failed", "the X-CSRF-Token header is missing or wrong",
                               locale=locale, request_id=request_id)
            if not token:
                return problem(401, "unauthorized", None, locale=locale, request_id=request_id,
                               headers={"WWW-Authenticate": "Bearer"})
            try:
                claims = service.access_tokens.verify(
                    token, lambda: service.identity_rpc.public_keys(CallerContext.system(request_id)))
            except InvalidToken as exc:
                return problem(401, "invalid_token", str(exc), locale=locale,
                               request_id=request_id, headers={"WWW-Authenticate": "Bearer"})
            ctx = context_from_claims(claims, request_id)
            # forwarded with every RPC: each service verifies it and trusts nothing else
            ctx.token = token
            if "Accept-Language" in request.headers:
                ctx.locale = locale
            if not spec.right.allows(ctx):
                return problem(403, "forbidden", f"this needs {spec.right.description}",
                               locale=locale, request_id=request_id)
        else:
            ctx = CallerContext(locale=locale, request_id=request_id)
        locale = ctx.locale if "Accept-Language" not in request.headers else locale

        data = {}
        if spec.body is not None and not spec.raw_body:
            if not raw.strip():
                payload = {}
            else:
                try:
                    payload = parse_json(raw)
                except ValueError:  # UnicodeDecodeError is one
                    return problem(400, "malformed_json", None, locale=locale, request_id=request_id)
            if not isinstance(payload, dict):
                return problem(422, "validation_failed", "the body must be a JSON object",
                               locale=locale, request_id=request_id)
            data = payload
        query = request.args.to_dict()
        # the names a request may carry are its declared schemas' (values are the service's
        # to judge): a handler that passes some fields on would drop the others unseen
        unknown = {**undeclared(spec.body if not spec.raw_body else None, data),
                   **undeclared(spec.query, query)}
        if unknown:
            return problem(422, "validation_failed", None, errors=unknown, locale=locale,
                           request_id=request_id)

        idempotency_key = request.headers.get("Idempotency-Key") or None
        if spec.idempotent:
            check_key(idempotency_key)  # also for endpoints that keep no key
        call = Call(ctx=ctx, body=data, query=query, request=request,
                    idempotency_key=idempotency_key, locale=locale, token=token)
        result = fn(service, call, **path_args)
        return render(spec, result, request_id)
    except ValidationError as exc:
        return problem(422, "validation_failed", None, errors=exc.messages, locale=locale,
                       request_id=request_id)
    except RequestEntityTooLarge:
        return problem(413, "payload_too_large",
                       None if spec.max_body == MAX_BODY else
                       f"the request body is larger than {spec.max_body // (1024 * 1024)} MiB",
                       locale=locale, request_id=request_id)
    except DomainError as exc:
        return problem_from_error(exc, locale, request_id)
    except Exception:
        log.exception("unexpected error in %s %s", spec.method, spec.path)
        return problem(500, "internal_error", None, locale=locale, request_id=request_id)


def render(spec: Endpoint, result, request_id):
    if isinstance(result, Response):  # e.g. a problem() built by the handler
        result.headers["X-Request-Id"] = request_id
        return result
    reply = result if isinstance(result, Reply) else Reply(result, spec.status)
    if reply.content_type is not None:
        response = Response(reply.data, status=reply.status, content_type=reply.content_type)
    elif reply.status == 204 or reply.data is None and reply.status in (202, 204):
        response = Response(status=reply.status)
    else:
        data = reply.data
        response = Response(json.dumps(data, default=str), status=reply.status,
                            mimetype="application/json")
    for key, value in reply.headers.items():
        response.headers[key] = str(value)
    response.headers["X-Request-Id"] = request_id
    return response
