"""/docs/: every operation documents the statuses it can answer with (the
errors with the contract's JSON bodies), creation is a 201, the events
endpoint is described though DRF does not serve it, and what the API really
returns matches what the document says."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from drf_spectacular.validation import validate_schema

from events.core.channels import CATALOGUE, CHANNELS, OPT_IN
from orders import services
from orders.models import Ingredient
from orders.services import LineInput
from orders.tests.helpers import CASH

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document(django_db_setup, django_db_blocker) -> dict[str, Any]:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/docs/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def responses_of(document, path: str, method: str) -> dict[str, Any]:
    return document["paths"][path][method]["responses"]


def test_the_document_is_valid_openapi(document):
    validate_schema(document)


# Statuses each endpoint of the orders API can answer with (API.md), written
# out here rather than derived, so that the document is checked against the contract.
EXPECTED = {
    ("/v1/orders", "get"): {"200", "400", "401", "403"},
    ("/v1/orders", "post"): {"201", "400", "401", "403"},
    ("/v1/orders/{order_id}", "get"): {"200", "401", "403", "404"},
    ("/v1/orders/{order_id}", "patch"): {"200", "400", "401", "403", "404", "409"},
    ("/v1/orders/{order_id}", "delete"): {"200", "401", "403", "404", "409"},
    ("/v1/orders/{order_id}/confirm", "post"): {"200", "400", "401", "403", "404", "409"},
    ("/v1/orders/{order_id}/reprint", "post"): {"200", "400", "401", "403", "404"},
    ("/v1/categories", "get"): {"200", "400"},
    ("/v1/categories", "post"): {"201", "400", "401", "403", "409"},
    ("/v1/categories/{id}", "get"): {"200", "404"},
    ("/v1/categories/{id}", "patch"): {"200", "400", "401", "403", "404", "409"},
    ("/v1/categories/{id}", "delete"): {"204", "401", "403", "404", "409"},
    ("/v1/foods", "get"): {"200", "400"},
    ("/v1/foods", "post"): {"201", "400", "401", "403", "409"},
    ("/v1/foods/{id}", "delete"): {"204", "401", "403", "404", "409"},
    ("/v1/ingredients", "get"): {"200"},
    ("/v1/ingredients", "post"): {"201", "400", "401", "403", "409"},
    ("/v1/ingredients/{id}", "delete"): {"204", "401", "403", "404"},
    ("/v1/printers", "get"): {"200", "401", "403"},
    ("/v1/printers/{id}", "patch"): {"200", "400", "401", "403", "404", "409"},
    ("/v1/cash-registers", "post"): {"201", "400", "401", "403", "409"},
    ("/v1/cash-registers", "get"): {"200", "400", "401", "403"},
    ("/v1/cash-registers/{id}", "get"): {"200", "400", "401", "403", "404"},
    ("/v1/stations", "get"): {"200", "400", "401", "403"},
    ("/v1/stations", "post"): {"201", "400", "401", "403", "409"},
    ("/v1/stations/{id}", "get"): {"200", "400", "401", "403", "404"},
    ("/v1/stations/{id}", "patch"): {"200", "400", "401", "403", "404", "409"},
    ("/v1/stations/{id}", "delete"): {"204", "401", "403", "404", "409"},
    ("/v1/orders/{order_id}/stations/{station_id}", "patch"): {"200", "400", "401", "403", "404", "409"},
    ("/v1/reports/general-closure", "post"): {"201", "400", "401", "403", "404"},
    ("/events/{channel}", "get"): {"200", "400", "401", "403", "429"},
}


@pytest.mark.parametrize(("path", "method"), list(EXPECTED), ids=lambda value: str(value))
def test_each_endpoint_documents_the_statuses_it_can_answer_with(document, path, method):
    assert set(responses_of(document, path, method)) == EXPECTED[(path, method)]


def test_sign_in_documents_its_throttle_and_bad_credentials(document):
    token = responses_of(document, "/auth/token", "post")
    assert {"401", "429"} <= set(token)
    assert "Retry-After" in token["429"]["headers"]


def test_every_error_of_every_operation_has_the_json_error_body(document):
    components = document["components"]["schemas"]
    seen = 0
    for path, operations in document["paths"].items():
        for method in OPERATIONS:
            for code, response in operations.get(method, {}).get("responses", {}).items():
                if code >= "400":
                    schema = response["content"]["application/json"]["schema"]
                    if "$ref" in schema:
                        schema = components[schema["$ref"].rsplit("/", 1)[1]]
                    assert "message" in schema["properties"], (path, method, code)
                    if code == "400":
                        assert "errors" in schema["properties"], (path, method, code)
                    seen += 1
    assert seen > 50


def test_the_orders_api_uses_the_shared_error_components(document):
    for path, operations in document["paths"].items():
        if path.startswith("/v1/orders"):
            for method in OPERATIONS:
                for code, response in operations.get(method, {}).get("responses", {}).items():
                    if code >= "400":
                        expected = "ValidationError" if code == "400" else "Error"
                        schema = response["content"]["application/json"]["schema"]
                        assert schema == {"$ref": f"#/components/schemas/{expected}"}, (path, method, code)


def test_every_protected_operation_documents_401_and_403(document):
    public = {
        ("/v1/categories", "get"),
        ("/v1/categories/{id}", "get"),
        ("/v1/foods", "get"),
        ("/v1/foods/{id}", "get"),
        ("/v1/ingredients", "get"),
        ("/v1/ingredients/{id}", "get"),
    }
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method in OPERATIONS:
            if method in operations:
                codes = set(operations[method]["responses"])
                if (path, method) in public:
                    assert not codes & {"401", "403"}, (path, method)
                else:
                    assert {"401", "403"} <= codes, (path, method)


def test_the_events_endpoint_is_documented_with_its_channels_events_and_payloads(document):
    operation = document["paths"]["/events/{channel}"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["channel"]["schema"]["enum"] == list(CHANNELS)
    assert {"events", "token", "Last-Event-ID"} <= set(parameters)

    stream = operation["responses"]["200"]["content"]["text/event-stream"]["schema"]
    components = document["components"]["schemas"]
    documented = set()
    for message in stream["oneOf"]:
        schema = components[message["$ref"].rsplit("/", 1)[1]]
        [event] = schema["properties"]["event"]["enum"]
        assert schema["properties"]["data"], event
        documented.add((schema["description"], event))
    expected = {
        (f"`{event}` on `{channel}`" + (" (opt-in)" if event in OPT_IN else ""), event)
        for channel in CHANNELS
        for event in CATALOGUE[channel]
    }
    assert expected <= documented
    assert {event for _, event in documented - expected} == {"stream-reset"}
    for opt_in in OPT_IN:
        assert f"`{opt_in}` (opt-in)" in operation["description"]
    for code in ("400", "401", "403", "429"):
        assert "application/json" in operation["responses"][code]["content"]


# --- what the API returns is what the document says ---------------------------------------------


def _as_json_schema(node):
    """OpenAPI 3.0's `nullable` → JSON Schema's null type."""
    if isinstance(node, dict):
        node = {key: _as_json_schema(value) for key, value in node.items()}
        if node.pop("nullable", False):
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
            if "type" in node:
                node["type"] = [node["type"], "null"]
            else:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    return node


@pytest.fixture
def check(document):
    """`check(body, schema)`: validate a response body against a schema of
    the document (a {"$ref"} or an inline one)."""
    components = _as_json_schema(document["components"])

    def check(body, schema) -> None:
        jsonschema.validate(body, {**_as_json_schema(schema), "components": components})

    return check


def response_schema(document, path: str, method: str, code: str) -> dict:
    return responses_of(document, path, method)[code]["content"]["application/json"]["schema"]


def test_orders_as_returned_match_the_document(document, check, operator_client, place_order, menu, operator):
    menu["margherita"].ingredients.add(Ingredient.objects.create(name="Basil"))
    lines = [LineInput(food_id=menu["margherita"].id, quantity=2), LineInput(food_id=menu["lemonade"].id, quantity=1)]
    pending = place_order(lines=lines)
    confirmed = services.order_confirm(order_id=place_order(lines=lines).id, by=operator, confirmation=CASH)

    detail = operator_client.get(f"/v1/orders/{pending.id}")
    page = operator_client.get("/v1/orders")
    reprint = operator_client.post(f"/v1/orders/{confirmed.id}/reprint", {"reprintReceipt": True}, format="json")
    created = operator_client.post(
        "/v1/orders",
        {"table": "1", "customer": "Ada", "orderItems": [{"foodId": menu["lemonade"].id, "quantity": 1}]},
        format="json",
    )

    check(detail.json(), response_schema(document, "/v1/orders/{order_id}", "get", "200"))
    check(page.json(), response_schema(document, "/v1/orders", "get", "200"))
    check(reprint.json(), response_schema(document, "/v1/orders/{order_id}/reprint", "post", "200"))
    check(created.json(), response_schema(document, "/v1/orders", "post", "201"))
    with pytest.raises(jsonschema.ValidationError):
        check({**detail.json(), "total": 25}, response_schema(document, "/v1/orders/{order_id}", "get", "200"))


def test_the_menu_as_returned_matches_the_document(document, check, anon_client, menu):
    menu["margherita"].ingredients.add(Ingredient.objects.create(name="Basil"))
    check(anon_client.get("/v1/foods").json(), response_schema(document, "/v1/foods", "get", "200"))
    check(
        anon_client.get("/v1/categories?include=foods").json(),
        response_schema(document, "/v1/categories", "get", "200"),
    )
    check(anon_client.get("/v1/ingredients").json(), response_schema(document, "/v1/ingredients", "get", "200"))


def test_errors_as_returned_match_the_document(document, check, operator_client, anon_client, place_order, menu):
    order = place_order()
    bad = operator_client.post("/v1/orders", {"table": "1"}, format="json")
    missing = operator_client.get("/v1/orders/999")
    anonymous = anon_client.get("/v1/orders")
    conflict = operator_client.post(f"/v1/orders/{order.id}/reprint", {"reprintReceipt": True}, format="json")
    cancel_twice = [operator_client.delete(f"/v1/orders/{order.id}") for _ in range(2)][1]

    assert [r.status_code for r in (bad, missing, anonymous, conflict, cancel_twice)] == [400, 404, 401, 400, 409]
    check(bad.json(), response_schema(document, "/v1/orders", "post", "400"))
    check(missing.json(), response_schema(document, "/v1/orders/{order_id}", "get", "404"))
    check(anonymous.json(), response_schema(document, "/v1/orders", "get", "401"))
    check(conflict.json(), response_schema(document, "/v1/orders/{order_id}/reprint", "post", "400"))
    check(cancel_twice.json(), response_schema(document, "/v1/orders/{order_id}", "delete", "409"))


def test_the_query_parameters_the_apps_send_are_documented(document):
    def names(path: str) -> set[str]:
        return {parameter["name"] for parameter in document["paths"][path]["get"].get("parameters", [])}

    assert {"enabled", "include"} <= names("/v1/cash-registers")
    assert "include" in names("/v1/cash-registers/{id}")
    assert {"include", "foodsAvailable"} <= names("/v1/categories")
    assert "include" in names("/v1/stations")
    assert "include" in names("/v1/orders")


def test_stations_and_their_states_as_returned_match_the_document(
    document, check, operator_client, menu, stations, operator
):
    order = services.order_create(
        table="1",
        customer="Ada",
        lines=[
            LineInput(food_id=menu["margherita"].id, quantity=1),
            LineInput(food_id=menu["lemonade"].id, quantity=1),
        ],
        created_by=operator,
        confirmation=CASH,
    )
    path = f"/v1/orders/{order.id}/stations/{stations['bar'].id}"
    patched = operator_client.patch(path, {"status": "COMPLETED"}, format="json")
    check(patched.json(), response_schema(document, "/v1/orders/{order_id}/stations/{station_id}", "patch", "200"))
    check(
        operator_client.get(f"/v1/orders/{order.id}").json(),
        response_schema(document, "/v1/orders/{order_id}", "get", "200"),
    )
    listed = operator_client.get("/v1/stations?include=categories.foods").json()
    check(listed, response_schema(document, "/v1/stations", "get", "200"))
    with pytest.raises(jsonschema.ValidationError):
        check([{"id": 1}], response_schema(document, "/v1/stations", "get", "200"))
    check(
        operator_client.get(f"/v1/foods/{menu['margherita'].id}").json(),
        response_schema(document, "/v1/foods/{id}", "get", "200"),
    )
    gone = operator_client.post(
        "/v1/orders", {"table": "1", "customer": "A", "orderItems": [{"foodId": "gone", "quantity": 1}]}, format="json"
    )
    check(gone.json(), response_schema(document, "/v1/orders", "post", "400"))
    assert gone.json()["error"] == "ForeignKeyConstraintViolation"


def test_the_docs_page_is_served_to_anyone(anon_client, db):
    response = anon_client.get("/docs/")
    assert response.status_code == 200
    assert "swagger" in response.content.decode().lower()
