"""Helpers shared by the users tests, and by the tests that sign in as
today's MySagra apps do (clients-heads.md A1-A3)."""

import re

from django.test import Client
from rest_framework.test import APIClient

from users.models import User

PASSWORD = "a-long-test-password"
AUTH_REQUIRED = {"message": "Authentication required"}
FORBIDDEN = {"message": "Insufficient permissions"}
JSON = "application/json"


def staff(username: str, role: str, **extra) -> User:
    user = User(username=username, role=role, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(username: str, password: str = PASSWORD):
    """How the apps' servers sign in: a plain JSON POST, no credential."""
    return Client().post("/auth/login", {"username": username, "password": password}, content_type=JSON)


def credential_set_by(response, cookie: str) -> str:
    """The credential as mycassa and mynumeri take it from a login:
    `/<cookie>=([^;]+)/` on the Set-Cookie lines joined with ", "."""
    joined = ", ".join(morsel.OutputString() for morsel in response.cookies.values())
    return re.search(rf"{cookie}=([^;]+)", joined)[1]
