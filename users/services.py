from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from users.models import Role, User

OPERATOR_ADMIN_PERMISSIONS = ("view_order", "change_order", "view_orderitem", "view_food", "view_category")


class UserCreateError(Exception):
    pass


@transaction.atomic
def user_create(*, username: str, role: str, password: str) -> User:
    if role not in Role.values:
        raise UserCreateError(f"Unknown role {role!r}: choose one of {', '.join(Role.values)}.")
    if not username:
        raise UserCreateError("A username is required.")
    if User.objects.filter(username=username).exists():
        raise UserCreateError(f"The username {username!r} is already taken.")
    # Admins run the whole admin site; operators may see and act on orders
    # there (the actions go through the services); waiters have no admin.
    user = User(
        username=username,
        role=role,
        is_staff=role in (Role.ADMIN, Role.OPERATOR),
        is_superuser=role == Role.ADMIN,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UserCreateError(" ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
    if role == Role.OPERATOR:
        user.user_permissions.set(Permission.objects.filter(codename__in=OPERATOR_ADMIN_PERMISSIONS))
    return user
