"""GET /v1/reports and POST /v1/reports/general-closure, against the real
database; confirmation and completion moments are set on the rows so that
the intervals are known."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from django_eventstream.models import Event

from orders import services
from orders.models import CashRegister, Closure, Order, OrderStatus
from orders.reports import build_reports
from orders.services import ConfirmInput, LineInput
from orders.tests.helpers import events_since, snapshot

EVENING = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)


@pytest.fixture
def sell(place_order, menu, operator):
    """`sell(at, lines=[(food, qty)], method="CASH", till=..., completed_after=None, status=None)`:
    a confirmed order whose confirmation happened `at`."""

    def sell(at, *, lines=(("margherita", 1),), method="CASH", till="till", completed_after=None, status=None):
        order = place_order(
            lines=[LineInput(food_id=menu[name].id, quantity=quantity) for name, quantity in lines],
            confirm=ConfirmInput(payment_method=method, cash_register_id=menu[till].id if till else None),
            created_by=operator,
        )
        fields = {"confirmed_at": at}
        if completed_after is not None:
            fields.update(status=OrderStatus.COMPLETED, completed_at=at + completed_after)
        if status is not None:
            fields["status"] = status
        Order.objects.filter(pk=order.pk).update(**fields)
        return order

    return sell


@pytest.fixture
def second_till(menu):
    menu["till2"] = CashRegister.objects.create(name="Till 2")
    return menu["till2"]


def stored_payload(event: Event):
    # The log stores the JSON text of the payload (today in a JSON column,
    # hence possibly encoded twice).
    data = json.loads(event.data)
    return json.loads(data) if isinstance(data, str) else data


def get_reports(client, **params):
    return client.get("/v1/reports", params)


def test_an_hourly_report_has_the_contracts_figures_for_each_hour_with_orders(admin_client, sell, menu, second_till):
    sell(
        EVENING + timedelta(minutes=5),
        lines=[("margherita", 2), ("lemonade", 1)],
        completed_after=timedelta(minutes=10),
    )
    sell(EVENING + timedelta(minutes=50), method="CARD", till="till2", completed_after=timedelta(minutes=20))
    sell(EVENING + timedelta(hours=2, minutes=1), lines=[("lemonade", 3)])

    response = get_reports(
        admin_client, **{"from": "2026-07-04T17:00:00.000Z", "to": "2026-07-05T02:00:00Z", "groupBy": "1h"}
    )

    assert response.status_code == 200, response.content
    first, second = response.json()
    assert first == {
        "timestamp": "2026-07-04T18:00:00.000Z",
        "intervalInMinutes": 60,
        "totalRevenue": "41",
        "totalCashRevenue": "28.5",
        "totalCardRevenue": "12.5",
        "totalOrders": 2,
        "averageCompletionTime": 900.0,
        "categoryStats": [
            {
                "categoryId": menu["pizza"].id,
                "categoryName": "Pizza",
                "revenue": "37.5",
                "quantity": 3,
                "foodStats": [
                    {"foodId": menu["margherita"].id, "foodName": "Margherita", "revenue": "37.5", "quantity": 3}
                ],
            },
            {
                "categoryId": menu["drinks"].id,
                "categoryName": "Drinks",
                "revenue": "3.5",
                "quantity": 1,
                "foodStats": [{"foodId": menu["lemonade"].id, "foodName": "Lemonade", "revenue": "3.5", "quantity": 1}],
            },
        ],
        "cashRegisterStats": [
            {
                "cashRegisterId": menu["till"].id,
                "cashRegisterName": "Till 1",
                "totalRevenue": "28.5",
                "totalCashRevenue": "28.5",
                "totalCardRevenue": "0",
            },
            {
                "cashRegisterId": second_till.id,
                "cashRegisterName": "Till 2",
                "totalRevenue": "12.5",
                "totalCashRevenue": "0",
                "totalCardRevenue": "12.5",
            },
        ],
    }
    assert (second["timestamp"], second["totalRevenue"], second["totalOrders"]) == (
        "2026-07-04T20:00:00.000Z",
        "10.5",
        1,
    )
    assert second["averageCompletionTime"] is None


def test_pending_cancelled_and_out_of_range_orders_bring_no_revenue(admin_client, sell, place_order):
    place_order()  # pending, never confirmed
    sell(EVENING + timedelta(minutes=1), status=OrderStatus.CANCELLED)
    sell(EVENING - timedelta(minutes=1))  # before `from`
    sell(EVENING + timedelta(hours=1))  # at `to`: the range is [from, to)
    counted = sell(EVENING + timedelta(minutes=30), status=OrderStatus.PICKED_UP)

    response = get_reports(admin_client, **{"from": "2026-07-04T18:00:00Z", "to": "2026-07-04T19:00:00Z"})

    assert response.status_code == 200
    [report] = response.json()
    assert (report["totalOrders"], report["totalRevenue"]) == (1, str(counted.total.normalize()))
    assert (report["timestamp"], report["intervalInMinutes"]) == ("2026-07-04T18:00:00.000Z", 60)


def test_a_range_without_orders_has_no_reports(admin_client, sell):
    sell(EVENING)
    response = get_reports(admin_client, **{"from": "2026-07-05T18:00:00Z", "groupBy": "1h"})
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize(
    ("group_by", "timestamps", "minutes"),
    [
        ("4h", ["2026-07-04T16:00:00.000Z", "2026-07-04T20:00:00.000Z", "2026-07-05T00:00:00.000Z"], 240),
        ("12h", ["2026-07-04T12:00:00.000Z", "2026-07-05T00:00:00.000Z"], 720),
        # The service day starts at 06:00: the night stays with its evening.
        ("day", ["2026-07-04T06:00:00.000Z"], 1440),
    ],
)
def test_intervals_are_aligned_on_local_midnight_and_the_day_on_the_service_day(
    admin_client, sell, group_by, timestamps, minutes
):
    for at in (EVENING + timedelta(hours=1), EVENING + timedelta(hours=3), EVENING + timedelta(hours=7)):
        sell(at)

    response = get_reports(admin_client, **{"from": "2026-07-04", "to": "2026-07-06", "groupBy": group_by})

    assert [report["timestamp"] for report in response.json()] == timestamps
    assert {report["intervalInMinutes"] for report in response.json()} == {minutes}
    assert sum(report["totalOrders"] for report in response.json()) == 3


def test_intervals_follow_the_local_time_zone(admin_client, sell, settings):
    settings.TIME_ZONE = "Europe/Rome"  # UTC+2 in July
    sell(EVENING + timedelta(hours=3))  # 23:00 in Rome

    response = get_reports(
        admin_client, **{"from": "2026-07-04T00:00:00Z", "to": "2026-07-06T00:00:00Z", "groupBy": "4h"}
    )

    assert [report["timestamp"] for report in response.json()] == ["2026-07-04T18:00:00.000Z"]


def test_one_report_for_the_whole_range_when_grouped_by_all(admin_client, sell):
    sell(EVENING)
    sell(EVENING + timedelta(hours=5), method="CARD")

    response = get_reports(
        admin_client, **{"from": "2026-07-04T12:00:00Z", "to": "2026-07-05T12:00:00Z", "groupBy": "all"}
    )

    [report] = response.json()
    assert (report["timestamp"], report["intervalInMinutes"], report["totalOrders"]) == (
        "2026-07-04T12:00:00.000Z",
        1440,
        2,
    )
    assert (report["totalCashRevenue"], report["totalCardRevenue"], report["totalRevenue"]) == ("12.5", "12.5", "25")


def test_revenue_is_after_the_discount_and_exact_to_the_cent(admin_client, sell, menu, operator, place_order):
    order = place_order(lines=[LineInput(food_id=menu["lemonade"].id, quantity=3, surcharge=Decimal("0.05"))])
    services.order_confirm(
        order_id=order.id, by=operator, confirmation=ConfirmInput(payment_method="CASH", discount=Decimal("0.1"))
    )
    Order.objects.filter(pk=order.pk).update(confirmed_at=EVENING)

    [report] = get_reports(admin_client, **{"from": "2026-07-04T18:00:00Z", "to": "2026-07-04T19:00:00Z"}).json()

    assert report["totalRevenue"] == "10.45"  # 3 × 3.5 + 0.05 − 0.1
    assert report["categoryStats"][0]["revenue"] == "10.55"  # lines, before the order's discount
    assert report["cashRegisterStats"] == [
        {
            "cashRegisterId": None,
            "cashRegisterName": None,
            "totalRevenue": "10.45",
            "totalCashRevenue": "10.45",
            "totalCardRevenue": "0",
        }
    ]


def test_a_report_costs_the_same_few_queries_whatever_the_number_of_orders(sell, django_assert_num_queries):
    start, end = EVENING, EVENING + timedelta(hours=6)
    sell(EVENING)
    with django_assert_num_queries(3):
        build_reports(start=start, end=end, group_by="1h")
    for minutes in range(0, 300, 15):
        sell(EVENING + timedelta(minutes=minutes), lines=[("margherita", 1), ("lemonade", 2)])
    with django_assert_num_queries(3):
        reports = build_reports(start=start, end=end, group_by="1h")
    assert sum(report["totalOrders"] for report in reports) == 21


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-07-04T25:00:00Z"}, "from"),
        ({"from": "2026-07-04", "to": "soon"}, "to"),
        ({"from": "2026-07-04", "to": "2026-07-03"}, "to"),
        ({"from": "2026-07-04", "to": "2026-07-04"}, "to"),
        ({"from": "9000-01-01"}, "from"),  # to defaults to now
        ({"from": "2026-07-04", "groupBy": "2h"}, "groupBy"),
        ({"from": "2026-07-04", "groupBy": ""}, "groupBy"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(admin_client, params, field):
    response = get_reports(admin_client, **params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    # One problem: the message names it (API.md).
    assert response.json()["message"] == error["message"] != "Validation error"


@pytest.mark.parametrize(("role", "code"), [("anon", 401), ("waiter", 403), ("operator", 403)])
def test_only_an_admin_reads_reports(request, role, code):
    client = request.getfixturevalue(f"{role}_client")
    assert get_reports(client, **{"from": "2026-07-04"}).status_code == code


# --- completion time ----------------------------------------------------------------


def test_completion_is_stamped_kept_through_pick_up_and_cleared_by_an_undo(place_order, operator):
    order = place_order(confirm=ConfirmInput(payment_method="CASH"))
    assert order.completed_at is None

    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.COMPLETED)
    completed_at = Order.objects.get(pk=order.pk).completed_at
    assert completed_at is not None
    services.order_set_status(order_id=order.id, by=operator, status=OrderStatus.PICKED_UP)
    assert Order.objects.get(pk=order.pk).completed_at == completed_at

    other = place_order(confirm=ConfirmInput(payment_method="CASH"))
    services.order_set_status(order_id=other.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_recall(order_id=other.id, by=operator)
    assert Order.objects.get(pk=other.pk).completed_at is None


# --- general closure ------------------------------------------------------------------


def test_a_general_closure_answers_the_days_report_and_tells_the_printers(operator_client, send, sell, menu):
    sell(timezone.now(), lines=[("margherita", 2)])
    sell(timezone.now(), method="CARD")
    before = snapshot()

    response = send(operator_client, "post", "/v1/reports/general-closure", {"cashRegister": menu["till"].id})

    assert response.status_code == 201, response.content
    [report] = response.json()
    assert (report["totalOrders"], report["totalRevenue"], report["intervalInMinutes"]) == (2, "37.5", 1440)
    assert events_since(before) == [("printer", "general-closure")]
    closure = Closure.objects.get()
    assert (closure.cash_register_id, closure.report) == (menu["till"].id, response.json())
    event = Event.objects.filter(type="general-closure").get()
    # The printers get the report as one object with JSON numbers
    # (clients-heads.md P3); the REST answer stays the list.
    payload = stored_payload(event)
    assert payload["cashRegister"] == menu["till"].id
    assert (payload["report"]["totalOrders"], payload["report"]["totalRevenue"]) == (2, 37.5)


def test_a_closure_of_a_day_without_orders_has_an_empty_report(admin_client, send, menu):
    response = send(admin_client, "post", "/v1/reports/general-closure", {"cashRegister": menu["till"].id})
    assert (response.status_code, response.json()) == (201, [])


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "cashRegister"), ({"cashRegister": 7}, "cashRegister"), ({"cashRegister": ""}, "cashRegister")],
)
def test_a_bad_closure_body_is_a_400_and_closes_nothing(operator_client, send, menu, body, field):
    before = snapshot()
    response = send(operator_client, "post", "/v1/reports/general-closure", body)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert (Closure.objects.count(), snapshot()) == (0, before)


def test_a_malformed_closure_body_is_a_400(operator_client, send, menu):
    response = send(operator_client, "post", "/v1/reports/general-closure", raw="{")
    assert response.status_code == 400
    assert Closure.objects.count() == 0


def test_closing_an_unknown_till_is_a_404_and_sends_nothing(operator_client, send, menu):
    before = snapshot()
    response = send(operator_client, "post", "/v1/reports/general-closure", {"cashRegister": "nope"})
    assert (response.status_code, response.json()) == (404, {"message": "Cash register not found"})
    assert (Closure.objects.count(), snapshot()) == (0, before)


@pytest.mark.parametrize(("role", "code"), [("anon", 401), ("waiter", 403)])
def test_only_admins_and_operators_close_the_day(request, send, menu, role, code):
    client = request.getfixturevalue(f"{role}_client")
    before = snapshot()
    response = send(client, "post", "/v1/reports/general-closure", {"cashRegister": menu["till"].id})
    assert response.status_code == code
    assert snapshot() == before


def test_the_stored_report_matches_the_orders_totals(sell):
    for minutes in range(3):
        sell(timezone.now() - timedelta(minutes=minutes), lines=[("lemonade", minutes + 1)])
    closure = services.general_closure_create(cash_register_id=CashRegister.objects.get().id, by=None)
    expected = Order.objects.aggregate(total=Sum("total"))["total"]
    assert Decimal(closure.report[0]["totalRevenue"]) == expected


@pytest.mark.parametrize("kind", ["printer-agent", "display"])
def test_device_keys_may_neither_read_reports_nor_close_the_day(send, menu, kind):
    from rest_framework.test import APIClient

    from users.apikeys import create_key

    _, raw = create_key(name=f"a {kind}", kind=kind)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    before = snapshot()

    assert get_reports(client, **{"from": "2026-07-04"}).status_code == 403
    response = send(client, "post", "/v1/reports/general-closure", {"cashRegister": menu["till"].id})

    assert (response.status_code, response.json()) == (403, {"message": "Insufficient permissions"})
    assert (Closure.objects.count(), snapshot()) == (0, before)


def test_the_service_day_follows_the_local_time_zone(admin_client, sell, settings):
    settings.TIME_ZONE = "Europe/Rome"  # UTC+2 in July; the day starts at 06:00 Rome
    sell(datetime(2026, 7, 4, 23, 30, tzinfo=UTC))  # 01:30 on the 5th in Rome: still the 4th's service
    sell(datetime(2026, 7, 5, 4, 30, tzinfo=UTC))  # 06:30 on the 5th in Rome: the next service day

    response = get_reports(admin_client, **{"from": "2026-07-04", "to": "2026-07-06", "groupBy": "day"})

    assert [(r["timestamp"], r["totalOrders"]) for r in response.json()] == [
        ("2026-07-04T04:00:00.000Z", 1),
        ("2026-07-05T04:00:00.000Z", 1),
    ]
