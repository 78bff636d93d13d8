"""POST /auth/login, /auth/logout, GET /auth/me, and the checks every Bearer
token passes: rotation of refresh tokens, logout, password changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from users.models import Role, User
from users.tests.helpers import AUTH_REQUIRED, PASSWORD, bearer, staff
from users.tokens import revoked_jtis, token_revoke


def login(username: str = "olga", password: str = PASSWORD, client: APIClient | None = None):
    return (client or APIClient()).post("/auth/login", {"username": username, "password": password}, format="json")


@pytest.fixture
def olga(db) -> User:
    return staff("olga", Role.OPERATOR)


# --- POST /auth/login ---------------------------------------------------------------


def test_login_returns_the_user_and_an_access_token_that_opens_the_api(olga):
    response = login()

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"id", "userId", "username", "role", "user", "accessToken"}
    assert body["user"] == {"id": olga.id, "username": "olga", "role": "operator"}
    assert AccessToken(body["accessToken"])["user_id"] == olga.id
    assert bearer(body["accessToken"]).get("/v1/orders").status_code == 200


@pytest.mark.parametrize("hours", [12, 3])
def test_the_login_token_lasts_login_token_hours(olga, settings, hours):
    if hours != 12:
        settings.LOGIN_TOKEN_HOURS = hours
    token = AccessToken(login().json()["accessToken"])
    assert token["exp"] - token["iat"] == hours * 3600


def test_a_superuser_signs_in_as_admin(db):
    staff("boss", Role.WAITER, is_superuser=True)
    assert login("boss").json()["user"]["role"] == "admin"


@pytest.mark.parametrize(("username", "password"), [("olga", "wrong-password"), ("nobody", PASSWORD)])
def test_bad_credentials_are_a_401_with_a_message(olga, username, password):
    response = login(username, password)
    assert (response.status_code, response.json()) == (401, {"message": "Invalid username or password"})


def test_an_inactive_user_cannot_sign_in(db):
    staff("gone", Role.OPERATOR, is_active=False)
    assert login("gone").status_code == 401


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["username", "password"]),
        ({"username": "olga"}, ["password"]),
        ({"username": 5, "password": []}, ["password"]),
    ],
)
def test_missing_or_malformed_credentials_are_a_400_naming_the_fields(olga, body, fields):
    response = APIClient().post("/auth/login", body, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == fields


def test_a_malformed_json_login_is_a_400(db):
    response = APIClient().post("/auth/login", data='{"username": ', content_type="application/json")
    assert response.status_code == 400
    # One problem: the message names it (API.md), the errors list it too.
    assert response.json()["message"].startswith("Malformed JSON")


def test_login_ignores_a_bad_bearer_header(olga):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired-or-garbage")
    assert login(client=client).status_code == 200


# --- POST /auth/logout --------------------------------------------------------------------


def test_a_logged_out_token_is_refused_everywhere_and_other_tokens_still_work(olga):
    token = login().json()["accessToken"]
    other = login().json()["accessToken"]  # the same person at another till

    response = bearer(token).post("/auth/logout")
    assert (response.status_code, response.json()) == (200, {"message": "Signed out"})

    for path in ("/v1/orders", "/auth/me"):
        response = bearer(token).get(path)
        assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
    assert bearer(token).post("/auth/stream-token").status_code == 401
    assert bearer(token).post("/auth/logout").status_code == 401
    assert bearer(other).get("/v1/orders").status_code == 200


def test_logout_without_a_token_is_a_401(db):
    response = APIClient().post("/auth/logout")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_logout_ends_a_session(olga):
    client = APIClient()
    client.force_login(olga)
    assert client.get("/auth/me").status_code == 200
    assert client.post("/auth/logout").status_code == 200
    assert client.get("/auth/me").status_code == 401


def test_revoking_a_token_twice_keeps_one_entry(olga):
    token = AccessToken.for_user(olga)
    token_revoke(token=token, user=olga)
    token_revoke(token=token, user=olga)
    assert revoked_jtis([token["jti"], "some-other-jti"]) == {token["jti"]}
    assert revoked_jtis([]) == set()


# --- GET /auth/me -------------------------------------------------------------------------


def test_me_tells_who_the_bearer_is(olga):
    response = bearer(AccessToken.for_user(olga)).get("/auth/me")
    assert (response.status_code, response.json()) == (200, {"id": olga.id, "username": "olga", "role": "operator"})


def test_me_tells_who_the_session_is_also_for_a_waiter(db):
    walt = staff("walt", Role.WAITER)
    client = APIClient()
    client.force_login(walt)
    assert client.get("/auth/me").json() == {"id": walt.id, "username": "walt", "role": "waiter"}


def test_me_without_credentials_is_a_401(db):
    response = APIClient().get("/auth/me")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_a_bearer_request_costs_one_query_whatever_it_checks(olga):
    client = bearer(AccessToken.for_user(olga))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/auth/me").status_code == 200
    assert len(queries) == 1, [query["sql"] for query in queries]


# --- password changes ---------------------------------------------------------------------


def test_tokens_issued_before_a_password_change_are_refused(olga):
    access = login().json()["accessToken"]
    refresh = str(RefreshToken.for_user(olga))

    olga.set_password("a-brand-new-password")
    olga.save()

    assert bearer(access).get("/v1/orders").status_code == 401
    response = APIClient().post("/auth/token/refresh", {"refresh": refresh}, format="json")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
    fresh = login(password="a-brand-new-password").json()["accessToken"]
    assert bearer(fresh).get("/v1/orders").status_code == 200


# --- refresh rotation ---------------------------------------------------------------------


def test_a_refresh_token_is_good_for_one_refresh_and_its_successor_works(olga):
    first = APIClient().post("/auth/token", {"username": "olga", "password": PASSWORD}, format="json").json()

    response = APIClient().post("/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first["refresh"]

    reused = APIClient().post("/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert (reused.status_code, reused.json()) == (401, AUTH_REQUIRED)
    again = APIClient().post("/auth/token/refresh", {"refresh": second["refresh"]}, format="json")
    assert again.status_code == 200
    assert bearer(again.json()["access"]).get("/v1/orders").status_code == 200


@pytest.mark.parametrize("change", ["deleted", "deactivated"])
def test_a_refresh_token_of_a_user_who_is_gone_is_a_401(olga, change):
    refresh = str(RefreshToken.for_user(olga))
    if change == "deleted":
        olga.delete()
    else:
        olga.is_active = False
        olga.save()
    response = APIClient().post("/auth/token/refresh", {"refresh": refresh}, format="json")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
