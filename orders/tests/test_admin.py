"""Smoke tests of the Django admin: every page a manager uses renders, and
the order actions go through the services, refusals included."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages

from orders import services
from orders.models import Order, OrderStatus, Reprint
from orders.services import ConfirmInput, LineInput
from orders.tests.helpers import CASH, events_since, snapshot
from users.models import User
from users.services import user_create

PASSWORD = "an-admin-test-password"


@pytest.fixture
def manager(db):
    return user_create(username="manager", role="admin", password=PASSWORD)


@pytest.fixture
def admin_site(client, manager):
    """The Django test client, logged in as an admin-role user."""
    assert client.login(username="manager", password=PASSWORD)
    return client


@pytest.fixture
def orders(place_order, menu, operator):
    """A01 pending, A02 confirmed (ticket 1), A03 picked up (ticket 2)."""
    pending = place_order(
        table="Terrace 4",
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=2, notes="No onions"),
            LineInput(food_id=menu["lemonade"].id, quantity=1),
        ],
    )
    confirmed = place_order(customer="Grace")
    services.order_confirm(order_id=confirmed.id, by=operator, confirmation=CASH)
    picked_up = place_order(customer="Linus")
    services.order_confirm(order_id=picked_up.id, by=operator, confirmation=CASH)
    services.order_set_status(order_id=picked_up.id, by=operator, status=OrderStatus.COMPLETED)
    services.order_set_status(order_id=picked_up.id, by=operator, status=OrderStatus.PICKED_UP)
    services.order_reprint(order_id=confirmed.id, by=operator, item_ids=[], receipt=True)
    return {"pending": pending, "confirmed": confirmed, "picked_up": picked_up}


def run_action(client, action: str, *orders: Order):
    response = client.post(
        "/admin/orders/order/",
        {"action": action, ACTION_CHECKBOX_NAME: [order.pk for order in orders], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


def test_user_create_makes_an_admin_a_superuser(manager):
    assert (manager.is_staff, manager.is_superuser, manager.role) == (True, True, "admin")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/", "Ordering backend · admin"),
        ("/admin/users/user/", "manager"),
        ("/admin/orders/food/", "Margherita"),
        ("/admin/orders/category/", "Drinks"),
        ("/admin/orders/printer/", "Kitchen"),
        ("/admin/orders/cashregister/", "Till 1"),
        ("/admin/orders/order/", "Terrace 4"),
        ("/admin/orders/order/?status__exact=PICKED_UP", "Linus"),
        ("/admin/orders/order/?q=grace", "Grace"),
        ("/admin/users/user/add/", "Role"),
        ("/admin/orders/food/add/", "Price"),
    ],
)
def test_each_admin_page_renders(admin_site, orders, path, expected):
    response = admin_site.get(path)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_the_order_search_finds_by_display_code_table_and_customer(admin_site, orders):
    def found(term):
        response = admin_site.get("/admin/orders/order/", {"q": term})
        assert response.status_code == 200
        return sorted(order.display_code for order in response.context["cl"].result_list)

    assert found("A02") == ["A02"]
    assert found("terrace") == ["A01"]
    assert found("linus") == ["A03"]


def test_the_order_filters_by_status(admin_site, orders):
    response = admin_site.get("/admin/orders/order/", {"status__exact": "PENDING"})
    assert [order.pk for order in response.context["cl"].result_list] == [orders["pending"].pk]


def test_the_order_page_shows_its_lines_inline(admin_site, orders, menu):
    response = admin_site.get(f"/admin/orders/order/{orders['pending'].pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Margherita" in page
    assert "Lemonade" in page
    assert "No onions" in page
    inline = response.context["inline_admin_formsets"][0]
    assert inline.formset.queryset.model.__name__ == "OrderItem"
    assert len(inline.formset.forms) == 2


def test_the_order_page_shows_its_reprints(admin_site, orders):
    response = admin_site.get(f"/admin/orders/order/{orders['confirmed'].pk}/change/")
    assert response.status_code == 200
    reprints = response.context["inline_admin_formsets"][1]
    assert len(reprints.formset.forms) == 1


def test_the_user_page_renders_with_its_role(admin_site, operator):
    response = admin_site.get(f"/admin/users/user/{operator.pk}/change/")
    assert response.status_code == 200
    assert 'value="operator" selected' in response.content.decode()


def test_orders_cannot_be_added_or_deleted_in_the_admin(admin_site, orders):
    assert admin_site.get("/admin/orders/order/add/").status_code == 403
    assert admin_site.get(f"/admin/orders/order/{orders['pending'].pk}/delete/").status_code == 403
    assert Order.objects.count() == 3


def test_the_confirm_action_confirms_a_pending_order(admin_site, manager, orders, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(admin_site, "confirm_card", orders["pending"])

    assert messages == [("success", "Confirmed 1 order(s).")]
    order = Order.objects.get(pk=orders["pending"].pk)
    assert (order.status, order.ticket_number, order.payment_method, order.user) == (
        OrderStatus.CONFIRMED,
        3,
        "CARD",
        manager,
    )
    assert events_since(before) == [
        ("cashier", "confirmed-order"),
        ("display", "confirmed-order"),
        ("printer", "confirmed-order"),
    ]


def test_the_confirm_action_on_a_confirmed_order_reports_an_error_and_changes_nothing(
    admin_site, orders, django_capture_on_commit_callbacks
):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(admin_site, "confirm_cash", orders["confirmed"])

    assert len(messages) == 1
    level, text = messages[0]
    assert level == "error"
    assert text.startswith("A02: Only pending orders can be confirmed")
    assert snapshot() == before
    order = Order.objects.get(pk=orders["confirmed"].pk)
    assert (order.status, order.ticket_number) == (OrderStatus.CONFIRMED, 1)


def test_an_action_on_a_mixed_selection_does_what_it_may_and_reports_the_rest(admin_site, orders):
    messages = run_action(admin_site, "confirm_cash", orders["pending"], orders["picked_up"])

    assert messages[0] == ("success", "Confirmed 1 order(s).")
    assert [level for level, _ in messages[1:]] == ["error"]
    assert messages[1][1].startswith("A03:")
    assert Order.objects.get(pk=orders["pending"].pk).status == OrderStatus.CONFIRMED
    assert Order.objects.get(pk=orders["picked_up"].pk).status == OrderStatus.PICKED_UP


def test_the_cancel_action_cancels_a_pending_order(admin_site, orders):
    messages = run_action(admin_site, "mark_cancelled", orders["pending"])
    assert messages == [("success", "Cancelled 1 order(s).")]
    assert Order.objects.get(pk=orders["pending"].pk).status == OrderStatus.CANCELLED


def test_the_cancel_action_on_a_cancelled_order_reports_an_error_and_changes_nothing(
    admin_site, orders, django_capture_on_commit_callbacks
):
    # A picked-up order may be cancelled (a refund, clients-heads.md O8);
    # a cancelled one is final.
    run_action(admin_site, "mark_cancelled", orders["picked_up"])
    assert Order.objects.get(pk=orders["picked_up"].pk).status == OrderStatus.CANCELLED
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(admin_site, "mark_cancelled", orders["picked_up"])

    assert messages == [("error", "A03: An order cannot go from CANCELLED to CANCELLED.")]
    assert snapshot() == before
    assert Order.objects.get(pk=orders["picked_up"].pk).status == OrderStatus.CANCELLED


def test_the_reprint_action_reprints_every_line_and_the_receipt(admin_site, manager, orders):
    Reprint.objects.all().delete()
    messages = run_action(admin_site, "reprint_everything", orders["confirmed"])

    assert messages == [("success", "Sent to the printers 1 order(s).")]
    reprint = Reprint.objects.get()
    assert reprint.requested_by == manager
    assert reprint.receipt is True
    assert reprint.item_ids == list(orders["confirmed"].items.values_list("id", flat=True))


def test_the_reprint_action_on_a_pending_order_reports_an_error_and_changes_nothing(
    admin_site, orders, django_capture_on_commit_callbacks
):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        messages = run_action(admin_site, "reprint_everything", orders["pending"])

    assert messages == [("error", "A01: Pending orders can't be reprinted")]
    assert snapshot() == before


def test_a_cashier_sees_the_orders_but_not_the_staff(client, db, orders):
    user_create(username="cashier", role="operator", password=PASSWORD)
    assert client.login(username="cashier", password=PASSWORD)
    assert client.get("/admin/orders/order/").status_code == 200
    assert client.get(f"/admin/orders/order/{orders['pending'].pk}/change/").status_code == 200
    assert client.get("/admin/users/user/").status_code == 403


def test_a_waiter_has_no_admin(client, db):
    user_create(username="walter", role="waiter", password=PASSWORD)
    assert client.login(username="walter", password=PASSWORD)
    response = client.get("/admin/orders/order/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_manager_adds_a_staff_member_with_a_role_in_the_admin(admin_site):
    response = admin_site.post(
        "/admin/users/user/add/",
        {
            "username": "newbie",
            "password1": "a-long-password-2",
            "password2": "a-long-password-2",
            "usable_password": "true",
            "role": "operator",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.role == "operator"
    assert user.check_password("a-long-password-2")


# --- what a manager cannot break, and what the pages say --------------------------------


def test_deleting_a_printer_in_use_lists_what_uses_it_and_deletes_nothing(admin_site, menu):
    from orders.models import Printer

    kitchen = menu["kitchen"]
    page = admin_site.get(f"/admin/orders/printer/{kitchen.pk}/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Category “Pizza” prints on Kitchen" in html
    assert "Yes, I’m sure" not in html  # no button that would go through

    # Confirming anyway shows the same refusal again and deletes nothing.
    response = admin_site.post(f"/admin/orders/printer/{kitchen.pk}/delete/", {"post": "yes"})
    assert "Category “Pizza” prints on Kitchen" in response.content.decode()
    assert Printer.objects.filter(pk=kitchen.pk).exists()

    # The bulk action refuses the same way: the bar prints lemonade and the till's receipts.
    bar = menu["bar"]
    response = admin_site.post(
        "/admin/orders/printer/",
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [bar.pk], "post": "yes"},
    )
    html = response.content.decode()
    assert "Food “Lemonade” prints on Bar" in html
    assert "Cash register “Till 1” prints its receipts on Bar" in html
    assert Printer.objects.filter(pk=bar.pk).exists()


def test_a_printer_nothing_uses_can_be_deleted(admin_site, db):
    from orders.models import Printer

    spare = Printer.objects.create(name="Spare")
    response = admin_site.post(f"/admin/orders/printer/{spare.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Printer.objects.filter(pk=spare.pk).exists()


def test_deleting_a_category_with_foods_lists_them_and_deletes_nothing(admin_site, menu):
    from orders.models import Category

    pizza = menu["pizza"]
    html = admin_site.get(f"/admin/orders/category/{pizza.pk}/delete/").content.decode()
    assert "Margherita" in html
    assert (
        "Margherita" in admin_site.post(f"/admin/orders/category/{pizza.pk}/delete/", {"post": "yes"}).content.decode()
    )
    assert Category.objects.filter(pk=pizza.pk).exists()


def test_the_food_list_shows_the_printer_each_food_prints_on(admin_site, menu):
    from decimal import Decimal

    from orders.models import Category, Food

    loose = Category.objects.create(name="Loose")
    Food.objects.create(name="Bread", price=Decimal("2"), category=loose)
    html = admin_site.get("/admin/orders/food/").content.decode()
    assert "Kitchen (through Pizza)" in html  # margherita: its category's printer
    assert '<td class="field-effective_printer">Bar</td>' in html  # lemonade: its own
    assert '<td class="field-effective_printer">the till&#x27;s printer</td>' in html  # bread: the till's
    assert '<td class="field-price_display">€12.50</td>' in html


def test_the_order_page_is_read_only_with_food_names_money_and_reprints_in_words(admin_site, orders, operator, menu):
    order = orders["confirmed"]
    services.order_reprint(order_id=order.id, by=operator, item_ids=[order.items.get().id], receipt=False)
    html = admin_site.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    assert "2 × Margherita" in html
    assert "<p>€25.00</p>" in html  # the total as the reader writes amounts (25,00 € in Italian)
    assert "The receipt" in html
    assert "2 × Margherita" in html
    assert "item_ids" not in html
    # Posting the form changes nothing either.
    admin_site.post(f"/admin/orders/order/{order.pk}/change/", {"table": "Hacked", "_save": "1"})
    order.refresh_from_db()
    assert order.table != "Hacked"


def test_the_staff_landing_page_links_the_admin_kitchen_board_and_docs(client, admin_site, menu, stations):
    from django.test import Client

    html = Client().get("/").content.decode()
    for link in ('href="/admin/"', 'href="/kitchen/"', 'href="/display/"', 'href="/docs/"'):
        assert link in html
    # Logged in, it also links each station's own view.
    assert f'href="/kitchen/?station={stations["bar"].pk}"' in admin_site.get("/").content.decode()
    # The admin's "View site" goes there.
    assert 'href="/"' in admin_site.get("/admin/").content.decode()


def test_an_admin_manages_stations_and_cannot_delete_one_live_orders_wait_on(admin_site, menu, stations, operator):
    from orders.models import Station

    inline = {"categories-TOTAL_FORMS": "0", "categories-INITIAL_FORMS": "0"}
    response = admin_site.post("/admin/orders/station/add/", {"name": "Grill", "position": "3", **inline})
    assert response.status_code == 302, response.content
    grill = Station.objects.get(name="Grill")
    page = admin_site.get(f"/admin/orders/station/{stations['kitchen'].pk}/change/").content.decode()
    assert "Pizza" in page  # the categories it makes

    services.order_create(
        table="1",
        customer="A",
        lines=[LineInput(food_id=menu["margherita"].id, quantity=1)],
        confirmation=ConfirmInput(payment_method="CASH"),
    )
    page = admin_site.get(f"/admin/orders/station/{stations['kitchen'].pk}/delete/").content.decode()
    assert "Order A01 (CONFIRMED) waits on Kitchen" in page
    admin_site.post(f"/admin/orders/station/{stations['kitchen'].pk}/delete/", {"post": "yes"})
    assert Station.objects.filter(pk=stations["kitchen"].pk).exists()
    admin_site.post(f"/admin/orders/station/{grill.pk}/delete/", {"post": "yes"})
    assert not Station.objects.filter(pk=grill.pk).exists()
