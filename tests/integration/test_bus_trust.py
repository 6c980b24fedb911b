"""Nothing on the bus is trusted for where it came from (ARCHITECTURE.md, "Security model"),
shown on the real broker:

- an RPC without a valid token is refused before the method runs; the caller is who the
  token says, whatever the message says; a service passes its caller's token on, and work
  it does by itself shows a service token that identity gives to that service's RabbitMQ
  user only (the AMQP `user_id`, which the broker checks);
- each service's RabbitMQ user writes only to its own event exchange and the RPC exchange
  and reads only its own queues; an event its source's user did not publish is refused
  (dead-lettered);
- queues are quorum queues when QUEUE_TYPE says so, retries and dead letters included;
- the outbox relay declares the exchange it publishes to (nobody needs to listen), marks a
  row no queue receives unroutable rather than sent, and blanks a link token once sent.
"""
import json
import secrets
from urllib.parse import quote

import pytest
import requests
from amqp.exceptions import AccessRefused, NotFound, PreconditionFailed
from kombu import Connection, Exchange, Queue
from nameko.amqp.publish import Publisher as AmqpPublisher
from nameko.standalone.rpc import ServiceRpcProxy as BareRpcProxy
from sqlalchemy import select

from services.common.base import ServiceBase
from services.common.broker import (DEAD_LETTER_QUEUE, dead_letters, declare_topology,
                                    delay_exchange_name, replay_dead_letters, retry_delays)
from services.common.broker_access import (Management, create_service_users, permissions,
                                           service_uri)
from services.common.caller_auth import TOKEN_KEY, service_tokens
from services.common.config import SERVICES
from services.common.context import CallerContext
from services.common.engines import open_session
from services.common.entrypoints import rpc
from services.common.errors import Unauthorized
from services.common.outbox import emit
from services.common.relay import backlog, publish_pending
from services.common.rpc_client import RpcClient
from services.common.runner import all_service_classes
from services.common.standalone import StandaloneRpc
from services.identity.models import Base as IdentityBase
from services.identity.service import IdentityService
from tests.integration.messaging_services import Publisher, Subscriber
from tests.support.broker import AUTH, MGMT, new_vhost
from tests.support.databases import migrated_database
from tests.support.tokens import KEY, ServiceRpcProxy, service_token, user_token
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

BUYER = CallerContext(user_id=7, company_id=3, roles=["buyer"], currency="CAD")
FORGED = CallerContext(user_id=1, company_id=99, staff=True, roles=["security_admin"]).to_dict()
RECORDED = []


class Echo(ServiceBase):
    name = "echo"
    back = RpcClient("echoback")

    @rpc
    def whoami(self, ctx):
        return ctx.to_dict()

    @rpc
    def record(self, ctx, note):
        RECORDED.append(note)
        return note

    @rpc
    def through(self, ctx):
        return self.back.whoami(ctx)  # the caller's context, and so its token

    @rpc
    def by_itself(self, ctx):
        return self.back.whoami(CallerContext.system())


class EchoBack(ServiceBase):
    name = "echoback"

    @rpc
    def whoami(self, ctx):
        return ctx.to_dict()


def bare(service, config, token=None):
    """nameko's own proxy: a token only if given, as anyone on the broker could send."""
    return BareRpcProxy(service, config, context_data={TOKEN_KEY: token} if token else None)


# ---------------------------------------------------------------- RPC: the token decides

def test_a_call_without_a_valid_token_is_refused_before_the_method_runs(start_service,
                                                                        procura_env):
    start_service(Echo)
    RECORDED.clear()
    someone_else = issue_foreign_token()
    for token in (None, someone_else, "not-a-token"):
        with bare("echo", procura_env, token) as echo:
            with pytest.raises(Unauthorized):
                echo.record(FORGED, "forged")
    assert RECORDED == []
    with bare("echo", procura_env, user_token(BUYER)) as echo:
        assert echo.record(FORGED, "signed") == "signed"
    assert RECORDED == ["signed"]


def issue_foreign_token():
    from services.common.tokens import issue_access_token, new_signing_key
    private, _ = new_signing_key()
    # identity's key id, someone else's key
    return issue_access_token(CallerContext(user_id=1, staff=True), private, KEY.kid)


def test_the_caller_is_who_the_token_says_and_its_token_is_passed_on(start_service,
                                                                     procura_env):
    service_tokens.remember("echo", service_token("echo"))
    start_service(Echo)
    start_service(EchoBack)
    with bare("echo", procura_env, user_token(BUYER)) as echo:
        me = echo.whoami(FORGED)
        assert (me["user_id"], me["company_id"], me["staff"], me["roles"]) == \
            (7, 3, False, ["buyer"])
        # the next service sees the same caller: the token went on with the context
        passed = echo.through(FORGED)
        assert (passed["user_id"], passed["company_id"], passed["staff"]) == (7, 3, False)
        # work the service does by itself shows its own token
        own = echo.by_itself(FORGED)
        assert (own["service"], own["staff"], own["user_id"]) == ("echo", True, None)


# ---------------------------------------------------------------- each service's own user

@pytest.fixture
def service_vhost(monkeypatch):
    """A vhost with every service's topology declared by the administrator and each
    service's own user; the environment names them as `make run` does."""
    vhost, drop_vhost = new_vhost()
    admin_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    management = Management(MGMT, *AUTH)
    prefix = f"{vhost}-"
    uris = create_service_users(admin_uri, {s: secrets.token_urlsafe(12) for s in SERVICES},
                                prefix=prefix, management=management)
    declare_topology(all_service_classes(SERVICES), uri=admin_uri, event_sources=SERVICES)
    monkeypatch.setenv("AMQP_URI", admin_uri)
    for service, uri in uris.items():
        monkeypatch.setenv(f"{service.upper()}_AMQP_URI", uri)
    yield {"vhost": vhost, "admin": admin_uri, "uris": uris, "prefix": prefix}
    for service in SERVICES:
        management.delete_user(f"{prefix}{service}")
    drop_vhost()


def attempt(uri, action):
    """Run `action(channel)` on a fresh connection; the broker's refusal, or None."""
    with Connection(uri) as conn:
        channel = conn.channel()
        try:
            action(channel)
        except (AccessRefused, PreconditionFailed, NotFound) as exc:
            return type(exc).__name__
        return None


def publish(exchange, routing_key, user=None):
    def action(channel):
        channel.confirm_select()
        from amqp import Message
        channel.basic_publish_confirm(Message(b"{}", user_id=user), exchange=exchange,
                                      routing_key=routing_key)
    return action


def test_each_service_writes_only_to_its_own_exchange_and_reads_only_its_own_queues(
        service_vhost):
    orders, gateway = service_vhost["uris"]["orders"], service_vhost["uris"]["gateway"]
    user = f"{service_vhost['prefix']}orders"
    assert attempt(orders, publish("orders.events", "order_placed", user)) is None
    assert attempt(orders, publish("nameko-rpc", "catalog.ping", user)) is None
    # no other service's events, no direct route to any queue, no lie about who it is
    assert attempt(orders, publish("catalog.events", "catalog_changed", user)) == "AccessRefused"
    assert attempt(orders, publish("", "rpc-catalog", user)) == "AccessRefused"
    assert attempt(orders, publish("orders.events", "order_placed",
                                   f"{service_vhost['prefix']}approvals")) == "PreconditionFailed"
    # the gateway cannot say a token was revoked, nor that an order was approved
    gateway_user = f"{service_vhost['prefix']}gateway"
    assert attempt(gateway, publish("identity.events", "access_revoked", gateway_user)) == \
        "AccessRefused"
    assert attempt(gateway, publish("approvals.events", "order_approved", gateway_user)) == \
        "AccessRefused"
    # its own queues only: not approvals', not the dead letters (which hold every payload)
    assert attempt(orders, lambda ch: ch.basic_get("evt-approvals-order_approved--orders."
                                                   "on_order_approved")) is None
    assert attempt(orders, lambda ch: ch.basic_get("evt-orders-order_placed--approvals."
                                                   "on_order_placed")) == "AccessRefused"
    assert attempt(orders, lambda ch: ch.basic_get(DEAD_LETTER_QUEUE)) == "AccessRefused"
    # nor may it delete or redeclare another's exchange
    assert attempt(orders, lambda ch: ch.exchange_delete("catalog.events")) == "AccessRefused"


def test_identity_gives_a_service_its_token_only_over_its_own_rabbitmq_user(
        service_config, container_factory, service_vhost, tmp_path, monkeypatch):
    from tests.support.tokens import RING_JSON, trust_test_keys
    monkeypatch.setenv("IDENTITY_SIGNING_KEYS", RING_JSON)
    monkeypatch.setenv("METRICS_DISABLED", "1")
    url, drop = migrated_database("identity", tmp_path)
    monkeypatch.setenv("IDENTITY_DATABASE_URL", url)
    trust_test_keys()
    config = service_config("identity")
    config["AMQP_URI"] = service_vhost["uris"]["identity"]
    container_factory(IdentityService, config).start()
    echo_config = service_config("echoback")
    echo_config["AMQP_URI"] = service_vhost["admin"]
    declare_topology([EchoBack], uri=service_vhost["admin"])
    container_factory(EchoBack, echo_config).start()
    try:
        with StandaloneRpc("orders", tokens=False) as rpc:
            token = rpc.identity.service_token({}, "orders")
        with StandaloneRpc("catalog", tokens=False) as rpc:
            with pytest.raises(Unauthorized):
                rpc.identity.service_token({}, "orders")  # catalog's user asking for orders'
        with StandaloneRpc(None, tokens=False) as rpc:  # the administrator: no service
            with pytest.raises(Unauthorized):
                rpc.identity.service_token({}, "orders")
        # orders' own work shows it: the called service sees orders, as staff
        service_tokens.tokens.pop("orders", None)
        with StandaloneRpc("orders") as rpc:
            seen = rpc.echoback.whoami(CallerContext.system())
        assert (seen["service"], seen["staff"]) == ("orders", True)
        assert service_tokens.tokens["orders"][0] != token  # asked of identity again
    finally:
        drop()


# ---------------------------------------------------------------- events: who published

def effects(config):
    with ServiceRpcProxy("testsub", config) as sub:
        return [note for _, note in sub.effects({})]


def test_an_event_its_sources_user_did_not_publish_is_refused(messaging_dbs, start_service, procura_env,
                                                               monkeypatch):
    vhost = procura_env["vhost"]
    management = Management(MGMT, *AUTH)
    uris = {}
    for name, sources in (("testpub", []), ("testsub", ["testpub"]), ("intruder", [])):
        user, password = f"{vhost}-{name}", secrets.token_urlsafe(12)
        management.put_user(user, password)
        management.put_permissions(vhost, user, permissions(name, sources))
        uris[name] = service_uri(procura_env["AMQP_URI"], user, password)
    monkeypatch.setenv("TESTPUB_AMQP_USER", f"{vhost}-testpub")
    try:
        start_service(Subscriber, AMQP_URI=uris["testsub"], max_workers=1)
        start_service(Publisher, AMQP_URI=uris["testpub"])
        queue = "evt-testpub-thing_happened--testsub.on_thing"
        envelope = json.dumps({"event_id": "0b7c3f0e-2222-4a8c-9a9e-000000000001",
                               "type": "thing_happened", "source": "testpub",
                               "occurred_at": "2026-11-30T10:00:00Z", "request_id": "r",
                               "payload": {"note": "forged"}}).encode()
        intruder = f"{vhost}-intruder"

        def forge(channel):
            from amqp import Message
            channel.confirm_select()
            # the retry exchange routes to any queue after its delay: the one way in
            channel.basic_publish_confirm(
                Message(envelope, user_id=intruder, content_type="application/json"),
                exchange=delay_exchange_name(retry_delays()[0]), routing_key=queue)
        assert attempt(uris["intruder"], publish("testpub.events", "thing_happened",
                                                 intruder)) == "AccessRefused"
        assert attempt(uris["intruder"], forge) is None
        parked = wait_for(lambda: dead_letters(procura_env["AMQP_URI"]), timeout=15,
                          message="the forged event dead-lettered")
        assert "refused" in parked[0]["error"] and parked[0]["queue"] is None
        # a bulk replay leaves it where it is
        assert replay_dead_letters(procura_env["AMQP_URI"]) == 0
        # testpub's own events go through
        with ServiceRpcProxy("testpub", procura_env) as pub:
            pub.publish({}, "genuine")
        assert wait_for(lambda: effects(procura_env), message="the genuine event") == ["genuine"]
    finally:
        for name in ("testpub", "testsub", "intruder"):
            management.delete_user(f"{vhost}-{name}")


# ---------------------------------------------------------------- quorum queues

def queue_types(vhost):
    reply = requests.get(f"{MGMT}/api/queues/{quote(vhost, safe='')}", auth=AUTH)
    reply.raise_for_status()
    return {q["name"]: q.get("type", "classic") for q in reply.json()}


def test_queues_are_quorum_queues_when_queue_type_says_so(messaging_dbs, start_service, procura_env,
                                                          monkeypatch):
    monkeypatch.setenv("QUEUE_TYPE", "quorum")
    start_service(Subscriber)
    start_service(Publisher)
    with ServiceRpcProxy("testpub", procura_env) as pub:
        pub.publish({}, "poison-quorum")  # retried through the delay queues, then parked
    wait_for(lambda: dead_letters(procura_env["AMQP_URI"]), timeout=15,
             message="the poison event retried and parked")
    types = wait_for(lambda: (lambda t: t if "rpc-testpub" in t else None)(
        queue_types(procura_env["vhost"])), message="the management API's view")
    for name in ("rpc-testsub", "rpc-testpub", "evt-testpub-thing_happened--testsub.on_thing",
                 DEAD_LETTER_QUEUE, *(delay_exchange_name(d) for d in retry_delays())):
        assert types[name] == "quorum", (name, types[name])
    # reply queues live as long as their process: classic
    assert all(t == "classic" for n, t in types.items() if n.startswith("rpc.reply-"))


# ---------------------------------------------------------------- the outbox relay

@pytest.fixture
def identity_outbox(tmp_path, procura_env):
    url, drop = migrated_database("identity", tmp_path)
    session = open_session("identity", IdentityBase, url)
    uri = procura_env["AMQP_URI"]
    publisher = AmqpPublisher(uri, use_confirms=True, user_id="guest")
    yield session, publisher, uri
    session.close()
    session.get_bind().dispose()
    drop()


def test_a_link_token_is_blanked_once_the_event_is_sent(identity_outbox):
    session, publisher, uri = identity_outbox
    model = IdentityBase.OutboxEvent
    exchange = Exchange("identity.events", type="topic", durable=True)
    with Connection(uri) as conn:
        Queue("reset-links", exchange=exchange, routing_key="password_reset_requested",
              durable=True)(conn.channel()).declare()
    emit(session, "identity", "password_reset_requested",
         {"user_id": 4, "email": "ada@northwind.test", "token": "one-time-secret"})
    session.commit()
    assert publish_pending(session, model, publisher, "identity") == 1
    row = session.scalars(select(model)).one()
    assert row.sent_at is not None and row.payload["token"] is None
    assert row.payload["email"] == "ada@northwind.test"
    with Connection(uri) as conn:
        message = conn.channel().basic_get("reset-links", no_ack=True)
    assert json.loads(message.body)["payload"]["token"] == "one-time-secret"
    assert message.properties["user_id"] == "guest"  # stamped with the relay's user


def test_an_event_no_queue_receives_is_declared_for_and_marked_unroutable_not_sent(
        identity_outbox, monkeypatch):
    session, publisher, uri = identity_outbox
    monkeypatch.setenv("OUTBOX_UNROUTABLE_ATTEMPTS", "1")
    model = IdentityBase.OutboxEvent
    # nobody listens to these: their exchange did not exist before the relay published
    emit(session, "catalog", "catalog_changed", {"part_number": "X-1", "token": "t"})
    session.commit()
    assert publish_pending(session, model, publisher, "catalog") == 0
    row = session.scalars(select(model)).one()
    assert row.sent_at is None and row.unroutable_at is not None
    assert row.last_error.startswith("unroutable") and row.payload["token"] is None
    assert backlog(session, model) == 0
    # it exists now, and the row is not tried again
    assert attempt(uri, lambda ch: ch.exchange_declare("catalog.events", "topic",
                                                       passive=True)) is None
    assert publish_pending(session, model, publisher, "catalog") == 0
    assert session.scalars(select(model)).one().attempts == 1
