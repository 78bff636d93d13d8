"""What each kind of API key may do on the REST API (API.md, "Devices: API
keys"): every allowed call, a sample of refused ones, and the 401s for a
wrong, revoked, malformed or missing key."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, get_resolver
from rest_framework.test import APIClient

from conftest import bearer
from orders.models import Category, Food, Order, Printer
from orders.services import ConfirmInput
from users.apikeys import create_key, revoke_key
from users.models import ApiKey, ApiKeyKind

AUTH_REQUIRED = {"message": "Authentication required"}
FORBIDDEN = {"message": "Insufficient permissions"}

# Everything a key may do, as API.md lists it. Paths use the fixture's ids.
ALLOWED = {
    ApiKeyKind.PRINTER_AGENT: [
        ("get", "/v1/printers"),
        ("get", "/v1/printers/{kitchen}"),
        ("get", "/v1/cash-registers"),
        ("get", "/v1/cash-registers/{till}"),
        ("get", "/v1/foods"),
        ("get", "/v1/foods/{margherita}"),
        ("get", "/v1/categories"),
        ("get", "/v1/orders/{order}"),
        ("patch", "/v1/printers/{kitchen}"),
    ],
    ApiKeyKind.DISPLAY: [("get", "/v1/orders")],
}

REFUSED = {
    ApiKeyKind.PRINTER_AGENT: [
        ("get", "/v1/orders", None),
        ("post", "/v1/orders", {"table": "1", "customer": "A", "orderItems": []}),
        ("patch", "/v1/orders/{order}", {"status": "COMPLETED"}),
        ("post", "/v1/orders/{order}/reprint", {"reprintReceipt": True}),
        ("get", "/v1/categories/{pizza}", None),
        ("post", "/v1/printers", {"name": "New"}),
        ("delete", "/v1/printers/{kitchen}", None),
        ("patch", "/v1/cash-registers/{till}", {"enabled": False}),
        ("post", "/v1/foods", {"name": "X", "price": "1", "categoryId": "{pizza}"}),
        ("patch", "/v1/foods/{margherita}", {"available": False}),
        ("post", "/auth/stream-token", None),
    ],
    ApiKeyKind.DISPLAY: [
        ("get", "/v1/orders/{order}", None),
        ("post", "/v1/orders", {"table": "1", "customer": "A", "orderItems": []}),
        ("post", "/v1/orders/{order}/confirm", {"paymentMethod": "CASH"}),
        ("get", "/v1/foods", None),
        ("get", "/v1/categories", None),
        ("get", "/v1/printers", None),
        ("get", "/v1/cash-registers", None),
        ("patch", "/v1/printers/{kitchen}", {"status": "ONLINE"}),
        ("delete", "/v1/foods/{margherita}", None),
    ],
}


@pytest.fixture
def ids(menu, place_order) -> dict[str, str]:
    order = place_order(confirm=ConfirmInput(payment_method="CASH"))
    return {**{name: obj.pk for name, obj in menu.items()}, "order": str(order.pk)}


def key_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


@pytest.fixture
def keys(db) -> dict[str, str]:
    return {kind: create_key(name=f"{kind} device", kind=kind)[1] for kind in ApiKeyKind.values}


def snapshot() -> tuple:
    return (
        list(Order.objects.values_list("id", "status", "total")),
        list(Printer.objects.values_list("id", "name", "ip")),
        list(Food.objects.values_list("id", "available")),
        list(Category.objects.values_list("id", "name")),
    )


def _cases(table):
    return [(kind, *case) for kind, cases in table.items() for case in cases]


@pytest.mark.parametrize(("kind", "method", "path"), _cases(ALLOWED))
def test_a_key_may_do_what_api_md_lists_for_its_kind(keys, ids, kind, method, path):
    body = {"ip": "10.0.0.9"} if method == "patch" else None
    response = getattr(key_client(keys[kind]), method)(path.format(**ids), body, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("kind", "method", "path", "body"), _cases(REFUSED))
def test_anything_else_is_a_403_that_writes_nothing(keys, ids, kind, method, path, body, send):
    before = snapshot()
    if isinstance(body, dict):
        body = {name: value.format(**ids) if isinstance(value, str) else value for name, value in body.items()}
    response = send(key_client(keys[kind]), method, path.format(**ids), body)
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert snapshot() == before


@pytest.mark.parametrize("field", ["name", "port", "description", "id"])
def test_a_printer_agent_may_patch_a_printer_only_in_status_ip_and_mac(keys, ids, field, send):
    before = snapshot()
    response = send(
        key_client(keys[ApiKeyKind.PRINTER_AGENT]),
        "patch",
        f"/v1/printers/{ids['kitchen']}",
        {"ip": "10.0.0.9", field: "9101" if field == "port" else "x"},
    )
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert snapshot() == before


def test_head_is_allowed_where_get_is_and_options_is_not(keys, ids):
    # HEAD is GET's read: allowed where GET is.
    client = key_client(keys[ApiKeyKind.PRINTER_AGENT])
    assert client.head("/v1/foods").status_code == 200
    assert client.options("/v1/foods").status_code == 403


# --- refused keys -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/printers", "/v1/orders", "/v1/foods"])
def test_a_wrong_key_is_a_401_even_where_anyone_may_read(keys, ids, path):
    raw = keys[ApiKeyKind.PRINTER_AGENT]
    response = key_client(raw[:-2] + ("xy" if not raw.endswith("xy") else "yz")).get(path)
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
    assert response.has_header("WWW-Authenticate")


@pytest.mark.parametrize("raw", ["", "nonsense", "Bearer abc", "0123456789ab." + "a" * 43, "²" * 56])
def test_a_malformed_key_is_a_401(keys, ids, raw):
    response = key_client(raw).get("/v1/printers")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


@pytest.mark.parametrize("kind", ApiKeyKind.values)
def test_a_revoked_key_is_a_401_at_once(keys, ids, kind):
    client = key_client(keys[kind])
    path = {ApiKeyKind.PRINTER_AGENT: "/v1/printers", ApiKeyKind.KITCHEN: "/kitchen/state"}.get(kind, "/v1/orders")
    assert client.get(path).status_code == 200
    revoke_key(key=ApiKey.objects.get(kind=kind))
    response = client.get(path)
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_a_missing_key_is_a_401_where_authentication_is_required(ids):
    response = APIClient().get("/v1/printers")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_a_key_stands_for_a_device_never_for_a_person(keys, ids, operator_client):
    # The device answers the question "who" with its key, and staff tokens
    # keep their own rights beside keys.
    assert operator_client.get("/v1/orders").status_code == 200
    response = key_client(keys[ApiKeyKind.DISPLAY]).get("/v1/orders")
    assert response.status_code == 200
    assert response.json()["pagination"]["totalItems"] == 1


def test_a_bearer_token_decides_before_a_key(keys, ids, operator):
    client = key_client(keys[ApiKeyKind.DISPLAY])
    assert client.get("/v1/printers").status_code == 403
    client.credentials(HTTP_X_API_KEY=keys[ApiKeyKind.DISPLAY], HTTP_AUTHORIZATION=bearer(operator)["Authorization"])
    assert client.get("/v1/printers").status_code == 200


def test_a_bad_key_is_final_even_beside_a_session(keys, ids, operator):
    client = APIClient()
    client.force_login(operator)
    assert client.get("/v1/printers").status_code == 200
    response = client.get("/v1/printers", HTTP_X_API_KEY="nonsense")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


# --- the allow lists, read off the views ------------------------------------------------


def _readable(route: str) -> str:
    route = re.sub(r"\(\?P<\w+>[^)]*\)|<\w+:\w+>", "{id}", route)
    return "/" + route.replace("^", "").replace("$", "")


def _key_rights() -> set[tuple[str, str, str]]:
    """(kind, METHOD, route) for every API route a key may call, read from the
    views' `api_key_access` (per viewset action where the view has them)."""
    rights = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if not isinstance(pattern, URLPattern):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            callback = pattern.callback
            cls = getattr(callback, "cls", None)
            if cls is None:
                continue
            actions = getattr(callback, "actions", None) or {m: None for m in ("get", "post", "patch", "delete")}
            for method, action in actions.items():
                view = cls()
                view.action = action
                for kind, allowed in getattr(view, "api_key_access", ()):
                    if allowed == method.upper():
                        rights.add((str(kind), allowed, _readable(prefix + str(pattern.pattern))))

    walk(get_resolver().url_patterns)
    return rights


def test_the_views_allow_lists_are_exactly_api_md(db):
    assert _key_rights() == {
        ("printer-agent", "GET", "/v1/printers"),
        ("printer-agent", "GET", "/v1/printers/{id}"),
        ("printer-agent", "PATCH", "/v1/printers/{id}"),
        ("printer-agent", "GET", "/v1/cash-registers"),
        ("printer-agent", "GET", "/v1/cash-registers/{id}"),
        ("printer-agent", "GET", "/v1/foods"),
        ("printer-agent", "GET", "/v1/foods/{id}"),
        ("printer-agent", "GET", "/v1/categories"),
        ("printer-agent", "GET", "/v1/orders/{id}"),
        ("display", "GET", "/v1/orders"),
        # Stations, as MySagra lets a printer agent read them (clients-heads.md S2).
        ("printer-agent", "GET", "/v1/stations"),
        ("printer-agent", "GET", "/v1/stations/{id}"),
        # The screens' pages (screens/keys.py): the board's state, the kitchen's reads and bumps.
        ("display", "GET", "/display/state"),
        ("kitchen", "GET", "/kitchen/state"),
        ("kitchen", "GET", "/kitchen/orders/{id}"),
        ("kitchen", "POST", "/kitchen/orders/{id}/bump"),
        ("kitchen", "POST", "/kitchen/orders/{id}/recall"),
        ("kitchen", "POST", "/kitchen/orders/{id}/stations/{id}/done"),
        ("kitchen", "POST", "/kitchen/orders/{id}/stations/{id}/undo"),
        # API.md: /auth/me takes a key, and describes the device.
        ("printer-agent", "GET", "/auth/me"),
        ("display", "GET", "/auth/me"),
        ("kitchen", "GET", "/auth/me"),
    }
