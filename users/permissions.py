from rest_framework.permissions import BasePermission

from users.models import Role


def _has_role(request, roles: tuple[str, ...]) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.has_role(*roles))


class IsAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _has_role(request, (Role.ADMIN,))


class IsAdminOrOperator(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _has_role(request, (Role.ADMIN, Role.OPERATOR))


class IsStaffMember(BasePermission):
    """Any role: admin, operator or waiter."""

    def has_permission(self, request, view) -> bool:
        return _has_role(request, (Role.ADMIN, Role.OPERATOR, Role.WAITER))


class ReadAnyoneWriteAdmin(BasePermission):
    """The menu: anyone may read it, only an admin may change it."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return _has_role(request, (Role.ADMIN,))
