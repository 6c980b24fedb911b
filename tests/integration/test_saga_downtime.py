"""The order saga across downtime, on real `procura serve` processes and the real broker:
an order placed while approvals is down is decided when approvals returns; a decision taken
while orders is down moves the order when orders returns. Nothing is lost, nothing doubled."""
import signal

import pytest

from services.common.context import CallerContext
from services.common.engines import open_session
from tests.integration.processes import count, place_order, wait_ready
from tests.support.tokens import ServiceRpcProxy
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def order_status(env, number):
    from services.orders.models import Base, Order
    from sqlalchemy import select
    with open_session("orders", Base, env["ORDERS_DATABASE_URL"]) as session:
        return session.scalar(select(Order.status).where(Order.number == number))


def sent(env, service, event_type):
    from services.approvals.models import Base as ApprovalsBase
    from services.orders.models import Base as OrdersBase
    base = {"orders": OrdersBase, "approvals": ApprovalsBase}[service]
    total = count(env, service, base, base.OutboxEvent, type=event_type)
    unsent = count(env, service, base, base.OutboxEvent, type=event_type, sent_at=None)
    return total - unsent


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) is not None


def test_an_order_placed_while_approvals_is_down_is_decided_when_it_returns(cluster):
    env = cluster["env"]
    for service in ("catalog", "orders"):
        cluster["start"](service)
        wait_ready(service, env)
    order = place_order(cluster)
    # the fact to wait for: order_placed left orders' outbox for the broker
    wait_for(lambda: sent(env, "orders", "order_placed") == 1, timeout=20,
             message="order_placed to be published")
    assert order_status(env, order["number"]) == "pending_approval"
    cluster["start"]("approvals")
    wait_for(lambda: order_status(env, order["number"]) == "approved", timeout=30,
             message="the order to be approved once approvals is back")
    from services.approvals.models import ApprovalRequest, Base
    assert count(env, "approvals", Base, ApprovalRequest) == 1


def test_a_decision_taken_while_orders_is_down_moves_the_order_when_it_returns(cluster):
    from services.approvals import demo as approvals_demo
    from services.approvals.models import ApprovalRequest, Base as ApprovalsBase
    from services.identity import demo as identity_demo
    from services.identity.models import Base as IdentityBase
    env = cluster["env"]
    with open_session("identity", IdentityBase, env["IDENTITY_DATABASE_URL"]) as session:
        people = identity_demo.seed(session)
    assert people["company_id"] == 1  # the catalog's demo contract is for company 1
    with open_session("approvals", ApprovalsBase, env["APPROVALS_DATABASE_URL"]) as session:
        approvals_demo.seed(session, 1, people["users"])
        session.commit()
    for service in ("identity", "catalog", "approvals", "orders"):
        cluster["start"](service)
    for service in ("identity", "catalog", "approvals", "orders"):
        wait_ready(service, env)

    # demo.buyer's orders over 5,000 CAD wait for demo.approver
    order = place_order(cluster, user_id=people["users"]["demo.buyer"], quantity=400)
    assert order is not None and order["status"] == "pending_approval"
    wait_for(lambda: count(env, "approvals", ApprovalsBase, ApprovalRequest, status="pending") == 1,
             timeout=20, message="the approval request")
    stop(cluster["procs"]["orders"])

    approver = CallerContext(user_id=people["users"]["demo.approver"], company_id=1,
                             currency="CAD", email="demo.approver@northwind.example",
                             name="Chloé Roy").to_dict()
    with ServiceRpcProxy("approvals", {"AMQP_URI": env["AMQP_URI"]}, timeout=20) as approvals:
        inbox = approvals.inbox(approver, "pending")
        (request,) = inbox["items"]
        assert request["order_number"] == order["number"]
        decided = approvals.decide(approver, request["id"], True, "d'accord")
        assert decided["status"] == "approved"
    wait_for(lambda: sent(env, "approvals", "order_approved") == 1, timeout=20,
             message="order_approved to be published")
    assert order_status(env, order["number"]) == "pending_approval"  # orders is down

    cluster["start"]("orders")
    wait_for(lambda: order_status(env, order["number"]) == "approved", timeout=30,
             message="the order to move on once orders is back")
