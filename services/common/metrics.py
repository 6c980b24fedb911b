"""Prometheus metrics for every entrypoint of a service, served on the service's own port.

Counts by outcome (`ok`, `rejected` for a domain error the caller caused, `error` for our
fault), latency histograms, an error counter by exception type, outbox backlog and
dead-letter gauges.
"""
import logging
import os
import time
import weakref

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram

from services.common.config import SERVICES, env
from services.common.errors import DomainError
from services.common.metrics_server import start_metrics_server

log = logging.getLogger(__name__)

REQUESTS = Counter("procura_entrypoint_requests_total", "Entrypoint calls by outcome",
                   ["service", "entrypoint", "kind", "outcome"])
LATENCY = Histogram("procura_entrypoint_latency_seconds", "Entrypoint latency",
                    ["service", "entrypoint", "kind"],
                    buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
ERRORS = Counter("procura_entrypoint_errors_total", "Entrypoint failures by exception type",
                 ["service", "entrypoint", "kind", "exception"])
OUTBOX_BACKLOG = Gauge("procura_outbox_backlog", "Events written but not yet published",
                       ["service"])
OUTBOX_PUBLISHED = Counter("procura_outbox_published_total", "Events published by the relay",
                           ["service"])
OUTBOX_UNROUTABLE = Counter("procura_outbox_unroutable_total",
                            "Publishes returned by the broker (no queue bound)", ["service"])
DEAD_LETTERS = Gauge("procura_dead_letters", "Messages waiting on the dead-letter queue")
EVENT_RETRIES = Counter("procura_event_retries_total", "Event handler failures sent to retry",
                        ["service", "entrypoint"])
BUS_REFUSED = Counter("procura_bus_refused_total",
                      "Calls refused for want of a valid token, and events refused for their "
                      "publisher", ["service", "kind"])
EVENTS_DEAD_LETTERED = Counter("procura_events_dead_lettered_total",
                               "Events parked on the dead-letter queue", ["service", "entrypoint"])

# default metrics ports, one per service (9101 identity … 9107 gateway); further instances
# of one service take +10, +20, …; containers set METRICS_PORT
BASE_PORTS = {name: 9101 + i for i, name in enumerate(SERVICES)}


def entrypoint_kind(entrypoint):
    name = type(entrypoint).__name__.lower()
    if "rpc" in name:
        return "rpc"
    if "event" in name:
        return "event"
    if "http" in name:
        return "http"
    return name


class Metrics(DependencyProvider):
    """Add `metrics = Metrics()` to a service to count and time all its entrypoints."""

    _served = False

    def __init__(self):
        self.started = weakref.WeakKeyDictionary()

    def setup(self):
        service = self.container.service_name
        if Metrics._served or env("METRICS_DISABLED"):
            return
        port = env("METRICS_PORT")
        candidates = [int(port)] if port else [BASE_PORTS.get(service, 9100) + 10 * i
                                               for i in range(10)]
        for candidate in candidates:
            try:
                start_metrics_server(candidate, addr=env("METRICS_HOST", "127.0.0.1"))
            except OSError:
                continue
            Metrics._served = True
            self.port = candidate
            log.info("metrics of %s on port %s (pid %s)", service, candidate, os.getpid())
            return
        log.warning("no free metrics port for %s", service)

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        labels = (self.container.service_name, entrypoint.method_name, entrypoint_kind(entrypoint))
        if started is not None:
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        if exc_info is None:
            outcome = "ok"
            # HTTP handlers turn errors into responses; count by status instead
            status = getattr(result, "status_code", None)
            if status is not None and status >= 500:
                outcome = "error"
            elif status is not None and status >= 400:
                outcome = "rejected"
        elif isinstance(exc_info[1], DomainError):
            outcome = "rejected"
        else:
            outcome = "error"
            ERRORS.labels(*labels, type(exc_info[1]).__name__).inc()
        REQUESTS.labels(*labels, outcome).inc()
