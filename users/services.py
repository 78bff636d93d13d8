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
    user = User(username=username, role=role)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UserCreateError(" ".join(exc.messages)) from None
    user.set_password(password)
    user_apply_role(user=user)
    return user


@transaction.atomic
def user_apply_role(*, user: User) -> None:
    """Give the user the admin-site access of its role, and save it.
    Admins run the whole admin site; operators and maintainers may see
    and act on orders there (the actions go through the order services); waiters have none."""
    user.is_staff = user.role in (Role.ADMIN, Role.OPERATOR, Role.MAINTAINER)
    user.is_superuser = user.role == Role.ADMIN
    user.save()
    if user.role in (Role.OPERATOR, Role.MAINTAINER):
        user.user_permissions.set(Permission.objects.filter(codename__in=OPERATOR_ADMIN_PERMISSIONS))
    else:
        user.user_permissions.clear()
