"""The RabbitMQ definitions docker-compose and Kubernetes load (`procura broker-definitions`)
work on a real broker: each service logs in with the password of its `.env`, may do what its
permissions say and no more, and the topology is there, as quorum queues."""
import secrets
import uuid
from urllib.parse import quote

import pytest
import requests
from amqp import Message
from amqp.exceptions import AccessRefused
from kombu import Connection

from services.common.broker_access import definitions, service_uri
from services.common.config import SERVICES
from tests.support.broker import AUTH, MGMT

pytestmark = pytest.mark.integration


@pytest.fixture
def loaded():
    vhost = f"procura_defs_{uuid.uuid4().hex[:8]}"
    prefix = f"{vhost}-"
    passwords = {s: secrets.token_urlsafe(16) for s in SERVICES}
    admin = (f"{prefix}admin", secrets.token_urlsafe(16))
    document = definitions(*admin, passwords, vhost=vhost, prefix=prefix, kind="quorum")
    # what the broker does at boot with load_definitions, through the management API
    requests.post(f"{MGMT}/api/definitions", auth=AUTH, json=document).raise_for_status()
    base = f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    yield {"vhost": vhost, "prefix": prefix, "document": document,
           "uris": {s: service_uri(base, f"{prefix}{s}", passwords[s]) for s in SERVICES},
           "admin": service_uri(base, *admin)}
    for user in [admin[0]] + [f"{prefix}{s}" for s in SERVICES]:
        requests.delete(f"{MGMT}/api/users/{quote(user, safe='')}", auth=AUTH)
    requests.delete(f"{MGMT}/api/vhosts/{quote(vhost, safe='')}", auth=AUTH)


def publish(uri, exchange, routing_key, user):
    with Connection(uri) as conn:
        channel = conn.channel()
        channel.confirm_select()
        try:
            channel.basic_publish_confirm(Message(b"{}", user_id=user), exchange=exchange,
                                          routing_key=routing_key)
        except AccessRefused:
            return "refused"
    return "ok"


def test_each_service_logs_in_with_its_password_and_its_permissions(loaded):
    prefix = loaded["prefix"]
    for service, uri in loaded["uris"].items():
        assert publish(uri, f"{service}.events", "x", f"{prefix}{service}") == "ok", service
        other = "catalog" if service != "catalog" else "orders"
        assert publish(uri, f"{other}.events", "x", f"{prefix}{service}") == "refused", service
    with Connection(loaded["admin"]) as conn:  # the administrator reads the dead letters
        conn.channel().queue_declare("procura.dead-letters", passive=True)


def test_the_topology_is_declared_with_quorum_queues(loaded):
    vhost = quote(loaded["vhost"], safe="")
    queues = requests.get(f"{MGMT}/api/queues/{vhost}", auth=AUTH).json()
    types = {q["name"]: q.get("type") for q in queues}
    assert types["procura.dead-letters"] == "quorum"
    assert types["evt-orders-order_placed--approvals.on_order_placed"] == "quorum"
    assert set(types) == {q["name"] for q in loaded["document"]["queues"]}
    exchanges = {e["name"] for e in requests.get(f"{MGMT}/api/exchanges/{vhost}", auth=AUTH).json()}
    assert {f"{s}.events" for s in SERVICES} | {"nameko-rpc"} <= exchanges
