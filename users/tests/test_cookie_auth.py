"""Today's MySagra clients (clients-heads.md, section 1 and O1), as they call
us: POST /auth/login with {username, password}, then every call with only
`Cookie: mysagra_session=<C>` (mycassa, mystampa) or `mysagra_token=<C>`
(mynumeri), never an Authorization header or a CSRF token. The seed-era
clients' Bearer use of the same login stays as it was."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from orders.models import Order
from users.models import Role, User
from users.tests.helpers import AUTH_REQUIRED, FORBIDDEN, PASSWORD, bearer, staff

JSON = "application/json"


def login(username: str, password: str = PASSWORD):
    """mycassa's server action: a plain JSON POST, no credential."""
    return Client().post("/auth/login", {"username": username, "password": password}, content_type=JSON)


def set_cookie_header(response) -> list[str]:
    """The Set-Cookie lines as the server writes them (one per cookie, in order)."""
    return [morsel.OutputString() for morsel in response.cookies.values()]


def cookie_client(name: str, value: str) -> Client:
    """A server-side fetch that forwards one cookie, as the heads do: Django's
    test client, with CSRF checks on (as a browser-less caller meets them)."""
    client = Client(enforce_csrf_checks=True, headers={"Cookie": f"{name}={value}"})
    return client


def credential_of(response) -> str:
    # mycassa: /mysagra_session=([^;]+)/ on the joined header.
    joined = ", ".join(set_cookie_header(response))
    return re.search(r"mysagra_session=([^;]+)", joined)[1]


@pytest.fixture
def olga(db) -> User:
    return staff("olga", Role.OPERATOR)


@pytest.fixture
def mona(db) -> User:
    return staff("mona", Role.MAINTAINER)


# --- A1: one login body for both generations ---------------------------------------------


def test_the_login_body_is_flat_for_the_heads_and_nested_with_a_token_for_the_seed_era(olga):
    body = login("olga").json()

    # mycassa HEAD: data.userId ?? data.id, data.username, data.role; mynumeri HEAD: user = body.
    assert (body["userId"], body["id"], body["username"], body["role"]) == (olga.id, olga.id, "olga", "operator")
    # mycassa 7959c7a and mynumeri 9f48581: data.user.{id, username, role} and data.accessToken.
    assert body["user"] == {"id": olga.id, "username": "olga", "role": "operator"}
    assert bearer(body["accessToken"]).get("/v1/orders").status_code == 200


def test_a_superuser_signs_in_flat_as_admin_and_a_maintainer_as_maintainer(mona):
    staff("boss", Role.WAITER, is_superuser=True)
    assert login("boss").json()["role"] == "admin"
    # mystampa's config UI lets in only admin or maintainer, read from the flat role.
    assert login("mona").json()["role"] == "maintainer"


def test_bad_credentials_stay_a_401_and_set_no_cookie(olga):
    response = login("olga", "wrong-password")
    assert (response.status_code, response.json()) == (401, {"message": "Invalid username or password"})
    assert set_cookie_header(response) == []


# --- A2: the two cookies ---------------------------------------------------------------------


def test_a_login_sets_mysagra_session_then_mysagra_token_with_the_same_credential(olga, settings):
    response = login("olga")
    lines = set_cookie_header(response)

    assert [line.split("=", 1)[0] for line in lines] == ["mysagra_session", "mysagra_token"]
    session, token = (response.cookies[name] for name in ("mysagra_session", "mysagra_token"))
    assert session.value == token.value == response.json()["accessToken"]
    assert re.fullmatch(r"[A-Za-z0-9._-]+", session.value)
    for morsel in (session, token):
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["path"] == "/"
        assert morsel["max-age"] == settings.LOGIN_TOKEN_HOURS * 3600
        assert morsel["expires"]
        assert not morsel["secure"]
    # mycassa takes the first Max-Age of the joined header: no other cookie comes first.
    assert re.search(r"Max-Age=(\d+)", ", ".join(lines))[1] == str(settings.LOGIN_TOKEN_HOURS * 3600)


def test_the_cookies_last_as_long_as_the_login_token(olga, settings):
    settings.LOGIN_TOKEN_HOURS = 3
    assert login("olga").cookies["mysagra_token"]["max-age"] == 3 * 3600


def test_the_cookies_are_secure_under_https(olga, settings):
    settings.LOGIN_COOKIE_SECURE = True  # what HTTPS=1 sets
    response = login("olga")
    assert all(response.cookies[name]["secure"] for name in ("mysagra_session", "mysagra_token"))


# --- A3: the cookie on REST ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mysagra_session", "mysagra_token"])
def test_either_cookie_alone_opens_the_api(olga, name):
    credential = credential_of(login("olga"))
    assert cookie_client(name, credential).get("/v1/orders").status_code == 200
    assert cookie_client(name, credential).get("/auth/me").json()["username"] == "olga"


def test_a_cookie_caller_writes_without_a_csrf_token(olga, menu):
    client = cookie_client("mysagra_session", credential_of(login("olga")))
    body = {"table": "3", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 1}]}
    response = client.post("/v1/orders", body, content_type=JSON)
    assert response.status_code == 201, response.content


def test_mysagra_session_wins_when_both_cookies_are_sent(olga):
    good = credential_of(login("olga"))
    both = Client(headers={"Cookie": f"mysagra_token={good}; mysagra_session=not-a-token"})
    assert both.get("/v1/orders").status_code == 401
    both = Client(headers={"Cookie": f"mysagra_token=not-a-token; mysagra_session={good}"})
    assert both.get("/v1/orders").status_code == 200


@pytest.mark.parametrize("value", ["not-a-token", "", "a.b.c"])
def test_a_bad_cookie_is_a_401_on_every_route_even_with_a_session(olga, value):
    client = Client()
    client.force_login(olga)
    client.cookies["mysagra_session"] = value
    for path in ("/v1/orders", "/auth/me", "/v1/categories"):
        response = client.get(path)
        assert (response.status_code, response.json()) == (401, AUTH_REQUIRED), path


def test_an_authorization_header_takes_precedence_over_the_cookie(olga):
    walt = staff("walt", Role.WAITER)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login('walt').json()['accessToken']}")
    client.cookies["mysagra_session"] = credential_of(login("olga"))
    assert client.get("/auth/me").json()["id"] == walt.id


def test_a_cookie_carries_its_users_role(olga):
    staff("walt", Role.WAITER)
    waiter = cookie_client("mysagra_session", credential_of(login("walt")))
    response = waiter.get("/v1/orders")
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


# --- A3/A5: one revocable credential ------------------------------------------------------------


def test_a_logout_by_cookie_ends_that_login_and_clears_both_cookies(olga):
    leaving, staying = login("olga"), login("olga")
    client = cookie_client("mysagra_session", credential_of(leaving))

    response = client.post("/auth/logout", content_type=JSON)

    assert response.status_code == 200
    assert response.json()["message"]
    cleared = {name: response.cookies[name] for name in ("mysagra_session", "mysagra_token")}
    assert all(m.value == "" and m["max-age"] == 0 and m["path"] == "/" for m in cleared.values())
    assert client.get("/v1/orders").status_code == 401
    assert cookie_client("mysagra_token", credential_of(leaving)).get("/v1/orders").status_code == 401
    # The same login's Bearer use (the seed-era body's accessToken) ends with it …
    assert bearer(leaving.json()["accessToken"]).get("/v1/orders").status_code == 401
    # … and another login of the same user does not.
    assert cookie_client("mysagra_session", credential_of(staying)).get("/v1/orders").status_code == 200


def test_a_bearer_logout_ends_the_cookie_of_the_same_login(olga):
    response = login("olga")
    assert bearer(response.json()["accessToken"]).post("/auth/logout").status_code == 200
    assert cookie_client("mysagra_session", credential_of(response)).get("/v1/orders").status_code == 401


def test_a_bearer_logout_leaves_the_cookies_alone(olga):
    answer = bearer(login("olga").json()["accessToken"]).post("/auth/logout")
    assert answer.status_code == 200
    assert set_cookie_header(answer) == []


def test_a_logout_without_a_credential_is_a_401(db):
    # mynumeri HEAD sends none and ignores the answer.
    assert Client().post("/auth/logout", content_type=JSON).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda user: setattr(user, "is_active", False),
        lambda user: user.set_password("an-entirely-new-password"),
    ],
    ids=["deactivated", "password changed"],
)
def test_a_cookie_ends_with_its_users_rights(olga, change):
    client = cookie_client("mysagra_session", credential_of(login("olga")))
    change(olga)
    olga.save()
    assert client.get("/v1/orders").status_code == 401


def test_a_demotion_takes_the_rights_away_from_the_cookie(olga):
    client = cookie_client("mysagra_session", credential_of(login("olga")))
    olga.role = Role.WAITER
    olga.save(update_fields=["role"])
    assert client.get("/v1/orders").status_code == 403


# --- A8: maintainer ------------------------------------------------------------------------------


def test_createuser_makes_a_maintainer(db):
    call_command("createuser", "mona", "--role", "maintainer", "--password", PASSWORD)
    assert User.objects.get(username="mona").role == Role.MAINTAINER


def test_a_maintainer_does_an_operators_work_plus_reports_closures_and_printers(mona, menu):
    client = cookie_client("mysagra_session", credential_of(login("mona")))
    assert client.get("/v1/orders").status_code == 200
    assert client.get("/v1/reports", {"from": "2026-07-04T18:00:00Z", "to": "2026-07-04T19:00:00Z"}).status_code == 200
    closure = client.post("/v1/reports/general-closure", {"cashRegister": menu["till"].id}, content_type=JSON)
    assert closure.status_code == 201, closure.content
    patch = client.patch(f"/v1/printers/{menu['bar'].id}", {"ip": "10.0.0.9"}, content_type=JSON)
    assert patch.status_code == 200, patch.content


def test_an_operator_still_reads_no_reports_nor_changes_printers(olga, menu):
    client = cookie_client("mysagra_session", credential_of(login("olga")))
    assert client.get("/v1/reports", {"from": "2026-07-04T18:00:00Z", "to": "2026-07-04T19:00:00Z"}).status_code == 403
    assert client.patch(f"/v1/printers/{menu['bar'].id}", {"ip": "10.0.0.9"}, content_type=JSON).status_code == 403


def test_a_maintainer_does_not_manage_the_menu(mona):
    client = cookie_client("mysagra_session", credential_of(login("mona")))
    assert client.post("/v1/categories", {"name": "Desserts"}, content_type=JSON).status_code == 403


# --- O1: order ids by credential ------------------------------------------------------------------


def test_a_cookie_caller_reads_order_ids_as_strings_everywhere_in_rest(olga, menu):
    client = cookie_client("mysagra_session", credential_of(login("olga")))
    body = {"table": "3", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2}]}

    created = client.post("/v1/orders", body, content_type=JSON).json()
    order = Order.objects.get()

    assert created["id"] == str(order.id)
    assert [line["orderId"] for line in created["orderItems"]] == [str(order.id)]
    assert isinstance(created["ticketNumber"], int | type(None))
    listed = client.get("/v1/orders").json()["data"]
    assert [row["id"] for row in listed] == [str(order.id)]
    assert isinstance(client.get("/v1/orders").json()["pagination"]["totalItems"], int)
    # mycassa HEAD: typeof orderId === 'string', then GET /v1/orders/<that string>.
    detail = client.get(f"/v1/orders/{created['id']}").json()
    assert (detail["id"], detail["orderItems"][0]["orderId"]) == (str(order.id), str(order.id))
    confirmed = client.post(
        f"/v1/orders/{created['id']}/confirm",
        {"paymentMethod": "CASH", "cashRegisterId": menu["till"].id},
        content_type=JSON,
    ).json()
    assert confirmed["id"] == str(order.id)


def test_bearer_and_session_callers_keep_integer_order_ids(olga, menu):
    client = bearer(login("olga").json()["accessToken"])
    body = {"table": "3", "customer": "Ann", "orderItems": [{"foodId": menu["margherita"].id, "quantity": 2}]}
    created = client.post("/v1/orders", body, format="json").json()
    order = Order.objects.get()
    assert (created["id"], created["orderItems"][0]["orderId"]) == (order.id, order.id)
    by_bearer = client.get(f"/v1/orders/{order.id}").json()
    session = Client()
    session.force_login(olga)
    by_session = session.get(f"/v1/orders/{order.id}").json()
    for body in (by_bearer, by_session):
        assert body["id"] == order.id
        assert body["orderItems"][0]["orderId"] == order.id
