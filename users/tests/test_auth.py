from datetime import timedelta

import jwt
import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from orders.models import Category
from users.models import Role, User
from users.tests.helpers import AUTH_REQUIRED, PASSWORD, bearer, staff

# --- POST /auth/token ------------------------------------------------------------------


def test_good_credentials_give_an_access_and_a_refresh_token(anon_client, operator):
    response = anon_client.post("/auth/token", {"username": "olga", "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert AccessToken(body["access"])["user_id"] == operator.id
    assert RefreshToken(body["refresh"])["user_id"] == operator.id
    # The token opens what the role allows.
    assert bearer(body["access"]).get("/v1/orders").status_code == 200


@pytest.mark.parametrize(("username", "password"), [("olga", "wrong-password"), ("nobody", PASSWORD)])
def test_bad_credentials_are_a_401(anon_client, operator, username, password):
    response = anon_client.post("/auth/token", {"username": username, "password": password}, format="json")
    assert (response.status_code, response.json()) == (401, {"message": "Invalid username or password"})


def test_an_inactive_user_gets_no_token(anon_client, db):
    staff("gone", Role.OPERATOR, is_active=False)
    response = anon_client.post("/auth/token", {"username": "gone", "password": PASSWORD}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["username", "password"]),
        ({"username": "olga"}, ["password"]),
        ({"username": "olga", "password": ""}, ["password"]),
        ({"password": PASSWORD}, ["username"]),
    ],
)
def test_missing_credentials_are_a_400_naming_the_fields(anon_client, operator, body, fields):
    response = anon_client.post("/auth/token", body, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == fields
    # One problem is named in the message itself; several keep the general one.
    errors = response.json()["errors"]
    assert response.json()["message"] == (errors[0]["message"] if len(errors) == 1 else "Validation error")


def test_a_malformed_login_is_a_400(anon_client, db):
    response = anon_client.post("/auth/token", data='{"username": ', content_type="application/json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["body"]


# --- POST /auth/token/refresh ----------------------------------------------------------


def test_a_refresh_token_gives_a_new_access_token(anon_client, operator):
    refresh = str(RefreshToken.for_user(operator))
    response = anon_client.post("/auth/token/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 200, response.content
    # Rotation: a new refresh token comes with the access token.
    assert set(response.json()) == {"access", "refresh"}
    assert AccessToken(response.json()["access"])["user_id"] == operator.id
    assert bearer(response.json()["access"]).get("/v1/orders").status_code == 200


@pytest.mark.parametrize("kind", ["garbage", "access token"])
def test_refreshing_with_something_else_is_a_401(anon_client, operator, kind):
    token = "not-a-token" if kind == "garbage" else str(AccessToken.for_user(operator))
    response = anon_client.post("/auth/token/refresh", {"refresh": token}, format="json")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_refreshing_without_a_token_is_a_400(anon_client, db):
    response = anon_client.post("/auth/token/refresh", {}, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["refresh"]


# --- Bearer tokens on protected endpoints ----------------------------------------------------


def expired_access(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(days=1))
    return str(token)


def foreign_access(user: User) -> str:
    claims = dict(AccessToken.for_user(user).payload)
    return jwt.encode(claims, "some-other-secret-key-that-is-long-enough", algorithm="HS256")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda user: "garbage",
        lambda user: "a.b.c",
        expired_access,
        foreign_access,
        lambda user: str(RefreshToken.for_user(user)),  # a refresh token is no access token
    ],
    ids=["garbage", "three dots", "expired", "signed elsewhere", "refresh token"],
)
def test_a_bad_bearer_token_is_a_401(operator, make_token):
    response = bearer(make_token(operator)).get("/v1/orders")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_a_deleted_user_is_a_401(operator):
    client = bearer(AccessToken.for_user(operator))
    operator.delete()
    response = client.get("/v1/orders")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)


def test_a_token_of_a_deactivated_user_is_a_401(operator):
    client = bearer(AccessToken.for_user(operator))
    operator.is_active = False
    operator.save()
    assert client.get("/v1/orders").status_code == 401


def test_no_token_is_a_401_and_says_how_to_authenticate(anon_client, db):
    response = anon_client.get("/v1/orders")
    assert (response.status_code, response.json()) == (401, AUTH_REQUIRED)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_other_authorization_scheme_is_a_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic b2xnYTpwYXNzd29yZA==")
    assert client.get("/v1/orders").status_code == 401


# --- roles ---------------------------------------------------------------------------


def test_a_superuser_counts_as_admin_whatever_its_role(db):
    boss = staff("boss", Role.WAITER, is_superuser=True, is_staff=True)
    client = bearer(AccessToken.for_user(boss))

    assert client.get("/v1/orders").status_code == 200
    assert client.get("/v1/printers").status_code == 200
    response = client.post("/v1/categories", {"name": "Soups"}, format="json")
    assert response.status_code == 201, response.content
    assert Category.objects.filter(name="Soups").exists()


def test_the_role_field_decides_for_everyone_else(db):
    waiter = staff("walt", Role.WAITER, is_staff=True)  # is_staff alone grants nothing
    operator = staff("olga", Role.OPERATOR)
    admin = staff("ada", Role.ADMIN)

    def status(user, method, path, body=None):
        client = bearer(AccessToken.for_user(user))
        return getattr(client, method)(path, body, format="json").status_code

    assert [status(user, "get", "/v1/orders") for user in (waiter, operator, admin)] == [403, 200, 200]
    assert [status(user, "post", "/v1/printers", {"name": "P"}) for user in (waiter, operator, admin)] == [
        403,
        403,
        201,
    ]


def test_an_inactive_superuser_counts_as_nobody(db):
    boss = User(username="boss", role=Role.ADMIN, is_superuser=True, is_active=False)
    assert boss.effective_role == Role.ADMIN
    assert boss.has_role(Role.ADMIN) is False


# --- the authentication's one statement, compiled once ------------------------------


@pytest.mark.django_db
def test_the_user_lookup_compiled_once_answers_as_the_orm_does_for_each_case(operator):
    from django.db.models import Exists
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    from users.authentication import user_and_revocation

    logged_out = OutstandingToken.objects.create(user=operator, jti="out-1", token="t", expires_at=timezone.now())
    BlacklistedToken.objects.create(token=logged_out)

    def by_the_orm(user_id, ids):
        revoked = BlacklistedToken.objects.filter(token__jti__in=ids)
        user = User.objects.annotate(token_revoked=Exists(revoked)).filter(id=user_id).first()
        return None if user is None else (user.pk, user.username, user.last_login, user.date_joined, user.token_revoked)

    def compiled(user_id, ids):
        user = user_and_revocation(User, user_id, ids)
        return None if user is None else (user.pk, user.username, user.last_login, user.date_joined, user.token_revoked)

    cases = [
        (operator.id, ["fresh-1"]),
        (operator.id, ["fresh-1", "fresh-2"]),
        (operator.id, ["out-1"]),
        (operator.id, ["fresh-1", "out-1"]),
        ("no-such-user", ["fresh-1"]),
    ]
    answers = [compiled(user_id, ids) for user_id, ids in cases]
    assert answers == [by_the_orm(user_id, ids) for user_id, ids in cases]
    assert [answer and answer[-1] for answer in answers] == [False, False, True, True, None]
