"""Each service's own RabbitMQ user and what it may do (ARCHITECTURE.md, "Security model").

A service may
- configure (declare, delete) only its own queues (`rpc-<service>`, its reply queues
  `rpc.reply-<service>-…`, its event queues `evt-…--<service>.…`) and its own event exchange;
- write (publish, bind a queue) to those, to the RPC exchange `nameko-rpc`, and to the retry
  delay and dead-letter exchanges (`procura.retry.…`, `procura.dead-letters`) it sends failed
  events through; to no other service's event exchange, and not to the default exchange;
- read (consume, bind from) its own queues, the RPC exchange and the event exchanges of the
  services it listens to.
The shared topology (the RPC exchange, every event exchange, the retry and dead-letter queues,
every consumer queue) is declared by the broker administrator: `procura declare-queues`
(`make run`, tests) or the definitions docker-compose and Kubernetes load at the broker's boot.

`make run` makes the users through the management API (`procura broker-users --local`, with
passwords made on first use and kept under var/); `procura broker-definitions` writes the
definitions file (users with their password hashes, permissions, topology) for a broker that
loads it at boot.
"""
import base64
import hashlib
import json
import os
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from services.common.config import SERVICES, env, var_dir

LOCAL_USERS = "rabbitmq-service-users.json"


def service_user(service: str, prefix="procura-") -> str:
    return f"{prefix}{service}"


def permissions(service: str, sources) -> dict:
    """The configure, write and read regular expressions of `service`'s user; `sources` are
    the services whose events it listens to."""
    s = re.escape(service)
    own_queues = [f"rpc-{s}", rf"rpc\.reply-{s}-.*", rf"evt-.*--{s}\..*"]
    own_exchange = rf"{s}\.events"
    shared_writes = ["nameko-rpc", r"procura\.retry\..*", r"procura\.dead-letters"]
    reads = ["nameko-rpc"] + [rf"{re.escape(src)}\.events" for src in sorted(set(sources))]

    def anchored(names):
        return "^(" + "|".join(names) + ")$"
    return {"configure": anchored(own_queues + [own_exchange]),
            "write": anchored(own_queues + [own_exchange] + shared_writes),
            "read": anchored(own_queues + reads)}


def event_sources_of(service_cls) -> list:
    """The services whose events a service class listens to (broadcast handlers too)."""
    from services.common.broker import event_handlers
    return sorted({entrypoint.source_service for _, entrypoint in event_handlers(service_cls)})


def all_permissions(services=SERVICES) -> dict:
    from services.common.runner import service_class
    return {s: permissions(s, event_sources_of(service_class(s))) for s in services}


def service_uri(base_uri: str, user: str, password: str) -> str:
    """`base_uri` (the administrator's) with another user and password."""
    parts = urllib.parse.urlsplit(base_uri)
    host = parts.hostname or "127.0.0.1"
    netloc = (f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
              f"@{host}:{parts.port or 5672}")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def vhost_of(uri: str) -> str:
    path = urllib.parse.urlsplit(uri).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


# ---------------------------------------------------------------- management API

class Management:
    """RabbitMQ's management HTTP API, as the broker administrator."""

    def __init__(self, url=None, user=None, password=None):
        admin = urllib.parse.urlsplit(env("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
        self.url = (url or env("RABBITMQ_MANAGEMENT_URL")
                    or f"http://{admin.hostname or '127.0.0.1'}:15672").rstrip("/")
        self.user = user or env("RABBITMQ_ADMIN_USER") or urllib.parse.unquote(admin.username or "guest")
        self.password = password or env("RABBITMQ_ADMIN_PASSWORD") or \
            urllib.parse.unquote(admin.password or "guest")

    def call(self, method, path, body=None):
        request = urllib.request.Request(
            self.url + "/api/" + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": "Basic " + base64.b64encode(
                         f"{self.user}:{self.password}".encode()).decode()})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"RabbitMQ management API {method} {path}: {exc.code} "
                               f"{exc.read()[:300]!r}") from None
        except urllib.error.URLError as exc:
            raise SystemExit(f"RabbitMQ's management API is not reachable at {self.url} "
                             f"({exc.reason}): run `rabbitmq-plugins enable "
                             "rabbitmq_management`, or set RABBITMQ_MANAGEMENT_URL") from None
        return json.loads(text) if text else None

    def put_user(self, name, password):
        self.call("PUT", f"users/{urllib.parse.quote(name, safe='')}",
                  {"password": password, "tags": ""})

    def delete_user(self, name):
        self.call("DELETE", f"users/{urllib.parse.quote(name, safe='')}")

    def put_permissions(self, vhost, user, perms):
        self.call("PUT", f"permissions/{urllib.parse.quote(vhost, safe='')}/"
                         f"{urllib.parse.quote(user, safe='')}", perms)


def create_service_users(base_uri, passwords: dict, prefix="procura-", management=None,
                         services=SERVICES) -> dict:
    """Make (or update) each service's user with its password and permissions on the vhost of
    `base_uri`; returns {service: its AMQP URI}."""
    management = management or Management()
    vhost = vhost_of(base_uri)
    every = all_permissions(services)
    uris = {}
    for service in services:
        user = service_user(service, prefix)
        management.put_user(user, passwords[service])
        management.put_permissions(vhost, user, every[service])
        uris[service] = service_uri(base_uri, user, passwords[service])
    return uris


def local_passwords(path=None) -> dict:
    """make run's service passwords: made on first use, kept in var/ (owner only)."""
    path = Path(path or var_dir() / LOCAL_USERS)
    known = json.loads(path.read_text()) if path.exists() else {}
    missing = [s for s in SERVICES if s not in known]
    if missing:
        known.update({s: secrets.token_urlsafe(24) for s in missing})
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(known, out, indent=2)
    return known


def export_lines(uris: dict) -> str:
    """`export <SERVICE>_AMQP_URI='…'` lines for a shell to eval."""
    return "".join(f"export {s.upper()}_AMQP_URI='{uri}'\n" for s, uri in uris.items())


# ---------------------------------------------------------------- definitions file

def password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(admin_user, admin_password, passwords: dict, vhost="/", prefix="procura-",
                services=SERVICES, kind=None) -> dict:
    """A RabbitMQ definitions document: the administrator, each service's user and
    permissions, and the whole shared topology (QUEUE_TYPE's queue type)."""
    from services.common.broker import topology
    from services.common.runner import all_service_classes
    every = all_permissions(services)
    users = [{"name": admin_user, "password_hash": password_hash(admin_password),
              "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}]
    perms = [{"user": admin_user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}]
    for service in services:
        user = service_user(service, prefix)
        users.append({"name": user, "password_hash": password_hash(passwords[service]),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        perms.append({"user": user, "vhost": vhost, **every[service]})
    plan = topology(all_service_classes(services), event_sources=services, kind=kind)
    exchanges = [{"name": e.name, "vhost": vhost, "type": e.type, "durable": True,
                  "auto_delete": False, "internal": False, "arguments": {}}
                 for e in plan.exchanges]
    queues, bindings = [], []
    for queue, _ in plan.queues:
        queues.append({"name": queue.name, "vhost": vhost, "durable": True, "auto_delete": False,
                       "arguments": dict(queue.queue_arguments or {})})
        bindings.append({"source": queue.exchange.name, "vhost": vhost,
                         "destination": queue.name, "destination_type": "queue",
                         "routing_key": queue.routing_key or "", "arguments": {}})
    return {"users": users, "vhosts": [{"name": vhost}], "permissions": perms,
            "exchanges": exchanges, "queues": queues, "bindings": bindings}


def read_env_file(path) -> dict:
    """KEY=VALUE lines of a docker-compose `.env` file (quotes around a value removed)."""
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def definitions_from_env(values: dict) -> dict:
    """The definitions of a deployment whose secrets are in `values` (an `.env`):
    RABBITMQ_ADMIN_USER, RABBITMQ_ADMIN_PASSWORD, <SERVICE>_AMQP_PASSWORD, and its
    RABBITMQ_VHOST (default /) and QUEUE_TYPE (default quorum, as compose and Kubernetes)."""
    missing = [k for k in ["RABBITMQ_ADMIN_USER", "RABBITMQ_ADMIN_PASSWORD"] +
               [f"{s.upper()}_AMQP_PASSWORD" for s in SERVICES] if not values.get(k)]
    if missing:
        raise ValueError("missing in the environment file: " + ", ".join(missing))
    return definitions(values["RABBITMQ_ADMIN_USER"], values["RABBITMQ_ADMIN_PASSWORD"],
                       {s: values[f"{s.upper()}_AMQP_PASSWORD"] for s in SERVICES},
                       vhost=values.get("RABBITMQ_VHOST") or "/",
                       kind=values.get("QUEUE_TYPE") or "quorum")

