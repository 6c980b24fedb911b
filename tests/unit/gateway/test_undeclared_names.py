"""The names a request may carry are those of the schemas its endpoint declares: the
gateway refuses the others (a handler that passes some fields on to a service would drop
them unseen); the values are the service's to judge."""
from services.gateway.api import undeclared
from services.notifications.schemas import Announcement
from services.gateway.routes.notifications import UnsubscribeQuery
from services.orders.schemas import Checkout, OrdersQuery


def test_names_the_schema_has_no_field_for_are_refused():
    assert undeclared(Checkout(), {"cart_id": "x", "payment": None}) == {}
    assert undeclared(Checkout(), {"cart_id": 1, "cartid": 1}) == {"cartid": ["Unknown field."]}
    assert undeclared(Announcement(), {"subject": "s", "x-extra": 1}) == \
        {"x-extra": ["Unknown field."]}


def test_a_query_goes_by_its_parameters_names():
    assert undeclared(OrdersQuery(), {"from": "2026-01-01", "to": "x", "limit": "5"}) == {}
    assert undeclared(OrdersQuery(), {"date_from": "2026-01-01"}) == \
        {"date_from": ["Unknown field."]}


def test_a_schema_that_takes_unknown_names_is_left_alone():
    # unsubscribe links get tracking parameters appended
    assert undeclared(UnsubscribeQuery(), {"token": "t", "utm_source": "mail"}) == {}
    assert undeclared(None, {"anything": 1}) == {}
