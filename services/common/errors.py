"""Domain errors with stable codes.

They cross RPC intact (registered with nameko's exception registry) and the gateway maps
them to HTTP statuses and problem+json bodies.
"""
from nameko.exceptions import deserialize_to_instance


@deserialize_to_instance
class DomainError(Exception):
    status = 400
    default_code = "bad_request"

    def __init__(self, detail="", code=None, errors=None, status=None, extra=None):
        self.detail = detail
        self.code = code or self.default_code
        # nameko turns None into "None" on the wire
        self.errors = errors if errors and errors != "None" else None
        if status is not None:
            self.status = int(status)  # nameko serialises args as strings
        self.extra = extra or {}
        # args are what nameko serialises; keep them JSON-safe and in __init__ order
        super().__init__(detail, self.code, self.errors or {}, self.status, self.extra)

    def __init_subclass__(cls, **kwargs):
        # every subclass crosses RPC as itself, not as a RemoteError
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)

    def to_problem(self):
        body = {"code": self.code, "detail": self.detail, "status": self.status}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body

    def __str__(self):
        return f"{self.code}: {self.detail}"


def _kind(name, status, code):
    cls = type(name, (DomainError,), {"status": status, "default_code": code})
    cls.__module__ = __name__
    return deserialize_to_instance(cls)  # again, now under its final module path


NotFound = _kind("NotFound", 404, "not_found")
Forbidden = _kind("Forbidden", 403, "forbidden")
Unauthorized = _kind("Unauthorized", 401, "unauthorized")
Conflict = _kind("Conflict", 409, "conflict")
Invalid = _kind("Invalid", 422, "validation_failed")
Gone = _kind("Gone", 410, "gone")
Locked = _kind("Locked", 423, "account_locked")
RateLimited = _kind("RateLimited", 429, "rate_limited")
Unavailable = _kind("Unavailable", 503, "service_unavailable")
