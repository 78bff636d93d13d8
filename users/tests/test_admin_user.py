"""The admin's user page asks who a staff member is, their role and their
password first: a cook is added in one short form."""

import re

import pytest
from django.test import Client

from users.models import Role, User
from users.services import user_create

PASSWORD = "an-admin-test-password"


@pytest.fixture
def admin_browser(db) -> Client:
    user_create(username="manager", role=Role.ADMIN, password=PASSWORD)
    client = Client()
    assert client.login(username="manager", password=PASSWORD)
    return client


def field_order(html: str) -> list[str]:
    names = re.findall(r'<(?:input|select)[^>]*name="([a-z_0-9]+)"', html)
    return [
        name
        for name in dict.fromkeys(names)
        if name not in ("csrfmiddlewaretoken", "_save", "_continue", "_addanother")
    ]


def test_the_add_form_asks_name_role_and_password_and_nothing_else(admin_browser):
    html = admin_browser.get("/admin/users/user/add/").content.decode()

    fields = field_order(html)

    assert fields[:3] == ["username", "first_name", "role"]
    assert set(fields) <= {"username", "first_name", "role", "usable_password", "password1", "password2"}
    assert "password1" in fields


def test_a_cook_added_in_the_admin_gets_the_kitchen_role_and_no_admin_access(admin_browser):
    response = admin_browser.post(
        "/admin/users/user/add/",
        {
            "username": "giulia",
            "first_name": "Giulia",
            "role": Role.KITCHEN,
            "usable_password": "true",
            "password1": "a-long-cook-password",
            "password2": "a-long-cook-password",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    cook = User.objects.get(username="giulia")
    assert (cook.role, cook.first_name, cook.is_staff) == (Role.KITCHEN, "Giulia", False)
    assert cook.check_password("a-long-cook-password")


def test_the_change_form_shows_the_role_beside_the_name(admin_browser):
    cook = user_create(username="marco", role=Role.KITCHEN, password="a-long-cook-password")

    fields = field_order(admin_browser.get(f"/admin/users/user/{cook.pk}/change/").content.decode())

    assert fields.index("role") < fields.index("last_name")
    assert fields.index("username") < fields.index("role")
