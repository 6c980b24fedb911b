"""Configuration from environment variables.

Every setting has a local default so that `make run` needs no configuration; containers
and Kubernetes override them with environment variables.
"""
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

# punchout last: each service's metrics port follows this order (metrics.BASE_PORTS)
SERVICES = ("identity", "catalog", "orders", "approvals", "reporting", "notifications", "gateway",
            "punchout")
# services that own a database (the gateway keeps nothing durable)
DATA_SERVICES = tuple(s for s in SERVICES if s != "gateway")

ROOT = Path(__file__).resolve().parents[2]


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def var_dir() -> Path:
    path = Path(env("PROCURA_VAR", str(ROOT / "var")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`, else one SQLite file per service under var/."""
    url = env(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{var_dir() / (service + '.db')}"


def amqp_uri(service: str | None = None) -> str:
    """The broker URI a service logs in with: `<SERVICE>_AMQP_URI` (each service its own
    RabbitMQ user), else the shared `AMQP_URI` (the operator's, and `make run`'s default)."""
    if service:
        own = env(f"{service.upper()}_AMQP_URI")
        if own:
            return own
    return env("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def uri_user(uri: str) -> str:
    """The user name in an AMQP URI (kombu's default, guest, when it names none)."""
    return unquote(urlsplit(uri).username or "guest")


def amqp_user(service: str) -> str:
    """The RabbitMQ user a service publishes as: `<SERVICE>_AMQP_USER` (deployments that give
    a process its own URI only), else the user in its URI. Consumers compare an event's
    AMQP `user_id`, which the broker checks, with this."""
    return env(f"{service.upper()}_AMQP_USER") or uri_user(amqp_uri(service))


def broker_admin_user() -> str:
    """The broker administrator (`procura dead-letters replay` publishes as it):
    `AMQP_ADMIN_USER`, else the user of `AMQP_URI`."""
    return env("AMQP_ADMIN_USER") or uri_user(amqp_uri())


def queue_type() -> str:
    """`QUEUE_TYPE`: "classic" (make run) or "quorum" (replicated over a RabbitMQ cluster,
    so durable queues survive the loss of a node; docker-compose and Kubernetes)."""
    kind = env("QUEUE_TYPE", "classic")
    if kind not in ("classic", "quorum"):
        raise ValueError(f"QUEUE_TYPE must be classic or quorum, not {kind!r}")
    return kind


def nameko_config(service: str) -> dict:
    """The nameko config of one service process.

    HEARTBEAT is shorter than nameko's 60 s so that a stalled connection is noticed before
    the broker redelivers; max_workers (which is also the prefetch count) is per service.
    """
    workers = int(env(f"{service.upper()}_MAX_WORKERS", env("MAX_WORKERS", "10")))
    return {
        "AMQP_URI": amqp_uri(service),
        "HEARTBEAT": int(env("AMQP_HEARTBEAT", "15")),
        "max_workers": workers,
        "parent_calls_tracked": 10,
        "WEB_SERVER_ADDRESS": f"{env('GATEWAY_HOST', '127.0.0.1')}:{env('GATEWAY_PORT', '8080')}",
        "RPC_TIMEOUT": float(env("RPC_TIMEOUT", "10")),
        "SERVICE_NAME": service,
        "serializer": "json",
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": "services.common.context.RequestIdFilter"},
                        "expected_errors": {"()": "services.common.logs.ExpectedErrorsInOneLine"}},
            "formatters": {"plain": {
                "format": "%(asctime)s %(levelname)s " + service + " [%(request_id)s] %(name)s: %(message)s"}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                                     "filters": ["request_id", "expected_errors"]}},
            "root": {"level": env("LOG_LEVEL", "INFO"), "handlers": ["console"]},
            "loggers": {"nameko": {"level": "WARNING"}, "kombu": {"level": "WARNING"},
                        "amqp": {"level": "ERROR"}},
        },
    }


def public_url() -> str:
    """Where users reach the portal; used in links inside emails."""
    return env("PUBLIC_URL", f"http://127.0.0.1:{env('GATEWAY_PORT', '8080')}")
