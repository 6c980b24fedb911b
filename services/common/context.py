"""The caller context that travels with every RPC, and the request id in every log line."""
import logging
import uuid
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

# a context variable is local to a green thread as to a thread (greenlet gives each its own
# context, empty at start), so one worker's request id never shows in another's log lines
_request_id = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def set_request_id(request_id):
    _request_id.set(request_id)


def current_request_id():
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Adds the request id of the current worker (green thread) to each log record."""

    def filter(self, record):
        record.request_id = current_request_id() or "-"
        return True


@dataclass
class CallerContext:
    """Who is calling, for whom, in which language. Passed explicitly as the first argument
    of every RPC; every query on company data filters by `company_id`. On the receiving side
    it is built from the caller's verified token (services/common/caller_auth.py), not from
    what the message says."""
    user_id: int | None = None
    company_id: int | None = None
    roles: list = field(default_factory=list)
    features: list = field(default_factory=list)
    catalog_ids: list = field(default_factory=list)
    staff: bool = False
    locale: str = "en"
    request_id: str | None = None
    email: str | None = None
    name: str | None = None
    # the company's fixed currency: it never changes, so it travels in the token and
    # pricing needs no call to identity
    currency: str | None = None
    # the service whose own work this is (from a verified service token), else None
    service: str | None = None
    # the verified token this context was built from: RPC clients pass it on with every call
    # this context makes; never part of the dict that travels as the first argument
    token: str | None = field(default=None, repr=False, compare=False)

    def to_dict(self):
        data = asdict(self)
        data.pop("token")
        return data

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, CallerContext):
            return data
        data = data or {}
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "token"}
        return cls(**known)

    @classmethod
    def system(cls, request_id=None):
        """The context of work the platform does by itself (event handlers, schedules)."""
        return cls(staff=True, request_id=request_id or current_request_id())

    def has_role(self, role):
        return role in self.roles

    def has_feature(self, feature):
        return feature in self.features
