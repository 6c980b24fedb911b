"""RabbitMQ for tests: a private vhost per test run, read through the management API."""
import os
import uuid

import requests

MGMT = os.environ.get("RABBIT_MGMT", "http://127.0.0.1:15672")
AUTH = ("guest", "guest")


def new_vhost():
    """A fresh vhost that guest may use; returns (name, drop)."""
    name = f"procura_e2e_{uuid.uuid4().hex[:8]}"
    requests.put(f"{MGMT}/api/vhosts/{name}", auth=AUTH).raise_for_status()
    requests.put(f"{MGMT}/api/permissions/{name}/guest", auth=AUTH,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    return name, lambda: requests.delete(f"{MGMT}/api/vhosts/{name}", auth=AUTH)


def service_users(vhost):
    """Each service's own RabbitMQ user with its permissions on `vhost`, as `make run` makes
    them; returns ({<SERVICE>_AMQP_URI: uri}, drop)."""
    import secrets

    from services.common.broker_access import Management, create_service_users, service_user
    from services.common.config import SERVICES
    management = Management(MGMT, *AUTH)
    prefix = f"{vhost}-"
    uris = create_service_users(f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
                                {s: secrets.token_urlsafe(16) for s in SERVICES},
                                prefix=prefix, management=management)

    def drop():
        for service in SERVICES:
            management.delete_user(service_user(service, prefix))
    return {f"{s.upper()}_AMQP_URI": uri for s, uri in uris.items()}, drop


def ready_messages(amqp_uri, queue):
    """How many messages wait in `queue`, ready to be delivered (asked of the broker over AMQP,
    so the answer is current; the management API's figures lag by seconds)."""
    from kombu import Connection
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        try:
            _, count, _ = channel.queue_declare(queue, passive=True)
        finally:
            channel.close()
    return count
