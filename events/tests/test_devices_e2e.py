"""A printer agent and a display with their API keys against a real Daphne:
they hear what a cashier does, the drawer opens, and a key revoked in the
database opens nothing more."""

from __future__ import annotations

import json

import httpx
import pytest
from django.utils import timezone

from conftest import bearer
from events.access import holders
from events.access.identity import API_KEY, Identity
from events.tests.test_pushpin import behind_pushpin, pushpin, signed_by  # noqa: F401  (fixtures)
from testsupport import SSEStream
from users.apikeys import create_key, revoke_key
from users.models import ApiKey, ApiKeyKind


@pytest.fixture
def server(daphne):
    return daphne()


def test_devices_follow_the_cashier_with_their_keys_until_revoked(server, operator, menu, api_for):
    agent_key, agent_raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    _, display_raw = create_key(name="Board", kind=ApiKeyKind.DISPLAY)
    cashier = api_for(server, operator)
    agent = httpx.Client(base_url=server.url, headers={"X-API-KEY": agent_raw}, timeout=30)

    with (
        SSEStream(f"{server.url}/events/printer", headers={"X-API-KEY": agent_raw}) as printer_stream,
        SSEStream(f"{server.url}/events/display", headers={"X-API-KEY": display_raw}) as display_stream,
    ):
        assert (printer_stream.status_code, display_stream.status_code) == (200, 200)
        printers = agent.get("/v1/printers")
        assert printers.status_code == 200 and {p["name"] for p in printers.json()} == {"Kitchen", "Bar"}

        order = cashier.create_order(menu["margherita"].id, quantity=2)
        assert cashier.confirm(order["id"], cashRegisterId=menu["till"].id).status_code == 200

        ticket = printer_stream.collect(1, event="confirmed-order")[0].json()
        assert ticket["id"] == order["id"]
        assert [item["quantity"] for item in ticket["orderItems"]] == [2]
        assert display_stream.collect(1, event="confirmed-order")[0].json()["id"] == order["id"]
        # The agent reads what it needs to print through its key.
        assert agent.get(f"/v1/orders/{order['id']}").json()["status"] == "CONFIRMED"
        till = agent.get(f"/v1/cash-registers/{menu['till'].id}?include=printer").json()
        assert till["defaultPrinter"]["id"] == menu["bar"].id

        drawer = cashier.client.post(f"/v1/cash-registers/{menu['till'].id}/open-drawer")
        assert drawer.status_code == 202
        opened = printer_stream.collect(1, event="open-drawer")[0].json()
        assert opened == {"cashRegisterId": menu["till"].id, "printerId": menu["bar"].id}

        reported = agent.patch(f"/v1/printers/{menu['bar'].id}", json={"status": "ONLINE", "ip": "127.0.0.1"})
        assert (reported.status_code, reported.json()["status"]) == (200, "ONLINE")

        # Revoked in the database (as the admin's action does): the API
        # refuses it at once. The process still remembers the key
        # (events/access/credentials.py) until its next re-check, which forgets it
        # and then closes the key's streams: once the agent's stream is
        # closed, an opening with the key is refused. The display's key
        # lives on, and its stream with it.
        ApiKey.objects.filter(pk=agent_key.pk).update(revoked_at=timezone.now())
        assert agent.get("/v1/printers").status_code == 401
        assert refused_once_closed(printer_stream, f"{server.url}/events/printer", {"X-API-KEY": agent_raw}) == {
            "message": "Authentication required"
        }
        second = cashier.create_order(menu["margherita"].id, quantity=1)
        assert cashier.confirm(second["id"], cashRegisterId=menu["till"].id).status_code == 200
        assert display_stream.collect(1, event="confirmed-order")[0].json()["id"] == second["id"]
    agent.close()


def refused_once_closed(stream: SSEStream, url: str, headers: dict[str, str]) -> dict:
    """`stream` was opened with the revoked credential on the same worker:
    its end shows a re-check found the credential revoked, and that re-check
    forgot the credential before closing its streams (events/access/revocation.py).
    The JSON body of the 401 an opening after that gets."""
    stream.wait_closed(timeout=10)
    with SSEStream(url, headers=headers) as later:
        assert later.status_code == 401, "a revoked key opened a stream after its streams were closed"
        return json.loads(later.body)


# --- behind Pushpin -------------------------------------------------------------------


def test_a_device_stream_held_by_pushpin_is_recovered_only_while_its_key_lives(
    behind_pushpin,  # noqa: F811  (the fixtures of test_pushpin.py)
    pushpin,  # noqa: F811
    operator,
    menu,
):
    (worker,) = behind_pushpin()
    key, raw = create_key(name="Kitchen agent", kind=ApiKeyKind.PRINTER_AGENT)
    cashier = httpx.Client(base_url=pushpin.url, headers=bearer(operator), timeout=30)
    with SSEStream(f"{pushpin.url}/events/printer", headers={"X-API-KEY": raw}) as stream:
        assert stream.status_code == 200
        order = cashier.post(
            "/v1/orders",
            json={"table": "1", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}]},
        ).json()
        assert cashier.post(f"/v1/orders/{order['id']}/confirm", json={"paymentMethod": "CASH"}).status_code == 200
        assert stream.collect(1, event="confirmed-order")[0].json()["id"] == order["id"]
    cashier.close()

    # Pushpin's recovery request carries no X-API-KEY, only the holder
    # channel the worker gave it, which names the device; it holds while the
    # key lives.
    holder = holders.holder_channel(Identity(API_KEY, key_id=key.pk))
    signed = {
        "Grip-Sig": signed_by(pushpin.sig_key),
        "Grip-Last": f"events-printer; last-id=0, {holder}; last-id=0",
    }
    link = f"/events/printer?{holders.NEXT_PARAM}=1"
    assert httpx.get(worker.url + link, headers=signed, timeout=10).status_code == 200
    display_link = f"/events/display?{holders.NEXT_PARAM}=1"
    assert httpx.get(worker.url + display_link, headers=signed, timeout=10).status_code == 403
    # A stream of the same key straight to the worker: its end marks the
    # re-check that forgot the key.
    with SSEStream(f"{worker.url}/events/printer", headers={"X-API-KEY": raw}) as direct:
        assert direct.status_code == 200
        revoke_key(key=key)
        assert refused_once_closed(direct, worker.url + link, signed) == {"message": "Authentication required"}
