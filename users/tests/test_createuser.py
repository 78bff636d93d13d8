from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from users.models import Role, User

PASSWORD = "a-long-test-password"


def createuser(*args: str) -> str:
    out = StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("role", "is_staff", "is_superuser"),
    [(Role.ADMIN, True, True), (Role.OPERATOR, True, False), (Role.WAITER, False, False)],
)
def test_createuser_creates_a_user_with_the_role(db, role, is_staff, is_superuser):
    output = createuser("sam", "--role", role, "--password", PASSWORD)

    user = User.objects.get(username="sam")
    assert user.role == role
    assert (user.is_staff, user.is_superuser, user.is_active) == (is_staff, is_superuser, True)
    assert authenticate(username="sam", password=PASSWORD) == user
    assert output.strip() == f"Created {role} 'sam' (id {user.id})."


def test_a_created_cashier_may_act_on_orders_in_the_admin(db):
    createuser("cassie", "--role", "operator", "--password", PASSWORD)
    user = User.objects.get(username="cassie")
    assert user.has_perm("orders.change_order")
    assert user.has_perm("orders.view_food")
    assert not user.has_perm("orders.change_food")
    assert not user.has_perm("users.view_user")


def test_an_unknown_role_is_refused_with_the_roles_to_choose_from(db):
    with pytest.raises(CommandError) as excinfo:
        createuser("sam", "--role", "chef", "--password", PASSWORD)

    assert str(excinfo.value) == "Unknown role 'chef': choose one of admin, operator, maintainer, waiter, kitchen."
    assert not User.objects.filter(username="sam").exists()


def test_a_taken_username_is_refused_and_the_user_kept(db):
    createuser("sam", "--role", "waiter", "--password", PASSWORD)

    with pytest.raises(CommandError) as excinfo:
        createuser("sam", "--role", "admin", "--password", "another-long-password")

    assert str(excinfo.value) == "The username 'sam' is already taken."
    user = User.objects.get(username="sam")
    assert (user.role, user.is_superuser) == (Role.WAITER, False)
    assert authenticate(username="sam", password=PASSWORD) == user


def test_a_too_short_password_is_refused(db):
    with pytest.raises(CommandError) as excinfo:
        createuser("sam", "--role", "waiter", "--password", "short")

    assert "too short" in str(excinfo.value)
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["--role", "--password"])
def test_role_and_password_are_required(db, missing):
    args = {"--role": "waiter", "--password": PASSWORD}
    del args[missing]
    with pytest.raises(CommandError) as excinfo:
        createuser("sam", *[part for pair in args.items() for part in pair])
    assert missing.lstrip("-") in str(excinfo.value)
    assert not User.objects.exists()


def test_a_role_changed_in_the_admin_brings_the_matching_admin_access(db):
    from django.test import Client

    from users.models import Role, User
    from users.services import user_create

    admin_user = user_create(username="boss", role=Role.ADMIN, password="a-long-password-1")
    waiter = User.objects.create_user("wendy", password="x-long-password", role=Role.WAITER)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/users/user/{waiter.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        role=Role.OPERATOR,
        date_joined_0=waiter.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=waiter.date_joined.strftime("%H:%M:%S"),
        is_active="on",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    response = client.post(f"/admin/users/user/{waiter.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    waiter.refresh_from_db()
    assert (waiter.role, waiter.is_staff, waiter.is_superuser) == (Role.OPERATOR, True, False)
    assert waiter.user_permissions.filter(codename="change_order").exists()
