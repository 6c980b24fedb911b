"""A crash of the orders process between its commit and its publish loses no order_placed
and duplicates none: real `procura serve` processes on the real broker, killed with
SIGKILL at the named point, then started again."""
import signal

import pytest

from tests.integration.processes import count, place_order, wait_ready
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("fault", ["before_publish", "after_publish"])
def test_order_placed_survives_a_crash_exactly_once(cluster, fault):
    from services.approvals.models import ApprovalRequest, Base as ApprovalsBase
    from services.orders.models import Base as OrdersBase, Order
    from services.reporting.models import Base as ReportingBase, OrderFact
    env = cluster["env"]
    cluster["start"]("catalog")
    # one worker each: events are handled in the order they were published, so a later
    # order handled means any copy of the first one was handled before it
    cluster["start"]("approvals", APPROVALS_MAX_WORKERS="1")
    cluster["start"]("reporting", REPORTING_MAX_WORKERS="1")
    orders = cluster["start"]("orders", OUTBOX_RELAY_FAULT=fault)
    for service in ("catalog", "approvals", "reporting", "orders"):
        wait_ready(service, env)

    place_order(cluster)
    assert orders.wait(30) == -signal.SIGKILL  # killed at the fault point
    assert count(env, "orders", OrdersBase, Order) == 1  # the order was committed
    unsent = count(env, "orders", OrdersBase, OrdersBase.OutboxEvent, type="order_placed",
                   sent_at=None)
    assert unsent == 1  # ... and its event not marked sent

    cluster["start"]("orders")  # a normal restart
    wait_for(lambda: count(env, "orders", OrdersBase, Order, status="approved") == 1,
             timeout=30, message="the order to be approved after the restart")
    # a second order, placed after the restart's re-publication: once both services have
    # handled it, any duplicate of the first order_placed has been handled too
    assert place_order(cluster) is not None
    wait_for(lambda: count(env, "orders", OrdersBase, Order, status="approved") == 2,
             timeout=30, message="the second order to be approved")
    wait_for(lambda: count(env, "reporting", ReportingBase, OrderFact) >= 2, timeout=30,
             message="reporting to record the second order")
    assert count(env, "approvals", ApprovalsBase, ApprovalRequest) == 2
    assert count(env, "reporting", ReportingBase, OrderFact) == 2
    handled = count(env, "approvals", ApprovalsBase, ApprovalsBase.ProcessedEvent,
                    handler="approvals.on_order_placed")
    assert handled == 2
    wait_for(lambda: count(env, "orders", OrdersBase, OrdersBase.OutboxEvent, sent_at=None) == 0,
             message="every event of orders to be published")
