"""Printers' status and MAC address, cash registers' filters and embedded
printer, and the cash drawer (API.md, "Menu and devices")."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.utils import timezone
from django_eventstream.models import Event
from rest_framework.test import APIClient

from orders import services
from orders.models import CashRegister, DrawerOpening, Printer, PrinterStatus
from orders.tests.helpers import events_since, snapshot
from users.apikeys import create_key
from users.models import ApiKeyKind

FORBIDDEN = {"message": "Insufficient permissions"}


@pytest.fixture
def agent(db) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)[1])
    return client


def stored_events(before) -> list[tuple[str, str, dict]]:
    """(channel, type, payload) of the events logged since `before`."""
    rows = Event.objects.order_by("id")[before["events"] :]
    return [(event.channel, event.type, _payload(event.data)) for event in rows if event.type]


def _payload(data: str) -> dict:
    value = json.loads(data)
    # django-eventstream stores the JSON text of the payload as a JSON string.
    return json.loads(value) if isinstance(value, str) else value


# --- printer status ---------------------------------------------------------------


def test_a_new_printer_is_unknown_with_no_status_time(admin_client, menu):
    body = admin_client.get(f"/v1/printers/{menu['kitchen'].id}").json()
    assert (body["status"], body["statusChangedAt"], body["mac"]) == ("UNKNOWN", None, "")


def test_an_agent_reports_a_status_which_is_stored_stamped_and_told_to_cashiers(agent, menu, send):
    before = snapshot()
    started = timezone.now()

    response = send(agent, "patch", f"/v1/printers/{menu['kitchen'].id}", {"status": "ONLINE"})

    assert response.status_code == 200, response.content
    printer = Printer.objects.get(pk=menu["kitchen"].id)
    assert printer.status == PrinterStatus.ONLINE and printer.status_changed_at >= started
    body = response.json()
    assert body["status"] == "ONLINE"
    assert body["statusChangedAt"].endswith("Z") and len(body["statusChangedAt"]) == 24
    assert stored_events(before) == [("cashier", "printer-status-changed", {"id": printer.id, "status": "ONLINE"})]


def test_the_same_status_reported_again_changes_nothing_and_tells_nobody(agent, menu, send):
    send(agent, "patch", f"/v1/printers/{menu['kitchen'].id}", {"status": "ERROR"})
    first = Printer.objects.get(pk=menu["kitchen"].id).status_changed_at
    before = snapshot()

    response = send(agent, "patch", f"/v1/printers/{menu['kitchen'].id}", {"status": "ERROR", "ip": "10.0.0.5"})

    assert response.status_code == 200
    printer = Printer.objects.get(pk=menu["kitchen"].id)
    assert (printer.status_changed_at, printer.ip) == (first, "10.0.0.5")
    assert events_since(before) == []


def test_an_admin_may_set_a_status_too(admin_client, menu, send):
    before = snapshot()
    response = send(admin_client, "patch", f"/v1/printers/{menu['bar'].id}", {"status": "OFFLINE", "name": "Bar 2"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["name"]) == ("OFFLINE", "Bar 2")
    assert events_since(before) == [("cashier", "printer-status-changed")]


def test_an_agent_reports_its_printer_s_address_and_mac(agent, menu, send):
    response = send(agent, "patch", f"/v1/printers/{menu['bar'].id}", {"ip": "10.0.0.8", "mac": "aa-bb-cc-0d-0e-0f"})
    assert response.status_code == 200, response.content
    assert (response.json()["ip"], response.json()["mac"]) == ("10.0.0.8", "AA:BB:CC:0D:0E:0F")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "BROKEN"}, "status"),
        ({"status": "online"}, "status"),
        ({"status": None}, "status"),
        ({"mac": "AA:BB:CC:DD:EE"}, "mac"),
        ({"mac": "AA:BB-CC:DD:EE:FF"}, "mac"),
        ({"mac": "GG:BB:CC:DD:EE:FF"}, "mac"),
        ({"mac": 42}, "mac"),
    ],
)
def test_a_bad_status_or_mac_is_a_400_that_writes_nothing(agent, menu, send, body, field):
    before = snapshot()
    response = send(agent, "patch", f"/v1/printers/{menu['kitchen'].id}", body)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert Printer.objects.get(pk=menu["kitchen"].id).status == PrinterStatus.UNKNOWN
    assert events_since(before) == []


def test_a_new_printer_cannot_be_created_with_a_status(admin_client, db, send):
    response = send(admin_client, "post", "/v1/printers", {"name": "Grill", "status": "ONLINE"})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["status"]
    assert not Printer.objects.exists()


def test_a_status_change_that_rolls_back_tells_nobody(menu, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.printer_update(printer_id=menu["kitchen"].id, changes={"status": PrinterStatus.ONLINE})
            raise RuntimeError("rolled back")
    assert Printer.objects.get(pk=menu["kitchen"].id).status == PrinterStatus.UNKNOWN
    assert events_since(before) == []


def test_patching_an_unknown_printer_is_a_404(agent, db, send):
    response = send(agent, "patch", "/v1/printers/nope", {"status": "ONLINE"})
    assert (response.status_code, response.json()) == (404, {"message": "Printer not found"})


# --- cash registers -------------------------------------------------------------------


@pytest.fixture
def registers(menu):
    closed = CashRegister.objects.create(name="Till 0", enabled=False)
    return {"open": menu["till"], "closed": closed}


@pytest.mark.parametrize(("query", "names"), [("", ["Till 0", "Till 1"]), ("true", ["Till 1"]), ("false", ["Till 0"])])
def test_cash_registers_filter_on_enabled(operator_client, registers, query, names):
    response = operator_client.get(f"/v1/cash-registers?enabled={query}")
    assert [register["name"] for register in response.json()] == names


@pytest.mark.parametrize("query", ["enabled=yes", "enabled=1", "include=foods"])
def test_a_bad_cash_register_query_is_a_400(operator_client, registers, query):
    response = operator_client.get(f"/v1/cash-registers?{query}")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [query.partition("=")[0]]


def test_include_printer_embeds_the_default_printer(agent, registers, menu):
    response = agent.get(f"/v1/cash-registers/{menu['till'].id}?include=printer")
    assert response.status_code == 200
    body = response.json()
    assert body["defaultPrinterId"] == menu["bar"].id
    assert body["defaultPrinter"] == agent.get(f"/v1/printers/{menu['bar'].id}").json()

    without = agent.get(f"/v1/cash-registers/{registers['closed'].id}?include=printer").json()
    assert (without["defaultPrinterId"], without["defaultPrinter"]) == (None, None)
    assert "defaultPrinter" not in agent.get(f"/v1/cash-registers/{menu['till'].id}").json()


# --- the cash drawer ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_client", "operator_client"])
def test_opening_the_drawer_is_a_202_and_the_printers_hear_of_it(request, menu, send, who):
    before = snapshot()
    response = send(request.getfixturevalue(who), "post", f"/v1/cash-registers/{menu['till'].id}/open-drawer")
    assert response.status_code == 202, response.content
    assert stored_events(before) == [
        ("printer", "open-drawer", {"cashRegisterId": menu["till"].id, "printerId": menu["bar"].id})
    ]
    assert DrawerOpening.objects.get().printer_id == menu["bar"].id


def test_a_register_without_a_default_printer_has_no_drawer_to_open(operator_client, registers, send):
    before = snapshot()
    response = send(operator_client, "post", f"/v1/cash-registers/{registers['closed'].id}/open-drawer")
    assert response.status_code == 409
    assert "no default printer" in response.json()["message"]
    assert events_since(before) == [] and not DrawerOpening.objects.exists()


def test_opening_the_drawer_of_an_unknown_register_is_a_404(operator_client, db, send):
    before = snapshot()
    response = send(operator_client, "post", "/v1/cash-registers/nope/open-drawer")
    assert (response.status_code, response.json()) == (404, {"message": "Cash register not found"})
    assert events_since(before) == []


@pytest.mark.parametrize(("who", "code"), [("waiter_client", 403), ("anon_client", 401), ("agent", 403)])
def test_only_admins_and_operators_open_drawers(request, menu, send, who, code):
    before = snapshot()
    response = send(request.getfixturevalue(who), "post", f"/v1/cash-registers/{menu['till'].id}/open-drawer")
    assert response.status_code == code
    assert events_since(before) == [] and not DrawerOpening.objects.exists()


def test_the_admin_printer_list_shows_each_status_and_since_when(client, menu, agent, send):
    from users.services import user_create

    send(agent, "patch", f"/v1/printers/{menu['kitchen'].id}", {"status": "ERROR"})
    user_create(username="manager", role="admin", password="an-admin-test-password")
    assert client.login(username="manager", password="an-admin-test-password")

    page = client.get("/admin/orders/printer/").content.decode()

    assert "column-status" in page and "column-status_changed_at" in page
    assert ">Error</td>" in page and ">Unknown</td>" in page
    # The status is the agent's report: the change form shows it, never edits it.
    form = client.get(f"/admin/orders/printer/{menu['kitchen'].id}/change/").content.decode()
    assert '<select name="status"' not in form and '<div class="readonly">Error</div>' in form
