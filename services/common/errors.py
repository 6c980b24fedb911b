"""Domain errors with stable codes.

The gateway maps them to HTTP statuses and problem+json bodies. They cross RPC as themselves:
the RPC adapter (`services/common/remote_errors.py`) registers every kind with nameko, so this
module, which the domain imports, knows no transport.
"""


class DomainError(Exception):
    status = 400
    default_code = "bad_request"
    # called with every new subclass (kind) of DomainError; the RPC adapter listens here
    kind_listeners = []
    # True: the unit of work commits what the call wrote before this error, instead of
    # rolling it back (a failed login is counted though the login fails)
    keeps_changes = False

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
        super().__init_subclass__(**kwargs)
        for listener in DomainError.kind_listeners:
            listener(cls)

    def keeping_changes(self):
        """This error, marked so that the changes made before it are kept:
        `raise Unauthorized(...).keeping_changes()`."""
        self.keeps_changes = True
        return self

    def to_problem(self):
        body = {"code": self.code, "detail": self.detail, "status": self.status}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body

    def __str__(self):
        return f"{self.code}: {self.detail}"


def kinds(base=DomainError):
    """`base` and every subclass of it defined so far."""
    found = [base]
    for sub in base.__subclasses__():
        found.extend(kinds(sub))
    return found


def _kind(name, status, code):
    return type(name, (DomainError,), {"status": status, "default_code": code,
                                       "__module__": __name__})


NotFound = _kind("NotFound", 404, "not_found")
Forbidden = _kind("Forbidden", 403, "forbidden")
Unauthorized = _kind("Unauthorized", 401, "unauthorized")
Conflict = _kind("Conflict", 409, "conflict")
Invalid = _kind("Invalid", 422, "validation_failed")
Gone = _kind("Gone", 410, "gone")
Locked = _kind("Locked", 423, "account_locked")
RateLimited = _kind("RateLimited", 429, "rate_limited")
Unavailable = _kind("Unavailable", 503, "service_unavailable")


def nul_character() -> "DomainError":
    """Text holding the NUL character (U+0000), which PostgreSQL cannot keep: bad input."""
    return Invalid("text cannot hold the NUL character (U+0000)", code="nul_character")
